//! `os-assisted-volume-snapshots` (service role or admin): Cinder drivers
//! that keep volumes as files ask the hypervisor to snapshot an attached
//! one (`create_info`: `snapshot_id`, `type` qcow2, `new_file`) and to
//! merge it away again (`delete_info`). Checked as Nova checks them; the
//! fake driver accepts them and does nothing (as Nova's fake driver); the
//! QEMU driver answers 409 — Ferrostack's own volume service snapshots
//! its qcow2 files itself and never asks.

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{json, Value};

use super::common::{no_content, ok, query_get, Body, Caller, QueryParams};
use super::flavors::last;
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::store::{attachments, instances};
use crate::ComputeService;

fn allowed(c: &Caller) -> Result<()> {
    if c.has_role("service") || c.is_admin() {
        Ok(())
    } else {
        Err(Error::forbidden(
            "Policy doesn't allow os_compute_api:os-assisted-volume-snapshots to be performed.",
        ))
    }
}

fn invalid(why: &str) -> Error {
    Error::bad_request(format!("Invalid input for field/attribute snapshot. {why}"))
}

/// The server the volume is attached to (400 when none), able to do it.
async fn attached_server(svc: &ComputeService, volume_id: &str) -> Result<()> {
    let found = attachments::of_volume(svc.db(), volume_id).await?;
    let a = match found.as_slice() {
        [] => {
            return Err(Error::bad_request(format!(
                "No volume Block Device Mapping with id {volume_id}."
            )))
        }
        [one] => one,
        _ => {
            return Err(Error::bad_request(format!(
                "Volume {volume_id} is attached to several instances: assisted snapshots need one."
            )))
        }
    };
    let i = instances::get(svc.db(), &a.instance_id)
        .await?
        .ok_or_else(|| {
            Error::not_found(format!("Instance {} could not be found.", a.instance_id))
        })?;
    if i.host.is_none() {
        return Err(Error::conflict(format!(
            "Instance {} is not ready yet.",
            i.id
        )));
    }
    if !svc.driver().assisted_volume_snapshots() {
        return Err(Error::conflict(format!(
            "The {} compute driver does not take assisted volume snapshots.",
            svc.driver().name()
        )));
    }
    Ok(())
}

/// Nova's schema allows no properties but `allowed` in `o`.
fn only_keys(o: &serde_json::Map<String, Value>, what: &str, allowed: &[&str]) -> Result<()> {
    match o.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(invalid(&format!(
            "{what}: Additional properties are not allowed ('{k}' was unexpected)"
        ))),
        None => Ok(()),
    }
}

pub async fn create(State(svc): State<ComputeService>, c: Caller, body: Body) -> Result<Response> {
    allowed(&c)?;
    let body = body.object()?;
    only_keys(&body, "body", &["snapshot"])?;
    let Some(Value::Object(snap)) = body.get("snapshot") else {
        return Err(invalid("'snapshot' is a required property"));
    };
    only_keys(snap, "snapshot", &["volume_id", "create_info"])?;
    let volume_id = match snap.get("volume_id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return Err(invalid("'volume_id' is a required property")),
    };
    let Some(Value::Object(info)) = snap.get("create_info") else {
        return Err(invalid("'create_info' is a required property"));
    };
    only_keys(
        info,
        "create_info",
        &["snapshot_id", "type", "new_file", "id"],
    )?;
    if info
        .get("id")
        .is_some_and(|x| x.as_str().is_none_or(|s| s.is_empty()))
    {
        return Err(invalid("create_info: 'id' must be a non-empty string"));
    }
    let field = |k: &str| match info.get(k) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => Err(invalid(&format!(
            "create_info: '{k}' is a required string property"
        ))),
    };
    let snapshot_id = field("snapshot_id")?;
    if field("type")? != "qcow2" {
        return Err(invalid("create_info: 'type' must be 'qcow2'"));
    }
    field("new_file")?;
    attached_server(&svc, &volume_id).await?;
    Ok(ok(
        json!({"snapshot": {"id": snapshot_id, "volumeId": volume_id}}),
    ))
}

pub async fn delete(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    q: QueryParams,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    allowed(&c)?;
    // From 2.75 no query parameter but delete_info is taken.
    if v.at_least(2, 75) {
        if let Some((k, _)) = q.0.iter().find(|(k, _)| k != "delete_info") {
            return Err(Error::bad_request(format!(
                "Invalid input for query parameters {k}. Additional properties are not allowed \
                 ('{k}' was unexpected)"
            )));
        }
    }
    let _snapshot = last(&p);
    let info: Value = query_get(&q, "delete_info")
        .and_then(|s| serde_json::from_str(s).ok())
        .ok_or_else(|| {
            Error::bad_request("Missing or invalid delete_info: a JSON object is needed")
        })?;
    let volume_id = info
        .get("volume_id")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::bad_request("delete_info: 'volume_id' is a required property"))?;
    attached_server(&svc, volume_id).await?;
    Ok(no_content())
}
