//! List filters as Cinder reads them from the query string, per version:
//! before 3.31 a non-admin's unknown filters are silently dropped; from 3.31
//! (generic filters, 3.33 `resource_filters`) they are a 400; from 3.34 a
//! `key~` filter matches substrings; from 3.60 `created_at`/`updated_at`
//! take `op:time` comparisons. Admins may filter on anything (a key that
//! names no attribute matches nothing, as upstream's model check does).

use serde_json::{Map, Value};

use super::common::{metadata_filter, parse_bool, Ctx};
use crate::error::{Error, Result};

/// Query parameters that are paging, sorting or scope, never filters.
const RESERVED: &[&str] = &[
    "limit",
    "marker",
    "offset",
    "sort",
    "sort_key",
    "sort_dir",
    "with_count",
    "all_tenants",
    "all_projects",
];

/// The filters each resource accepts from non-admins (Cinder's default
/// `resource_filters.json`, what `GET /resource_filters` shows).
pub const RESOURCE_FILTERS: &[(&str, &[&str])] = &[
    (
        "volume",
        &[
            "name",
            "status",
            "metadata",
            "bootable",
            "migration_status",
            "availability_zone",
            "group_id",
            "size",
            "created_at",
            "updated_at",
            "consumes_quota",
        ],
    ),
    ("backup", &["name", "status", "volume_id"]),
    (
        "snapshot",
        &[
            "name",
            "status",
            "volume_id",
            "metadata",
            "availability_zone",
            "consumes_quota",
        ],
    ),
    ("group", &["name"]),
    ("group_snapshot", &["name", "status", "group_id"]),
    (
        "attachment",
        &["volume_id", "status", "instance_id", "attach_status"],
    ),
    (
        "message",
        &[
            "resource_uuid",
            "resource_type",
            "event_id",
            "request_id",
            "message_level",
        ],
    ),
    ("pool", &["name", "volume_type"]),
    ("volume_type", &["is_public", "extra_specs"]),
];

fn configured(resource: &str) -> &'static [&'static str] {
    RESOURCE_FILTERS
        .iter()
        .find(|(r, _)| *r == resource)
        .map(|(_, f)| *f)
        .unwrap_or(&[])
}

/// One attribute of a listed resource, as a filter compares it.
pub enum Attr<'a> {
    Str(Option<&'a str>),
    Int(i64),
    Bool(bool),
    Time(Option<i64>),
    Meta(&'a Map<String, Value>),
    /// Not an attribute of this resource: nothing matches.
    Unknown,
}

/// A parsed filter.
pub struct Filter {
    pub key: String,
    /// `key~` (3.34): substring match.
    pub like: bool,
    pub value: String,
    /// `created_at`/`updated_at` comparisons (3.60): (op, micros).
    pub times: Vec<(String, i64)>,
}

/// Cinder's ISO 8601 parse for time filters, in microseconds.
fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_micros());
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc().timestamp_micros());
        }
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_micros())
}

fn time_filter(key: &str, raw: &str) -> Result<Vec<(String, i64)>> {
    let mut out = Vec::new();
    for unit in raw.split(',') {
        let Some((op, time)) = unit.split_once(':') else {
            return Err(Error::bad_request(format!("Invalid {key} value")));
        };
        if !["gt", "gte", "eq", "neq", "lt", "lte"].contains(&op) {
            return Err(Error::bad_request(format!("Invalid {op} operator")));
        }
        let t =
            parse_time(time).ok_or_else(|| Error::bad_request(format!("Invalid {time} value")))?;
        out.push((op.to_owned(), t));
    }
    Ok(out)
}

