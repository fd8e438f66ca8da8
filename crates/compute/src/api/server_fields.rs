//! Server fields checked the same way at create, update and rebuild, as
//! Nova's request schemas define them (the 400 names the field).

use serde_json::{Map, Value};

use super::common::invalid;
use crate::error::Result;
use crate::microversion::ApiVersion;

/// Most tags one server may have, and the longest tag.
pub const MAX_TAGS: usize = 50;
const MAX_TAG_LEN: usize = 60;

/// Nova's `name` format: 1-255 printable characters, not starting or
/// ending with white space.
pub fn name(v: &Value, field: &str) -> Result<String> {
    let Value::String(s) = v else {
        return Err(invalid(field, &format!("{v} is not of type 'string'")));
    };
    let n = s.chars().count();
    if n == 0 || n > 255 {
        return Err(invalid(
            field,
            &format!("Value: {s:?}. must be 1-255 characters long"),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(invalid(
            field,
            &format!("Value: {s:?}. printable characters only"),
        ));
    }
    if s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace) {
        return Err(invalid(
            field,
            &format!("Value: {s:?}. Can not start or end with whitespace."),
        ));
    }
    Ok(s.clone())
}

pub fn server_name(v: &Value) -> Result<String> {
    name(v, "name")
}

/// `description` (2.19): null or at most 255 printable characters.
pub fn description(v: &Value) -> Result<Option<String>> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.chars().count() <= 255 && !s.chars().any(char::is_control) => {
            Ok(Some(s.clone()))
        }
        Value::String(s) => Err(invalid(
            "description",
            &format!("Value: {s:?}. at most 255 printable characters"),
        )),
        _ => Err(invalid(
            "description",
            &format!("{v} is not of type 'string', 'null'"),
        )),
    }
}

/// `hostname` (2.90): an RFC 1123 label of 2-63 characters; from 2.94 a
/// fully qualified name (letters, digits, `-._`, up to 255).
pub fn hostname(v: &Value, version: ApiVersion) -> Result<String> {
    let Value::String(s) = v else {
        return Err(invalid("hostname", &format!("{v} is not of type 'string'")));
    };
    let ok = if version.at_least(2, 94) {
        !s.is_empty()
            && s.len() <= 255
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
    } else {
        let b = s.as_bytes();
        (2..=63).contains(&b.len())
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
            && b.first().is_some_and(u8::is_ascii_alphanumeric)
            && b.last().is_some_and(u8::is_ascii_alphanumeric)
    };
    if !ok {
        return Err(invalid(
            "hostname",
            &format!("Value: {s:?}. is not a valid host name"),
        ));
    }
    Ok(s.clone())
}

