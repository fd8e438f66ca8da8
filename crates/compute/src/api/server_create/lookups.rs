//! The lookups a create needs: flavor, image, key pair, block devices,
//! networks and security groups, each failing as Nova does (mostly 400).

use ferro_api::services::ImageInfo;
use ferro_api::AuthContext;
use serde_json::{json, Map, Value};

use super::super::common::{invalid, ref_id};
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::store::flavors::{self, Flavor};
use crate::store::keypairs;
use crate::ComputeService;

/// The flavor, if it exists and the caller may use it (a private flavor:
/// admins and the projects it was shared with).
pub async fn flavor(svc: &ComputeService, ctx: &AuthContext, id: &str) -> Result<Flavor> {
    let missing = || Error::bad_request(format!("Flavor {id} could not be found."));
    let flavor = flavors::get(svc.db(), id).await?.ok_or_else(missing)?;
    if !flavor.is_public && !ctx.is_admin() {
        let project = ctx.project_id.clone().unwrap_or_default();
        if !flavors::access(svc.db(), &flavor.id)
            .await?
            .contains(&project)
        {
            return Err(missing());
        }
    }
    Ok(flavor)
}

/// The public key of the caller's key pair `name`.
pub async fn key_data(svc: &ComputeService, ctx: &AuthContext, name: &str) -> Result<String> {
    Ok(keypairs::get(svc.db(), &ctx.user_id, name)
        .await?
        .ok_or_else(|| Error::bad_request("Invalid key_name provided."))?
        .public_key)
}

/// The image to boot from (None for a server booted from a volume).
pub async fn image(
    svc: &ComputeService,
    ctx: &AuthContext,
    o: &Map<String, Value>,
    flavor: &Flavor,
    boot_volume: bool,
) -> Result<Option<ImageInfo>> {
    match o.get("imageRef") {
        Some(Value::String(s)) if !s.is_empty() => image_for(svc, ctx, s, flavor).await.map(Some),
        None | Some(Value::String(_)) if boot_volume => Ok(None),
        None => Err(invalid("imageRef", "'imageRef' is a required property")),
        Some(v) => Err(invalid(
            "imageRef",
            &format!("{v} is not a valid image reference"),
        )),
    }
}

fn is_uuid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}

