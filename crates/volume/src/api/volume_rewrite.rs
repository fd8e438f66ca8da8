//! Volume actions of later microversions that rewrite a volume's content or
//! finish an extension: `revert` (3.40), `os-reimage` (3.68),
//! `os-extend_volume_completion` (3.71).

use ferro_api::time::now_micros;
use serde_json::{json, Map, Value};

use super::common::{bool_value, Ctx};
use super::validate;
use crate::error::{Error, Result};
use crate::store::{snapshots, tasks, volumes};
use crate::worker;
use crate::VolumeService;

/// `{"revert": {"snapshot_id": …}}`: the volume goes back to its latest
/// snapshot (`reverting`, the snapshot `restoring`, until the copy is done).
pub async fn revert(
    svc: &VolumeService,
    ctx: &Ctx,
    vol: &volumes::Volume,
    a: &Map<String, Value>,
) -> Result<()> {
    let sid = match a.get("snapshot_id") {
        Some(Value::String(s)) => s.clone(),
        _ => {
            return Err(Error::bad_request(
                "Invalid input for field/attribute snapshot_id: a snapshot id is required.",
            ))
        }
    };
    let snap = super::snapshots::visible(svc, ctx, &sid).await?;
    if snap.volume_id != vol.id {
        return Err(Error::bad_request(format!(
            "Invalid input received: Snapshot {sid} is not of volume {}.",
            vol.id
        )));
    }
    let latest = snapshots::of_volume(svc.db(), &vol.id)
        .await?
        .into_iter()
        .filter(|s| s.status == "available")
        .max_by_key(|s| s.created_at);
    if latest.as_ref().map(|s| s.id.as_str()) != Some(sid.as_str()) {
        return Err(Error::bad_request(format!(
            "Invalid snapshot: Snapshot {sid} is not the latest one of volume {}.",
            vol.id
        )));
    }
    if vol.status != "available" || snap.status != "available" {
        return Err(Error::bad_request(format!(
            "Invalid volume: Volume {} status must be available and snapshot {sid} available \
             to revert (they are {} and {}).",
            vol.id, vol.status, snap.status
        )));
    }
    if snap.size != vol.size {
        return Err(Error::bad_request(format!(
            "Invalid volume: Volume {} size must equal snapshot {sid} size to revert.",
            vol.id
        )));
    }
    let now = now_micros();
    let db = svc.db();
    let mut tx = db.write().begin().await?;
    if !volumes::transition(&mut tx, &vol.id, &["available"], "reverting", now).await? {
        return Err(Error::bad_request("Invalid volume: status changed."));
    }
    snapshots::set_status(&mut tx, &sid, "restoring", None, now).await?;
    let mut args = Map::new();
    args.insert("snapshot_id".into(), json!(sid));
    tasks::insert(&mut tx, worker::REVERT_VOLUME, &vol.id, &args, now).await?;
    tx.commit().await?;
    svc.wake();
    Ok(())
}

/// `{"os-reimage": {"image_id": …, "reimage_reserved": bool}}`.
pub async fn reimage(
    svc: &VolumeService,
    ctx: &Ctx,
    vol: &volumes::Volume,
    a: &Map<String, Value>,
) -> Result<()> {
    validate::no_extra(a, &["image_id", "reimage_reserved"], "os-reimage")?;
    let image_id = validate::opt_uuid(a, "image_id")?.ok_or_else(|| {
        Error::bad_request("Invalid input for field/attribute image_id: 'image_id' is required.")
    })?;
    let reserved_ok = validate::opt_schema_bool(a, "reimage_reserved", false)?;
    let allowed: &[&str] = if reserved_ok {
        &["available", "error", "reserved"]
    } else {
        &["available", "error"]
    };
    start_reimage(svc, ctx, vol, &image_id, allowed).await
}

