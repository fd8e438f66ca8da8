//! The identity HTTP API: one module per resource, routes listed here.

mod access_rules;
mod app_creds;
mod assignments;
mod auth;
mod common;
mod credentials;
mod discovery;
mod documents;
mod domain_configs;
mod domains;
mod endpoints;
mod groups;
mod oauth1;
mod projects;
mod regions;
mod roles;
mod services;
mod trusts;
mod users;
mod v2;
mod views;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post, put};
use axum::Router;
use http::Method;

use crate::error::KeystoneFormat;
use crate::Identity;

pub use common::Ctx;

/// Every identity route, relative to the identity root.
pub fn router(identity: Identity) -> Router {
    Router::new()
        .route("/", get(discovery::versions))
        .route("/v3", get(discovery::v3))
        .route("/v3/", get(discovery::v3))
        .route("/v2.0", get(discovery::v2))
        .route("/v2.0/", get(discovery::v2))
        .route("/v2.0/tokens", post(v2::issue))
        .merge(auth_routes())
        .merge(resource_routes())
        .merge(assignments::routes())
        .merge(documents::routes())
        .merge(trust_routes())
        .merge(oauth1_routes())
        .merge(domain_config_routes())
        .fallback(|| async { crate::Error::not_found("The resource could not be found.") })
        .layer(axum::middleware::map_response(|r| {
            ferro_api::error::format_router_errors(KeystoneFormat, r)
        }))
        .layer(axum::middleware::from_fn_with_state(
            identity.clone(),
            bump_on_write,
        ))
        .with_state(identity)
}

/// After any request that may have changed identity state, move the
/// identity generation on so no cached token validation outlives it. Only
/// reads and token issue (which writes nothing) leave it alone.
async fn bump_on_write(State(id): State<Identity>, req: Request, next: Next) -> Response {
    if !may_write(req.method(), req.uri().path()) {
        return next.run(req).await;
    }
    // Should the request be abandoned half way (client gone), still forget
    // what this process cached.
    let guard = LocalBump(Some(id.clone()));
    let resp = next.run(req).await;
    id.bump_generation().await;
    drop(guard);
    resp
}

fn may_write(method: &Method, path: &str) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    let issue = path.ends_with("/v3/auth/tokens") || path.ends_with("/v2.0/tokens");
    !(*method == Method::POST && issue)
}

struct LocalBump(Option<Identity>);

impl Drop for LocalBump {
    fn drop(&mut self) {
        if let Some(id) = self.0.take() {
            id.bump_local_generation();
        }
    }
}

fn auth_routes() -> Router<Identity> {
    Router::new()
        .route(
            "/v3/auth/tokens",
            post(auth::issue).get(auth::validate).delete(auth::revoke),
        )
        .route("/v3/auth/catalog", get(auth::catalog))
        .route("/v3/auth/projects", get(auth::projects))
        .route("/v3/auth/domains", get(auth::domains))
        .route("/v3/auth/system", get(auth::system))
}

fn trust_routes() -> Router<Identity> {
    Router::new()
        .route(
            "/v3/OS-TRUST/trusts",
            get(trusts::list).post(trusts::create),
        )
        .route(
            "/v3/OS-TRUST/trusts/{trust_id}",
            get(trusts::show).delete(trusts::delete),
        )
        .route(
            "/v3/OS-TRUST/trusts/{trust_id}/roles",
            get(trusts::list_roles),
        )
        .route(
            "/v3/OS-TRUST/trusts/{trust_id}/roles/{role_id}",
            get(trusts::show_role),
        )
}

fn oauth1_routes() -> Router<Identity> {
    let at = "/v3/users/{user_id}/OS-OAUTH1/access_tokens";
    Router::new()
        .route("/v3/OS-OAUTH1/request_token", post(oauth1::request_token))
        .route("/v3/OS-OAUTH1/access_token", post(oauth1::access_token))
        .route(
            "/v3/OS-OAUTH1/authorize/{request_token_id}",
            put(oauth1::authorize),
        )
        .route(at, get(oauth1::list))
        .route(
            &format!("{at}/{{access_token_id}}"),
            get(oauth1::show).delete(oauth1::delete),
        )
        .route(
            &format!("{at}/{{access_token_id}}/roles"),
            get(oauth1::list_roles),
        )
        .route(
            &format!("{at}/{{access_token_id}}/roles/{{role_id}}"),
            get(oauth1::show_role),
        )
}

