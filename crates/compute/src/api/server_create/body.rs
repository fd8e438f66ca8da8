//! The fields of a `POST /servers` body that need no lookup, checked first
//! (Nova validates the whole body against its schema before any lookup).

use base64::Engine;
use rand::Rng;
use serde_json::{Map, Value};

use super::super::common::{invalid, parse_bool, ref_id};
use super::super::server_fields::{self as fields, access_ip, disk_config, server_name};
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;

/// The keys of `server` every version takes.
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
];

/// The keys of `server` at version `v` (Nova's create schemas).
fn known_keys(v: ApiVersion) -> Vec<&'static str> {
    let mut keys = KNOWN.to_vec();
    if !v.at_least(2, 57) {
        keys.push("personality");
    }
    for (since, key) in [
        ((2, 19), "description"),
        ((2, 52), "tags"),
        ((2, 63), "trusted_image_certificates"),
        ((2, 74), "host"),
        ((2, 74), "hypervisor_hostname"),
        ((2, 90), "hostname"),
    ] {
        if v.at_least(since.0, since.1) {
            keys.push(key);
        }
    }
    keys
}

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
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub trusted_certs: Option<Vec<String>>,
    /// The host name asked for (2.90), else None (derived from the name).
    pub hostname: Option<String>,
    /// The zone asked for, if any (the server is pinned to it).
    pub availability_zone: Option<String>,
    /// `return_reservation_id`: answer with the reservation, not a server.
    pub return_reservation_id: bool,
}

pub fn parse(o: &Map<String, Value>, is_admin: bool, v: ApiVersion) -> Result<CreateBody> {
    fields::only_known(o, &known_keys(v))?;
    let name = server_name(
        o.get("name")
            .ok_or_else(|| invalid("name", "'name' is a required property"))?,
    )?;
    let flavor_ref = o
        .get("flavorRef")
        .and_then(|v| {
            v.as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .or_else(|| v.as_i64().map(|n| n.to_string()))
        })
        .ok_or_else(|| invalid("flavorRef", "'flavorRef' is a required property"))?;
    let key_name = o
        .get("key_name")
        .map(|k| fields::name(k, "key_name"))
        .transpose()?;
    let metadata = match o.get("metadata") {
        None => Map::new(),
        Some(m) => fields::metadata(m, "metadata")?,
    };
    let user_data = o
        .get("user_data")
        .map(user_data_value)
        .transpose()?
        .flatten();
    let availability_zone = availability_zone(o, is_admin)?;
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
    let flag = |key: &str| -> Result<bool> {
        match o.get(key) {
            None => Ok(false),
            Some(x) => {
                parse_bool(x).ok_or_else(|| invalid(key, &format!("{x} is not a valid boolean")))
            }
        }
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
        config_drive: if flag("config_drive")? {
            "True".into()
        } else {
            String::new()
        },
        admin_pass: admin_pass(o)?,
        description: o
            .get("description")
            .map(fields::description)
            .transpose()?
            .flatten(),
        tags: o
            .get("tags")
            .map(|t| fields::tags(t, "tags"))
            .transpose()?
            .unwrap_or_default(),
        trusted_certs: o
            .get("trusted_image_certificates")
            .map(fields::trusted_certs)
            .transpose()?
            .flatten(),
        hostname: o
            .get("hostname")
            .map(|h| fields::hostname(h, v))
            .transpose()?,
        availability_zone,
        return_reservation_id: flag("return_reservation_id")?,
    })
}

/// `user_data`: base64 of at most 65535 characters (None for a JSON null,
/// which only rebuild accepts from 2.57).
pub fn user_data_value(v: &Value) -> Result<Option<String>> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => {
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
        _ => Err(invalid(
            "user_data",
            &format!("{v} is not of type 'string'"),
        )),
    }
}

fn count(o: &Map<String, Value>, key: &str) -> Result<Option<i64>> {
    match o.get(key) {
        None => Ok(None),
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

/// The requested zone (an admin's `zone:host` names a host too; the zone
/// part is what is checked, against the zones that exist, by the caller).
fn availability_zone(o: &Map<String, Value>, is_admin: bool) -> Result<Option<String>> {
    match o.get("availability_zone") {
        None => Ok(None),
        Some(Value::String(z)) if is_admin && z.contains(':') => {
            Ok(z.split(':').next().map(str::to_owned))
        }
        Some(Value::String(z)) if !z.is_empty() => Ok(Some(z.clone())),
        Some(Value::String(z)) => Err(Error::bad_request(format!(
            "The requested availability zone is not available: {z}"
        ))),
        Some(v) => Err(invalid(
            "availability_zone",
            &format!("{v} is not of type 'string'"),
        )),
    }
}

fn security_groups(o: &Map<String, Value>) -> Result<Vec<String>> {
    match o.get("security_groups") {
        None => Ok(vec!["default".into()]),
        Some(Value::Array(l)) => l
            .iter()
            .map(|g| {
                let Value::Object(m) = g else {
                    return Err(invalid(
                        "security_groups",
                        &format!("{g} is not of type 'object'"),
                    ));
                };
                fields::only_known(m, &["name"])?;
                fields::name(
                    m.get("name")
                        .ok_or_else(|| invalid("security_groups", "each entry needs a 'name'"))?,
                    "security_groups.name",
                )
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
        None => {
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
