//! Neutron list semantics: filters on any attribute (repeated = OR), tag
//! filters, `fields=`, `sort_key`/`sort_dir`, `limit`/`marker` with
//! `<resources>_links`.

use std::cmp::Ordering;

use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::state::{str_of, Obj};

const RESERVED: &[&str] = &[
    "fields",
    "sort_key",
    "sort_dir",
    "limit",
    "marker",
    "page_reverse",
    "tags",
    "tags-any",
    "not-tags",
    "not-tags-any",
];

/// A parsed query string.
#[derive(Debug, Default, Clone)]
pub struct ListQuery {
    pub pairs: Vec<(String, String)>,
}

impl ListQuery {
    pub fn parse(raw: Option<&str>) -> Self {
        let pairs = url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        ListQuery { pairs }
    }

    pub fn all(&self, key: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn first(&self, key: &str) -> Option<&str> {
        self.all(key).into_iter().next()
    }

    /// The requested `fields` (empty = all).
    pub fn fields(&self) -> Vec<String> {
        self.all("fields")
            .into_iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Attribute filters, grouped by key in order of appearance.
    fn filters(&self) -> Vec<(&str, Vec<&str>)> {
        let mut out: Vec<(&str, Vec<&str>)> = vec![];
        for (k, v) in &self.pairs {
            if RESERVED.contains(&k.as_str()) {
                continue;
            }
            match out.iter_mut().find(|(key, _)| key == k) {
                Some((_, vals)) => vals.push(v),
                None => out.push((k, vec![v])),
            }
        }
        out
    }
}

/// Whether `obj` passes every attribute and tag filter of `q`.
pub fn matches(obj: &Obj, q: &ListQuery) -> bool {
    for (key, values) in q.filters() {
        let Some(have) = obj.get(key) else {
            continue; // unknown filters are ignored
        };
        if !values.iter().any(|v| value_matches(key, have, v)) {
            return false;
        }
    }
    tags_match(obj, q)
}

fn value_matches(key: &str, have: &Value, want: &str) -> bool {
    match have {
        Value::String(s) => s == want,
        Value::Bool(b) => parse_bool(want) == Some(*b),
        Value::Number(n) => n.to_string() == want,
        Value::Null => want.is_empty() || want == "None",
        Value::Array(items) if key == "fixed_ips" => fixed_ip_matches(items, want),
        Value::Array(items) => items.iter().any(|i| i.as_str() == Some(want)),
        Value::Object(_) => true,
    }
}

fn fixed_ip_matches(items: &[Value], want: &str) -> bool {
    let Some((k, v)) = want.split_once('=') else {
        return true;
    };
    items.iter().any(|ip| match k {
        "ip_address_substr" => ip["ip_address"].as_str().is_some_and(|a| a.contains(v)),
        _ => ip[k].as_str() == Some(v),
    })
}

pub fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" | "t" | "y" => Some(true),
        "false" | "0" | "no" | "off" | "f" | "n" => Some(false),
        _ => None,
    }
}

fn tags_match(obj: &Obj, q: &ListQuery) -> bool {
    let tags: Vec<&str> = obj
        .get("tags")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let split = |key: &str| -> Option<Vec<String>> {
        let vals = q.all(key);
        if vals.is_empty() {
            return None;
        }
        Some(
            vals.iter()
                .flat_map(|v| v.split(','))
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    };
    let has = |t: &String| tags.contains(&t.as_str());
    if let Some(all) = split("tags") {
        if !all.iter().all(has) {
            return false;
        }
    }
    if let Some(any) = split("tags-any") {
        if !any.iter().any(has) {
            return false;
        }
    }
    if let Some(all) = split("not-tags") {
        if !all.is_empty() && all.iter().all(has) {
            return false;
        }
    }
    if let Some(any) = split("not-tags-any") {
        if any.iter().any(has) {
            return false;
        }
    }
    true
}

fn rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::Array(_) => 4,
        Value::Object(_) => 5,
    }
}

fn cmp_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}

type SortKeys = Vec<(String, bool)>;

fn sort_keys(q: &ListQuery, sample_keys: &[String]) -> Result<SortKeys> {
    let keys = q.all("sort_key");
    let dirs = q.all("sort_dir");
    if dirs.len() > keys.len() {
        return Err(Error::bad_request(
            "The number of sort_keys and sort_dirs must be same",
        ));
    }
    let mut out = vec![];
    for (i, key) in keys.iter().enumerate() {
        if !sample_keys.iter().any(|k| k == key) {
            return Err(Error::bad_request(format!(
                "{key} is an invalid attribute for sort_keys"
            )));
        }
        let asc = match dirs.get(i).copied() {
            None | Some("asc") => true,
            Some("desc") => false,
            Some(other) => {
                return Err(Error::bad_request(format!(
                    "{other} is an invalid value for sort_dirs, valid values are: asc, desc"
                )))
            }
        };
        out.push(((*key).to_owned(), asc));
    }
    Ok(out)
}

