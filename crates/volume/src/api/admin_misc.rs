//! Admin routes whose upstream answer without the feature is an empty one:
//! clusters (3.7; no Active/Active clusters here), manageable volumes and
//! snapshots (3.8, 3.17 `cluster`; start-up removes every file without a
//! row, so nothing is unmanaged) and workers cleanup (3.24; nothing to clean
//! for services that are always up).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::common::{ok, Body, Ctx};
use crate::error::{Error, Result};
use crate::VolumeService;

const VOLUME_HOST: &str = "ferrostack@qcow2";

fn cluster_not_found(name: &str) -> Error {
    Error::not_found(format!("Cluster {name} could not be found."))
}

pub async fn clusters(ctx: Ctx) -> Result<Response> {
    ctx.require_version(7)?;
    ctx.require_admin()?;
    Ok(ok(json!({"clusters": []})))
}

pub async fn cluster(ctx: Ctx) -> Result<Response> {
    ctx.require_version(7)?;
    ctx.require_admin()?;
    Err(cluster_not_found(ctx.param("name")))
}

/// `PUT /clusters/enable|disable` with `{"name": …}`.
pub async fn cluster_update(ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_version(7)?;
    ctx.require_admin()?;
    let action = ctx.param("name");
    if action != "enable" && action != "disable" {
        return Err(Error::not_found("The resource could not be found."));
    }
    let obj = body.object()?;
    match obj.get("name").and_then(|v| v.as_str()) {
        Some(n) if !n.is_empty() => Err(cluster_not_found(n)),
        _ => Err(Error::bad_request(
            "Missing required element 'name' in request body.",
        )),
    }
}

async fn manageable(ctx: &Ctx, key: &str) -> Result<Response> {
    ctx.require_version(8)?;
    ctx.require_admin()?;
    let cluster = if ctx.at(17) { ctx.q("cluster") } else { None };
    let host = ctx.q("host");
    let (msg, both_or_none) = if ctx.at(17) {
        (
            "One and only one of cluster and host must be set.",
            cluster.is_some() == host.is_some(),
        )
    } else {
        ("Host field is missing.", host.is_none())
    };
    if both_or_none {
        return Err(Error::bad_request(format!("Invalid input received: {msg}")));
    }
    if let Some(c) = cluster {
        return Err(cluster_not_found(c));
    }
    let h = host.unwrap_or("");
    if h != VOLUME_HOST && h.split('#').next() != Some(VOLUME_HOST) {
        return Err(Error::not_found(format!(
            "Service cinder-volume on host {h} could not be found."
        )));
    }
    Ok(ok(json!({ key: [] })))
}

pub async fn manageable_volumes(State(_svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    manageable(&ctx, "manageable-volumes").await
}

pub async fn manageable_snapshots(State(_svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    manageable(&ctx, "manageable-snapshots").await
}

pub async fn workers_cleanup(ctx: Ctx) -> Result<Response> {
    ctx.require_version(24)?;
    ctx.require_admin()?;
    let body = json!({"cleaning": [], "unavailable": []});
    Ok((StatusCode::ACCEPTED, axum::Json(body)).into_response())
}
