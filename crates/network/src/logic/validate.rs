//! Attribute checks with Neutron's wording: each failure names the field.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::state::Obj;

/// `{"network": {...}}` → the inner object.
pub fn resource(body: &Obj, singular: &str) -> Result<Obj> {
    match body.get(singular) {
        Some(Value::Object(o)) => Ok(o.clone()),
        Some(_) => Err(Error::bad_request(format!(
            "Invalid input for {singular}: the resource body must be an object."
        ))),
        None => Err(Error::bad_request(format!(
            "Unable to find '{singular}' in request body"
        ))),
    }
}

/// Single (`{"port": {}}`) or bulk (`{"ports": [{}...]}`) create bodies.
pub fn single_or_bulk(body: &Obj, singular: &str, plural: &str) -> Result<(Vec<Obj>, bool)> {
    if let Some(v) = body.get(plural) {
        let Value::Array(items) = v else {
            return Err(Error::bad_request(format!(
                "Invalid input for {plural}: a list of objects is expected."
            )));
        };
        if items.is_empty() {
            return Err(Error::bad_request("Resources required"));
        }
        let mut out = vec![];
        for item in items {
            match item {
                Value::Object(o) => out.push(o.clone()),
                _ => {
                    return Err(Error::bad_request(format!(
                        "Invalid input for {plural}: each element must be an object."
                    )))
                }
            }
        }
        return Ok((out, true));
    }
    Ok((vec![resource(body, singular)?], false))
}

/// 400 for attributes that are not in `allowed`.
pub fn known_keys(body: &Obj, allowed: &[&str]) -> Result<()> {
    let unknown: Vec<&str> = body
        .keys()
        .map(String::as_str)
        .filter(|k| !allowed.contains(k))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(Error::bad_request(format!(
        "Unrecognized attribute(s) '{}'",
        unknown.join(", ")
    )))
}

/// 400 when an update names an attribute that cannot change.
pub fn read_only(body: &Obj, keys: &[&str]) -> Result<()> {
    for k in keys {
        if body.contains_key(*k) {
            return Err(Error::bad_request(format!(
                "Cannot update read-only attribute {k}"
            )));
        }
    }
    Ok(())
}

pub fn opt_str(body: &Obj, key: &str, max: usize) -> Result<Option<String>> {
    match body.get(key) {
        None => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= max => Ok(Some(s.clone())),
        Some(Value::String(s)) => Err(Error::invalid_attr(
            key,
            format!("'{s}' exceeds maximum length of {max}"),
        )),
        Some(v) => Err(Error::invalid_attr(
            key,
            format!("{v} is not a valid string"),
        )),
    }
}

/// A string that may be `null` (`Some(None)`).
pub fn opt_nullable_str(body: &Obj, key: &str, max: usize) -> Result<Option<Option<String>>> {
    match body.get(key) {
        Some(Value::Null) => Ok(Some(None)),
        _ => Ok(opt_str(body, key, max)?.map(Some)),
    }
}

pub fn req_str(body: &Obj, key: &str, max: usize) -> Result<String> {
    opt_str(body, key, max)?.ok_or_else(|| missing(key))
}

pub fn missing(key: &str) -> Error {
    Error::bad_request(format!(
        "Failed to parse request. Required attribute '{key}' not specified"
    ))
}

pub fn opt_bool(body: &Obj, key: &str) -> Result<Option<bool>> {
    match body.get(key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) => match crate::query::parse_bool(s) {
            Some(b) => Ok(Some(b)),
            None => Err(Error::invalid_attr(
                key,
                format!("'{s}' cannot be converted to boolean"),
            )),
        },
        Some(v) => Err(Error::invalid_attr(
            key,
            format!("'{v}' cannot be converted to boolean"),
        )),
    }
}

