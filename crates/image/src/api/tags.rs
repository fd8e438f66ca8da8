//! `PUT` / `DELETE /v2/images/{id}/tags/{tag}`.

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::time::now_micros;

use super::common::{load_for_update, no_content, Ctx};
use crate::error::{Error, Result};
use crate::model::check_tag;
use crate::store::images;
use crate::ImageService;

/// Upstream's cap on tags per image (`image_tag_quota`).
const MAX_TAGS: usize = 128;

pub async fn add(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path((id, tag)): Path<(String, String)>,
) -> Result<Response> {
    let mut img = load_for_update(&svc, &ctx, &id).await?;
    check_tag(&tag)?;
    if !img.tags.contains(&tag) {
        if img.tags.len() >= MAX_TAGS {
            return Err(Error::bad_request(format!(
                "Maximum number of tags ({MAX_TAGS}) exceeded"
            )));
        }
        img.tags.push(tag);
        img.updated_at = now_micros();
        if !images::update(svc.db(), &img).await? {
            return Err(Error::no_image(&id));
        }
    }
    Ok(no_content())
}

pub async fn remove(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path((id, tag)): Path<(String, String)>,
) -> Result<Response> {
    let mut img = load_for_update(&svc, &ctx, &id).await?;
    let before = img.tags.len();
    img.tags.retain(|t| t != &tag);
    if img.tags.len() == before {
        return Err(Error::not_found(format!(
            "Tag {tag} not found on image {id}"
        )));
    }
    img.updated_at = now_micros();
    if !images::update(svc.db(), &img).await? {
        return Err(Error::no_image(&id));
    }
    Ok(no_content())
}
