//! `/servers/{id}/tags` (microversion 2.26): list, replace all, delete all,
//! and one tag: check, add, remove. Before 2.26 the routes answer 404.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::{header, StatusCode};
use serde_json::{json, Value};

use super::common::{load_server, no_content, ok, require_member, Body, Caller};
use super::flavors::last;
use super::server_fields::{self as fields, MAX_TAGS};
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::state::vm;
use crate::store::instances::Instance;
use crate::store::tags;
use crate::ComputeService;

fn require_version(v: ApiVersion) -> Result<()> {
    if v.at_least(2, 26) {
        Ok(())
    } else {
        Err(Error::not_found("The resource could not be found."))
    }
}

/// Tags change only on servers that are not building (Nova's 409).
fn check_state(i: &Instance, action: &str) -> Result<()> {
    if i.vm_state == vm::BUILDING {
        return Err(Error::conflict(format!(
            "Cannot '{action}' instance {} while it is in vm_state building",
            i.id
        )));
    }
    Ok(())
}

pub async fn list_tags(
    State(svc): State<ComputeService>,
    c: Caller,
    v: ApiVersion,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    require_version(v)?;
    let i = load_server(&svc, &c, last(&p)).await?;
    Ok(ok(
        json!({"tags": tags::of_instance(svc.db(), &i.id).await?}),
    ))
}

pub async fn replace_tags(
    State(svc): State<ComputeService>,
    c: Caller,
    v: ApiVersion,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    require_version(v)?;
    require_member(&c)?;
    let i = load_server(&svc, &c, last(&p)).await?;
    let o = body.object()?;
    fields::only_known(&o, &["tags"])?;
    let list = fields::tags(
        o.get("tags")
            .ok_or_else(|| super::common::invalid("tags", "'tags' is a required property"))?,
        "tags",
    )?;
    check_state(&i, "update tags")?;
    tags::replace(svc.db(), &i.id, &list).await?;
    Ok(ok(
        json!({"tags": tags::of_instance(svc.db(), &i.id).await?}),
    ))
}

pub async fn delete_tags(
    State(svc): State<ComputeService>,
    c: Caller,
    v: ApiVersion,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    require_version(v)?;
    require_member(&c)?;
    let i = load_server(&svc, &c, last(&p)).await?;
    check_state(&i, "delete tags")?;
    tags::replace(svc.db(), &i.id, &[]).await?;
    Ok(no_content())
}

pub async fn check_tag(
    State(svc): State<ComputeService>,
    c: Caller,
    v: ApiVersion,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    require_version(v)?;
    let (sid, tag) = super::common::parent_and_last(&p);
    let i = load_server(&svc, &c, &sid).await?;
    if !tags::of_instance(svc.db(), &i.id).await?.contains(&tag) {
        return Err(Error::not_found(format!(
            "Tag '{tag}' on instance {sid} could not be found."
        )));
    }
    Ok(no_content())
}

pub async fn add_tag(
    State(svc): State<ComputeService>,
    c: Caller,
    v: ApiVersion,
    base: ferro_api::BaseUrl,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    require_version(v)?;
    require_member(&c)?;
    let (sid, tag) = super::common::parent_and_last(&p);
    let i = load_server(&svc, &c, &sid).await?;
    let tag = fields::tag(&Value::String(tag), "tag")?;
    let current = tags::of_instance(svc.db(), &i.id).await?;
    if current.contains(&tag) {
        return Ok(no_content());
    }
    if current.len() >= MAX_TAGS {
        return Err(Error::bad_request(format!(
            "The number of tags exceeded the per-server limit {MAX_TAGS}"
        )));
    }
    check_state(&i, "update tag")?;
    tags::add(svc.db(), &i.id, &tag).await?;
    let location = base.join(&format!("/v2.1/servers/{sid}/tags/{tag}"));
    Ok((StatusCode::CREATED, [(header::LOCATION, location)]).into_response())
}

pub async fn delete_tag(
    State(svc): State<ComputeService>,
    c: Caller,
    v: ApiVersion,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    require_version(v)?;
    require_member(&c)?;
    let (sid, tag) = super::common::parent_and_last(&p);
    let i = load_server(&svc, &c, &sid).await?;
    check_state(&i, "delete tag")?;
    if !tags::remove(svc.db(), &i.id, &tag).await? {
        return Err(Error::not_found(format!(
            "Tag '{tag}' on instance {sid} could not be found."
        )));
    }
    Ok(no_content())
}
