//! `POST /v3/{project_id}/volumes/{volume_id}/action`: extend, bootable,
//! readonly, reset status, force delete and Nova's old attach flow
//! (`os-reserve`, `os-attach`, `os-begin_detaching`, `os-detach`, ...).

use axum::extract::State;
use axum::response::Response;
use ferro_api::time::now_micros;
use serde_json::{json, Map, Value};

use super::common::{accepted_empty, ok, ok_empty, opt_string, size_value, Body, Ctx};
use super::image_metadata;
use super::upload_image;
use super::validate;
use super::volume_rewrite;
use super::volumes::visible;
use crate::error::{Error, Result};
use crate::ops::{self, AttachReq, Delta};
use crate::store::{tasks, volumes};
use crate::worker;
use crate::VolumeService;

const VOLUME_STATUSES: &[&str] = &[
    "creating",
    "available",
    "deleting",
    "error",
    "error_deleting",
    "error_managing",
    "managing",
    "attaching",
    "in-use",
    "detaching",
    "maintenance",
    "restoring-backup",
    "error_restoring",
    "reserved",
    "awaiting-transfer",
    "backing-up",
    "retyping",
    "extending",
    "error_extending",
    "downloading",
    "uploading",
];

/// The keys Cinder's schema allows in an action's object (`None`: the
/// action takes anything, or checks its keys itself).
fn allowed_keys(action: &str) -> Option<&'static [&'static str]> {
    Some(match action {
        "os-extend" => &["new_size"],
        "os-set_bootable" => &["bootable"],
        "os-update_readonly_flag" => &["readonly"],
        "os-attach" => &["instance_uuid", "mountpoint", "host_name", "mode"],
        "os-detach" => &["attachment_id"],
        "os-force_detach" => &["connector", "attachment_id"],
        "os-initialize_connection" | "os-terminate_connection" => &["connector"],
        "os-set_image_metadata" => &["metadata"],
        "os-unset_image_metadata" => &["key"],
        "os-reset_status" => &["status", "attach_status", "migration_status"],
        _ => return None,
    })
}

fn args(v: &Value, action: &str) -> Result<Map<String, Value>> {
    match v {
        Value::Object(m) => Ok(m.clone()),
        Value::Null => Ok(Map::new()),
        _ => Err(Error::bad_request(format!(
            "Invalid request body: '{action}' must be an object."
        ))),
    }
}

