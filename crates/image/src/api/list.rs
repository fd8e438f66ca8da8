//! `GET /v2/images`: visibility, filters (with `in:` lists), sorting and
//! `limit`/`marker` pagination with Glance's top-level `next` link.

use std::cmp::Ordering;
use std::collections::HashMap;

use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::Extension;
use ferro_api::request_id::TrailingSlash;
use ferro_api::AuthContext;
use serde_json::Value;

use super::common::Ctx;
use super::view::{ImageView, ListBody};
use crate::error::{Error, Result};
use crate::model::Image;
use crate::store::members;
use crate::{policy, ImageService};

const DEFAULT_LIMIT: usize = 25;
const MAX_LIMIT: usize = 1000;
const SORT_KEYS: &[&str] = &[
    "name",
    "status",
    "container_format",
    "disk_format",
    "size",
    "id",
    "created_at",
    "updated_at",
    "visibility",
    "owner",
    "min_disk",
    "min_ram",
    "virtual_size",
];
const TIME_OPS: &[&str] = &["gt", "gte", "lt", "lte", "eq", "neq"];

/// The parsed query of a list request.
struct Query {
    pairs: Vec<(String, String)>,
    limit: usize,
    marker: Option<String>,
    sort: Vec<(String, bool)>,
    visibility: Option<String>,
    member_status: String,
    os_hidden: bool,
    filters: Vec<(String, String)>,
}

/// `GET /v2/images`; `GET /v2/images/` (an empty image id, the slash
/// stripped before routing) is a show of no image: 404 as Glance answers.
pub async fn list(
    State(svc): State<ImageService>,
    ctx: Ctx,
    slash: Option<Extension<TrailingSlash>>,
    RawQuery(raw): RawQuery,
) -> Result<Response> {
    if slash.is_some() {
        return Err(Error::not_found("The resource could not be found."));
    }
    let q = parse(raw.as_deref().unwrap_or(""))?;
    let memberships = match &ctx.project_id {
        Some(p) => members::of_member(svc.db(), p).await?,
        None => HashMap::new(),
    };
    let all = svc.all_images().await?;
    let mut found: Vec<&Image> = all
        .iter()
        .filter(|img| listed(&ctx, img, &q, memberships.get(&img.id)))
        .collect();
    for (key, value) in &q.filters {
        let pred = filter(key, value)?;
        found.retain(|img| pred(img));
    }
    found.sort_by(|a, b| compare(a, b, &q.sort));
    let start = match &q.marker {
        None => 0,
        Some(m) => match found.iter().position(|img| &img.id == m) {
            Some(i) => i + 1,
            None => {
                return Err(Error::bad_request(format!(
                    "Invalid marker. Image {m} could not be found."
                )))
            }
        },
    };
    let page: Vec<&Image> = found.iter().skip(start).take(q.limit).copied().collect();
    let next = match (page.last(), page.len() == q.limit && q.limit > 0) {
        (Some(last), true) => Some(link(&q.pairs, Some(&last.id))),
        _ => None,
    };
    let body = ListBody {
        images: page.into_iter().map(ImageView).collect(),
        first: link(&q.pairs, None),
        schema: "/v2/schemas/images",
        next,
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let mut resp = Response::new(axum::body::Body::from(bytes));
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}

/// `/v2/images?…` with the request's parameters, `marker` replaced.
fn link(pairs: &[(String, String)], marker: Option<&str>) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(k, _)| k != "marker") {
        ser.append_pair(k, v);
    }
    if let Some(m) = marker {
        ser.append_pair("marker", m);
    }
    let query = ser.finish();
    if query.is_empty() {
        "/v2/images".to_owned()
    } else {
        format!("/v2/images?{query}")
    }
}

