//! Images: create, show, delete, deactivate/reactivate.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use ferro_api::request_id::TrailingSlash;
use ferro_api::time::now_micros;
use ferro_api::JsonBody;
use http::StatusCode;

use super::common::{json, load, load_for_update, no_content, Ctx};
use crate::error::{Error, Result};
use crate::model::{is_uuid, set_attr, Image};
use crate::store::images;
use crate::{policy, ImageService};

/// `POST /v2/images` with Glance's flat body.
pub async fn create(
    State(svc): State<ImageService>,
    ctx: Ctx,
    body: JsonBody<Error>,
) -> Result<Response> {
    policy::require_writer(&ctx)?;
    let obj = body.object()?;
    let now = now_micros();
    let mut img = Image {
        id: uuid::Uuid::new_v4().to_string(),
        status: "queued".into(),
        visibility: "shared".into(),
        owner: ctx.project_id.clone(),
        created_at: now,
        updated_at: now,
        ..Image::default()
    };
    for (key, value) in &obj {
        if key == "id" {
            match value.as_str() {
                Some(id) if is_uuid(id) => img.id = id.to_owned(),
                _ => {
                    return Err(Error::bad_request(
                        "Provided object does not match schema 'image': id must be a UUID",
                    ))
                }
            }
            continue;
        }
        set_attr(&mut img, &ctx, key, value)?;
    }
    img.check_property_quota()?;
    images::insert(svc.db(), &img).await?;
    let mut resp = json(StatusCode::CREATED, img.to_json());
    let h = resp.headers_mut();
    if let Ok(v) = http::HeaderValue::from_str(&format!("/v2/images/{}", img.id)) {
        h.insert(http::header::LOCATION, v);
    }
    if let Ok(v) = http::HeaderValue::from_str(&crate::import::METHODS.join(",")) {
        h.insert("openstack-image-import-methods", v);
    }
    Ok(resp)
}

/// `GET /v2/images/{id}`.
pub async fn show(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response> {
    let img = load(&svc, &ctx, &id).await?;
    Ok(json(StatusCode::OK, img.to_json()))
}

/// `DELETE /v2/images/`: a delete with an empty id (the slash is stripped
/// before routing), 404 as Glance answers; `DELETE /v2/images` itself 405.
pub async fn delete_blank(_ctx: Ctx, slash: Option<Extension<TrailingSlash>>) -> Result<Response> {
    if slash.is_some() {
        Err(Error::not_found("The resource could not be found."))
    } else {
        let mut resp = StatusCode::METHOD_NOT_ALLOWED.into_response();
        resp.headers_mut().insert(
            http::header::ALLOW,
            http::HeaderValue::from_static("GET,HEAD,POST"),
        );
        Ok(resp)
    }
}

/// `DELETE /v2/images/{id}`: the row, its tags and members, then its data.
pub async fn delete(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response> {
    let img = load_for_update(&svc, &ctx, &id).await?;
    if img.protected {
        return Err(Error::forbidden(format!(
            "Image {id} is protected and cannot be deleted."
        )));
    }
    if !images::delete(svc.db(), &id).await? {
        return Err(Error::no_image(&id));
    }
    svc.data().remove(&id).await;
    svc.data().remove_staged(&id).await;
    Ok(no_content())
}

/// `POST /v2/images/{id}/actions/deactivate`: `active → deactivated`.
pub async fn deactivate(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response> {
    set_active(&svc, &ctx, &id, false).await
}

/// `POST /v2/images/{id}/actions/reactivate`: `deactivated → active`.
pub async fn reactivate(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response> {
    set_active(&svc, &ctx, &id, true).await
}

async fn set_active(svc: &ImageService, ctx: &Ctx, id: &str, active: bool) -> Result<Response> {
    let img = load_for_update(svc, ctx, id).await?;
    let (from, to) = if active {
        ("deactivated", "active")
    } else {
        ("active", "deactivated")
    };
    if img.status == to {
        return Ok(no_content());
    }
    if img.status != from || !images::transition(svc.db(), id, from, to, now_micros()).await? {
        return Err(Error::forbidden(format!(
            "Not allowed to {} image in status '{}'",
            if active { "reactivate" } else { "deactivate" },
            img.status
        )));
    }
    Ok(no_content())
}