pub async fn action(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    let obj = body.object()?;
    if obj.len() != 1 {
        return Err(Error::bad_request(
            "Invalid request body: exactly one action must be given.",
        ));
    }
    let Some((name, raw)) = obj.into_iter().next() else {
        return Err(Error::bad_request("Invalid request body: no action given."));
    };
    let vol = visible(&svc, &ctx, ctx.param("volume_id")).await?;
    if name == "os-show_image_metadata" {
        // readers may look
        return Ok(image_metadata::show(&vol));
    }
    ctx.require_write()?;
    let a = args(&raw, &name)?;
    if let Some(keys) = allowed_keys(&name) {
        validate::no_extra(&a, keys, &name)?;
    }
    match name.as_str() {
        "os-extend" => {
            let new_size = match a.get("new_size") {
                None | Some(Value::Null) => {
                    return Err(Error::bad_request("Invalid input: 'new_size' is required."))
                }
                Some(v) => size_value(v, "new_size")?,
            };
            extend(&svc, &ctx, &vol, new_size).await?;
            Ok(accepted_empty())
        }
        "os-volume_upload_image" => upload_image::upload(&svc, &ctx, &vol, &a).await,
        "os-retype" => {
            volume_rewrite::retype(&svc, &ctx, &vol, &a).await?;
            Ok(accepted_empty())
        }
        "os-set_image_metadata" => image_metadata::set(&svc, &vol, &a).await,
        "os-unset_image_metadata" => image_metadata::unset(&svc, &vol, &a).await,
        "revert" if ctx.at(40) => {
            volume_rewrite::revert(&svc, &ctx, &vol, &a).await?;
            Ok(accepted_empty())
        }
        "os-reimage" if ctx.at(68) => {
            volume_rewrite::reimage(&svc, &ctx, &vol, &a).await?;
            Ok(accepted_empty())
        }
        "os-extend_volume_completion" if ctx.at(71) => {
            ctx.require_admin()?;
            volume_rewrite::extend_completion(&svc, &vol, &a).await?;
            Ok(accepted_empty())
        }
        "os-set_bootable" => {
            let b = a
                .get("bootable")
                .ok_or_else(|| Error::bad_request("Invalid input: 'bootable' is required."))?;
            let mut v = vol;
            v.bootable = validate::schema_bool(b, "bootable")?;
            volumes::update_fields(svc.db(), &v, now_micros()).await?;
            Ok(ok_empty())
        }
        "os-update_readonly_flag" => {
            let r = a
                .get("readonly")
                .ok_or_else(|| Error::bad_request("Invalid input: 'readonly' is required."))?;
            let mut v = vol;
            v.readonly = validate::schema_bool(r, "readonly")?;
            if v.readonly {
                v.metadata.insert("readonly".into(), json!("True"));
            } else {
                v.metadata.insert("readonly".into(), json!("False"));
            }
            volumes::update_fields(svc.db(), &v, now_micros()).await?;
            Ok(accepted_empty())
        }
        "os-reset_status" => {
            ctx.require_admin()?;
            let status = opt_string(&a, "status", 255)?;
            if let Some(s) = &status {
                if !VOLUME_STATUSES.contains(&s.as_str()) {
                    return Err(Error::bad_request(format!("Invalid status '{s}'.")));
                }
            }
            let attach = opt_string(&a, "attach_status", 255)?;
            if let Some(s) = &attach {
                if s != "attached" && s != "detached" {
                    return Err(Error::bad_request(format!("Invalid attach_status '{s}'.")));
                }
            }
            if status.is_none() && attach.is_none() && !a.contains_key("migration_status") {
                return Err(Error::bad_request(
                    "Must specify 'status', 'attach_status' or 'migration_status' for update.",
                ));
            }
            if let Some(s) = status {
                let mut conn = svc.db().write().acquire().await?;
                volumes::set_status(&mut conn, &vol.id, &s, None, now_micros()).await?;
            }
            Ok(accepted_empty())
        }
        "os-force_delete" => {
            ctx.require_admin()?;
            ops::delete_volume(&svc, &vol, true, true).await?;
            Ok(accepted_empty())
        }
        "os-reserve" => {
            ops::reserve(&svc, &vol, None).await?;
            Ok(accepted_empty())
        }
        "os-unreserve" => {
            ops::unreserve(&svc, &vol, None).await?;
            Ok(accepted_empty())
        }
        "os-attach" => {
            let device = validate::string_len(&a, "mountpoint", 1, 255)?;
            let server = match a.get("instance_uuid") {
                None => None,
                Some(Value::String(s)) if validate::is_uuid(s) => Some(s.clone()),
                Some(v) => {
                    return Err(Error::bad_request(format!(
                        "Invalid input for field/attribute instance_uuid. Value: {v}. {v} is \
                         not a 'uuid'."
                    )))
                }
            };
            let host = match a.get("host_name") {
                None => None,
                Some(_) => Some(validate::string_len(&a, "host_name", 0, 255)?),
            };
            if server.is_none() && host.is_none() {
                return Err(Error::bad_request(
                    "Invalid request to attach volume to an invalid target: give \
                     'instance_uuid' or 'host_name'.",
                ));
            }
            let mode = match a.get("mode") {
                None => "rw".to_owned(),
                Some(Value::String(m)) if m == "rw" || m == "ro" => m.clone(),
                Some(v) => {
                    return Err(Error::bad_request(format!(
                        "Invalid input for field/attribute mode. Value: {v}. It is not one of \
                         ['rw', 'ro']."
                    )))
                }
            };
            let req = AttachReq {
                attachment_id: None,
                server_id: server.as_deref(),
                host_name: host.as_deref(),
                device: &device,
                mode: &mode,
            };
            ops::attach(&svc, &vol, &req).await?;
            Ok(accepted_empty())
        }
        "os-begin_detaching" => {
            ops::begin_detaching(&svc, &vol).await?;
            Ok(accepted_empty())
        }
        "os-roll_detaching" => {
            ops::roll_detaching(&svc, &vol).await?;
            Ok(accepted_empty())
        }
        "os-detach" => {
            let att = validate::opt_uuid(&a, "attachment_id")?;
            ops::detach(&svc, &vol, att.as_deref()).await?;
            Ok(accepted_empty())
        }
        "os-force_detach" => {
            ctx.require_admin()?;
            let att = opt_string(&a, "attachment_id", 255)?;
            if vol.status == "attaching" || vol.status == "available" {
                ops::unreserve(&svc, &vol, None).await?;
                return Ok(accepted_empty());
            }
            ops::force_detach(&svc, &vol, att.as_deref()).await?;
            Ok(accepted_empty())
        }
        "os-initialize_connection" => {
            if !a.get("connector").is_some_and(Value::is_object) {
                return Err(Error::bad_request(
                    "Invalid input: 'connector' must be an object.",
                ));
            }
            let path = svc.backend().volume_path(&vol.id);
            Ok(ok(json!({"connection_info": {
                "driver_volume_type": "local",
                "data": {"device_path": path.to_string_lossy(), "format": "qcow2",
                         "volume_id": vol.id, "access_mode": if vol.readonly {"ro"} else {"rw"}},
            }})))
        }
        "os-terminate_connection" => {
            match validate::required(&a, "connector", "os-terminate_connection")? {
                Value::String(_) | Value::Object(_) | Value::Null => Ok(accepted_empty()),
                v => Err(Error::bad_request(format!(
                    "Invalid input for field/attribute connector. Value: {v}. {v} is not of \
                     type 'string', 'object', 'null'."
                ))),
            }
        }
        "revert" | "os-reimage" | "os-extend_volume_completion" => {
            // asked below the version that added it
            Err(Error::not_found("The resource could not be found."))
        }
        other => Err(Error::bad_request(format!(
            "There is no such action: {other}"
        ))),
    }
}