/// Re-image `vol` from the image `image_id` if its status is one of
/// `allowed`: the volume goes `downloading` (its image metadata becomes the
/// new image's) and the worker rewrites its data, then puts it back in the
/// status it had (`available` after `error`).
pub(crate) async fn start_reimage(
    svc: &VolumeService,
    ctx: &Ctx,
    vol: &volumes::Volume,
    image_id: &str,
    allowed: &[&str],
) -> Result<()> {
    if !allowed.contains(&vol.status.as_str()) {
        return Err(Error::bad_request(format!(
            "Invalid volume: Volume {} status must be {}, but current status is: {}.",
            vol.id,
            allowed.join(" or "),
            vol.status
        )));
    }
    let Some(images) = svc.image_api() else {
        return Err(Error::bad_request(format!(
            "Invalid input: cannot reimage from {image_id}: no image service is available."
        )));
    };
    let img = images
        .get_image(&ctx.auth, image_id)
        .await
        .map_err(Error::from)?
        .ok_or_else(|| Error::not_found(format!("Image {image_id} could not be found.")))?;
    let Some(path) = img.data_path.as_ref().and_then(|p| p.to_str()) else {
        return Err(Error::bad_request(format!(
            "Invalid image: Image {image_id} has no data."
        )));
    };
    let now = now_micros();
    let db = svc.db();
    let mut tx = db.write().begin().await?;
    if !volumes::transition(&mut tx, &vol.id, allowed, "downloading", now).await? {
        return Err(Error::bad_request("Invalid volume: status changed."));
    }
    volumes::set_image_metadata_in(
        &mut tx,
        &vol.id,
        &super::volume_create::image_metadata(&img),
        now,
    )
    .await?;
    let mut args = Map::new();
    args.insert("path".into(), json!(path));
    args.insert(
        "format".into(),
        json!(img.disk_format.clone().unwrap_or_else(|| "raw".into())),
    );
    if vol.status == "reserved" || vol.status == "in-use" {
        args.insert("back_to".into(), json!(vol.status));
    }
    tasks::insert(&mut tx, worker::REIMAGE_VOLUME, &vol.id, &args, now).await?;
    tx.commit().await?;
    svc.wake();
    Ok(())
}

/// `{"os-extend_volume_completion": {"error": bool}}`: Nova reports the end
/// of an in-use extension. Only a volume still `extending` takes it.
pub async fn extend_completion(
    svc: &VolumeService,
    vol: &volumes::Volume,
    a: &Map<String, Value>,
) -> Result<()> {
    validate::no_extra(a, &["error"], "os-extend_volume_completion")?;
    let error = match a.get("error") {
        None => false,
        Some(v) => bool_value(v, "error")?,
    };
    if vol.status != "extending" {
        return Err(Error::bad_request(format!(
            "Invalid volume: Volume {} status must be extending, but current status is: {}.",
            vol.id, vol.status
        )));
    }
    let to = if error { "error_extending" } else { "in-use" };
    let mut conn = svc.db().write().acquire().await?;
    volumes::transition(&mut conn, &vol.id, &["extending"], to, now_micros()).await?;
    Ok(())
}

/// `{"os-retype": {"new_type": …, "migration_policy": "never"|"on-demand"}}`:
/// with one backend there is nowhere to migrate, so a retype only changes
/// the type (when the backend satisfies it; otherwise 400 as no valid host).
pub async fn retype(
    svc: &VolumeService,
    ctx: &Ctx,
    vol: &volumes::Volume,
    a: &Map<String, Value>,
) -> Result<()> {
    validate::no_extra(a, &["new_type", "migration_policy"], "os-retype")?;
    let new_type = match a.get("new_type") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => {
            return Err(Error::bad_request(
                "Invalid input for field/attribute new_type: a type name or id is required.",
            ))
        }
    };
    match a.get("migration_policy") {
        None | Some(Value::Null) => {}
        Some(Value::String(p)) if p == "never" || p == "on-demand" => {}
        Some(v) => {
            return Err(Error::bad_request(format!(
                "Invalid input for field/attribute migration_policy. Value: {v}. It is not one \
                 of ['never', 'on-demand']."
            )))
        }
    }
    if vol.status != "available" && vol.status != "in-use" {
        return Err(Error::bad_request(format!(
            "Invalid volume: Volume {} status must be available or in-use, but current status \
             is: {}.",
            vol.id, vol.status
        )));
    }
    let t = super::types::resolve_type(svc, ctx, &new_type).await?;
    if t.id == vol.volume_type_id {
        return Err(Error::bad_request(format!(
            "Invalid input received: New volume_type same as original: {new_type}."
        )));
    }
    let multiattach = t
        .extra_specs
        .get("multiattach")
        .and_then(Value::as_str)
        .is_some_and(|s| s.trim() == "<is> True");
    if vol.status == "in-use" && multiattach != vol.multiattach {
        return Err(Error::bad_request(
            "Invalid volume: Retyping an in-use volume to or from a multiattach type is not \
             supported.",
        ));
    }
    if vol.group_id.is_some() {
        return Err(Error::bad_request(format!(
            "Invalid volume: Volume {} is in a group; retype is not allowed.",
            vol.id
        )));
    }
    if !crate::backend::accepts(&t.extra_specs) {
        // Cinder accepts the request (202) and its scheduler then finds no
        // backend for the new type (with `never`, none but the current one;
        // with `on-demand`, no other backend exists): the volume keeps its
        // type and status.
        tracing::info!(volume = %vol.id, new_type = %t.name,
            "retype: no backend satisfies the new type; the volume keeps its type");
        return Ok(());
    }
    volumes::set_type(svc.db(), &vol.id, &t.id, multiattach, now_micros()).await?;
    Ok(())
}