/// An integer (or a string of one); `null` → `Some(None)`.
pub fn opt_int(body: &Obj, key: &str) -> Result<Option<Option<i64>>> {
    match body.get(key) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::Number(n)) if n.is_i64() => Ok(Some(n.as_i64())),
        Some(Value::String(s)) => match s.trim().parse::<i64>() {
            Ok(n) => Ok(Some(Some(n))),
            Err(_) => Err(Error::invalid_attr(key, format!("'{s}' is not an integer"))),
        },
        Some(v) => Err(Error::invalid_attr(key, format!("'{v}' is not an integer"))),
    }
}

/// A non-negative integer (or a string of one) such as a prefix length;
/// unlike [`opt_int`], `null` is refused, as Neutron's converter does.
pub fn opt_non_negative(body: &Obj, key: &str) -> Result<Option<i64>> {
    match opt_int(body, key)? {
        None => Ok(None),
        Some(Some(n)) if n >= 0 => Ok(Some(n)),
        Some(Some(n)) => Err(Error::invalid_attr(
            key,
            format!("'{n}' should be non-negative"),
        )),
        Some(None) => Err(Error::invalid_attr(key, "'None' is not an integer")),
    }
}

/// A string that may not be empty or blank (a subnet pool's `name`).
pub fn opt_not_blank(body: &Obj, key: &str, max: usize) -> Result<Option<String>> {
    match opt_str(body, key, max)? {
        Some(s) if s.trim().is_empty() => Err(Error::invalid_attr(
            key,
            format!("'{s}' Blank strings are not permitted"),
        )),
        other => Ok(other),
    }
}

/// A list of unique IP subnets, each written `address/length` (IPv4 in
/// its plain dotted form), as Neutron's `subnet_list` validator wants;
/// host bits may be set. `null` is not a list.
pub fn opt_subnet_list(body: &Obj, key: &str) -> Result<Option<Vec<String>>> {
    let Some(v) = body.get(key) else {
        return Ok(None);
    };
    let Value::Array(items) = v else {
        return Err(Error::invalid_attr(key, format!("'{v}' is not a list")));
    };
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let Value::String(s) = item else {
            return Err(Error::invalid_attr(
                key,
                format!("'{item}' is not a valid IP subnet"),
            ));
        };
        if !is_subnet(s) {
            return Err(Error::invalid_attr(
                key,
                format!("'{s}' is not a valid IP subnet"),
            ));
        }
        if out.contains(s) {
            return Err(Error::invalid_attr(
                key,
                format!("Duplicate items in the list: '{s}'"),
            ));
        }
        out.push(s.clone());
    }
    Ok(Some(out))
}

/// `address/length`, and for IPv4 spelled the way it prints back.
fn is_subnet(s: &str) -> bool {
    let Some(c) = crate::ipam::Cidr::parse(s) else {
        return false;
    };
    s.contains('/') && (c.v6 || format!("{}/{}", crate::ipam::fmt_ip(c.addr, false), c.prefix) == s)
}

/// A UUID-shaped id.
pub fn is_uuid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}

pub fn opt_uuid(body: &Obj, key: &str) -> Result<Option<String>> {
    match opt_str(body, key, 64)? {
        Some(s) if is_uuid(&s) => Ok(Some(s)),
        Some(s) => Err(Error::invalid_attr(
            key,
            format!("'{s}' is not a valid UUID"),
        )),
        None => Ok(None),
    }
}

/// A UUID that may be `null`.
pub fn opt_nullable_uuid(body: &Obj, key: &str) -> Result<Option<Option<String>>> {
    match body.get(key) {
        Some(Value::Null) => Ok(Some(None)),
        _ => Ok(opt_uuid(body, key)?.map(Some)),
    }
}

pub fn req_uuid(body: &Obj, key: &str) -> Result<String> {
    opt_uuid(body, key)?.ok_or_else(|| missing(key))
}