fn parse(raw: &str) -> Result<Query> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut q = Query {
        pairs: pairs.clone(),
        limit: DEFAULT_LIMIT,
        marker: None,
        sort: Vec::new(),
        visibility: None,
        member_status: "accepted".into(),
        os_hidden: false,
        filters: Vec::new(),
    };
    let (mut keys, mut dirs, mut sort) = (Vec::new(), Vec::new(), None);
    for (k, v) in pairs {
        match k.as_str() {
            "limit" => {
                let n: i64 = v
                    .parse()
                    .map_err(|_| Error::bad_request("limit param must be an integer"))?;
                if n < 0 {
                    return Err(Error::bad_request("limit param must be positive"));
                }
                q.limit = usize::try_from(n).unwrap_or(MAX_LIMIT).min(MAX_LIMIT);
            }
            "marker" => q.marker = Some(v),
            "sort_key" => keys.push(v),
            "sort_dir" => dirs.push(v),
            "sort" => sort = Some(v),
            "visibility" => {
                if !matches!(
                    v.as_str(),
                    "public" | "private" | "shared" | "community" | "all"
                ) {
                    return Err(Error::bad_request(format!("Invalid visibility value: {v}")));
                }
                q.visibility = Some(v);
            }
            "member_status" => {
                if !matches!(v.as_str(), "accepted" | "pending" | "rejected" | "all") {
                    return Err(Error::bad_request(format!("Invalid status value: {v}")));
                }
                q.member_status = v;
            }
            "os_hidden" => q.os_hidden = bool_param("os_hidden", &v)?,
            _ => q.filters.push((k, v)),
        }
    }
    q.sort = sort_spec(keys, dirs, sort)?;
    Ok(q)
}

fn bool_param(name: &str, v: &str) -> Result<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(Error::bad_request(format!(
            "Invalid value for {name}: {v} (expected true or false)"
        ))),
    }
}

/// `(key, descending)` pairs, always ending with `id` for a stable order.
fn sort_spec(
    keys: Vec<String>,
    dirs: Vec<String>,
    sort: Option<String>,
) -> Result<Vec<(String, bool)>> {
    let dir = |d: &str| match d {
        "asc" => Ok(false),
        "desc" => Ok(true),
        _ => Err(Error::bad_request(format!("Invalid sort direction: {d}"))),
    };
    let key = |k: &str| {
        if SORT_KEYS.contains(&k) {
            Ok(k.to_owned())
        } else {
            Err(Error::bad_request(format!("Invalid sort key: {k}")))
        }
    };
    let mut spec = Vec::new();
    if let Some(s) = sort {
        if !keys.is_empty() || !dirs.is_empty() {
            return Err(Error::bad_request(
                "The 'sort' parameter cannot be combined with 'sort_key' or 'sort_dir'.",
            ));
        }
        for part in s.split(',') {
            let (k, d) = part.split_once(':').unwrap_or((part, "desc"));
            spec.push((key(k.trim())?, dir(d.trim())?));
        }
    } else {
        if dirs.len() > keys.len().max(1) {
            return Err(Error::bad_request(
                "The number of sort_dir values must not exceed the number of sort_key values.",
            ));
        }
        let keys = if keys.is_empty() {
            vec!["created_at".to_owned()]
        } else {
            keys
        };
        for (i, k) in keys.iter().enumerate() {
            let d = match dirs
                .get(i)
                .or(if dirs.len() == 1 { dirs.first() } else { None })
            {
                Some(d) => dir(d)?,
                None => true,
            };
            spec.push((key(k)?, d));
        }
    }
    if !spec.iter().any(|(k, _)| k == "id") {
        let last = spec.last().map(|(_, d)| *d).unwrap_or(true);
        spec.push(("id".into(), last));
    }
    Ok(spec)
}

