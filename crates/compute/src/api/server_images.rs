//! Server actions that make Glance images: `createImage` (a snapshot) and
//! `createBackup` (a snapshot tagged `image_type=backup`, with rotation).

use axum::response::Response;
use ferro_api::services::{ImageInfo, NewImage};
use ferro_api::{AuthContext, BaseUrl};
use serde_json::{json, Map, Value};

use super::common::{accepted_empty, invalid, Caller};
use super::server_fields as fields;
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::state::vm;
use crate::store::instances::{self, Instance};
use crate::store::{attachments, tasks};
use crate::ComputeService;

pub async fn create_image(
    svc: &ComputeService,
    c: &Caller,
    i: &Instance,
    arg: &Value,
    base: &BaseUrl,
    v: ApiVersion,
) -> Result<Response> {
    let o = arg
        .as_object()
        .ok_or_else(|| invalid("createImage", &format!("{arg} is not of type 'object'")))?;
    fields::only_known(o, &["name", "metadata"])?;
    let name = fields::name(
        o.get("name")
            .ok_or_else(|| invalid("createImage", "'name' is a required property"))?,
        "name",
    )?;
    let user = user_metadata(arg, "metadata")?;
    let image = if super::server_shelve::volume_backed(i) {
        snapshot_volume_backed(svc, c, i, &name, user).await?
    } else {
        snapshot(svc, c, i, &name, Map::new(), user, "snapshot", None).await?
    };
    Ok(answer(base, &image.id, true, v))
}

/// Nova's `snapshot_volume_backed`: the image holds no data (size 0) but
/// says how to make the server's disks again. Each attached volume is
/// snapshotted (in use or not: crash consistent) and named in the image's
/// `block_device_mapping` (`bdm_v2`, the JSON text Nova stores in Glance);
/// a server booted from the image gets volumes made from those snapshots
/// (`server_create`). Done before answering, as Nova's API does.
async fn snapshot_volume_backed(
    svc: &ComputeService,
    c: &Caller,
    i: &Instance,
    name: &str,
    user: Map<String, Value>,
) -> Result<ImageInfo> {
    let allowed = [vm::ACTIVE, vm::STOPPED, vm::PAUSED, vm::SUSPENDED];
    if !allowed.contains(&i.vm_state.as_str()) || i.task_state.is_some() {
        return Err(Error::conflict(format!(
            "Cannot 'createImage' instance {} while it is in vm_state {}",
            i.id, i.vm_state
        )));
    }
    let mut attached = attachments::of_instance(svc.db(), &i.id).await?;
    attached.sort_by_key(|a| (a.boot_index.unwrap_or(i64::MAX), a.device.clone()));
    let mut mapping = Vec::new();
    for a in &attached {
        let size = svc
            .peers()
            .volume
            .get_volume(c, &a.volume_id)
            .await?
            .map_or(0, |vol| vol.size_gb);
        let snapshot_id = svc
            .peers()
            .volume
            .snapshot_volume(c, &a.volume_id, &format!("snapshot for {name}"))
            .await?;
        mapping.push(json!({
            "boot_index": a.boot_index,
            "device_name": a.device,
            "source_type": "snapshot",
            "destination_type": "volume",
            "snapshot_id": snapshot_id,
            "volume_id": null,
            "image_id": null,
            "volume_size": size,
            "delete_on_termination": a.delete_on_termination,
            "device_type": "disk",
            "disk_bus": null,
            "guest_format": null,
            "volume_type": null,
            "no_device": null,
            "tag": a.tag,
        }));
    }
    let mut props = Map::new();
    props.insert("root_device_name".into(), json!("/dev/vda"));
    if !mapping.is_empty() {
        props.insert("bdm_v2".into(), json!("True"));
        props.insert(
            "block_device_mapping".into(),
            json!(Value::Array(mapping).to_string()),
        );
    }
    let image = register(svc, c, i, name, props, user, "snapshot").await?;
    // No data: an empty upload makes it active (size 0), as Nova does.
    let empty = std::env::temp_dir().join(format!("ferro-empty-{}", image.id));
    let uploaded = match std::fs::File::create(&empty) {
        Ok(_) => svc
            .peers()
            .image
            .upload_image_file(c, &image.id, empty.clone())
            .await
            .map_err(Error::from),
        Err(e) => Err(Error::internal(format!(
            "cannot make {}: {e}",
            empty.display()
        ))),
    };
    let _ = std::fs::remove_file(&empty);
    match uploaded {
        Ok(image) => Ok(image),
        Err(e) => {
            let _ = svc.peers().image.delete_image(c, &image.id).await;
            Err(e)
        }
    }
}

