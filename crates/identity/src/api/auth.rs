//! `/v3/auth/*`: issue, validate, revoke tokens; the caller's catalog,
//! projects, domains and system.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use ferro_api::BaseUrl;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use serde_json::{json, Value};

use super::common::{collection, created, no_content, ok, Body, Ctx, Filters, QueryParams};
use crate::error::{Error, Result};
use crate::service::roles;
use crate::service::tokens::Validated;
use crate::store::{domains, projects};
use crate::token::Scope;
use crate::{policy, Identity};

async fn with_catalog(id: &Identity, v: &Validated, nocatalog: bool) -> Result<Value> {
    let project_id = v.project.as_ref().map(|(p, _)| p.id.as_str());
    let catalog = if nocatalog || v.payload.scope == Scope::Unscoped {
        None
    } else {
        Some(id.catalog(project_id, &v.shown_user().0.id).await?)
    };
    Ok(v.body(catalog))
}

fn subject_header(mut resp: Response, token: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(token) {
        resp.headers_mut().insert("x-subject-token", v);
    }
    resp
}

pub async fn issue(
    State(id): State<Identity>,
    base: BaseUrl,
    method: Method,
    uri: http::Uri,
    headers: HeaderMap,
    q: QueryParams,
    body: Body,
) -> Result<Response> {
    let f = Filters::new(&q);
    // Only the `oauth1` method reads it: the request's OAuth1 signature.
    let signed = super::oauth1::signed_request(&base, &method, &uri, &headers, None);
    let (token, v) = id
        .authenticate_signed(&body.object()?, Some(&signed))
        .await?;
    let body = with_catalog(&id, &v, f.flag("nocatalog")).await?;
    Ok(subject_header(created(body), &token))
}

fn subject(headers: &HeaderMap) -> Result<String> {
    headers
        .get("x-subject-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| {
            Error::bad_request("Invalid input for field 'X-Subject-Token': the header is required")
        })
}

/// `GET` and `HEAD`: validate the subject token (200, or 404 if invalid).
pub async fn validate(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    method: Method,
    headers: HeaderMap,
    q: QueryParams,
) -> Result<Response> {
    let f = Filters::new(&q);
    let token = subject(&headers)?;
    let v = id.validate_token(&token, f.flag("allow_expired")).await?;
    if ctx.user_id != v.user.id {
        policy::reader_or_self(&ctx, "identity:validate_token", &v.shown_user().0.id)?;
    }
    if method == Method::HEAD {
        return Ok(subject_header(StatusCode::OK.into_response(), &token));
    }
    let nocatalog = f.flag("nocatalog");
    let slot = &v.rendered.0[usize::from(nocatalog)];
    let bytes = match slot.get() {
        Some(b) => b.clone(),
        None => {
            let body = with_catalog(&id, &v, nocatalog).await?;
            let b = bytes::Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
            slot.get_or_init(|| b).clone()
        }
    };
    Ok(subject_header(json_bytes(bytes), &token))
}

/// A 200 with an already serialised JSON body.
fn json_bytes(bytes: bytes::Bytes) -> Response {
    let mut resp = Response::new(axum::body::Body::from(bytes));
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

pub async fn revoke(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
) -> Result<Response> {
    let token = subject(&headers)?;
    let v = id.validate_token(&token, false).await?;
    if ctx.user_id != v.user.id {
        policy::admin_or_self(&ctx, "identity:revoke_token", &v.shown_user().0.id)?;
    }
    if let Some(audit) = v.payload.audit_ids.first() {
        id.revoke_audit_id(audit).await?;
    }
    Ok(no_content())
}

pub async fn catalog(State(id): State<Identity>, Ctx(ctx): Ctx, base: BaseUrl) -> Result<Response> {
    if ctx.project_id.is_none() && ctx.domain_id.is_none() && !ctx.system {
        return Err(Error::forbidden(
            "A scoped token is required to read the catalog.",
        ));
    }
    let cat = id.catalog(ctx.project_id.as_deref(), &ctx.user_id).await?;
    Ok(ok(
        json!({"catalog": cat, "links": {"self": base.join("/v3/auth/catalog"), "previous": null, "next": null}}),
    ))
}

pub async fn projects(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
) -> Result<Response> {
    let ids = roles::projects_of_user(id.db(), &ctx.user_id).await?;
    let all = id.all_projects().await?;
    let items = projects::select(&all, &ids)
        .into_iter()
        .filter(|p| p.enabled)
        .map(|p| super::projects::render(p, &base))
        .collect();
    Ok(collection(
        "projects",
        items,
        &base.join("/v3/auth/projects"),
    ))
}

pub async fn domains(State(id): State<Identity>, Ctx(ctx): Ctx, base: BaseUrl) -> Result<Response> {
    let ids = roles::domains_of_user(id.db(), &ctx.user_id).await?;
    let items = domains::list(id.db())
        .await?
        .iter()
        .filter(|d| d.enabled && ids.contains(&d.id))
        .map(|d| super::domains::render(d, &base))
        .collect();
    Ok(collection("domains", items, &base.join("/v3/auth/domains")))
}

pub async fn system(State(id): State<Identity>, Ctx(ctx): Ctx, base: BaseUrl) -> Result<Response> {
    let has = !roles::direct_role_ids(id.db(), &ctx.user_id, &Scope::System)
        .await?
        .is_empty();
    let system: Vec<Value> = if has {
        vec![json!({"all": true})]
    } else {
        vec![]
    };
    Ok(ok(
        json!({"system": system, "links": {"self": base.join("/v3/auth/system"), "previous": null, "next": null}}),
    ))
}
