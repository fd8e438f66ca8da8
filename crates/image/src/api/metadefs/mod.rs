//! `/v2/metadefs`: the metadata definitions catalog. Anyone may read the
//! public namespaces (and their own project's private ones); only an admin
//! may change the catalog (Glance's default metadef policies).

pub mod items;
pub mod namespaces;
pub mod objects;
pub mod properties;
pub mod resource_types;
pub mod schemas;
pub mod tags;

use axum::routing::get;
use axum::Router;

use super::common::Ctx;
use crate::error::{Error, Result};
use crate::metadef::Namespace;
use crate::store::metadefs;
use crate::{policy, ImageService};

/// The catalog's routes (under `/v2/metadefs`) and its schemas.
pub fn routes(r: Router<ImageService>) -> Router<ImageService> {
    const NS: &str = "/v2/metadefs/namespaces/{namespace}";
    r.route(
        "/v2/metadefs/namespaces",
        get(namespaces::list).post(namespaces::create),
    )
    .route(
        NS,
        get(namespaces::show)
            .put(namespaces::update)
            .delete(namespaces::delete),
    )
    .route(
        &format!("{NS}/objects"),
        get(objects::list)
            .post(objects::create)
            .delete(objects::delete_all),
    )
    .route(
        &format!("{NS}/objects/{{name}}"),
        get(objects::show)
            .put(objects::update)
            .delete(objects::delete),
    )
    .route(
        &format!("{NS}/properties"),
        get(properties::list)
            .post(properties::create)
            .delete(properties::delete_all),
    )
    .route(
        &format!("{NS}/properties/{{name}}"),
        get(properties::show)
            .put(properties::update)
            .delete(properties::delete),
    )
    .route(
        &format!("{NS}/tags"),
        get(tags::list)
            .post(tags::create_many)
            .delete(tags::delete_all),
    )
    .route(
        &format!("{NS}/tags/{{name}}"),
        get(tags::show)
            .post(tags::create)
            .put(tags::update)
            .delete(tags::delete),
    )
    .route("/v2/metadefs/resource_types", get(resource_types::list))
    .route(
        &format!("{NS}/resource_types"),
        get(resource_types::list_associations).post(resource_types::associate),
    )
    .route(
        &format!("{NS}/resource_types/{{name}}"),
        axum::routing::delete(resource_types::dissociate),
    )
    .route("/v2/schemas/metadefs/{name}", get(schemas::show))
}

/// Whether the caller may see `ns`: public, their project's, or admin.
pub fn visible(ctx: &Ctx, ns: &Namespace) -> bool {
    ctx.is_admin()
        || ns.visibility == "public"
        || (ctx.project_id.is_some() && ns.owner == ctx.project_id)
}

/// The namespace if the caller may see it; 404 otherwise.
pub async fn load(svc: &ImageService, ctx: &Ctx, name: &str) -> Result<Namespace> {
    match metadefs::namespace(svc.db(), name).await? {
        Some(ns) if visible(ctx, &ns) => Ok(ns),
        _ => Err(Error::not_found(format!(
            "Metadata definition namespace={name} was not found."
        ))),
    }
}

/// The namespace, for a change: 404 if invisible, 403 unless admin.
pub async fn load_for_change(svc: &ImageService, ctx: &Ctx, name: &str) -> Result<Namespace> {
    let ns = load(svc, ctx, name).await?;
    policy::require_admin(ctx, "change metadata definitions")?;
    Ok(ns)
}

/// A 409 when a write hit an existing name, the error otherwise.
pub fn conflict_or(e: ferro_store::sqlx::Error, msg: String) -> Error {
    if ferro_store::is_unique_violation(&e) {
        Error::conflict(msg)
    } else {
        e.into()
    }
}
