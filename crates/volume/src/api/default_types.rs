//! `/v3/default-types` (3.62): a project's own default volume type, used
//! when a volume is created without one.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ferro_api::time::now_micros;
use serde_json::{json, Value};

use super::common::{ok, Body, Ctx};
use super::types::resolve_type;
use super::validate;
use crate::error::{Error, Result};
use crate::store::types as store;
use crate::VolumeService;

fn view(project: &str, type_id: &str) -> Value {
    json!({"project_id": project, "volume_type_id": type_id})
}

fn not_found(project: &str) -> Error {
    Error::not_found(format!(
        "Default type for project {project} could not be found."
    ))
}

pub async fn set(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_version(62)?;
    ctx.require_admin()?;
    let obj = validate::wrapped_only(&body, "default_type", &[])?;
    validate::no_extra(&obj, &["volume_type"], "default_type")?;
    let name = match obj.get("volume_type") {
        Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= 255 => s.clone(),
        _ => {
            return Err(Error::bad_request(
                "Invalid input for field/attribute volume_type: a type name or id is required.",
            ))
        }
    };
    let project = ctx.param("target").to_owned();
    let t = resolve_type(&svc, &ctx, &name).await?;
    store::set_default(svc.db(), &project, &t.id, now_micros()).await?;
    Ok(ok(json!({"default_type": view(&project, &t.id)})))
}

pub async fn show(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_version(62)?;
    let project = ctx.param("target");
    if !ctx.is_admin() && project != ctx.project_id {
        return Err(Error::policy());
    }
    match store::project_default(svc.db(), project).await? {
        Some(t) => Ok(ok(json!({"default_type": view(project, &t)}))),
        None => Err(not_found(project)),
    }
}

pub async fn list(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_version(62)?;
    ctx.require_admin()?;
    let all: Vec<Value> = store::all_defaults(svc.db())
        .await?
        .iter()
        .map(|(p, t)| view(p, t))
        .collect();
    Ok(ok(json!({ "default_types": all })))
}

pub async fn unset(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_version(62)?;
    ctx.require_admin()?;
    let project = ctx.param("target");
    if !store::unset_default(svc.db(), project).await? {
        return Err(not_found(project));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
