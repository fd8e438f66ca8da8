//! The Neutron v2.0 HTTP API. Resource collections share generic handlers
//! (`resources.rs`); the rest has one module each.

mod auto_allocate;
mod discovery;
mod extensions;
mod quotas;
mod resources;
mod routers;
mod tags;

use axum::routing::{get, put};
use axum::Router;

use crate::error::{Error, NeutronFormat};
use crate::logic::Ctx;
use crate::state::Kind;
use crate::NetworkService;

pub type Caller = ferro_api::Caller<Error>;
pub type Body = ferro_api::JsonBody<Error>;

pub fn ctx(c: &Caller) -> Ctx {
    Ctx::from_auth(c)
}

/// `networks`, `security-groups`, ... (with an optional `.json` suffix) → kind.
pub fn kind_of(path: &str) -> Result<Kind, Error> {
    let path = path.strip_suffix(".json").unwrap_or(path);
    Ok(match path {
        "networks" => Kind::Network,
        "subnets" => Kind::Subnet,
        "ports" => Kind::Port,
        "security-groups" => Kind::SecurityGroup,
        "security-group-rules" => Kind::SecurityGroupRule,
        "routers" => Kind::Router,
        "floatingips" => Kind::FloatingIp,
        "subnetpools" => Kind::SubnetPool,
        "address-scopes" => Kind::AddressScope,
        _ => {
            return Err(Error::not_found(
                "HTTPNotFound",
                "The resource could not be found.",
            ))
        }
    })
}

/// The URL path segment of a kind's collection.
pub fn url_collection(kind: Kind) -> &'static str {
    match kind {
        Kind::SecurityGroup => "security-groups",
        Kind::SecurityGroupRule => "security-group-rules",
        Kind::AddressScope => "address-scopes",
        other => other.collection(),
    }
}

/// Every route, relative to the service root.
pub fn router(svc: NetworkService) -> Router {
    Router::new()
        .route("/", get(discovery::versions))
        .route("/v2.0", get(discovery::resources))
        .route("/v2.0/extensions", get(extensions::list))
        .route("/v2.0/extensions/{alias}", get(extensions::show))
        .route(
            "/v2.0/service-providers",
            get(extensions::service_providers),
        )
        .route("/v2.0/agents", get(extensions::agents))
        .route("/v2.0/quotas", get(quotas::list))
        .route(
            "/v2.0/quotas/{project_id}",
            get(quotas::show).put(quotas::update).delete(quotas::reset),
        )
        .route("/v2.0/quotas/{project_id}/default", get(quotas::defaults))
        .route("/v2.0/quotas/{project_id}/details", get(quotas::details))
        .route(
            "/v2.0/quotas/{project_id}/details.json",
            get(quotas::details),
        )
        .route(
            "/v2.0/auto-allocated-topology/{project_id}",
            get(auto_allocate::show).delete(auto_allocate::delete),
        )
        .route(
            "/v2.0/routers/{id}/add_router_interface",
            put(routers::add_interface),
        )
        .route(
            "/v2.0/routers/{id}/remove_router_interface",
            put(routers::remove_interface),
        )
        .route(
            "/v2.0/subnetpools/{id}/add_prefixes",
            put(routers::add_prefixes),
        )
        .route(
            "/v2.0/subnetpools/{id}/remove_prefixes",
            put(routers::remove_prefixes),
        )
        .route(
            "/v2.0/{collection}",
            get(resources::list).post(resources::create),
        )
        .route(
            "/v2.0/{collection}/{id}",
            get(resources::show)
                .put(resources::update)
                .delete(resources::delete),
        )
        .route(
            "/v2.0/{collection}/{id}/tags",
            get(tags::list).put(tags::replace).delete(tags::clear),
        )
        .route(
            "/v2.0/{collection}/{id}/tags/{tag}",
            get(tags::check).put(tags::add).delete(tags::remove),
        )
        .layer(axum::middleware::map_response(|r| {
            ferro_api::error::format_router_errors(NeutronFormat, r)
        }))
        .with_state(svc)
}
