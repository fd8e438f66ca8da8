//! The Cinder v3 HTTP API: one module per resource, routes listed here.
//! Every route lives under `/v3/{project_id}/`; the project-less form
//! `/v3/volumes/...` that newer Cinder accepts is rewritten onto it.

mod admin_misc;
mod attachments;
mod backend_info;
mod backups;
pub(crate) mod common;
mod default_types;
mod discovery;
mod encryption_types;
mod filters;
mod group_snapshots;
mod group_types;
mod groups;
mod image_metadata;
mod info;
mod limits;
mod metadata;
mod qos;
mod quota_classes;
mod services;
pub(crate) mod snapshots;
mod transfers;
mod types;
mod upload_image;
mod validate;
mod volume_actions;
mod volume_create;
pub(crate) mod volume_rewrite;
pub(crate) mod volumes;

use axum::routing::{get, post};
use axum::Router;

use crate::error::CinderFormat;
use crate::VolumeService;

pub use common::Ctx;

/// First path segments after `/v3/` that name a collection (not a project).
const COLLECTIONS: &[&str] = &[
    "volumes",
    "snapshots",
    "types",
    "limits",
    "os-quota-sets",
    "os-availability-zone",
    "os-services",
    "extensions",
    "default-types",
    "resource_filters",
    "messages",
    "backups",
    "os-hosts",
    "clusters",
    "manageable_volumes",
    "manageable_snapshots",
    "workers",
    "qos-specs",
    "os-quota-class-sets",
    "scheduler-stats",
    "capabilities",
    "attachments",
    "os-volume-transfer",
    "volume-transfers",
    "group_types",
    "groups",
    "group_snapshots",
];

/// `/v3/volumes/x` → `/v3/_ferro_projectless_/volumes/x`.
fn projectless<B>(mut req: http::Request<B>) -> http::Request<B> {
    let path = req.uri().path();
    if let Some(rest) = path.strip_prefix("/v3/") {
        let first = rest.split('/').next().unwrap_or("");
        if COLLECTIONS.contains(&first) {
            let new = match req.uri().query() {
                Some(q) => format!("/v3/{}/{rest}?{q}", common::PROJECTLESS),
                None => format!("/v3/{}/{rest}", common::PROJECTLESS),
            };
            if let Ok(uri) = new.parse() {
                *req.uri_mut() = uri;
            }
        }
    }
    req
}

pub fn router(svc: VolumeService) -> Router {
    let inner = Router::new()
        .route("/", get(discovery::versions))
        .route("/v3", get(discovery::v3))
        .merge(volume_routes())
        .merge(snapshot_routes())
        .merge(type_routes())
        .merge(limits::routes())
        .merge(misc_routes())
        .merge(transfer_routes())
        .merge(group_routes())
        .layer(axum::middleware::from_fn(empty_id))
        .layer(axum::middleware::map_response(|r| {
            ferro_api::error::format_router_errors(CinderFormat, r)
        }))
        .layer(axum::middleware::from_fn(crate::microversion::layer))
        .with_state(svc);
    let rewritten = tower::ServiceExt::<axum::extract::Request>::map_request(inner, projectless);
    Router::new().fallback_service(rewritten)
}

fn volume_routes() -> Router<VolumeService> {
    Router::new()
        .route(
            "/v3/{project_id}/volumes",
            get(volumes::list).post(volumes::create),
        )
        .route("/v3/{project_id}/volumes/detail", get(volumes::detail))
        .route("/v3/{project_id}/volumes/summary", get(volumes::summary))
        .route(
            "/v3/{project_id}/volumes/{volume_id}",
            get(volumes::show)
                .put(volumes::update)
                .delete(volumes::delete),
        )
        .route(
            "/v3/{project_id}/volumes/{volume_id}/action",
            post(volume_actions::action),
        )
        .route(
            "/v3/{project_id}/volumes/{volume_id}/metadata",
            get(metadata::vol_list)
                .post(metadata::vol_merge)
                .put(metadata::vol_replace),
        )
        .route(
            "/v3/{project_id}/volumes/{volume_id}/metadata/{key}",
            get(metadata::vol_show)
                .put(metadata::vol_put)
                .delete(metadata::vol_delete),
        )
}

fn snapshot_routes() -> Router<VolumeService> {
    Router::new()
        .route(
            "/v3/{project_id}/snapshots",
            get(snapshots::list).post(snapshots::create),
        )
        .route("/v3/{project_id}/snapshots/detail", get(snapshots::detail))
        .route(
            "/v3/{project_id}/snapshots/{snapshot_id}",
            get(snapshots::show)
                .put(snapshots::update)
                .delete(snapshots::delete),
        )
        .route(
            "/v3/{project_id}/snapshots/{snapshot_id}/action",
            post(snapshots::action),
        )
        .route(
            "/v3/{project_id}/snapshots/{snapshot_id}/metadata",
            get(metadata::snap_list)
                .post(metadata::snap_merge)
                .put(metadata::snap_replace),
        )
        .route(
            "/v3/{project_id}/snapshots/{snapshot_id}/metadata/{key}",
            get(metadata::snap_show)
                .put(metadata::snap_put)
                .delete(metadata::snap_delete),
        )
}

