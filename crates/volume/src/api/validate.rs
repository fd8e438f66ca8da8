//! Body checks in the manner of Cinder's JSON schemas: unknown keys where
//! the schema says `additionalProperties: false`, nulls where not allowed,
//! names and uuids. Every error is a 400 naming the field.

use serde_json::{Map, Value};

use super::common::Body;
use crate::error::{Error, Result};

fn extra_error(field: &str, key: &str) -> Error {
    Error::bad_request(format!(
        "Invalid input for field/attribute {field}. Additional properties are not allowed \
         ('{key}' was unexpected)."
    ))
}

/// Refuse keys of `obj` not in `allowed` (`field` names the object).
pub fn no_extra(obj: &Map<String, Value>, allowed: &[&str], field: &str) -> Result<()> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(extra_error(field, k)),
        None => Ok(()),
    }
}

/// The object under `key`, the body holding nothing else but `also`.
pub fn wrapped_only(body: &Body, key: &str, also: &[&str]) -> Result<Map<String, Value>> {
    let mut obj = body.object()?;
    if let Some(k) = obj
        .keys()
        .find(|k| *k != key && !also.contains(&k.as_str()))
    {
        return Err(extra_error("body", k));
    }
    match obj.remove(key) {
        Some(Value::Object(m)) => Ok(m),
        Some(Value::Null) => Err(Error::bad_request(format!(
            "Invalid input for field/attribute {key}. Value: None. None is not of type 'object'."
        ))),
        Some(_) => Err(Error::bad_request(format!(
            "Invalid input for field/attribute {key}: must be an object."
        ))),
        None => Err(Error::bad_request(format!(
            "Missing required element '{key}' in request body."
        ))),
    }
}

/// A name or description: string or null, at most 255 characters once
/// surrounding white space is removed, no control characters.
pub fn name(obj: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let t = s.trim();
            if t.chars().count() > 255 {
                return Err(Error::bad_request(format!(
                    "Invalid input for field/attribute {key}. Value: {s}. It must be at most \
                     255 characters long."
                )));
            }
            if t.chars().any(char::is_control) {
                return Err(Error::bad_request(format!(
                    "Invalid input for field/attribute {key}: control characters are not \
                     allowed."
                )));
            }
            Ok(Some(t.to_owned()))
        }
        Some(v) => Err(Error::bad_request(format!(
            "Invalid input for field/attribute {key}. Value: {v}. {v} is not of type 'string', \
             'null'."
        ))),
    }
}

/// Whether `s` is a uuid in one of the forms Cinder's `uuid` format takes.
pub fn is_uuid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}

/// An optional uuid (string or null).
pub fn opt_uuid(obj: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if is_uuid(s) => Ok(Some(s.clone())),
        Some(v) => Err(Error::bad_request(format!(
            "Invalid input for field/attribute {key}. Value: {v}. {v} is not a 'uuid'."
        ))),
    }
}

/// A field that must not be null when present.
pub fn not_null(obj: &Map<String, Value>, key: &str) -> Result<()> {
    if obj.get(key).is_some_and(Value::is_null) {
        return Err(Error::bad_request(format!(
            "Invalid input for field/attribute {key}. Value: None. None is not allowed."
        )));
    }
    Ok(())
}

/// Cinder's `parameter_types.boolean`: JSON booleans and exactly these
/// strings (no other casing, no surrounding space).
const BOOL_STRINGS: &[(&str, bool)] = &[
    ("True", true),
    ("TRUE", true),
    ("true", true),
    ("1", true),
    ("ON", true),
    ("On", true),
    ("on", true),
    ("YES", true),
    ("Yes", true),
    ("yes", true),
    ("y", true),
    ("t", true),
    ("False", false),
    ("FALSE", false),
    ("false", false),
    ("0", false),
    ("OFF", false),
    ("Off", false),
    ("off", false),
    ("NO", false),
    ("No", false),
    ("no", false),
    ("n", false),
    ("f", false),
];

/// A field of schema type `parameter_types.boolean`.
pub fn schema_bool(v: &Value, key: &str) -> Result<bool> {
    let found = match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => BOOL_STRINGS.iter().find(|(t, _)| t == s).map(|(_, b)| *b),
        _ => None,
    };
    found.ok_or_else(|| {
        Error::bad_request(format!(
            "Invalid input for field/attribute {key}. Value: {v}. {v} is not one of the \
             boolean values Cinder accepts (true/false, 'True', 'yes', 'on', '1', ...)."
        ))
    })
}