/// The host name a server gets from its display name when none is asked
/// for, as Nova sanitises it: ` `, `_` and `.` become `-`, other characters
/// than letters, digits and `-` go, lower case, at most 63 characters, no
/// leading or trailing `-`; `Server-<id>` when nothing is left.
pub fn hostname_from_name(name: &str, id: &str) -> String {
    let mapped: String = name
        .chars()
        .filter_map(|c| match c {
            ' ' | '_' | '.' => Some('-'),
            c if c.is_ascii_alphanumeric() || c == '-' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .take(63)
        .collect();
    let trimmed = mapped.trim_matches('-');
    if trimmed.is_empty() {
        format!("Server-{id}")
    } else {
        trimmed.to_owned()
    }
}

/// One tag: 1-60 characters without `,` or `/`.
pub fn tag(v: &Value, field: &str) -> Result<String> {
    match v {
        Value::String(s)
            if !s.is_empty() && s.chars().count() <= MAX_TAG_LEN && !s.contains([',', '/']) =>
        {
            Ok(s.clone())
        }
        _ => Err(invalid(
            field,
            &format!("Value: {v}. must be 1-60 characters without ',' or '/'"),
        )),
    }
}

/// A list of at most 50 tags (duplicates folded).
pub fn tags(v: &Value, field: &str) -> Result<Vec<String>> {
    let Value::Array(list) = v else {
        return Err(invalid(field, &format!("{v} is not of type 'array'")));
    };
    if list.len() > MAX_TAGS {
        return Err(invalid(field, "is too long (at most 50 tags)"));
    }
    let mut out: Vec<String> = Vec::new();
    for t in list {
        let t = tag(t, field)?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(out)
}

/// `trusted_image_certificates` (2.63): null, or 1-50 unique non-empty ids.
pub fn trusted_certs(v: &Value) -> Result<Option<Vec<String>>> {
    const FIELD: &str = "trusted_image_certificates";
    match v {
        Value::Null => Ok(None),
        Value::Array(l) if !l.is_empty() && l.len() <= 50 => {
            let mut out: Vec<String> = Vec::new();
            for c in l {
                match c.as_str() {
                    Some(s) if !s.is_empty() && !out.iter().any(|o| o == s) => {
                        out.push(s.to_owned())
                    }
                    _ => {
                        return Err(invalid(
                            FIELD,
                            &format!("Value: {c}. ids must be unique non-empty strings"),
                        ))
                    }
                }
            }
            Ok(Some(out))
        }
        _ => Err(invalid(
            FIELD,
            &format!("Value: {v}. must be null or a list of 1-50 ids"),
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

/// A `metadata` object as Nova's schema allows it: keys of 1-255 of
/// `[a-zA-Z0-9-_:. ]`, string values of at most 255 characters.
pub fn metadata(v: &Value, field: &str) -> Result<Map<String, Value>> {
    let Value::Object(m) = v else {
        return Err(invalid(field, &format!("{v} is not of type 'object'")));
    };
    check_metadata(m)?;
    Ok(m.clone())
}

/// Keys 1-255 characters of `[a-zA-Z0-9-_:. ]`, values strings of at most
/// 255 (the count is checked against the quota by
/// `quota::check_metadata_items`).
pub fn check_metadata(m: &Map<String, Value>) -> Result<()> {
    for (k, v) in m {
        let key_ok = !k.is_empty()
            && k.chars().count() <= 255
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_:. ".contains(c));
        if !key_ok {
            return Err(invalid(
                "metadata",
                &format!("Additional properties are not allowed ({k:?} was unexpected)"),
            ));
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

/// Refuse keys the version's schema does not have.
pub fn only_known(o: &Map<String, Value>, known: &[&str]) -> Result<()> {
    match o.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(invalid(
            k,
            &format!("Additional properties are not allowed ({k:?} was unexpected)"),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names() {
        assert!(name(&json!("web 1"), "name").is_ok());
        assert!(name(&json!(" web"), "name").is_err());
        assert!(name(&json!("web "), "name").is_err());
        assert!(name(&json!("we\u{7}b"), "name").is_err());
        assert!(name(&json!(""), "name").is_err());
        assert!(name(&json!(null), "name").is_err());
    }

    #[test]
    fn hostnames_by_version() {
        let v290 = ApiVersion::new(2, 90);
        let v294 = ApiVersion::new(2, 94);
        assert!(hostname(&json!("web-1"), v290).is_ok());
        assert!(hostname(&json!("web.example.com"), v290).is_err());
        assert!(hostname(&json!("web.example.com"), v294).is_ok());
        assert!(hostname(&json!("-web"), v290).is_err());
        assert_eq!(hostname_from_name("My Server_1", "x"), "my-server-1");
        assert_eq!(hostname_from_name("!!!", "abc"), "Server-abc");
    }

    #[test]
    fn tag_rules() {
        assert!(tags(&json!(["a", "b", "a"]), "tags").is_ok_and(|t| t == ["a", "b"]));
        assert!(tags(&json!(["a/b"]), "tags").is_err());
        assert!(tags(&json!(["a,b"]), "tags").is_err());
        assert!(tags(&json!([""]), "tags").is_err());
        let many: Vec<String> = (0..51).map(|n| n.to_string()).collect();
        assert!(tags(&json!(many), "tags").is_err());
    }

    #[test]
    fn metadata_keys() {
        assert!(metadata(&json!({"a.b:c-d_e f": "x"}), "metadata").is_ok());
        assert!(metadata(&json!({"a/b": "x"}), "metadata").is_err());
        assert!(metadata(&json!({"a": 1}), "metadata").is_err());
        assert!(metadata(&json!(null), "metadata").is_err());
    }
}
