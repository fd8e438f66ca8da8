//! The fields of a `POST /servers` body that need no lookup, checked first
//! (Nova validates the whole body against its schema before any lookup).

use base64::Engine;
use rand::Rng;
use serde_json::{Map, Value};

use super::super::common::{invalid, ref_id};
use super::super::server_fields::{access_ip, check_metadata, disk_config, server_name};
use crate::error::{Error, Result};

const KNOWN: &[&str] = &[
    "name",
    "imageRef",
    "flavorRef",
    "networks",
    "security_groups",
    "key_name",
    "metadata",
    "user_data",
    "availability_zone",
    "min_count",
    "max_count",
    "block_device_mapping_v2",
    "block_device_mapping",
    "config_drive",
    "accessIPv4",
    "accessIPv6",
    "adminPass",
    "OS-DCF:diskConfig",
    "return_reservation_id",
    "personality",
];

/// A create request, its fields checked.
pub struct CreateBody {
    pub name: String,
    /// The flavor id (from an id or a URL).
    pub flavor_id: String,
    pub key_name: Option<String>,
    pub metadata: Map<String, Value>,
    pub user_data: Option<String>,
    /// How many servers to make (`min_count` only bounds it).
    pub max_count: i64,
    pub security_groups: Vec<String>,
    pub access_ipv4: String,
    pub access_ipv6: String,
    pub disk_config: String,
    pub config_drive: String,
    pub admin_pass: String,
}

pub fn parse(o: &Map<String, Value>, is_admin: bool) -> Result<CreateBody> {
    for key in o.keys() {
        if !KNOWN.contains(&key.as_str()) {
            return Err(invalid(key, "Additional properties are not allowed"));
        }
    }
    let name = server_name(o.get("name").unwrap_or(&Value::Null))?;
    let flavor_ref = o
        .get("flavorRef")
        .and_then(|v| {
            v.as_str()
                .map(str::to_owned)
                .or_else(|| v.as_i64().map(|n| n.to_string()))
        })
        .ok_or_else(|| invalid("flavorRef", "'flavorRef' is a required property"))?;
    let key_name = match o.get("key_name") {
        None | Some(Value::Null) => None,
        Some(Value::String(k)) => Some(k.clone()),
        Some(v) => return Err(invalid("key_name", &format!("{v} is not of type 'string'"))),
    };
    let metadata = metadata(o)?;
    let user_data = user_data(o)?;
    availability_zone(o, is_admin)?;
    let min_count = count(o, "min_count")?.unwrap_or(1);
    let max_count = count(o, "max_count")?.unwrap_or(min_count);
    if min_count > max_count {
        return Err(invalid("min_count", "min_count must be <= max_count"));
    }
    let security_groups = security_groups(o)?;
    let ip = |key: &str, version: u8| match o.get(key) {
        Some(v) => access_ip(v, key, version),
        None => Ok(String::new()),
    };
    let (access_ipv4, access_ipv6) = (ip("accessIPv4", 4)?, ip("accessIPv6", 6)?);
    let disk_config = match o.get("OS-DCF:diskConfig") {
        Some(v) => disk_config(v)?,
        None => "MANUAL".to_owned(),
    };
    Ok(CreateBody {
        name,
        flavor_id: ref_id(&flavor_ref),
        key_name,
        metadata,
        user_data,
        max_count,
        security_groups,
        access_ipv4,
        access_ipv6,
        disk_config,
        config_drive: config_drive(o)?,
        admin_pass: admin_pass(o)?,
    })
}

fn count(o: &Map<String, Value>, key: &str) -> Result<Option<i64>> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            let n = v
                .as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .ok_or_else(|| invalid(key, &format!("{v} is not an integer")))?;
            if n < 1 {
                return Err(invalid(key, &format!("{n} is less than the minimum of 1")));
            }
            Ok(Some(n))
        }
    }
}

fn metadata(o: &Map<String, Value>) -> Result<Map<String, Value>> {
    let m = match o.get("metadata") {
        None | Some(Value::Null) => return Ok(Map::new()),
        Some(Value::Object(m)) => m.clone(),
        Some(v) => return Err(invalid("metadata", &format!("{v} is not of type 'object'"))),
    };
    check_metadata(&m)?;
    Ok(m)
}

fn user_data(o: &Map<String, Value>) -> Result<Option<String>> {
    match o.get("user_data") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let ok = s.len() <= 65535
                && base64::engine::general_purpose::STANDARD
                    .decode(s.trim())
                    .is_ok();
            if !ok {
                return Err(invalid(
                    "user_data",
                    "must be base64 encoded, at most 65535 bytes",
                ));
            }
            Ok(Some(s.clone()))
        }
        Some(v) => Err(invalid(
            "user_data",
            &format!("{v} is not of type 'string'"),
        )),
    }
}

/// Only zone `nova` exists (admins may also name a host: `nova:host`).
fn availability_zone(o: &Map<String, Value>, is_admin: bool) -> Result<()> {
    match o.get("availability_zone") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(z)) if z == "nova" || (is_admin && z.starts_with("nova:")) => Ok(()),
        Some(v) => Err(Error::bad_request(format!(
            "The requested availability zone is not available: {v}"
        ))),
    }
}

fn config_drive(o: &Map<String, Value>) -> Result<String> {
    match o.get("config_drive") {
        None | Some(Value::Null) | Some(Value::Bool(false)) => Ok(String::new()),
        Some(Value::Bool(true)) => Ok("True".into()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(v) => Err(invalid("config_drive", &format!("{v} is not valid"))),
    }
}

fn security_groups(o: &Map<String, Value>) -> Result<Vec<String>> {
    match o.get("security_groups") {
        None | Some(Value::Null) => Ok(vec!["default".into()]),
        Some(Value::Array(l)) => l
            .iter()
            .map(|g| {
                g["name"]
                    .as_str()
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned)
                    .ok_or_else(|| invalid("security_groups", "each entry needs a 'name'"))
            })
            .collect(),
        Some(v) => Err(invalid(
            "security_groups",
            &format!("{v} is not of type 'array'"),
        )),
    }
}

fn admin_pass(o: &Map<String, Value>) -> Result<String> {
    match o.get("adminPass") {
        None | Some(Value::Null) => {
            const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
            let mut rng = rand::thread_rng();
            Ok((0..12)
                .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
                .collect())
        }
        Some(Value::String(s)) => Ok(s.clone()),
        Some(v) => Err(invalid(
            "adminPass",
            &format!("{v} is not of type 'string'"),
        )),
    }
}
