//! `POST /servers`: check every field, reserve quota, record the servers
//! with their build tasks in one transaction, and answer 202. The worker
//! does the rest.

use axum::extract::State;
use axum::response::Response;
use base64::Engine;
use ferro_api::time::now_micros;
use ferro_api::{AuthContext, BaseUrl};
use rand::Rng;
use serde_json::{json, Map, Value};

use super::common::{invalid, project_of, ref_id, require_member, wrapped, Body, Caller};
use super::instance_actions::{record, ReqId};
use crate::error::{Error, Result};
use crate::quota;
use crate::state::vm;
use crate::store::flavors::{self, Flavor};
use crate::store::instances::{self, Instance};
use crate::store::keypairs;
use crate::ComputeService;

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

fn is_uuid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}

/// The `networks` request: a list of `{uuid|port|fixed_ip}`; absent means
/// "the only network the project may use", as at 2.1.
async fn networks(
    svc: &ComputeService,
    ctx: &AuthContext,
    o: &Map<String, Value>,
) -> Result<Value> {
    let list = match o.get("networks") {
        None | Some(Value::Null) => {
            let nets = svc
                .peers()
                .network
                .bootable_networks(ctx)
                .await
                .map_err(Error::from)?;
            return match nets.len() {
                0 => Ok(json!([])),
                1 => Ok(json!([{"uuid": nets[0]}])),
                _ => Err(Error::conflict(
                    "Multiple possible networks found, use a Network ID to be more specific.",
                )),
            };
        }
        Some(Value::Array(l)) => l.clone(),
        Some(v) => return Err(invalid("networks", &format!("{v} is not of type 'array'"))),
    };
    let mut out = Vec::new();
    for n in list {
        let Value::Object(m) = &n else {
            return Err(invalid("networks", "each entry must be an object"));
        };
        for key in m.keys() {
            if !["uuid", "port", "fixed_ip", "tag"].contains(&key.as_str()) {
                return Err(invalid(
                    "networks",
                    &format!("Additional properties are not allowed ('{key}')"),
                ));
            }
        }
        let uuid = m.get("uuid").and_then(Value::as_str);
        let port = m.get("port").and_then(Value::as_str);
        if uuid.is_none() && port.is_none() {
            return Err(Error::bad_request(
                "Bad networks format: network uuid is not in proper format",
            ));
        }
        if uuid.is_some_and(|u| !is_uuid(u)) || port.is_some_and(|p| !is_uuid(p)) {
            return Err(Error::bad_request(
                "Bad networks format: network uuid is not in proper format",
            ));
        }
        if let Some(ip) = m.get("fixed_ip") {
            let ok = ip
                .as_str()
                .is_some_and(|s| s.parse::<std::net::IpAddr>().is_ok());
            if !ok {
                return Err(Error::bad_request(format!(
                    "Invalid fixed IP address ({ip})"
                )));
            }
        }
        out.push(n.clone());
    }
    Ok(Value::Array(out))
}

/// The block device mappings, checked; returns them and whether the server
/// boots from a volume.
async fn block_devices(
    svc: &ComputeService,
    ctx: &AuthContext,
    o: &Map<String, Value>,
) -> Result<(Value, bool)> {
    let list = match o.get("block_device_mapping_v2") {
        None | Some(Value::Null) => return Ok((json!([]), false)),
        Some(Value::Array(l)) => l.clone(),
        Some(v) => {
            return Err(invalid(
                "block_device_mapping_v2",
                &format!("{v} is not of type 'array'"),
            ))
        }
    };
    let mut boot_volume = false;
    for b in &list {
        let src = b["source_type"].as_str().unwrap_or("");
        let dest = b["destination_type"].as_str().unwrap_or("local");
        if !["image", "volume", "snapshot", "blank"].contains(&src) {
            return Err(invalid(
                "block_device_mapping_v2",
                &format!("source_type {src:?} is not valid"),
            ));
        }
        if !["local", "volume"].contains(&dest) {
            return Err(invalid(
                "block_device_mapping_v2",
                &format!("destination_type {dest:?} is not valid"),
            ));
        }
        let boot0 = b["boot_index"].as_i64() == Some(0) || b["boot_index"].as_str() == Some("0");
        if src == "volume" {
            let id = b["uuid"].as_str().unwrap_or_default();
            let vol = svc
                .peers()
                .volume
                .get_volume(ctx, id)
                .await
                .map_err(Error::from)?;
            let vol = vol.ok_or_else(|| {
                Error::bad_request(format!(
                    "Block Device Mapping is Invalid: failed to get volume {id}."
                ))
            })?;
            if vol.status != "available" {
                return Err(Error::bad_request(format!(
                    "Block Device Mapping is Invalid: volume {id} is {}",
                    vol.status
                )));
            }
            if boot0 && !vol.bootable {
                return Err(Error::bad_request(format!(
                    "Block Device {id} is not bootable."
                )));
            }
        }
        if boot0 && dest == "volume" {
            boot_volume = true;
        }
    }
    Ok((Value::Array(list), boot_volume))
}