fn type_routes() -> Router<VolumeService> {
    Router::new()
        .route(
            "/v3/{project_id}/types",
            get(types::list).post(types::create),
        )
        .route(
            "/v3/{project_id}/types/{type_id}",
            get(types::show).put(types::update).delete(types::delete),
        )
        .route(
            "/v3/{project_id}/types/{type_id}/extra_specs",
            get(types::specs_list).post(types::specs_create),
        )
        .route(
            "/v3/{project_id}/types/{type_id}/extra_specs/{key}",
            get(types::spec_show)
                .put(types::spec_put)
                .delete(types::spec_delete),
        )
        .route(
            "/v3/{project_id}/types/{type_id}/action",
            post(types::action),
        )
        .route(
            "/v3/{project_id}/types/{type_id}/os-volume-type-access",
            get(types::access_list),
        )
        .route(
            "/v3/{project_id}/types/{type_id}/encryption",
            get(encryption_types::show).post(encryption_types::create),
        )
        .route(
            "/v3/{project_id}/types/{type_id}/encryption/{encryption_id}",
            get(encryption_types::show_item)
                .put(encryption_types::update)
                .delete(encryption_types::delete),
        )
}

fn group_routes() -> Router<VolumeService> {
    let p = "/v3/{project_id}";
    Router::new()
        .route(
            &format!("{p}/group_types"),
            get(group_types::list).post(group_types::create),
        )
        .route(
            &format!("{p}/group_types/{{group_type_id}}"),
            get(group_types::show)
                .put(group_types::update)
                .delete(group_types::delete),
        )
        .route(
            &format!("{p}/group_types/{{group_type_id}}/group_specs"),
            get(group_types::specs_list).post(group_types::specs_create),
        )
        .route(
            &format!("{p}/group_types/{{group_type_id}}/group_specs/{{key}}"),
            get(group_types::spec_show)
                .put(group_types::spec_put)
                .delete(group_types::spec_delete),
        )
        .route(
            &format!("{p}/groups"),
            get(groups::list).post(groups::create),
        )
        .route(&format!("{p}/groups/detail"), get(groups::list_detail))
        .route(
            &format!("{p}/groups/action"),
            post(groups::collection_action),
        )
        .route(
            &format!("{p}/groups/{{group_id}}"),
            get(groups::show).put(groups::update),
        )
        .route(
            &format!("{p}/groups/{{group_id}}/action"),
            post(groups::action),
        )
        .route(
            &format!("{p}/group_snapshots"),
            get(group_snapshots::list).post(group_snapshots::create),
        )
        .route(
            &format!("{p}/group_snapshots/detail"),
            get(group_snapshots::list_detail),
        )
        .route(
            &format!("{p}/group_snapshots/{{group_snapshot_id}}"),
            get(group_snapshots::show).delete(group_snapshots::delete),
        )
        .route(
            &format!("{p}/group_snapshots/{{group_snapshot_id}}/action"),
            post(group_snapshots::action),
        )
}

fn transfer_routes() -> Router<VolumeService> {
    Router::new()
        .route(
            "/v3/{project_id}/os-volume-transfer",
            get(transfers::list).post(transfers::create),
        )
        .route(
            "/v3/{project_id}/os-volume-transfer/detail",
            get(transfers::list_detail),
        )
        .route(
            "/v3/{project_id}/os-volume-transfer/{transfer_id}",
            get(transfers::show).delete(transfers::delete),
        )
        .route(
            "/v3/{project_id}/os-volume-transfer/{transfer_id}/accept",
            post(transfers::accept),
        )
        .route(
            "/v3/{project_id}/volume-transfers",
            get(transfers::v3_list).post(transfers::v3_create),
        )
        .route(
            "/v3/{project_id}/volume-transfers/detail",
            get(transfers::v3_list_detail),
        )
        .route(
            "/v3/{project_id}/volume-transfers/{transfer_id}",
            get(transfers::show).delete(transfers::delete),
        )
        .route(
            "/v3/{project_id}/volume-transfers/{transfer_id}/accept",
            post(transfers::accept),
        )
}