/// `createBackup {name, backup_type, rotation, metadata?}`: a new backup
/// image, then the server's oldest backups of that type beyond `rotation`
/// are deleted (rotation 0 keeps none, not even the new one).
pub async fn create_backup(
    svc: &ComputeService,
    c: &Caller,
    i: &Instance,
    arg: &Value,
    base: &BaseUrl,
    v: ApiVersion,
) -> Result<Response> {
    let o = arg
        .as_object()
        .ok_or_else(|| invalid("createBackup", "Value: must be an object"))?;
    if let Some(k) = o
        .keys()
        .find(|k| !["name", "backup_type", "rotation", "metadata"].contains(&k.as_str()))
    {
        return Err(invalid(
            "createBackup",
            &format!("Additional properties are not allowed ('{k}' was unexpected)"),
        ));
    }
    let name = backup_name(o.get("name"))?;
    let backup_type = match o.get("backup_type") {
        Some(Value::String(t)) => t.clone(),
        Some(v) => {
            return Err(invalid(
                "backup_type",
                &format!("{v} is not of type 'string'"),
            ))
        }
        None => {
            return Err(invalid(
                "createBackup",
                "'backup_type' is a required property",
            ))
        }
    };
    let rotation = rotation(o.get("rotation"))?;
    let user = user_metadata(arg, "metadata")?;
    let mut tags = Map::new();
    tags.insert("backup_type".into(), json!(backup_type));
    let image = snapshot(svc, c, i, &name, tags, user, "backup", Some(rotation)).await?;
    // Before 2.45 Nova names the new image only when it is kept.
    Ok(answer(base, &image.id, rotation > 0, v))
}

fn backup_name(v: Option<&Value>) -> Result<String> {
    match v {
        None => Err(invalid("createBackup", "'name' is a required property")),
        Some(Value::String(s)) if s.is_empty() || s.len() > 255 || s.trim() != s => Err(invalid(
            "name",
            &format!(
                "Value: {s:?}. must be 1 to 255 characters, without leading or trailing whitespace"
            ),
        )),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(v) => Err(invalid("name", &format!("{v} is not of type 'string'"))),
    }
}

/// Nova's `non_negative_integer`: an integer or a string of digits.
fn rotation(v: Option<&Value>) -> Result<u64> {
    let v = v.ok_or_else(|| invalid("createBackup", "'rotation' is a required property"))?;
    let n = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().ok()
        }
        _ => None,
    };
    n.ok_or_else(|| {
        invalid(
            "rotation",
            &format!("Value: {v}. must be a non-negative integer"),
        )
    })
}

fn user_metadata(arg: &Value, field: &str) -> Result<Map<String, Value>> {
    match arg.get("metadata") {
        None => Ok(Map::new()),
        Some(m) => fields::metadata(m, field),
    }
}

/// 202: from 2.45 with `{"image_id"}`, before with the image's `Location`
/// (when `locate`).
fn answer(base: &BaseUrl, image_id: &str, locate: bool, v: ApiVersion) -> Response {
    if v.at_least(2, 45) {
        return super::common::accepted(json!({ "image_id": image_id }));
    }
    let mut resp = accepted_empty();
    if locate {
        if let Ok(loc) = base.join(&format!("/v2.1/images/{image_id}")).parse() {
            resp.headers_mut().insert(http::header::LOCATION, loc);
        }
    }
    resp
}