/// Whether `img` belongs in the caller's list before the attribute filters.
fn listed(ctx: &AuthContext, img: &Image, q: &Query, membership: Option<&String>) -> bool {
    if img.os_hidden != q.os_hidden {
        return false;
    }
    if let Some(v) = &q.visibility {
        if v != "all" && &img.visibility != v {
            return false;
        }
    }
    let owned = policy::owns(ctx, img);
    let member_ok = match membership {
        Some(status) => q.member_status == "all" || &q.member_status == status,
        None => false,
    };
    let shared_with_me = img.visibility == "shared" && !owned && membership.is_some();
    if shared_with_me {
        return member_ok || (ctx.is_admin() && q.member_status == "all");
    }
    if ctx.is_admin() {
        return q.visibility.is_some() || img.visibility != "community" || owned;
    }
    match img.visibility.as_str() {
        "public" => true,
        "community" => owned || q.visibility.is_some(),
        _ => owned,
    }
}

type Pred = Box<dyn Fn(&Image) -> bool + Send>;

/// The predicate of one attribute filter.
fn filter(key: &str, value: &str) -> Result<Pred> {
    match key {
        "tag" => {
            let tag = value.to_owned();
            Ok(Box::new(move |img| img.tags.contains(&tag)))
        }
        "size_min" | "size_max" => {
            let n: i64 = value
                .parse()
                .map_err(|_| Error::bad_request(format!("Invalid value for {key}: {value}")))?;
            let min = key == "size_min";
            Ok(Box::new(move |img| {
                img.size.is_some_and(|s| if min { s >= n } else { s <= n })
            }))
        }
        "protected" => {
            let want = bool_param(key, value)?;
            Ok(Box::new(move |img| img.protected == want))
        }
        "created_at" | "updated_at" => time_filter(key, value),
        _ => {
            let wanted: Vec<String> = match value.strip_prefix("in:") {
                Some(list) => split_list(list)?,
                None => vec![value.strip_prefix("eq:").unwrap_or(value).to_owned()],
            };
            let key = key.to_owned();
            Ok(Box::new(move |img| match img.attr(&key) {
                Some(v) => wanted.contains(&scalar(&v)),
                None => false,
            }))
        }
    }
}

/// `a,b,"c,d"` → `[a, b, c,d]`.
fn split_list(list: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in list.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    if quoted {
        return Err(Error::bad_request("Invalid 'in' filter: unbalanced quotes"));
    }
    out.push(cur);
    Ok(out)
}

fn time_filter(key: &str, value: &str) -> Result<Pred> {
    let (op, when) = value.split_once(':').unwrap_or(("eq", value));
    let (op, when) = if TIME_OPS.contains(&op) {
        (op, when)
    } else {
        ("eq", value)
    };
    let t = ferro_api::time::parse_iso(when)
        .ok_or_else(|| Error::bad_request(format!("Invalid time format for {key}: {value}")))?
        / 1_000_000;
    let op = op.to_owned();
    let created = key == "created_at";
    Ok(Box::new(move |img| {
        let v = if created {
            img.created_at
        } else {
            img.updated_at
        } / 1_000_000;
        match op.as_str() {
            "gt" => v > t,
            "gte" => v >= t,
            "lt" => v < t,
            "lte" => v <= t,
            "neq" => v != t,
            _ => v == t,
        }
    }))
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[derive(PartialEq, PartialOrd)]
enum SortVal {
    Null,
    Int(i64),
    Str(String),
}

fn sort_val(img: &Image, key: &str) -> SortVal {
    match key {
        "created_at" => SortVal::Int(img.created_at),
        "updated_at" => SortVal::Int(img.updated_at),
        _ => match img.attr(key) {
            None => SortVal::Null,
            Some(Value::Number(n)) => SortVal::Int(n.as_i64().unwrap_or_default()),
            Some(v) => SortVal::Str(scalar(&v)),
        },
    }
}

fn compare(a: &Image, b: &Image, spec: &[(String, bool)]) -> Ordering {
    for (key, desc) in spec {
        let ord = sort_val(a, key)
            .partial_cmp(&sort_val(b, key))
            .unwrap_or(Ordering::Equal);
        let ord = if *desc { ord.reverse() } else { ord };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}