fn qos_routes() -> Router<VolumeService> {
    let q = "/v3/{project_id}/qos-specs/{qos_id}";
    Router::new()
        .route(
            "/v3/{project_id}/qos-specs",
            get(qos::list).post(qos::create),
        )
        .route(q, get(qos::show).put(qos::set_keys).delete(qos::delete))
        .route(
            &format!("{q}/delete_keys"),
            axum::routing::put(qos::delete_keys),
        )
        .route(&format!("{q}/associations"), get(qos::associations))
        .route(&format!("{q}/associate"), get(qos::associate))
        .route(&format!("{q}/disassociate"), get(qos::disassociate))
        .route(&format!("{q}/disassociate_all"), get(qos::disassociate_all))
}

fn admin_routes() -> Router<VolumeService> {
    let p = "/v3/{project_id}";
    Router::new()
        .route(&format!("{p}/clusters"), get(admin_misc::clusters))
        .route(&format!("{p}/clusters/detail"), get(admin_misc::clusters))
        .route(
            &format!("{p}/clusters/{{name}}"),
            get(admin_misc::cluster).put(admin_misc::cluster_update),
        )
        .route(
            &format!("{p}/manageable_volumes"),
            get(admin_misc::manageable_volumes),
        )
        .route(
            &format!("{p}/manageable_volumes/detail"),
            get(admin_misc::manageable_volumes),
        )
        .route(
            &format!("{p}/manageable_snapshots"),
            get(admin_misc::manageable_snapshots),
        )
        .route(
            &format!("{p}/manageable_snapshots/detail"),
            get(admin_misc::manageable_snapshots),
        )
        .route(
            &format!("{p}/workers/cleanup"),
            post(admin_misc::workers_cleanup),
        )
}

fn misc_routes() -> Router<VolumeService> {
    Router::new()
        .merge(admin_routes())
        .merge(qos_routes())
        .route(
            "/v3/{project_id}/os-quota-class-sets/{class}",
            get(quota_classes::show).put(quota_classes::update),
        )
        .route("/v3/{project_id}/os-services", get(services::list))
        .route(
            "/v3/{project_id}/os-services/{action}",
            axum::routing::put(services::update),
        )
        .route("/v3/{project_id}/os-hosts", get(backend_info::hosts))
        .route("/v3/{project_id}/os-hosts/{host}", get(backend_info::host))
        .route(
            "/v3/{project_id}/scheduler-stats/get_pools",
            get(backend_info::pools),
        )
        .route(
            "/v3/{project_id}/capabilities/{host}",
            get(backend_info::capabilities),
        )
        .route(
            "/v3/{project_id}/backups",
            get(backups::list).post(backups::create),
        )
        .route("/v3/{project_id}/backups/detail", get(backups::list_detail))
        .route(
            "/v3/{project_id}/backups/import_record",
            post(backups::import_record),
        )
        .route(
            "/v3/{project_id}/backups/{backup_id}",
            get(backups::show)
                .put(backups::update)
                .delete(backups::delete),
        )
        .route(
            "/v3/{project_id}/backups/{backup_id}/restore",
            post(backups::restore),
        )
        .route(
            "/v3/{project_id}/backups/{backup_id}/action",
            post(backups::action),
        )
        .route(
            "/v3/{project_id}/backups/{backup_id}/export_record",
            get(backups::export_record),
        )
        .route(
            "/v3/{project_id}/attachments",
            get(attachments::list).post(attachments::create),
        )
        .route(
            "/v3/{project_id}/attachments/detail",
            get(attachments::list_detail),
        )
        .route(
            "/v3/{project_id}/attachments/{attachment_id}",
            get(attachments::show)
                .put(attachments::update)
                .delete(attachments::delete),
        )
        .route(
            "/v3/{project_id}/attachments/{attachment_id}/action",
            post(attachments::action),
        )
        .route("/v3/{project_id}/default-types", get(default_types::list))
        .route(
            "/v3/{project_id}/default-types/{target}",
            get(default_types::show)
                .put(default_types::set)
                .delete(default_types::unset),
        )
        .route(
            "/v3/{project_id}/resource_filters",
            get(info::resource_filters),
        )
        .route("/v3/{project_id}/messages", get(info::messages))
        .route(
            "/v3/{project_id}/messages/{message_id}",
            get(info::message).delete(info::delete_message),
        )
}

/// `GET/PUT/DELETE …/volumes/` (an empty id; the server strips the slash
/// before routing): upstream answers 404 rather than reaching the collection.
async fn empty_id(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let slashed = req
        .extensions()
        .get::<ferro_api::request_id::TrailingSlash>()
        .is_some();
    let collection = ["/volumes", "/snapshots"]
        .iter()
        .any(|c| req.uri().path().ends_with(c));
    let by_id = matches!(
        *req.method(),
        http::Method::GET | http::Method::PUT | http::Method::DELETE
    );
    if slashed && collection && by_id {
        return crate::error::Error::not_found("The resource could not be found.").into_response();
    }
    next.run(req).await
}