/// An optional `parameter_types.boolean` field (absent: `default`).
pub fn opt_schema_bool(obj: &Map<String, Value>, key: &str, default: bool) -> Result<bool> {
    obj.get(key)
        .map(|v| schema_bool(v, key))
        .transpose()
        .map(|b| b.unwrap_or(default))
}

/// A required field, present and not null.
pub fn required<'a>(obj: &'a Map<String, Value>, key: &str, field: &str) -> Result<&'a Value> {
    obj.get(key).ok_or_else(|| {
        Error::bad_request(format!(
            "Invalid input for field/attribute {field}. '{key}' is a required property."
        ))
    })
}

/// A string of `min..=max` characters (`max` counted as upstream does, in
/// characters).
pub fn string_len(obj: &Map<String, Value>, key: &str, min: usize, max: usize) -> Result<String> {
    match obj.get(key) {
        Some(Value::String(s)) if (min..=max).contains(&s.chars().count()) => Ok(s.clone()),
        Some(v @ Value::String(_)) => Err(Error::bad_request(format!(
            "Invalid input for field/attribute {key}. Value: {v}. It must be {min} to {max} \
             characters long."
        ))),
        Some(v) => Err(Error::bad_request(format!(
            "Invalid input for field/attribute {key}. Value: {v}. {v} is not of type 'string'."
        ))),
        None => Err(Error::bad_request(format!(
            "Invalid input for field/attribute {key}. '{key}' is a required property."
        ))),
    }
}

/// Whether `s` is a cinder host (`parameter_types.cinder_host`):
/// `host[@backend][#pool]` of letters, digits and `-._#@:/+[]`.
pub fn is_cinder_host(s: &str) -> bool {
    (1..=255).contains(&s.chars().count())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._#@:/+[]".contains(c))
}

/// Whether `host` (a service's `host@backend`) is what `value` names, as
/// Cinder matches hosts: with a `#pool` exactly; with an `@backend` that
/// backend (any pool); else the host with any backend and pool.
pub fn host_matches(host: &str, value: &str) -> bool {
    if host == value {
        return true;
    }
    if value.contains('#') {
        false
    } else if value.contains('@') {
        host.strip_prefix(value).is_some_and(|r| r.starts_with('#'))
    } else {
        host.strip_prefix(value)
            .is_some_and(|r| r.starts_with('@') || r.starts_with('#'))
    }
}

/// Keys Cinder allows in image metadata and extra specs:
/// `^[a-zA-Z0-9-_:. /]{1,255}$`.
pub fn is_spec_key(k: &str) -> bool {
    (1..=255).contains(&k.len())
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_:. /".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn booleans_as_cinder_lists_them() {
        assert!(schema_bool(&json!("True"), "f").unwrap());
        assert!(schema_bool(&json!("y"), "f").unwrap());
        assert!(!schema_bool(&json!("Off"), "f").unwrap());
        assert!(!schema_bool(&json!(false), "f").unwrap());
        for bad in [
            json!("Y"),
            json!("tRue"),
            json!(" true"),
            json!(1),
            json!(null),
        ] {
            assert!(schema_bool(&bad, "f").is_err(), "{bad}");
        }
    }

    #[test]
    fn hosts_match_by_level() {
        let h = "node@be";
        assert!(host_matches(h, "node"));
        assert!(host_matches(h, "node@be"));
        assert!(!host_matches(h, "node@be#pool"));
        assert!(!host_matches(h, "nod"));
        assert!(!host_matches(h, "node@b"));
        assert!(host_matches("node@be#p", "node@be"));
        assert!(is_cinder_host("node@be#[::1]:/x"));
        assert!(!is_cinder_host("bad host!"));
        assert!(!is_cinder_host(""));
    }

    #[test]
    fn spec_keys() {
        assert!(is_spec_key("a-b_c:d. e/f"));
        assert!(!is_spec_key("a$b"));
        assert!(!is_spec_key(""));
        assert!(!is_spec_key(&"k".repeat(256)));
    }
}