fn compare(a: &Obj, b: &Obj, keys: &SortKeys) -> Ordering {
    for (k, asc) in keys {
        let null = Value::Null;
        let o = cmp_values(a.get(k).unwrap_or(&null), b.get(k).unwrap_or(&null));
        let o = if *asc { o } else { o.reverse() };
        if o != Ordering::Equal {
            return o;
        }
    }
    str_of(a, "id").cmp(str_of(b, "id"))
}

/// Parse `limit` (0 = none).
fn limit(q: &ListQuery) -> Result<Option<usize>> {
    match q.first("limit") {
        None | Some("") => Ok(None),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n > 0 => Ok(Some(n as usize)),
            Ok(0) => Ok(None),
            _ => Err(Error::bad_request(format!(
                "Limit must be an integer 0 or greater and not '{s}'"
            ))),
        },
    }
}

/// Sort, page and select fields of already-filtered, already-rendered
/// objects; `visible` are all objects the caller sees (for the marker).
/// Returns the body `{collection: [...], collection_links: [...]}`.
pub fn page(
    mut items: Vec<Obj>,
    q: &ListQuery,
    collection: &str,
    url_collection: &str,
    base: &str,
    marker_obj: impl Fn(&str) -> Option<Obj>,
    not_found: impl Fn(&str) -> Error,
) -> Result<Value> {
    let sample: Vec<String> = items
        .first()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_else(|| q.all("sort_key").into_iter().map(str::to_owned).collect());
    let keys = sort_keys(q, &sample)?;
    items.sort_by(|a, b| compare(a, b, &keys));
    let limit = limit(q)?;
    let reverse = q
        .first("page_reverse")
        .and_then(parse_bool)
        .unwrap_or(false);
    let marker = q.first("marker").filter(|m| !m.is_empty());
    if let Some(m) = marker {
        let mobj = marker_obj(m).ok_or_else(|| not_found(m))?;
        items = if reverse {
            items
                .into_iter()
                .filter(|o| compare(o, &mobj, &keys) == Ordering::Less)
                .collect()
        } else {
            items
                .into_iter()
                .filter(|o| compare(o, &mobj, &keys) == Ordering::Greater)
                .collect()
        };
    }
    let mut more = false;
    if let Some(n) = limit {
        if items.len() > n {
            more = true;
            if reverse {
                items = items.split_off(items.len() - n);
            } else {
                items.truncate(n);
            }
        }
    }
    let mut links = vec![];
    if let Some(n) = limit {
        let keep: Vec<(String, String)> = q
            .pairs
            .iter()
            .filter(|(k, _)| k != "marker" && k != "page_reverse" && k != "limit")
            .cloned()
            .collect();
        let href = |marker: &str, rev: bool| {
            let mut ser = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in &keep {
                ser.append_pair(k, v);
            }
            ser.append_pair("limit", &n.to_string());
            ser.append_pair("marker", marker);
            if rev {
                ser.append_pair("page_reverse", "True");
            }
            format!("{base}/v2.0/{url_collection}?{}", ser.finish())
        };
        let (first, last) = (
            items.first().map(|o| str_of(o, "id").to_owned()),
            items.last().map(|o| str_of(o, "id").to_owned()),
        );
        let has_next = if reverse { marker.is_some() } else { more };
        let has_prev = if reverse { more } else { marker.is_some() };
        if let (true, Some(last)) = (has_next, &last) {
            links.push(json!({"rel": "next", "href": href(last, false)}));
        }
        if let (true, Some(first)) = (has_prev, &first) {
            links.push(json!({"rel": "previous", "href": href(first, true)}));
        }
    }
    let fields = q.fields();
    let items: Vec<Value> = items
        .into_iter()
        .map(|o| Value::Object(select(o, &fields)))
        .collect();
    let mut body = serde_json::Map::new();
    body.insert(collection.to_owned(), Value::Array(items));
    if !links.is_empty() {
        body.insert(format!("{collection}_links"), Value::Array(links));
    }
    Ok(Value::Object(body))
}

/// Keep only `fields` (all when empty).
pub fn select(obj: Obj, fields: &[String]) -> Obj {
    if fields.is_empty() {
        return obj;
    }
    obj.into_iter()
        .filter(|(k, _)| fields.iter().any(|f| f == k))
        .collect()
}