async fn image_for(
    svc: &ComputeService,
    ctx: &AuthContext,
    image_ref: &str,
    flavor: &Flavor,
) -> Result<String> {
    let id = ref_id(image_ref);
    let image = svc
        .peers()
        .image
        .get_image(ctx, &id)
        .await
        .map_err(Error::from)?
        .ok_or_else(|| Error::bad_request(format!("Image {id} could not be found.")))?;
    if image.status != "active" {
        return Err(Error::bad_request(format!("Image {id} is not active.")));
    }
    if image.min_ram > flavor.ram {
        return Err(Error::bad_request(
            "Flavor's memory is too small for requested image.",
        ));
    }
    let size_gb = (image.size.unwrap_or(0).max(0) as u64).div_ceil(1 << 30) as i64;
    if flavor.disk > 0 && (image.min_disk > flavor.disk || size_gb > flavor.disk) {
        return Err(Error::bad_request(
            "Flavor's disk is too small for requested image.",
        ));
    }
    Ok(id)
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

/// Every requested group must exist in the caller's project (400 if not,
/// as Nova checks before scheduling).
async fn check_security_groups(
    svc: &ComputeService,
    ctx: &AuthContext,
    groups: &[String],
) -> Result<()> {
    for g in groups {
        match svc.peers().network.find_security_group(ctx, g).await {
            Ok(_) => {}
            Err(ferro_api::CommonError::NotFound(_)) => {
                return Err(Error::bad_request(format!(
                    "Unable to find security group with name or id '{g}'."
                )))
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
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

pub async fn create(
    State(svc): State<ComputeService>,
    c: Caller,
    base: BaseUrl,
    req: ReqId,
    body: Body,
) -> Result<Response> {
    require_member(&c)?;
    let project = project_of(&c)?;
    let top = body.object()?;
    let o = wrapped(&top, "server")?;
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
    let flavor_id = ref_id(&flavor_ref);
    let flavor = flavors::get(svc.db(), &flavor_id)
        .await?
        .ok_or_else(|| Error::bad_request(format!("Flavor {flavor_id} could not be found.")))?;
    // A private flavor is usable only by admins and the projects it was shared with.
    if !flavor.is_public && !c.is_admin() {
        let project = c.project_id.clone().unwrap_or_default();
        if !flavors::access(svc.db(), &flavor.id)
            .await?
            .contains(&project)
        {
            return Err(Error::bad_request(format!(
                "Flavor {flavor_id} could not be found."
            )));
        }
    }
    let (bdms, boot_volume) = block_devices(&svc, &c, &o).await?;
    let image_id = match o.get("imageRef") {
        Some(Value::String(s)) if !s.is_empty() => image_for(&svc, &c, s, &flavor).await?,
        None | Some(Value::String(_)) if boot_volume => String::new(),
        None => return Err(invalid("imageRef", "'imageRef' is a required property")),
        Some(v) => {
            return Err(invalid(
                "imageRef",
                &format!("{v} is not a valid image reference"),
            ))
        }
    };
    let key_name = match o.get("key_name") {
        None | Some(Value::Null) => None,
        Some(Value::String(k)) => Some(k.clone()),
        Some(v) => return Err(invalid("key_name", &format!("{v} is not of type 'string'"))),
    };
    let key_data = match &key_name {
        Some(k) => Some(
            keypairs::get(svc.db(), &c.user_id, k)
                .await?
                .ok_or_else(|| Error::bad_request("Invalid key_name provided."))?
                .public_key,
        ),
        None => None,
    };
    let meta = metadata(&o)?;
    let user_data = match o.get("user_data") {
        None | Some(Value::Null) => None,
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
            Some(s.clone())
        }
        Some(v) => {
            return Err(invalid(
                "user_data",
                &format!("{v} is not of type 'string'"),
            ))
        }
    };
    match o.get("availability_zone") {
        None | Some(Value::Null) => {}
        Some(Value::String(z)) if z == "nova" || (c.is_admin() && z.starts_with("nova:")) => {}
        Some(v) => {
            return Err(Error::bad_request(format!(
                "The requested availability zone is not available: {v}"
            )))
        }
    }
    let min = count(&o, "min_count")?.unwrap_or(1);
    let max = count(&o, "max_count")?.unwrap_or(min);
    if min > max {
        return Err(invalid("min_count", "min_count must be <= max_count"));
    }
    let groups = security_groups(&o)?;
    let access_v4 = match o.get("accessIPv4") {
        Some(v) => access_ip(v, "accessIPv4", 4)?,
        None => String::new(),
    };
    let access_v6 = match o.get("accessIPv6") {
        Some(v) => access_ip(v, "accessIPv6", 6)?,
        None => String::new(),
    };
    let disk = match o.get("OS-DCF:diskConfig") {
        Some(v) => disk_config(v)?,
        None => "MANUAL".to_owned(),
    };
    let config_drive = match o.get("config_drive") {
        None | Some(Value::Null) => String::new(),
        Some(Value::Bool(b)) => {
            if *b {
                "True".into()
            } else {
                String::new()
            }
        }
        Some(Value::String(s)) => s.clone(),
        Some(v) => return Err(invalid("config_drive", &format!("{v} is not valid"))),
    };
    let pass = admin_pass(&o)?;
    let nets = networks(&svc, &c, &o).await?;
    check_security_groups(&svc, &c, &groups).await?;
    quota::check_metadata_items(&svc, &project, meta.len()).await?;
    quota::check_servers(&svc, &project, &c.user_id, max, flavor.vcpus, flavor.ram).await?;
    let group = super::server_groups::hinted_group(&svc, &c, &top, max).await?;
    let now = now_micros();
    let mut made = Vec::new();
    for n in 1..=max {
        let id = uuid::Uuid::new_v4().to_string();
        made.push(Instance {
            id: id.clone(),
            name: if max > 1 {
                format!("{name}-{n}")
            } else {
                name.clone()
            },
            project_id: project.clone(),
            user_id: c.user_id.clone(),
            image_id: image_id.clone(),
            flavor_id: flavor.id.clone(),
            flavor: serde_json::to_value(&flavor).unwrap_or(Value::Null),
            vm_state: vm::BUILDING.into(),
            task_state: Some("scheduling".into()),
            key_name: key_name.clone(),
            key_data: key_data.clone(),
            availability_zone: "nova".into(),
            metadata: meta.clone(),
            user_data: user_data.clone(),
            security_groups: groups.clone(),
            requested_networks: nets.clone(),
            block_devices: bdms.clone(),
            access_ipv4: access_v4.clone(),
            access_ipv6: access_v6.clone(),
            disk_config: disk.clone(),
            config_drive: config_drive.clone(),
            created_at: now,
            updated_at: now,
            ..Default::default()
        });
    }
    instances::create_with_tasks(svc.db(), &made, group.as_ref().map(|g| g.id.as_str())).await?;
    for i in &made {
        record(&svc, &c, &i.id, "create", &req, false).await?;
    }
    svc.wake_worker();
    let ids: Vec<(String, String)> = made.iter().map(|i| (i.id.clone(), pass.clone())).collect();
    if o.get("return_reservation_id").and_then(Value::as_bool) == Some(true) {
        return Ok(super::common::accepted(
            json!({"reservation_id": format!("r-{}", &ids[0].0[..8])}),
        ));
    }
    Ok(super::servers::created(&ids, &base, &groups, &disk))
}
