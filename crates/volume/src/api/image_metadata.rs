//! A volume's image metadata (`volume_image_metadata`) through volume
//! actions: `os-set_image_metadata` (merge; 200 with all of it),
//! `os-unset_image_metadata` (one key; 404 when absent),
//! `os-show_image_metadata`. As Cinder's schemas: keys of letters, digits
//! and `-_:. /` (1-255), values strings of at most 65535 bytes, nothing but
//! `metadata` or `key` in the action; a volume in `maintenance` or
//! `uploading` takes no change.

use axum::response::Response;
use ferro_api::time::now_micros;
use serde_json::{json, Map, Value};

use super::common::{ok, ok_empty};
use super::validate;
use crate::error::{Error, Result};
use crate::store::volumes::{self, Volume};
use crate::VolumeService;

/// Cinder stores image metadata values in a MySQL TEXT column.
const MAX_VALUE_BYTES: usize = 65535;

fn metadata(a: &Map<String, Value>) -> Result<Map<String, Value>> {
    validate::no_extra(a, &["metadata"], "os-set_image_metadata")?;
    let m = match validate::required(a, "metadata", "os-set_image_metadata")? {
        Value::Object(m) => m,
        v => {
            return Err(Error::bad_request(format!(
                "Invalid input for field/attribute metadata. Value: {v}. {v} is not of type \
                 'object'."
            )))
        }
    };
    for (k, v) in m {
        if !validate::is_spec_key(k) {
            return Err(Error::bad_request(format!(
                "Invalid input for field/attribute metadata. Additional properties are not \
                 allowed ('{k}' was unexpected): keys are 1 to 255 of letters, digits and \
                 '-_:. /'."
            )));
        }
        match v {
            Value::String(s) if s.len() <= MAX_VALUE_BYTES => {}
            Value::String(_) => {
                return Err(Error::bad_request(format!(
                    "Invalid input for field/attribute {k}: the value is longer than \
                     {MAX_VALUE_BYTES} bytes."
                )))
            }
            _ => {
                return Err(Error::bad_request(format!(
                    "Invalid input for field/attribute {k}. Value: {v}. {v} is not of type \
                     'string'."
                )))
            }
        }
    }
    Ok(m.clone())
}

fn changeable(vol: &Volume, what: &str) -> Result<()> {
    if vol.status == "maintenance" || vol.status == "uploading" {
        return Err(Error::bad_request(format!(
            "Invalid volume: {what} volume metadata is not allowed for volumes in {} status.",
            vol.status
        )));
    }
    Ok(())
}

pub async fn set(svc: &VolumeService, vol: &Volume, a: &Map<String, Value>) -> Result<Response> {
    let new = metadata(a)?;
    changeable(vol, "Updating")?;
    let mut meta = vol.image_metadata.clone().unwrap_or_default();
    meta.extend(new);
    volumes::set_image_metadata(svc.db(), &vol.id, &meta, now_micros()).await?;
    Ok(ok(json!({ "metadata": meta })))
}

pub async fn unset(svc: &VolumeService, vol: &Volume, a: &Map<String, Value>) -> Result<Response> {
    validate::no_extra(a, &["key"], "os-unset_image_metadata")?;
    let key = validate::string_len(a, "key", 1, 255)?;
    let mut meta = vol.image_metadata.clone().unwrap_or_default();
    if meta.remove(&key).is_none() {
        return Err(Error::not_found(format!(
            "Glance metadata for volume {} with key {key} cannot be found.",
            vol.id
        )));
    }
    changeable(vol, "Deleting")?;
    volumes::set_image_metadata(svc.db(), &vol.id, &meta, now_micros()).await?;
    Ok(ok_empty())
}

pub fn show(vol: &Volume) -> Response {
    ok(json!({"metadata": vol.image_metadata.clone().unwrap_or_default()}))
}
