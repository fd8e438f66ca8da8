//! Server actions `rescue` and `unrescue`: the guest is booted from a
//! rescue image (its own, or `rescue_image_ref`) with its disk attached,
//! the server in vm_state `rescued` (status RESCUE) until unrescued.

use axum::response::Response;
use serde_json::{json, Map, Value};

use super::common::{accepted_empty, invalid, ok, Caller};
use super::server_shelve::{conflict, task_conflict, volume_backed};
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::state::vm;
use crate::store::instances::{self, Instance};
use crate::store::tasks;
use crate::ComputeService;

/// The `rescue` body: null or `{"adminPass"?: str, "rescue_image_ref"?: uuid}`.
fn rescue_body(arg: &Value) -> Result<(Option<String>, Option<String>)> {
    let o = match arg {
        Value::Null => return Ok((None, None)),
        Value::Object(o) => o,
        other => {
            return Err(invalid(
                "rescue",
                &format!("{other} is not of type 'object', 'null'"),
            ))
        }
    };
    super::server_fields::only_known(o, &["adminPass", "rescue_image_ref"])?;
    let pass = match o.get("adminPass") {
        None => None,
        Some(Value::String(p)) => Some(p.clone()),
        Some(other) => {
            return Err(invalid(
                "adminPass",
                &format!("{other} is not of type 'string'"),
            ))
        }
    };
    let image = match o.get("rescue_image_ref") {
        None => None,
        Some(Value::String(r)) if uuid::Uuid::parse_str(r).is_ok() => Some(r.clone()),
        Some(other) => {
            return Err(invalid(
                "rescue_image_ref",
                &format!("{other} is not a 'uuid'"),
            ))
        }
    };
    Ok((pass, image))
}

/// The properties of the image the guest would be rescued with.
async fn rescue_image_properties(
    svc: &ComputeService,
    c: &Caller,
    i: &Instance,
    image_ref: Option<&str>,
) -> Result<Map<String, Value>> {
    let Some(image_ref) = image_ref else {
        return Ok(i.image_properties.as_object().cloned().unwrap_or_default());
    };
    let unsupported = || {
        Error::bad_request(format!(
            "Requested rescue image '{image_ref}' is not supported"
        ))
    };
    let image = svc
        .peers()
        .image
        .get_image(c, image_ref)
        .await
        .map_err(|_| unsupported())?
        .ok_or_else(unsupported)?;
    if image.properties.contains_key("img_block_device_mapping") {
        return Err(unsupported());
    }
    Ok(image.properties)
}

/// `rescue`: 200 `{"adminPass"}` (instance passwords are enabled).
pub async fn rescue(
    svc: &ComputeService,
    c: &Caller,
    i: &Instance,
    arg: &Value,
    v: ApiVersion,
) -> Result<Response> {
    let (pass, image_ref) = rescue_body(arg)?;
    if ![vm::ACTIVE, vm::STOPPED, vm::ERROR].contains(&i.vm_state.as_str()) {
        return Err(conflict("rescue", i));
    }
    if i.task_state.is_some() {
        return Err(task_conflict("rescue", i));
    }
    let props = rescue_image_properties(svc, c, i, image_ref.as_deref()).await?;
    // From 2.87 a volume-backed server may be rescued with an image that
    // says where the rescue disk goes (stable device rescue).
    let stable = props.contains_key("hw_rescue_bus") && props.contains_key("hw_rescue_device");
    if volume_backed(i) && !(v.at_least(2, 87) && stable) {
        return Err(Error::bad_request(format!(
            "Instance {} cannot be rescued: Cannot rescue a volume-backed instance",
            i.id
        )));
    }
    if !instances::claim_task_state(svc.db(), &i.id, None, "rescuing").await? {
        return Err(task_conflict("rescue", i));
    }
    tasks::enqueue(svc.db(), &i.id, "rescue", &json!({ "image_id": image_ref })).await?;
    svc.wake_worker();
    let pass = pass.unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string()[..12].to_owned());
    Ok(ok(json!({ "adminPass": pass })))
}

/// `unrescue`: back to the guest's own disk, ACTIVE.
pub async fn unrescue(svc: &ComputeService, i: &Instance) -> Result<Response> {
    if i.vm_state != vm::RESCUED {
        return Err(conflict("unrescue", i));
    }
    if i.task_state.is_some()
        || !instances::claim_task_state(svc.db(), &i.id, None, "unrescuing").await?
    {
        return Err(task_conflict("unrescue", i));
    }
    tasks::enqueue(svc.db(), &i.id, "unrescue", &Value::Null).await?;
    svc.wake_worker();
    Ok(accepted_empty())
}

#[cfg(test)]
mod tests {
    use super::rescue_body;
    use serde_json::json;

    #[test]
    fn bodies() {
        assert!(rescue_body(&json!(null)).is_ok());
        assert!(rescue_body(&json!({"adminPass": "x"})).is_ok());
        assert!(rescue_body(&json!({"rescue_image_ref": "nope"})).is_err());
        assert!(rescue_body(&json!({"other": 1})).is_err());
        assert!(rescue_body(&json!([])).is_err());
    }
}