/// The `networks` request at version `v`: a list of `{uuid|port|fixed_ip}`
/// (a `tag` at 2.32-2.36 and from 2.42), or from 2.37 `"auto"` / `"none"`
/// (then required). Absent or `[]` before 2.37 means "the only network the
/// project may use", as in Nova.
pub async fn networks(
    svc: &ComputeService,
    ctx: &AuthContext,
    o: &Map<String, Value>,
    v: ApiVersion,
) -> Result<Value> {
    let list = match o.get("networks") {
        None if v.at_least(2, 37) => {
            return Err(invalid("networks", "'networks' is a required property"))
        }
        None => return only_network(svc, ctx).await,
        Some(Value::String(s)) if v.at_least(2, 37) && s == "none" => return Ok(json!([])),
        Some(Value::String(s)) if v.at_least(2, 37) && s == "auto" => {
            return match only_network(svc, ctx).await {
                Ok(found) if found.as_array().is_some_and(|l| !l.is_empty()) => Ok(found),
                Ok(_) => {
                    let net = svc
                        .peers()
                        .network
                        .auto_allocated_network(ctx)
                        .await
                        .map_err(|e| {
                            Error::bad_request(format!(
                                "Unable to automatically allocate a network for project: {e}"
                            ))
                        })?;
                    Ok(json!([{ "uuid": net }]))
                }
                Err(e) => Err(e),
            };
        }
        // Nova treats an empty list as "none named" at every version.
        Some(Value::Array(l)) if l.is_empty() => return only_network(svc, ctx).await,
        Some(Value::Array(l)) => l.clone(),
        Some(x) => {
            return Err(invalid(
                "networks",
                &format!("{x} is not valid under any of the given schemas"),
            ))
        }
    };
    let tag_allowed = (v.at_least(2, 32) && !v.at_least(2, 37)) || v.at_least(2, 42);
    let mut out = Vec::new();
    for n in list {
        let Value::Object(m) = &n else {
            return Err(invalid("networks", "each entry must be an object"));
        };
        let known: &[&str] = if tag_allowed {
            &["uuid", "port", "fixed_ip", "tag"]
        } else {
            &["uuid", "port", "fixed_ip"]
        };
        super::super::server_fields::only_known(m, known)?;
        if let Some(t) = m.get("tag") {
            super::super::server_fields::tag(t, "networks.tag")?;
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
        let req = ferro_api::services::PortRequest {
            port_id: port.map(str::to_owned),
            network_id: uuid.map(str::to_owned),
            fixed_ip: m.get("fixed_ip").and_then(Value::as_str).map(str::to_owned),
            security_groups: Vec::new(),
        };
        check_nic(svc, ctx, &req).await?;
        out.push(n.clone());
    }
    Ok(Value::Array(out))
}

/// Nova checks every NIC it is asked for before it answers: an unknown
/// network, port or address is a 400, a port or address in use a 409.
async fn check_nic(
    svc: &ComputeService,
    ctx: &AuthContext,
    req: &ferro_api::services::PortRequest,
) -> Result<()> {
    use ferro_api::CommonError;
    match svc.peers().network.check_port_request(ctx, req).await {
        Ok(()) => Ok(()),
        Err(CommonError::NotFound(_)) if req.port_id.is_some() => Err(Error::bad_request(format!(
            "Port id {} could not be found.",
            req.port_id.as_deref().unwrap_or_default()
        ))),
        Err(CommonError::NotFound(m)) if req.fixed_ip.is_some() && m.contains("Fixed IP") => {
            Err(Error::bad_request(m))
        }
        Err(CommonError::NotFound(_)) => Err(Error::bad_request(format!(
            "Network {} could not be found.",
            req.network_id.as_deref().unwrap_or_default()
        ))),
        Err(CommonError::Conflict(m)) if req.fixed_ip.is_some() && req.port_id.is_none() => {
            Err(Error::bad_request(m))
        }
        Err(e) => Err(e.into()),
    }
}

/// No network named: the one network the project may boot on (none: no
/// NIC; several: 409, as Nova).
async fn only_network(svc: &ComputeService, ctx: &AuthContext) -> Result<Value> {
    let nets = svc
        .peers()
        .network
        .bootable_networks(ctx)
        .await
        .map_err(Error::from)?;
    match nets.len() {
        0 => Ok(json!([])),
        1 => Ok(json!([{"uuid": nets[0]}])),
        _ => Err(Error::conflict(
            "Multiple possible networks found, use a Network ID to be more specific.",
        )),
    }
}

/// The block device mappings, checked; returns them and whether the server
/// boots from a volume.
pub async fn block_devices(
    svc: &ComputeService,
    ctx: &AuthContext,
    o: &Map<String, Value>,
    v: ApiVersion,
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
        let Value::Object(entry) = b else {
            return Err(invalid(
                "block_device_mapping_v2",
                &format!("{b} is not of type 'object'"),
            ));
        };
        super::super::server_fields::only_known(entry, &bdm_keys(v))?;
        if let Some(t) = entry.get("tag") {
            super::super::server_fields::tag(t, "block_device_mapping_v2.tag")?;
        }
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
        if src == "snapshot" {
            let id = b["uuid"].as_str().unwrap_or_default();
            match svc.peers().volume.get_snapshot(ctx, id).await? {
                Some((status, _)) if status == "available" => {}
                Some((status, _)) => {
                    return Err(Error::bad_request(format!(
                        "Block Device Mapping is Invalid: snapshot {id} is {status}."
                    )))
                }
                None => {
                    return Err(Error::bad_request(format!(
                        "Block Device Mapping is Invalid: failed to get snapshot {id}."
                    )))
                }
            }
        }
        if src == "blank" && dest == "volume" && b.get("volume_size").is_none() {
            return Err(Error::bad_request(
                "Block Device Mapping is Invalid: Blank volumes (source: 'blank', dest: \
                 'volume') need to have non-zero size",
            ));
        }
        if boot0 && dest == "volume" {
            boot_volume = true;
        }
    }
    Ok((Value::Array(list), boot_volume))
}

