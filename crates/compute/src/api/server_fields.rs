//! Server fields checked the same way at create, update and rebuild.

use serde_json::{Map, Value};

use super::common::invalid;
use crate::error::Result;

pub fn server_name(v: &Value) -> Result<String> {
    match v {
        Value::String(s)
            if !s.trim().is_empty()
                && s.chars().count() <= 255
                && !s.chars().any(char::is_control) =>
        {
            Ok(s.clone())
        }
        _ => Err(invalid(
            "name",
            &format!("{v} is not a valid server name (1-255 characters)"),
        )),
    }
}

pub fn access_ip(v: &Value, field: &str, version: u8) -> Result<String> {
    let s = v
        .as_str()
        .ok_or_else(|| invalid(field, &format!("{v} is not of type 'string'")))?;
    if s.is_empty() {
        return Ok(String::new());
    }
    // Stored in canonical form, as Nova does (`::babe:dc0c:1602`).
    let canonical = match version {
        4 => s.parse::<std::net::Ipv4Addr>().map(|a| a.to_string()).ok(),
        _ => s.parse::<std::net::Ipv6Addr>().map(|a| a.to_string()).ok(),
    };
    canonical.ok_or_else(|| invalid(field, &format!("{s:?} is not an IPv{version} address")))
}

pub fn disk_config(v: &Value) -> Result<String> {
    match v.as_str() {
        Some(s @ ("AUTO" | "MANUAL")) => Ok(s.to_owned()),
        _ => Err(invalid(
            "OS-DCF:diskConfig",
            &format!("{v} is not one of ['AUTO', 'MANUAL']"),
        )),
    }
}

/// Keys 1-255 characters, values strings of at most 255 (the count is
/// checked against the quota by `quota::check_metadata_items`).
pub fn check_metadata(m: &Map<String, Value>) -> Result<()> {
    for (k, v) in m {
        if k.is_empty() || k.chars().count() > 255 {
            return Err(invalid("metadata", "keys must be 1-255 characters"));
        }
        match v {
            Value::String(s) if s.chars().count() <= 255 => {}
            _ => {
                return Err(invalid(
                    "metadata",
                    &format!("value of {k} must be a string of at most 255 characters"),
                ))
            }
        }
    }
    Ok(())
}