/// A list of unique tags (strings of 1..=255 characters, no commas);
/// Neutron refuses a list naming one tag twice.
pub fn tags(v: Option<&Value>) -> Result<Vec<String>> {
    let Some(Value::Array(items)) = v else {
        return Err(Error::invalid_attr("tags", "a list of strings is expected"));
    };
    let mut out: Vec<String> = vec![];
    for t in items {
        let Value::String(t) = t else {
            return Err(Error::invalid_attr(
                "tags",
                format!("{t} is not a valid string"),
            ));
        };
        let t = tag(t)?;
        if out.contains(&t) {
            return Err(Error::invalid_attr(
                "tags",
                format!("Duplicate items in the list: '{t}'"),
            ));
        }
        out.push(t);
    }
    Ok(out)
}

/// A tag named in a URL to look up or remove: no longer than 255
/// characters (Neutron checks that before it looks for the resource).
pub fn tag_name(t: &str) -> Result<()> {
    if t.chars().count() > 255 {
        return Err(Error::invalid_attr(
            "tags",
            format!("'{t}' exceeds maximum length of 255"),
        ));
    }
    Ok(())
}

pub fn tag(t: &str) -> Result<String> {
    if t.is_empty() || t.chars().count() > 255 || t.contains(',') {
        return Err(Error::invalid_attr(
            "tags",
            format!("'{t}' is not a valid tag: 1 to 255 characters, no commas"),
        ));
    }
    Ok(t.to_owned())
}

/// A list of objects (`allocation_pools`, `host_routes`, `fixed_ips`, ...).
pub fn opt_obj_list(body: &Obj, key: &str) -> Result<Option<Vec<Obj>>> {
    match body.get(key) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(vec![])),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::Object(o) => Ok(o.clone()),
                v => Err(Error::invalid_attr(key, format!("{v} is not a dictionary"))),
            })
            .collect::<Result<Vec<_>>>()
            .map(Some),
        Some(v) => Err(Error::invalid_attr(key, format!("{v} is not a list"))),
    }
}

/// A list of strings.
pub fn opt_str_list(body: &Obj, key: &str) -> Result<Option<Vec<String>>> {
    match body.get(key) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(vec![])),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                v => Err(Error::invalid_attr(
                    key,
                    format!("{v} is not a valid string"),
                )),
            })
            .collect::<Result<Vec<_>>>()
            .map(Some),
        Some(v) => Err(Error::invalid_attr(key, format!("{v} is not a list"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Obj {
        match v {
            Value::Object(o) => o,
            _ => Obj::new(),
        }
    }

    #[test]
    fn subnet_lists_as_neutron_writes_them() {
        let ok = body(json!({"p": ["10.0.0.1/16", "fd00::/8", "fd00:0::/9"]}));
        assert_eq!(opt_subnet_list(&ok, "p").unwrap().unwrap().len(), 3);
        assert_eq!(opt_subnet_list(&Obj::new(), "p").unwrap(), None);
        for bad in [
            json!(null),
            json!("10.0.0.0/8"),
            json!([5]),
            json!(["10.0.0.0"]),
            json!(["10.0.0.0/08"]),
            json!(["10.0.0.0/33"]),
            json!(["10.0.0.0/8", "10.0.0.0/8"]),
        ] {
            assert!(opt_subnet_list(&body(json!({ "p": bad })), "p").is_err());
        }
    }

    #[test]
    fn non_negative_refuses_null_and_negatives() {
        let b = body(json!({"a": "7", "b": null, "c": -1, "d": 0}));
        assert_eq!(opt_non_negative(&b, "a").unwrap(), Some(7));
        assert!(opt_non_negative(&b, "b").is_err());
        assert!(opt_non_negative(&b, "c").is_err());
        assert_eq!(opt_non_negative(&b, "d").unwrap(), Some(0));
        assert_eq!(opt_non_negative(&b, "e").unwrap(), None);
    }

    #[test]
    fn tags_must_be_unique_strings() {
        assert_eq!(tags(Some(&json!(["a", "b"]))).unwrap(), ["a", "b"]);
        assert!(tags(Some(&json!(["a", "a"]))).is_err());
        assert!(tags(Some(&json!([1]))).is_err());
        assert!(tags(None).is_err());
    }
}
