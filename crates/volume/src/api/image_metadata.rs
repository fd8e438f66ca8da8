//! A volume's image metadata (`volume_image_metadata`) through volume
//! actions: `os-set_image_metadata` (merge; 200 with all of it),
//! `os-unset_image_metadata` (one key; 404 when absent),
//! `os-show_image_metadata`.

use axum::response::Response;
use ferro_api::time::now_micros;
use serde_json::{json, Map, Value};

use super::common::{metadata_value, ok, ok_empty};
use crate::error::{Error, Result};
use crate::store::volumes::{self, Volume};
use crate::VolumeService;

pub async fn set(svc: &VolumeService, vol: &Volume, a: &Map<String, Value>) -> Result<Response> {
    let new = match a.get("metadata") {
        Some(v) => metadata_value(v, "metadata")?,
        None => {
            return Err(Error::bad_request(
                "Invalid input for field/attribute os-set_image_metadata: 'metadata' is a \
                 required property.",
            ))
        }
    };
    let mut meta = vol.image_metadata.clone().unwrap_or_default();
    meta.extend(new);
    volumes::set_image_metadata(svc.db(), &vol.id, &meta, now_micros()).await?;
    Ok(ok(json!({ "metadata": meta })))
}

pub async fn unset(svc: &VolumeService, vol: &Volume, a: &Map<String, Value>) -> Result<Response> {
    let key = match a.get("key") {
        Some(Value::String(k)) if !k.is_empty() && k.chars().count() <= 255 => k.clone(),
        _ => {
            return Err(Error::bad_request(
                "Invalid input for field/attribute key: a key of 1 to 255 characters is \
                 required.",
            ))
        }
    };
    let mut meta = vol.image_metadata.clone().unwrap_or_default();
    if meta.remove(&key).is_none() {
        return Err(Error::not_found(format!(
            "Glance metadata for volume {} with key {key} cannot be found.",
            vol.id
        )));
    }
    volumes::set_image_metadata(svc.db(), &vol.id, &meta, now_micros()).await?;
    Ok(ok_empty())
}

pub fn show(vol: &Volume) -> Response {
    ok(json!({"metadata": vol.image_metadata.clone().unwrap_or_default()}))
}
