//! OS-OAUTH1 delegation: request tokens, their authorization by a user,
//! access tokens, and a user's access tokens and their roles. The consumer
//! registry itself is a document (`documents.rs`); the `oauth1` auth
//! method is in `service/auth.rs`; signatures in `service/oauth1.rs`.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::response::{IntoResponse, Response};
use ferro_api::time::{iso_micros, now_micros};
use ferro_api::{AuthContext, BaseUrl};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use serde_json::{json, Value};

use super::common::{collection, no_content, ok, Body, Ctx};
use crate::error::{Error, Result};
use crate::service::oauth1::{encode, new_verifier, OAuthParams, SignedRequest};
use crate::store::oauth1::{self as store, AccessToken, RequestToken};
use crate::store::{new_id, projects, roles as role_store};
use crate::{policy, Identity};

/// Keystone's `[oauth1] request_token_duration` default (seconds).
const REQUEST_TOKEN_DURATION: i64 = 28800;
/// Keystone's `[oauth1] access_token_duration` default (seconds).
const ACCESS_TOKEN_DURATION: i64 = 86400;

/// The parts of a request its OAuth1 signature covers. The URL is the
/// service's base URL and the request path, as Keystone rebuilds it.
pub fn signed_request(
    base: &BaseUrl,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Option<&[u8]>,
) -> SignedRequest {
    let form = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|ct| ct.starts_with("application/x-www-form-urlencoded"))
        .and(body)
        .map(|b| String::from_utf8_lossy(b).into_owned());
    SignedRequest {
        method: method.as_str().to_owned(),
        url: base.join(uri.path()),
        query: uri.query().map(str::to_owned),
        authorization: headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        form,
    }
}

/// An OAuth1-signed call (the request- and access-token endpoints): what
/// its signature covers, its `oauth_*` parameters and its headers.
pub struct Signed {
    request: SignedRequest,
    params: OAuthParams,
    headers: HeaderMap,
}

impl<S: Send + Sync> FromRequest<S> for Signed {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let base = BaseUrl::from_request_parts(&mut parts, state)
            .await
            .unwrap_or_else(|never| match never {});
        let (method, uri, headers) = (
            parts.method.clone(),
            parts.uri.clone(),
            parts.headers.clone(),
        );
        let body = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let request = signed_request(&base, &method, &uri, &headers, Some(&body));
        let params = request
            .oauth_params()
            .map_err(IntoResponse::into_response)?;
        Ok(Signed {
            request,
            params,
            headers,
        })
    }
}

/// Keystone's ValidationError for a missing attribute.
fn expecting(attribute: &str) -> Error {
    Error::bad_request(format!(
        "Expecting to find {attribute} in request. The server could not comply with the request \
         since it is either malformed or otherwise incorrect. The client is assumed to be in error."
    ))
}

fn required<'a>(p: &'a OAuthParams, key: &str) -> Result<&'a str> {
    p.get(key).ok_or_else(|| expecting(key))
}

fn request_token_not_found() -> Error {
    Error::not_found("Request token not found")
}

fn access_token_not_found() -> Error {
    Error::not_found("Access token not found")
}

fn expired(expires_at: Option<i64>) -> bool {
    expires_at.is_some_and(|e| e <= now_micros())
}

/// A 201 with a form-encoded body, as the token endpoints answer.
fn form_created(id: &str, secret: &str, expires_at: Option<i64>) -> Response {
    let mut body = format!(
        "oauth_token={}&oauth_token_secret={}",
        encode(id),
        encode(secret)
    );
    if let Some(e) = expires_at {
        body.push_str(&format!("&oauth_expires_at={}", iso_micros(e)));
    }
    let mut resp = Response::new(axum::body::Body::from(body));
    *resp.status_mut() = StatusCode::CREATED;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    resp
}

/// A token from a trust or an OAuth1 access token cannot delegate further.
fn delegated(ctx: &AuthContext) -> bool {
    ctx.trust_id.is_some() || ctx.methods.iter().any(|m| m == "oauth1")
}