/// Register an image of the server (queued) and have the worker give it
/// the guest's disk: task state `image_snapshot` (`image_backup` for a
/// backup, whose `rotation` the worker applies once the new one exists).
#[allow(clippy::too_many_arguments)]
async fn snapshot(
    svc: &ComputeService,
    c: &Caller,
    i: &Instance,
    name: &str,
    tags: Map<String, Value>,
    user: Map<String, Value>,
    image_type: &str,
    rotation: Option<u64>,
) -> Result<ImageInfo> {
    let action = if rotation.is_some() {
        "createBackup"
    } else {
        "createImage"
    };
    let allowed = [vm::ACTIVE, vm::STOPPED, vm::PAUSED, vm::SUSPENDED];
    if !allowed.contains(&i.vm_state.as_str()) {
        return Err(Error::conflict(format!(
            "Cannot '{action}' instance {} while it is in vm_state {}",
            i.id, i.vm_state
        )));
    }
    let task_state = if rotation.is_some() {
        "image_backup"
    } else {
        "image_snapshot"
    };
    if !instances::claim_task_state(svc.db(), &i.id, None, task_state).await? {
        return Err(Error::conflict(format!(
            "Cannot '{action}' instance {} while it is in task_state {}",
            i.id,
            i.task_state.as_deref().unwrap_or("unknown")
        )));
    }
    let image = match register(svc, c, i, name, tags.clone(), user, image_type).await {
        Ok(image) => image,
        Err(e) => {
            instances::set_state(svc.db(), &i.id, &i.vm_state, None, i.power_state).await?;
            return Err(e);
        }
    };
    let args = json!({
        "image_id": image.id,
        "backup_type": tags.get("backup_type"),
        "rotation": rotation,
    });
    tasks::enqueue(svc.db(), &i.id, "snapshot", &args).await?;
    svc.wake_worker();
    Ok(image)
}

/// Register (without data) an image of the server: Nova's properties
/// first, then `tags`, then the caller's.
pub(crate) async fn register(
    svc: &ComputeService,
    ctx: &AuthContext,
    i: &Instance,
    name: &str,
    tags: Map<String, Value>,
    user: Map<String, Value>,
    image_type: &str,
) -> Result<ImageInfo> {
    let mut properties = Map::new();
    properties.insert("instance_uuid".into(), json!(i.id));
    properties.insert("image_type".into(), json!(image_type));
    if !i.image_id.is_empty() {
        properties.insert("base_image_ref".into(), json!(i.image_id));
    }
    properties.extend(tags);
    properties.extend(user);
    let new = NewImage {
        name: name.to_owned(),
        disk_format: "qcow2".into(),
        container_format: "bare".into(),
        min_disk: i.flavor["disk"].as_i64().unwrap_or(0),
        min_ram: 0,
        properties,
    };
    Ok(svc.peers().image.create_image(ctx, new).await?)
}

/// Delete the server's backups of `backup_type` beyond the `rotation`
/// newest.
pub(crate) async fn rotate_backups(
    svc: &ComputeService,
    c: &AuthContext,
    server_id: &str,
    backup_type: &str,
    rotation: u64,
) -> Result<()> {
    let prop = |i: &ImageInfo, k: &str| {
        i.properties
            .get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let mut backups: Vec<ImageInfo> = svc
        .peers()
        .image
        .list_images(c, None)
        .await?
        .into_iter()
        .filter(|i| {
            prop(i, "instance_uuid").as_deref() == Some(server_id)
                && prop(i, "image_type").as_deref() == Some("backup")
                && prop(i, "backup_type").as_deref() == Some(backup_type)
        })
        .collect();
    backups.sort_by_key(|i| std::cmp::Reverse(i.created_at));
    let keep = usize::try_from(rotation).unwrap_or(usize::MAX);
    for old in backups.iter().skip(keep) {
        svc.peers().image.delete_image(c, &old.id).await?;
    }
    Ok(())
}