/// An image's own block device mappings (Nova's image-defined BDMs, as a
/// volume-backed server's snapshot carries them: `bdm_v2` and
/// `block_device_mapping`, JSON text in Glance), in the request's terms,
/// merged with the request's: a request entry for the same device, or its
/// own boot device (unless it only boots `imageRef`), wins. `None` when the
/// image has none.
pub fn with_image_block_devices(image: &ImageInfo, requested: &Value) -> Option<Value> {
    let truthy = |v: &Value| match v {
        Value::Bool(b) => *b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    };
    if !image.properties.get("bdm_v2").is_some_and(truthy) {
        return None;
    }
    let defined: Vec<Value> = match image.properties.get("block_device_mapping")? {
        Value::String(s) => serde_json::from_str(s).ok()?,
        Value::Array(l) => l.clone(),
        _ => return None,
    };
    let boots =
        |b: &Value| b["boot_index"].as_i64() == Some(0) || b["boot_index"].as_str() == Some("0");
    // The image's root replaces the boot-from-image entry a client makes
    // of `imageRef` (as Nova drops it).
    let image_boots = defined.iter().any(boots);
    let requested: Vec<Value> = requested
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|r| !(image_boots && boots(r) && r["source_type"] == "image"))
        .collect();
    let request_boots = requested.iter().any(boots);
    let mut out: Vec<Value> = defined
        .iter()
        .filter(|d| !(request_boots && boots(d)))
        .filter(|d| {
            !requested
                .iter()
                .any(|r| r["device_name"].is_string() && r["device_name"] == d["device_name"])
        })
        .map(|d| {
            let uuid = ["snapshot_id", "volume_id", "image_id"]
                .iter()
                .find_map(|k| d[*k].as_str());
            let mut e = Map::new();
            for k in [
                "boot_index",
                "source_type",
                "destination_type",
                "volume_size",
                "delete_on_termination",
                "device_name",
            ] {
                if !d[k].is_null() {
                    e.insert(k.into(), d[k].clone());
                }
            }
            if let Some(u) = uuid {
                e.insert("uuid".into(), json!(u));
            }
            Value::Object(e)
        })
        .collect();
    if out.is_empty() {
        return None;
    }
    out.extend(requested);
    Some(Value::Array(out))
}

/// The keys of a `block_device_mapping_v2` entry at version `v` (a `tag`
/// at 2.32 and from 2.42, `volume_type` from 2.67).
fn bdm_keys(v: ApiVersion) -> Vec<&'static str> {
    let mut keys = vec![
        "virtual_name",
        "volume_id",
        "snapshot_id",
        "volume_size",
        "device_name",
        "delete_on_termination",
        "no_device",
        "connection_info",
        "source_type",
        "uuid",
        "image_id",
        "destination_type",
        "guest_format",
        "device_type",
        "disk_bus",
        "boot_index",
    ];
    if v == ApiVersion::new(2, 32) || v.at_least(2, 42) {
        keys.push("tag");
    }
    if v.at_least(2, 67) {
        keys.push("volume_type");
    }
    keys
}

async fn image_for(
    svc: &ComputeService,
    ctx: &AuthContext,
    image_ref: &str,
    flavor: &Flavor,
) -> Result<ImageInfo> {
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
    Ok(image)
}

/// The image properties a server shows (2.98): the standard `hw_*`,
/// `img_*`, `os_*` and `trait:*`-style keys of the image, not user keys.
pub fn image_properties(image: &ImageInfo) -> Value {
    const PREFIXES: &[&str] = &[
        "hw_",
        "img_",
        "os_",
        "hypervisor_",
        "vm_mode",
        "architecture",
    ];
    let props: Map<String, Value> = image
        .properties
        .iter()
        .filter(|(k, v)| !v.is_null() && PREFIXES.iter().any(|p| k.starts_with(p)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(props)
}

/// Every requested group must exist in the caller's project (400 if not,
/// as Nova checks before scheduling).
pub async fn check_security_groups(
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
