//! `os-volume_upload_image`: a volume copied into a new image (3.1 adds
//! `visibility` and `protected`). The volume is `uploading` while
//! `qemu-img` writes the image in the asked disk format and the image
//! service takes the file; then it returns to its previous status. The copy
//! runs in the background, not as a durable task: after a crash, start-up
//! recovery returns `uploading` volumes to `available` (the image stays
//! `queued`).

use axum::response::Response;
use ferro_api::services::NewImage;
use ferro_api::time::now_micros;
use serde_json::{json, Map, Value};

use super::common::{accepted, opt_ts, ts, Ctx};
use super::validate;
use crate::error::{Error, Result};
use crate::store::{types, volumes};
use crate::VolumeService;

const DISK_FORMATS: &[&str] = &["raw", "vmdk", "vdi", "qcow2", "vhd", "vhdx", "ploop"];
const CONTAINER_FORMATS: &[&str] = &[
    "ami",
    "ari",
    "aki",
    "bare",
    "ovf",
    "ova",
    "docker",
    "compressed",
];
const VISIBILITIES: &[&str] = &["community", "public", "private", "shared"];
/// Image metadata a new image does not copy from the volume.
const CORE: &[&str] = &[
    "image_id",
    "image_name",
    "disk_format",
    "container_format",
    "min_disk",
    "min_ram",
    "size",
    "checksum",
    "id",
    "name",
    "status",
    "owner",
    "visibility",
    "protected",
];

fn one_of(a: &Map<String, Value>, key: &str, allowed: &[&str], default: &str) -> Result<String> {
    match a.get(key) {
        None => Ok(default.to_owned()),
        Some(Value::String(s)) if allowed.contains(&s.as_str()) => Ok(s.clone()),
        Some(v) => Err(Error::bad_request(format!(
            "Invalid input for field/attribute {key}. Value: {v}. It is not one of {allowed:?}."
        ))),
    }
}

pub async fn upload(
    svc: &VolumeService,
    ctx: &Ctx,
    vol: &volumes::Volume,
    a: &Map<String, Value>,
) -> Result<Response> {
    let mut keys = vec!["image_name", "force", "disk_format", "container_format"];
    if ctx.at(1) {
        keys.extend(["visibility", "protected"]);
    }
    validate::no_extra(a, &keys, "os-volume_upload_image")?;
    let name = match a.get("image_name") {
        Some(Value::String(n)) if !n.is_empty() && n.chars().count() <= 255 => n.clone(),
        _ => {
            return Err(Error::bad_request(
                "Invalid input for field/attribute image_name: a name of 1 to 255 characters \
                 is required.",
            ))
        }
    };
    let force = validate::opt_schema_bool(a, "force", false)?;
    let disk_format = one_of(a, "disk_format", DISK_FORMATS, "raw")?;
    let container_format = one_of(a, "container_format", CONTAINER_FORMATS, "bare")?;
    let visibility = one_of(a, "visibility", VISIBILITIES, "private")?;
    let protected = validate::opt_schema_bool(a, "protected", false)?;
    if visibility == "public" && !ctx.is_admin() {
        return Err(Error::policy());
    }
    if protected {
        return Err(Error::bad_request(
            "Invalid input: protected images cannot be made from volumes here yet (the image \
             service interface takes no 'protected').",
        ));
    }
    let Some(images) = svc.image_api().cloned() else {
        return Err(Error::bad_request(
            "Invalid input: no image service is available.",
        ));
    };
    let allowed: &[&str] = if force {
        &["available", "in-use"]
    } else {
        &["available"]
    };
    let now = now_micros();
    let mut conn = svc.db().write().acquire().await?;
    if !volumes::transition(&mut conn, &vol.id, allowed, "uploading", now).await? {
        return Err(Error::bad_request(format!(
            "Invalid volume: Volume {} status must be {}",
            vol.id,
            allowed.join(" or ")
        )));
    }
    drop(conn);
    let mut properties: Map<String, Value> = vol
        .image_metadata
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| !CORE.contains(&k.as_str()))
        .collect();
    properties.insert("visibility".into(), json!(visibility));
    let new = NewImage {
        name: name.clone(),
        disk_format: disk_format.clone(),
        container_format: container_format.clone(),
        min_disk: vol.size,
        min_ram: 0,
        properties,
    };
    let image = match images.create_image(&ctx.auth, new).await {
        Ok(i) => i,
        Err(e) => {
            restore(svc, &vol.id, &vol.status).await;
            return Err(Error::bad_request(format!(
                "Invalid input: the image service refused the image: {e}"
            )));
        }
    };
    spawn_copy(svc, ctx, vol, &image.id, &disk_format);
    let vtype = types::get(svc.db(), &vol.volume_type_id).await?;
    let mut body = json!({
        "id": vol.id,
        "updated_at": ts(now),
        "status": "uploading",
        "display_description": vol.description,
        "size": vol.size,
        "volume_type": vtype.map(|t| json!({
            "id": t.id, "name": t.name, "description": t.description,
            "is_public": t.is_public, "extra_specs": t.extra_specs,
            "created_at": ts(t.created_at), "updated_at": opt_ts(t.updated_at),
            "deleted": false, "deleted_at": null, "qos_specs_id": null,
        })),
        "image_id": image.id,
        "container_format": container_format,
        "disk_format": disk_format,
        "image_name": name,
    });
    if ctx.at(1) {
        body["protected"] = json!(protected);
        body["visibility"] = json!(visibility);
    }
    Ok(accepted(json!({ "os-volume_upload_image": body })))
}

async fn restore(svc: &VolumeService, id: &str, status: &str) {
    if let Ok(mut conn) = svc.db().write().acquire().await {
        let _ = volumes::transition(&mut conn, id, &["uploading"], status, now_micros()).await;
    }
}

/// Write the image file and hand it to the image service, then put the
/// volume back in its previous status.
fn spawn_copy(svc: &VolumeService, ctx: &Ctx, vol: &volumes::Volume, image_id: &str, fmt: &str) {
    let svc = svc.clone();
    let auth = ctx.auth.clone();
    let (vid, back, image_id, fmt) = (
        vol.id.clone(),
        vol.status.clone(),
        image_id.to_owned(),
        fmt.to_owned(),
    );
    tokio::spawn(async move {
        let b = svc.backend();
        let tmp = b.dir().join(format!("upload-{image_id}.part"));
        let result = match b.export(&b.volume_path(&vid), &tmp, &fmt).await {
            Ok(()) => match svc.image_api() {
                Some(images) => images
                    .upload_image_file(&auth, &image_id, tmp.clone())
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                None => Err("no image service".to_owned()),
            },
            Err(e) => Err(e),
        };
        b.remove(&tmp).await;
        if let Err(e) = result {
            tracing::warn!(volume = %vid, image = %image_id, error = %e, "upload to image failed");
        }
        restore(&svc, &vid, &back).await;
    });
}
