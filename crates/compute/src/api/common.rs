//! Shared handler plumbing: the caller, bodies, links, lookups.

use axum::response::{IntoResponse, Response};
use ferro_api::error::json_response;
use ferro_api::{AuthContext, BaseUrl};
use http::StatusCode;
use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::store::instances::{self, Instance};
use crate::ComputeService;

pub type Caller = ferro_api::Caller<Error>;
pub type Body = ferro_api::JsonBody<Error>;

pub fn ok(v: Value) -> Response {
    json_response(StatusCode::OK, &v)
}

pub fn accepted(v: Value) -> Response {
    json_response(StatusCode::ACCEPTED, &v)
}

pub fn accepted_empty() -> Response {
    StatusCode::ACCEPTED.into_response()
}

pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// `[{"rel": "self", ...}, {"rel": "bookmark", ...}]` for `kind/id`.
pub fn links(base: &BaseUrl, kind: &str, id: &str) -> Value {
    json!([
        {"rel": "self", "href": base.join(&format!("/v2.1/{kind}/{id}"))},
        {"rel": "bookmark", "href": base.join(&format!("/{kind}/{id}"))},
    ])
}

pub fn bookmark(base: &BaseUrl, kind: &str, id: &str) -> Value {
    json!([{"rel": "bookmark", "href": base.join(&format!("/{kind}/{id}"))}])
}

/// A body's top-level object under `key`.
pub fn wrapped(body: &Map<String, Value>, key: &str) -> Result<Map<String, Value>> {
    match body.get(key) {
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(Error::bad_request(format!(
            "Invalid input for field/attribute {key}. Value: must be an object"
        ))),
        None => Err(Error::bad_request(format!(
            "Invalid input for field/attribute {key}. '{key}' is a required property"
        ))),
    }
}

pub fn invalid(field: &str, why: &str) -> Error {
    Error::bad_request(format!("Invalid input for field/attribute {field}. {why}"))
}

/// A server the caller may see (its project's; any for admins), else 404.
pub async fn load_server(svc: &ComputeService, ctx: &AuthContext, id: &str) -> Result<Instance> {
    let not_found = || Error::not_found(format!("Instance {id} could not be found."));
    let i = instances::get(svc.db(), id).await?.ok_or_else(not_found)?;
    if !ctx.is_admin() && ctx.project_id.as_deref() != Some(i.project_id.as_str()) {
        return Err(not_found());
    }
    Ok(i)
}

/// Refuse writes from a reader-only token (upstream's member-or-admin rule).
pub fn require_member(ctx: &AuthContext) -> Result<()> {
    if ctx.is_admin() || ctx.has_role("member") {
        return Ok(());
    }
    Err(Error::forbidden(
        "Policy doesn't allow this action to be performed (requires member or admin).",
    ))
}

pub fn require_admin(ctx: &AuthContext, rule: &str) -> Result<()> {
    if ctx.is_admin() {
        return Ok(());
    }
    Err(Error::forbidden(format!(
        "Policy doesn't allow {rule} to be performed."
    )))
}

/// The last path segment of an id-or-URL reference (`imageRef`, `flavorRef`).
pub fn ref_id(v: &str) -> String {
    v.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(v)
        .to_owned()
}

/// The caller's project, required for project-owned resources.
pub fn project_of(ctx: &AuthContext) -> Result<String> {
    ctx.project_id
        .clone()
        .ok_or_else(|| Error::forbidden("A project-scoped token is required."))
}

/// `limit`/`marker` paging: the page after `marker` (an id) of at most
/// `limit` items, and the marker for the next page when there may be one.
/// The page size a `limit` query asks for, at most `max_limit` (the default).
pub fn page_size(limit: Option<&str>, max_limit: usize) -> Result<usize> {
    Ok(match limit {
        Some(l) => l
            .parse::<usize>()
            .map_err(|_| invalid("limit", &format!("{l:?} is not a non-negative integer")))?,
        None => max_limit,
    }
    .min(max_limit))
}

/// The marker of a list that names no item of it.
pub fn marker_not_found(marker: &str) -> Error {
    Error::bad_request(format!("marker [{marker}] not found"))
}

pub fn paginate<T>(
    items: Vec<T>,
    id: impl Fn(&T) -> &str,
    limit: Option<&str>,
    marker: Option<&str>,
    max_limit: usize,
) -> Result<(Vec<T>, Option<String>)> {
    let limit = page_size(limit, max_limit)?;
    let start = match marker {
        Some(m) => items
            .iter()
            .position(|x| id(x) == m)
            .map(|p| p + 1)
            .ok_or_else(|| marker_not_found(m))?,
        None => 0,
    };
    let rest: Vec<T> = items.into_iter().skip(start).collect();
    let more = rest.len() > limit;
    let page: Vec<T> = rest.into_iter().take(limit).collect();
    let next = if more || (page.len() == limit && limit > 0 && limit < max_limit) {
        page.last().map(|x| id(x).to_owned())
    } else {
        None
    };
    Ok((page, if more { next } else { None }))
}

/// `[{"rel": "next", "href": ...}]` for a collection path: the request's own
/// query (filters, `limit`, `all_tenants`, ...) with `marker` replaced, as
/// Nova builds it, so following the link keeps the same selection.
pub fn next_link(base: &BaseUrl, path: &str, q: &QueryParams, marker: &str) -> Value {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in q.0.iter().filter(|(k, _)| k != "marker") {
        ser.append_pair(k, v);
    }
    ser.append_pair("marker", marker);
    let query = ser.finish();
    json!([{"rel": "next", "href": base.join(&format!("/v2.1/{path}?{query}"))}])
}

/// Query parameters as pairs (repeated keys kept).
pub type QueryParams = axum::extract::Query<Vec<(String, String)>>;

pub fn query_get<'a>(q: &'a QueryParams, key: &str) -> Option<&'a str> {
    q.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Nova's `parameter_types.boolean`: JSON booleans and the usual spellings.
pub fn parse_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "1" | "on" | "yes" => Some(true),
            "false" | "0" | "off" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Nova asks Keystone whether a project exists before it grants it flavor
/// access or sets its quotas: an unknown one is a 400.
pub async fn check_project(svc: &ComputeService, project_id: &str) -> Result<()> {
    use ferro_api::HasValidator;
    match svc.validator().project_exists(project_id).await {
        Some(false) => Err(Error::bad_request(format!(
            "Project ID {project_id} is not a valid project."
        ))),
        _ => Ok(()),
    }
}

/// `(parent id, last segment)` of a `…/{server_id}/<collection>/{id}`
/// path (the path parameters of a server's sub-resource).
pub fn parent_and_last(p: &[String]) -> (String, String) {
    let n = p.len();
    (
        p.get(n.wrapping_sub(2)).cloned().unwrap_or_default(),
        p.last().cloned().unwrap_or_default(),
    )
}
