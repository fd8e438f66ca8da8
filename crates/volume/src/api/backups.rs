//! `/v3/{project_id}/backups` without a backup service: what Cinder answers
//! when no `cinder-backup` runs. Lists are empty, every id is unknown, and a
//! create that passes the volume checks is a 503 `serviceUnavailable`.

use axum::extract::State;
use axum::response::Response;
use serde_json::json;

use super::common::{bool_value, ok, Body, Ctx};
use super::validate;
use super::volumes::visible;
use crate::error::{Error, Result};
use crate::VolumeService;

pub async fn list(ctx: Ctx) -> Result<Response> {
    let mut body = json!({"backups": []});
    if super::filters::with_count(&ctx)? {
        body["count"] = json!(0);
    }
    Ok(ok(body))
}

pub async fn unknown(ctx: Ctx) -> Result<Response> {
    Err(Error::not_found(format!(
        "Backup {} could not be found.",
        ctx.param("backup_id")
    )))
}

fn keys(ctx: &Ctx) -> Vec<&'static str> {
    let mut k = vec![
        "volume_id",
        "container",
        "description",
        "incremental",
        "force",
        "name",
        "snapshot_id",
    ];
    if ctx.at(43) {
        k.push("metadata");
    }
    if ctx.at(51) {
        k.push("availability_zone");
    }
    k
}

pub async fn create(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_write()?;
    let obj = validate::wrapped_only(&body, "backup", &[])?;
    validate::no_extra(&obj, &keys(&ctx), "backup")?;
    let vid = validate::opt_uuid(&obj, "volume_id")?.ok_or_else(|| {
        Error::bad_request(
            "Invalid input for field/attribute backup: 'volume_id' is a required property.",
        )
    })?;
    validate::name(&obj, "name")?;
    validate::name(&obj, "description")?;
    let mut force = false;
    for flag in ["incremental", "force"] {
        validate::not_null(&obj, flag)?;
        if let Some(v) = obj.get(flag) {
            let on = bool_value(v, flag)?;
            if flag == "force" {
                force = on;
            }
        }
    }
    let snapshot = validate::opt_uuid(&obj, "snapshot_id")?;
    let vol = visible(&svc, &ctx, &vid).await?;
    if let Some(s) = &snapshot {
        super::snapshots::visible(&svc, &ctx, s).await?;
    }
    let in_use_ok = vol.status == "in-use" && (force || snapshot.is_some());
    if vol.status != "available" && !in_use_ok {
        return Err(Error::bad_request(format!(
            "Invalid volume: Volume to be backed up must be available or in-use, but the \
             current status is \"{}\".",
            vol.status
        )));
    }
    Err(Error::ServiceUnavailable(
        "Service cinder-backup could not be found.".into(),
    ))
}
