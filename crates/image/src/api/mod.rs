//! The image HTTP API (Glance v2): one module per resource, routes here.

pub(crate) mod common;
pub(crate) mod data;
mod images;
mod import;
mod info;
mod list;
mod members;
mod metadefs;
mod patch;
mod schemas;
mod stage;
mod tags;
mod tasks;
mod versions;
mod view;

use axum::routing::{get, post, put};
use axum::Router;

use crate::error::GlanceFormat;
use crate::ImageService;

/// Every image route, relative to the image root.
pub fn router(svc: ImageService) -> Router {
    metadefs::routes(Router::new())
        .route("/", get(versions::versions))
        .route("/versions", get(versions::explicit))
        .route("/v2", get(versions::versions))
        .route(
            "/v2/images",
            get(list::list)
                .post(images::create)
                .delete(images::delete_blank),
        )
        .route(
            "/v2/images/{image_id}",
            get(images::show)
                .patch(patch::update)
                .delete(images::delete),
        )
        .route(
            "/v2/images/{image_id}/file",
            put(data::upload).get(data::download),
        )
        .route(
            "/v2/images/{image_id}/actions/deactivate",
            post(images::deactivate),
        )
        .route(
            "/v2/images/{image_id}/actions/reactivate",
            post(images::reactivate),
        )
        .route(
            "/v2/images/{image_id}/tags/{tag}",
            put(tags::add).delete(tags::remove),
        )
        .route("/v2/images/{image_id}/tasks", get(tasks::of_image))
        .route("/v2/images/{image_id}/stage", put(stage::stage))
        .route("/v2/images/{image_id}/import", post(import::import))
        .route("/v2/info/import", get(info::import))
        .route("/v2/info/stores", get(info::stores))
        .route("/v2/info/stores/detail", get(info::stores))
        .route("/v2/info/usage", get(info::usage))
        .route("/v2/tasks", get(tasks::list).post(tasks::create))
        .route("/v2/tasks/{task_id}", get(tasks::show))
        .route(
            "/v2/images/{image_id}/members",
            get(members::list).post(members::create),
        )
        .route(
            "/v2/images/{image_id}/members/{member_id}",
            get(members::show)
                .put(members::update)
                .delete(members::delete),
        )
        .route("/v2/schemas/image", get(schemas::image))
        .route("/v2/schemas/images", get(schemas::images))
        .route("/v2/schemas/member", get(schemas::member))
        .route("/v2/schemas/members", get(schemas::members))
        .route("/v2/schemas/task", get(schemas::task))
        .route("/v2/schemas/tasks", get(schemas::tasks))
        .fallback(unknown_path)
        .layer(axum::middleware::map_response(|r| {
            ferro_api::error::format_router_errors(GlanceFormat, r)
        }))
        .with_state(svc)
}

/// Any path this API does not have: 404 in Glance's format.
async fn unknown_path() -> crate::error::Error {
    crate::error::Error::not_found("The resource could not be found.")
}