/// `POST /v3/OS-OAUTH1/request_token`: signed by the consumer alone.
pub async fn request_token(
    State(id): State<Identity>,
    Signed {
        request: signed,
        params,
        headers,
    }: Signed,
) -> Result<Response> {
    let consumer_id = required(&params, "oauth_consumer_key")?;
    let project_id = headers
        .get("requested-project-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| expecting("Requested-Project-Id"))?;
    if projects::get(id.db(), project_id).await?.is_none() {
        return Err(Error::no_such("project", project_id));
    }
    let secret = id
        .consumer_secret(consumer_id)
        .await?
        .ok_or_else(|| Error::no_such("consumer", consumer_id))?;
    // oauthlib's request token endpoint wants a callback ("oob" when none).
    if params.get("oauth_callback").is_none() {
        return Err(Error::bad_request(
            "Validation failed with errors: invalid_request, detail message is: Missing callback URI..",
        ));
    }
    if !signed.verify(&params, &secret, "", now_micros() / 1_000_000)? {
        return Err(Error::unauthorized("Invalid signature"));
    }
    let now = now_micros();
    let token = RequestToken {
        id: new_id(),
        secret: new_id(),
        consumer_id: consumer_id.to_owned(),
        project_id: project_id.to_owned(),
        verifier: None,
        authorizing_user_id: None,
        role_ids: Vec::new(),
        expires_at: Some(now + REQUEST_TOKEN_DURATION * 1_000_000),
    };
    store::create_request_token(id.db(), &token, now).await?;
    Ok(form_created(&token.id, &token.secret, token.expires_at))
}

/// `PUT /v3/OS-OAUTH1/authorize/{request_token_id}`: the caller delegates
/// some of their roles on the requested project.
pub async fn authorize(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path(request_token_id): Path<String>,
    body: Body,
) -> Result<Response> {
    let body = body.object()?;
    let roles = match body.get("roles") {
        Some(Value::Array(a)) if !a.is_empty() => a.clone(),
        Some(Value::Array(_)) => {
            return Err(Error::bad_request(
                "Invalid input for field 'roles': at least one role is required",
            ))
        }
        Some(_) => {
            return Err(Error::bad_request(
                "Invalid input for field 'roles': must be a list",
            ))
        }
        None => {
            return Err(Error::bad_request(
                "Invalid input for field 'roles': is a required property",
            ))
        }
    };
    let mut refs = Vec::new();
    for r in &roles {
        let Some(o) = r.as_object().filter(|o| o.len() == 1) else {
            return Err(Error::bad_request(
                "Invalid input for field 'roles': each role is {\"id\": ...} or {\"name\": ...}",
            ));
        };
        match (o.get("id"), o.get("name")) {
            (Some(Value::String(s)), None) if !s.is_empty() && s.len() <= 64 => {
                refs.push((true, s.clone()))
            }
            (None, Some(Value::String(s))) if !s.is_empty() && s.len() <= 255 => {
                refs.push((false, s.clone()))
            }
            _ => return Err(Error::bad_request(
                "Invalid input for field 'roles': each role is {\"id\": ...} or {\"name\": ...}",
            )),
        }
    }
    if delegated(&ctx) {
        return Err(Error::forbidden(
            "Cannot authorize a request token with a token issued via delegation.",
        ));
    }
    let req = store::get_request_token(id.db(), &request_token_id)
        .await?
        .ok_or_else(request_token_not_found)?;
    if expired(req.expires_at) {
        return Err(Error::unauthorized("Request token is expired"));
    }
    let mut wanted = Vec::new();
    for (by_id, r) in refs {
        let role_id = if by_id {
            r
        } else {
            let found: Vec<_> = role_store::list(id.db())
                .await?
                .into_iter()
                .filter(|x| x.domain_id.is_none() && crate::store::same_name(&x.name, &r))
                .collect();
            match found.as_slice() {
                [one] => one.id.clone(),
                _ => return Err(Error::no_such("role", &r)),
            }
        };
        if !wanted.contains(&role_id) {
            wanted.push(role_id);
        }
    }
    let held = id.delegable_role_ids(&ctx.user_id, &req.project_id).await?;
    if wanted.iter().any(|r| !held.contains(r)) {
        return Err(Error::unauthorized(
            "authorizing user does not have role required",
        ));
    }
    let verifier = new_verifier();
    if !store::authorize_request_token(id.db(), &req.id, &ctx.user_id, &wanted, &verifier).await? {
        return Err(request_token_not_found());
    }
    Ok(ok(json!({"token": {"oauth_verifier": verifier}})))
}

/// `POST /v3/OS-OAUTH1/access_token`: signed by the consumer and the
/// authorized request token, with its verifier.
pub async fn access_token(
    State(id): State<Identity>,
    Signed {
        request: signed,
        params,
        ..
    }: Signed,
) -> Result<Response> {
    let consumer_id = required(&params, "oauth_consumer_key")?;
    let request_id = required(&params, "oauth_token")?;
    let verifier = required(&params, "oauth_verifier")?;
    let req = store::get_request_token(id.db(), request_id)
        .await?
        .ok_or_else(request_token_not_found)?;
    if expired(req.expires_at) {
        return Err(Error::unauthorized("Request token is expired"));
    }
    let Some(secret) = id.consumer_secret(consumer_id).await? else {
        return Err(Error::unauthorized("Provided consumer does not exist."));
    };
    if req.consumer_id != consumer_id {
        return Err(Error::unauthorized(
            "Provided consumer key does not match stored consumer key.",
        ));
    }
    let good = signed.verify(&params, &secret, &req.secret, now_micros() / 1_000_000)?;
    if req.verifier.as_deref() != Some(verifier) {
        return Err(Error::unauthorized(
            "Provided verifier does not match stored verifier",
        ));
    }
    if !good {
        return Err(Error::unauthorized("Invalid signature"));
    }
    let Some(user_id) = req.authorizing_user_id.clone() else {
        return Err(Error::unauthorized(
            "Request Token does not have an authorizing user id.",
        ));
    };
    let now = now_micros();
    let access = AccessToken {
        id: new_id(),
        secret: new_id(),
        consumer_id: req.consumer_id.clone(),
        authorizing_user_id: user_id,
        project_id: req.project_id.clone(),
        role_ids: req.role_ids.clone(),
        expires_at: Some(now + ACCESS_TOKEN_DURATION * 1_000_000),
    };
    if !store::exchange(id.db(), &req.id, &access, now).await? {
        return Err(request_token_not_found());
    }
    Ok(form_created(&access.id, &access.secret, access.expires_at))
}

fn render(at: &AccessToken, base: &BaseUrl) -> Value {
    let path = format!(
        "/v3/users/{}/OS-OAUTH1/access_tokens/{}",
        at.authorizing_user_id, at.id
    );
    json!({
        "id": at.id,
        "consumer_id": at.consumer_id,
        "project_id": at.project_id,
        "authorizing_user_id": at.authorizing_user_id,
        "expires_at": at.expires_at.map(iso_micros),
        "links": {
            "self": base.join(&path),
            "roles": base.join(&format!("{path}/roles")),
        },
    })
}

/// The caller's access token `at_id` of `user_id` (404 when it is
/// another user's, as Keystone).
async fn owned(id: &Identity, user_id: &str, at_id: &str) -> Result<AccessToken> {
    match store::get_access_token(id.db(), at_id).await? {
        Some(at) if at.authorizing_user_id == user_id => Ok(at),
        _ => Err(access_token_not_found()),
    }
}

pub async fn list(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(user_id): Path<String>,
) -> Result<Response> {
    policy::admin_or_self(&ctx, "identity:list_access_tokens", &user_id)?;
    if delegated(&ctx) {
        return Err(Error::forbidden(
            "Cannot list request tokens with a token issued via delegation.",
        ));
    }
    let items = store::list_access_tokens(id.db(), &user_id)
        .await?
        .iter()
        .map(|at| render(at, &base))
        .collect();
    Ok(collection(
        "access_tokens",
        items,
        &base.join(&format!("/v3/users/{user_id}/OS-OAUTH1/access_tokens")),
    ))
}

pub async fn show(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path((user_id, at_id)): Path<(String, String)>,
) -> Result<Response> {
    policy::admin_or_self(&ctx, "identity:get_access_token", &user_id)?;
    let at = owned(&id, &user_id, &at_id).await?;
    Ok(ok(json!({"access_token": render(&at, &base)})))
}

pub async fn delete(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path((user_id, at_id)): Path<(String, String)>,
) -> Result<Response> {
    policy::admin_or_self(&ctx, "identity:delete_access_token", &user_id)?;
    let at = store::get_access_token(id.db(), &at_id)
        .await?
        .ok_or_else(access_token_not_found)?;
    if at.authorizing_user_id != user_id {
        return Err(Error::unauthorized("User IDs do not match"));
    }
    // Tokens issued from it stop validating: they look it up.
    store::delete_access_token(id.db(), &at_id).await?;
    Ok(no_content())
}

fn render_role(r: &crate::store::roles::Role, base: &BaseUrl) -> Value {
    json!({
        "id": r.id,
        "name": r.name,
        "domain_id": r.domain_id,
        "options": r.options,
        "links": {"self": base.join(&format!("/v3/roles/{}", r.id))},
    })
}

pub async fn list_roles(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path((user_id, at_id)): Path<(String, String)>,
) -> Result<Response> {
    policy::admin_or_self(&ctx, "identity:list_access_token_roles", &user_id)?;
    let at = owned(&id, &user_id, &at_id).await?;
    let mut items = Vec::new();
    for rid in &at.role_ids {
        if let Some(r) = role_store::get(id.db(), rid).await? {
            items.push(render_role(&r, &base));
        }
    }
    Ok(collection(
        "roles",
        items,
        &base.join(&format!(
            "/v3/users/{user_id}/OS-OAUTH1/access_tokens/{at_id}/roles"
        )),
    ))
}

pub async fn show_role(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path((user_id, at_id, role_id)): Path<(String, String, String)>,
) -> Result<Response> {
    policy::admin_or_self(&ctx, "identity:get_access_token_role", &user_id)?;
    let at = store::get_access_token(id.db(), &at_id)
        .await?
        .ok_or_else(access_token_not_found)?;
    if at.authorizing_user_id != user_id {
        return Err(Error::unauthorized("User IDs do not match"));
    }
    if !at.role_ids.contains(&role_id) {
        return Err(Error::no_such("role", &role_id));
    }
    let r = role_store::get(id.db(), &role_id)
        .await?
        .ok_or_else(|| Error::no_such("role", &role_id))?;
    Ok(ok(json!({"role": render_role(&r, &base)})))
}
