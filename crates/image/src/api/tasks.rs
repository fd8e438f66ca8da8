//! `GET /v2/images/{id}/tasks` (Glance 2.12): the asynchronous tasks that
//! worked on an image. Images here are only ever filled by a direct upload,
//! which runs in the request itself, so no image has tasks; the list is empty
//! for every image the caller can see and 404 for any other.

use axum::extract::{Path, State};
use axum::response::Response;
use http::StatusCode;
use serde_json::json;

use super::common::{json, load, Ctx};
use crate::error::Result;
use crate::ImageService;

pub async fn list(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response> {
    load(&svc, &ctx, &id).await?;
    Ok(json(StatusCode::OK, json!({ "tasks": [] })))
}