fn domain_config_routes() -> Router<Identity> {
    use domain_configs as dc;
    Router::new()
        .route("/v3/domains/config/default", get(dc::default_all))
        .route("/v3/domains/config/{group}/default", get(dc::default_group))
        .route(
            "/v3/domains/config/{group}/{option}/default",
            get(dc::default_option),
        )
        .route(
            "/v3/domains/{domain_id}/config",
            get(dc::show_all)
                .put(dc::create)
                .patch(dc::update_all)
                .delete(dc::delete_all),
        )
        .route(
            "/v3/domains/{domain_id}/config/{group}",
            get(dc::show_group)
                .patch(dc::update_group)
                .delete(dc::delete_group),
        )
        .route(
            "/v3/domains/{domain_id}/config/{group}/{option}",
            get(dc::show_option)
                .patch(dc::update_option)
                .delete(dc::delete_option),
        )
}

fn resource_routes() -> Router<Identity> {
    Router::new()
        .route("/v3/domains", get(domains::list).post(domains::create))
        .route(
            "/v3/domains/{domain_id}",
            get(domains::show)
                .patch(domains::update)
                .delete(domains::delete),
        )
        .route("/v3/projects", get(projects::list).post(projects::create))
        .route(
            "/v3/projects/{project_id}",
            get(projects::show)
                .patch(projects::update)
                .delete(projects::delete),
        )
        .route(
            "/v3/projects/{project_id}/tags",
            get(projects::list_tags)
                .put(projects::replace_tags)
                .delete(projects::clear_tags),
        )
        .route(
            "/v3/projects/{project_id}/tags/{tag}",
            get(projects::check_tag)
                .put(projects::add_tag)
                .delete(projects::delete_tag),
        )
        .route("/v3/users", get(users::list).post(users::create))
        .route(
            "/v3/users/{user_id}",
            get(users::show).patch(users::update).delete(users::delete),
        )
        .route("/v3/users/{user_id}/password", post(users::change_password))
        .route("/v3/users/{user_id}/groups", get(users::groups))
        .route("/v3/users/{user_id}/projects", get(users::projects))
        .route(
            "/v3/users/{user_id}/application_credentials",
            get(app_creds::list).post(app_creds::create),
        )
        .route(
            "/v3/users/{user_id}/application_credentials/{app_cred_id}",
            get(app_creds::show).delete(app_creds::delete),
        )
        .route("/v3/users/{user_id}/access_rules", get(access_rules::list))
        .route(
            "/v3/users/{user_id}/access_rules/{access_rule_id}",
            get(access_rules::show).delete(access_rules::delete),
        )
        .route("/v3/groups", get(groups::list).post(groups::create))
        .route(
            "/v3/groups/{group_id}",
            get(groups::show)
                .patch(groups::update)
                .delete(groups::delete),
        )
        .route("/v3/groups/{group_id}/users", get(groups::members))
        .route(
            "/v3/groups/{group_id}/users/{user_id}",
            put(groups::add_member)
                .head(groups::check_member)
                .get(groups::check_member)
                .delete(groups::remove_member),
        )
        .route("/v3/roles", get(roles::list).post(roles::create))
        .route(
            "/v3/roles/{role_id}",
            get(roles::show).patch(roles::update).delete(roles::delete),
        )
        .route("/v3/roles/{prior_id}/implies", get(roles::list_implied))
        .route(
            "/v3/roles/{prior_id}/implies/{implied_id}",
            put(roles::add_implied)
                .get(roles::show_implied)
                .head(roles::check_implied)
                .delete(roles::delete_implied),
        )
        .route("/v3/role_inferences", get(roles::inferences))
        .route("/v3/regions", get(regions::list).post(regions::create))
        .route(
            "/v3/regions/{region_id}",
            get(regions::show)
                .put(regions::create_with_id)
                .patch(regions::update)
                .delete(regions::delete),
        )
        .route("/v3/services", get(services::list).post(services::create))
        .route(
            "/v3/services/{service_id}",
            get(services::show)
                .patch(services::update)
                .delete(services::delete),
        )
        .route(
            "/v3/endpoints",
            get(endpoints::list).post(endpoints::create),
        )
        .route(
            "/v3/endpoints/{endpoint_id}",
            get(endpoints::show)
                .patch(endpoints::update)
                .delete(endpoints::delete),
        )
        .route(
            "/v3/users/{user_id}/credentials/OS-EC2",
            get(credentials::ec2_list).post(credentials::ec2_create),
        )
        .route(
            "/v3/users/{user_id}/credentials/OS-EC2/{access}",
            get(credentials::ec2_show).delete(credentials::ec2_delete),
        )
        .route(
            "/v3/credentials",
            get(credentials::list).post(credentials::create),
        )
        .route(
            "/v3/credentials/{credential_id}",
            get(credentials::show)
                .patch(credentials::update)
                .delete(credentials::delete),
        )
}