/// The filters of this list request. `legacy` lists what a non-admin may
/// use before 3.31; `added` the (minor version, key) pairs dropped below
/// that version.
pub fn parse(
    ctx: &Ctx,
    resource: &str,
    legacy: &[&str],
    added: &[(u32, &str)],
) -> Result<Vec<Filter>> {
    let mut raw: Vec<(String, String)> = ctx
        .query
        .iter()
        .filter(|(k, _)| !RESERVED.contains(&k.as_str()))
        .cloned()
        .collect();
    if ctx.at(31) {
        if raw.iter().any(|(k, _)| !k.is_ascii()) {
            return Err(Error::bad_request(
                "Filter keys can only contain ASCII characters.",
            ));
        }
        if !ctx.is_admin() {
            let allowed = configured(resource);
            let like = ctx.at(34);
            let bad: Vec<&str> = raw
                .iter()
                .map(|(k, _)| k.as_str())
                .filter(|k| {
                    let base = k.strip_suffix('~').filter(|_| like).unwrap_or(k);
                    !allowed.contains(&base) && !allowed.contains(k)
                })
                .collect();
            if !bad.is_empty() {
                return Err(Error::bad_request(format!(
                    "Invalid filters {} are found in query options.",
                    bad.join(",")
                )));
            }
        }
    } else {
        raw.retain(|(k, _)| !added.iter().any(|(minor, key)| k == key && !ctx.at(*minor)));
        if !ctx.is_admin() {
            raw.retain(|(k, _)| legacy.contains(&k.as_str()));
        }
    }
    let mut out = Vec::new();
    for (k, value) in raw {
        let (key, like) = match k.strip_suffix('~') {
            Some(base) if ctx.at(34) => (base.to_owned(), true),
            _ => (k.clone(), false),
        };
        let key = if key == "display_name" {
            "name".to_owned()
        } else {
            key
        };
        let times = if ctx.at(60) && (key == "created_at" || key == "updated_at") {
            time_filter(&key, &value)?
        } else {
            Vec::new()
        };
        if key == "metadata" {
            metadata_filter(&value)?;
        }
        out.push(Filter {
            key,
            like,
            value,
            times,
        });
    }
    Ok(out)
}

fn cmp_time(t: Option<i64>, times: &[(String, i64)]) -> bool {
    let Some(t) = t else { return false };
    times.iter().all(|(op, x)| match op.as_str() {
        "gt" => t > *x,
        "gte" => t >= *x,
        "eq" => t == *x,
        "neq" => t != *x,
        "lt" => t < *x,
        _ => t <= *x,
    })
}

/// Whether one attribute passes one filter; `strict_bool` (volumes from 3.2)
/// makes an unreadable boolean a 400 instead of "true".
pub fn matches(attr: Attr<'_>, f: &Filter, strict_bool: bool) -> Result<bool> {
    Ok(match attr {
        Attr::Unknown => false,
        Attr::Str(s) => match s {
            None => f.value.is_empty() || f.value == "None",
            Some(s) if f.like => s.contains(f.value.as_str()),
            Some(s) => s == f.value,
        },
        Attr::Int(n) => f.value.trim().parse::<i64>().is_ok_and(|x| x == n),
        Attr::Bool(b) => {
            let want = match parse_bool(&f.value) {
                Some(w) => w,
                None if strict_bool => {
                    return Err(Error::bad_request(format!(
                        "Invalid input received: {}={}",
                        f.key, f.value
                    )))
                }
                None => true,
            };
            b == want
        }
        Attr::Time(t) if !f.times.is_empty() => cmp_time(t, &f.times),
        Attr::Time(t) => t
            .map(|t| ferro_api::time::iso_naive_micros(t) == f.value)
            .unwrap_or(false),
        Attr::Meta(m) => {
            let want = metadata_filter(&f.value)?;
            want.iter().all(|(k, x)| m.get(k) == Some(x))
        }
    })
}

/// Keep the items every filter matches; `attr` maps a key to an attribute.
pub fn apply<T>(
    items: Vec<T>,
    filters: &[Filter],
    strict_bool: bool,
    attr: impl for<'a> Fn(&'a T, &str) -> Attr<'a>,
) -> Result<Vec<T>> {
    let mut out = Vec::with_capacity(items.len());
    'item: for it in items {
        for f in filters {
            if !matches(attr(&it, &f.key), f, strict_bool)? {
                continue 'item;
            }
        }
        out.push(it);
    }
    Ok(out)
}

/// `with_count=true` asked at 3.45 or later.
pub fn with_count(ctx: &Ctx) -> Result<bool> {
    if !ctx.at(45) {
        return Ok(false);
    }
    match ctx.q("with_count") {
        None => Ok(false),
        Some(s) => parse_bool(s)
            .ok_or_else(|| Error::bad_request(format!("Invalid value '{s}' for with_count."))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_filters_parse_and_compare() {
        let t = parse_time("2026-01-02T03:04:05").unwrap();
        assert_eq!(parse_time("2026-01-02T03:04:05Z"), Some(t));
        assert_eq!(parse_time("2026-01-02T03:04:05.000000"), Some(t));
        assert!(parse_time("yesterday").is_none());
        let f = time_filter("created_at", "gte:2026-01-02T03:04:05,lt:2026-01-03").unwrap();
        assert!(cmp_time(Some(t), &f));
        assert!(!cmp_time(Some(t - 1), &f));
        assert!(!cmp_time(None, &f));
        assert!(time_filter("created_at", "zz:2026-01-02").is_err());
        assert!(time_filter("created_at", "2026-01-02").is_err());
    }
}
