//! Field checks for request bodies. Every error names the field, in the
//! shape of Keystone's schema errors: `Invalid input for field 'name': …`.

use serde_json::{Map, Value};

use crate::error::{Error, Result};

pub type Object = Map<String, Value>;

fn invalid(field: &str, why: &str) -> Error {
    Error::bad_request(format!("Invalid input for field '{field}': {why}"))
}

/// The object under `key` of the body (`{"user": {...}}`).
pub fn wrapped(body: &Object, key: &str) -> Result<Object> {
    match body.get(key) {
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(invalid(key, "must be an object")),
        None => Err(Error::bad_request(format!(
            "Invalid input: '{key}' is a required property"
        ))),
    }
}

/// The object under `key` of a body that may hold nothing else (Keystone's
/// request schemas with `additionalProperties: false` at the top).
pub fn wrapped_only(body: &Object, key: &str) -> Result<Object> {
    if let Some(k) = body.keys().find(|k| *k != key) {
        return Err(Error::bad_request(format!(
            "Invalid input: additional properties are not allowed ('{k}' was unexpected)"
        )));
    }
    wrapped(body, key)
}

/// [`wrapped_only`] when `strict`, else [`wrapped`].
pub fn wrapped_only_if(body: &Object, key: &str, strict: bool) -> Result<Object> {
    if strict {
        wrapped_only(body, key)
    } else {
        wrapped(body, key)
    }
}

/// [`wrapped_update`] of a body that may hold nothing else.
pub fn wrapped_update_only(body: &Object, key: &str) -> Result<Object> {
    wrapped_only(body, key)?;
    wrapped_update(body, key)
}

/// The object under `key` of an update body: as Keystone's update schemas
/// (`minProperties: 1`), it must change something.
pub fn wrapped_update(body: &Object, key: &str) -> Result<Object> {
    let obj = wrapped(body, key)?;
    if obj.is_empty() {
        return Err(invalid(key, "{} does not have enough properties"));
    }
    Ok(obj)
}

/// An id as Keystone's schemas take one (`id_string`): 1 to 64 letters,
/// digits and dashes.
pub fn id_string(v: &Value, field: &str) -> Result<String> {
    let s = v
        .as_str()
        .ok_or_else(|| invalid(field, &format!("{v} is not of type 'string'")))?;
    if s.is_empty()
        || s.chars().count() > 64
        || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(invalid(
            field,
            &format!("{v} does not match '^[a-zA-Z0-9-]+$' (1 to 64 characters)"),
        ));
    }
    Ok(s.to_owned())
}

/// A name as Keystone's schemas take one: a string of 1 to 255 characters
/// with at least one that is not whitespace.
pub fn name_value(v: &Value, field: &str) -> Result<String> {
    str_value(v, field, 255, false)
}

/// A required non-empty string of at most `max` characters.
pub fn req_str(obj: &Object, field: &str, max: usize) -> Result<String> {
    match obj.get(field) {
        None | Some(Value::Null) => Err(invalid(field, "is a required property")),
        Some(v) => str_value(v, field, max, false),
    }
}

/// An optional string (absent or null gives None).
pub fn opt_str(obj: &Object, field: &str, max: usize) -> Result<Option<String>> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => str_value(v, field, max, true).map(Some),
    }
}

/// An optional non-empty string.
pub fn opt_nonempty_str(obj: &Object, field: &str, max: usize) -> Result<Option<String>> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => str_value(v, field, max, false).map(Some),
    }
}

/// An optional non-empty string that may not be null when present.
pub fn opt_strict_str(obj: &Object, field: &str, max: usize) -> Result<Option<String>> {
    match obj.get(field) {
        None => Ok(None),
        Some(v) => str_value(v, field, max, false).map(Some),
    }
}

/// Present-or-not: `Some(None)` when the field is an explicit null.
pub fn patch_str(obj: &Object, field: &str, max: usize) -> Result<Option<Option<String>>> {
    match obj.get(field) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(v) => str_value(v, field, max, true).map(|s| Some(Some(s))),
    }
}

fn str_value(v: &Value, field: &str, max: usize, allow_empty: bool) -> Result<String> {
    let s = v
        .as_str()
        .ok_or_else(|| invalid(field, &format!("{v} is not of type 'string'")))?;
    if !allow_empty && s.trim().is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if s.chars().count() > max {
        return Err(invalid(field, &format!("is longer than {max} characters")));
    }
    Ok(s.to_owned())
}

/// An optional boolean; a string "true" is not a boolean.
pub fn opt_bool(obj: &Object, field: &str) -> Result<Option<bool>> {
    match obj.get(field) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(v) => Err(invalid(field, &format!("{v} is not of type 'boolean'"))),
    }
}

/// An optional object.
pub fn opt_object(obj: &Object, field: &str) -> Result<Option<Object>> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m.clone())),
        Some(v) => Err(invalid(field, &format!("{v} is not of type 'object'"))),
    }
}

/// An optional object that may not be null when present.
pub fn opt_strict_object(obj: &Object, field: &str) -> Result<Option<Object>> {
    match obj.get(field) {
        None => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m.clone())),
        Some(v) => Err(invalid(field, &format!("{v} is not of type 'object'"))),
    }
}

/// An optional list of strings.
pub fn opt_str_list(obj: &Object, field: &str, max: usize) -> Result<Option<Vec<String>>> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| str_value(v, field, max, false))
            .collect::<Result<Vec<_>>>()
            .map(Some),
        Some(v) => Err(invalid(field, &format!("{v} is not of type 'array'"))),
    }
}

/// The fields of `obj` not named in `known`: Keystone keeps and echoes them.
pub fn extras(obj: &Object, known: &[&str]) -> Object {
    obj.iter()
        .filter(|(k, _)| !known.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Refuse to change fields that are immutable (`id`, `domain_id`, ...).
pub fn immutable(obj: &Object, fields: &[&str]) -> Result<()> {
    for f in fields {
        if obj.contains_key(*f) {
            return Err(invalid(f, "cannot be updated"));
        }
    }
    Ok(())
}

/// Keystone's check for names: no leading/trailing whitespace-only names.
pub fn name(obj: &Object, field: &str) -> Result<String> {
    req_str(obj, field, 255)
}

/// Parse a JSON-encoded column, falling back to an empty object.
pub fn json_column(s: &str) -> Object {
    serde_json::from_str(s).unwrap_or_default()
}
