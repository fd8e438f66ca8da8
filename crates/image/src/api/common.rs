//! Helpers shared by the image handlers.

use axum::response::{IntoResponse, Response};
use ferro_api::{AuthContext, Caller};
use http::StatusCode;

use crate::error::{Error, Result};
use crate::model::Image;
use crate::store::{images, members};
use crate::{policy, ImageService};

/// The validated caller, rejected in Glance's error format.
pub type Ctx = Caller<Error>;

/// The image if the caller may see it; 404 otherwise.
pub async fn load(svc: &ImageService, ctx: &AuthContext, id: &str) -> Result<Image> {
    let img = images::get(svc.db(), id)
        .await?
        .ok_or_else(|| Error::no_image(id))?;
    let membership = match (&ctx.project_id, img.visibility.as_str()) {
        (Some(p), "shared") => members::get(svc.db(), id, p).await?.map(|m| m.status),
        _ => None,
    };
    if policy::can_see(ctx, &img, membership.as_deref()) {
        Ok(img)
    } else {
        Err(Error::no_image(id))
    }
}

/// The image if the caller may change it: 404 if invisible, 403 if only visible.
pub async fn load_for_update(svc: &ImageService, ctx: &AuthContext, id: &str) -> Result<Image> {
    let img = load(svc, ctx, id).await?;
    policy::require_modify(ctx, &img)?;
    Ok(img)
}

pub fn json(status: StatusCode, value: serde_json::Value) -> Response {
    let mut resp = axum::Json(value).into_response();
    *resp.status_mut() = status;
    resp
}

pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}