/// `available → extending` (from 3.42 also `in-use → extending`, back to
/// `in-use` when done), with a durable resize task (gigabytes quota checked
/// for the growth).
async fn extend(
    svc: &VolumeService,
    ctx: &Ctx,
    vol: &volumes::Volume,
    new_size: i64,
) -> Result<()> {
    let in_use = ctx.at(42) && vol.status == "in-use";
    if vol.status != "available" && !in_use {
        return Err(Error::bad_request(format!(
            "Invalid volume: Volume {} status must be 'available' to extend, but current status \
             is: {}.",
            vol.id, vol.status
        )));
    }
    if new_size <= vol.size {
        return Err(Error::bad_request(format!(
            "Invalid input received: New size for extend must be greater than current size. \
             (current: {}, extended: {new_size}).",
            vol.size
        )));
    }
    let db = svc.db();
    let now = now_micros();
    let mut tx = db.write().begin().await?;
    let delta = Delta {
        gigabytes: new_size - vol.size,
        ..Delta::default()
    };
    ops::check_quota(db, &mut tx, &vol.project_id, &delta, Some(new_size)).await?;
    let from = if in_use { "in-use" } else { "available" };
    if !volumes::transition(&mut tx, &vol.id, &[from], "extending", now).await? {
        return Err(Error::bad_request(format!(
            "Invalid volume: Volume {} status must be 'available' to extend.",
            vol.id
        )));
    }
    let mut args = Map::new();
    args.insert("new_size".into(), json!(new_size));
    args.insert("back_to".into(), json!(from));
    tasks::insert(&mut tx, worker::EXTEND_VOLUME, &vol.id, &args, now).await?;
    tx.commit().await?;
    svc.wake();
    Ok(())
}
