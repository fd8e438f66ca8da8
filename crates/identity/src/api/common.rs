//! Plumbing shared by the identity handlers: the caller's token, bodies,
//! list filters and response helpers.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Query};
use axum::response::{IntoResponse, Response};
use ferro_api::error::json_response;
use ferro_api::AuthContext;
use http::request::Parts;
use http::StatusCode;
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::Identity;

pub type Body = ferro_api::JsonBody<Error>;
pub type QueryParams = Query<Vec<(String, String)>>;

/// The validated caller (`X-Auth-Token`); 401 without a valid token.
pub struct Ctx(pub AuthContext);

impl FromRequestParts<Identity> for Ctx {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, id: &Identity) -> Result<Self> {
        let token = parts
            .headers
            .get("x-auth-token")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                Error::unauthorized("The request you have made requires authentication.")
            })?;
        let v = id.validate_token(token, false).await.map_err(|_| {
            Error::unauthorized("The request you have made requires authentication.")
        })?;
        let ctx = v.context(token);
        // A token from an application credential with access rules may only
        // make the identity requests they allow; validating a token
        // (GET /v3/auth/tokens) is always allowed, as in keystonemiddleware.
        let path = ferro_api::auth::service_path(parts);
        let validating = parts.method == http::Method::GET && path.ends_with("/v3/auth/tokens");
        if !validating && !ctx.allows_request(&["identity"], parts.method.as_str(), &path) {
            return Err(Error::unauthorized(
                "The request you have made requires authentication.",
            ));
        }
        Ok(Ctx(ctx))
    }
}

pub fn ok(value: Value) -> Response {
    json_response(StatusCode::OK, &value)
}

pub fn created(value: Value) -> Response {
    json_response(StatusCode::CREATED, &value)
}

pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// A collection body with Keystone's `links` block.
pub fn collection(key: &str, items: Vec<Value>, self_url: &str) -> Response {
    ok(json!({
        key: items,
        "links": {"self": self_url, "previous": null, "next": null},
    }))
}

/// Query parameters as Keystone reads them.
pub struct Filters(HashMap<String, String>);

impl Filters {
    pub fn new(q: &QueryParams) -> Self {
        Filters(q.0.iter().cloned().collect())
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// A flag that counts when present without a value (`?effective`).
    pub fn flag(&self, key: &str) -> bool {
        match self.get(key) {
            None => false,
            Some(v) => v.is_empty() || parse_bool(v).unwrap_or(false),
        }
    }

    /// Whether any parameter filters on one of `keys` (`name`,
    /// `name__contains`, ...).
    pub fn touches(&self, keys: &[&str]) -> bool {
        self.0.keys().any(|k| {
            let attr = k.split_once("__").map_or(k.as_str(), |(a, _)| a);
            keys.contains(&attr)
        })
    }

    /// Keep the items whose attributes match every filter in `keys`.
    /// Names compare as `store::same_name` (ignoring case), other strings
    /// exactly; `__contains`, `__icontains`, `__startswith`,
    /// `__istartswith`, `__endswith`, `__iendswith`, `__equals`,
    /// `__iequals` work on any of them; booleans parse loosely.
    pub fn apply(&self, items: Vec<Value>, keys: &[&str]) -> Vec<Value> {
        items
            .into_iter()
            .filter(|item| self.matches(item, keys))
            .collect()
    }

    fn matches(&self, item: &Value, keys: &[&str]) -> bool {
        self.0.iter().all(|(k, want)| {
            let (attr, op) = k.split_once("__").unwrap_or((k.as_str(), "equals"));
            if !keys.contains(&attr) {
                return true;
            }
            match item.get(attr) {
                Some(Value::Bool(b)) => parse_bool(want) == Some(*b),
                Some(Value::String(s)) if attr == "name" && op == "equals" => {
                    crate::store::same_name(s, want)
                }
                Some(Value::String(s)) => string_match(s, want, op),
                Some(Value::Null) | None => want.is_empty() || want == "None" || want == "null",
                Some(other) => *other == serde_json::from_str::<Value>(want).unwrap_or(Value::Null),
            }
        })
    }
}

fn string_match(have: &str, want: &str, op: &str) -> bool {
    let (h, w) = (have.to_lowercase(), want.to_lowercase());
    match op {
        "contains" => have.contains(want),
        "icontains" => h.contains(&w),
        "startswith" => have.starts_with(want),
        "istartswith" => h.starts_with(&w),
        "endswith" => have.ends_with(want),
        "iendswith" => h.ends_with(&w),
        "iequals" => h == w,
        _ => have == want,
    }
}

/// `True`, `true`, `1`, `yes` ... as Keystone accepts in queries.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" | "t" | "y" => Some(true),
        "false" | "0" | "no" | "off" | "f" | "n" => Some(false),
        _ => None,
    }
}

/// Merge `extra` into the object `base` (fixed fields win).
pub fn with_extra(mut base: Value, extra: &serde_json::Map<String, Value>) -> Value {
    if let Value::Object(m) = &mut base {
        for (k, v) in extra {
            m.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    base
}

/// The project scope's domain, or `default`: where new things land when no
/// `domain_id` is given.
pub fn caller_domain(ctx: &AuthContext) -> String {
    ctx.project_domain_id
        .clone()
        .or_else(|| ctx.domain_id.clone())
        .unwrap_or_else(|| "default".to_owned())
}
