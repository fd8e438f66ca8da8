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
