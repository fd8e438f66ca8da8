//! Calls from one service to another's own REST API, in process.
//!
//! Nova's proxy APIs (`os-security-groups`, `os-floating-ips`, `os-volumes`,
//! image metadata, ...) are translations: upstream Nova calls Neutron,
//! Cinder and Glance over HTTP with the caller's token and reshapes the
//! answer. Ferrostack does the same through the assembled application
//! router, without a socket: the request goes through the target service's
//! own authentication, policy and validation, so a proxy can never do what
//! the caller could not do directly.

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::Router;
use http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;

use crate::{AuthContext, CommonError};

/// Marks a request made by another service in process (never settable from
/// outside: it is a request extension, not a header). Like a request that
/// carries a service token upstream, it is not held to the caller's
/// application-credential access rules: the rules allowed the request the
/// first service answered.
#[derive(Clone, Copy, Debug)]
pub struct Internal;

/// One call: `path` is as mounted on the single port, e.g.
/// `/networking/v2.0/security-groups?name=x`.
#[derive(Clone, Debug)]
pub struct RestRequest {
    pub method: Method,
    pub path: String,
    pub body: Option<Value>,
    /// Extra headers (a JSON-patch content type, a microversion).
    pub headers: Vec<(&'static str, String)>,
}

impl RestRequest {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        RestRequest {
            method,
            path: path.into(),
            body: None,
            headers: Vec::new(),
        }
    }

    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }

    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// The answer: status and the JSON body (`Null` when empty or not JSON).
#[derive(Clone, Debug)]
pub struct RestResponse {
    pub status: StatusCode,
    pub body: Value,
}

impl RestResponse {
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// The human message of an error body in any service's format
    /// (`{"NeutronError": {"message"}}`, `{"itemNotFound": {"message"}}`,
    /// `{"error": {"message"}}`, Glance's plain text, ...).
    pub fn message(&self) -> String {
        fn find(v: &Value) -> Option<String> {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(s)) = m.get("message") {
                        return Some(s.clone());
                    }
                    m.values().find_map(find)
                }
                Value::String(s) => Some(s.clone()),
                _ => None,
            }
        }
        find(&self.body)
            .unwrap_or_else(|| self.status.canonical_reason().unwrap_or("error").to_owned())
    }

    /// The error as the calling service's common error (same status, the
    /// target's message).
    pub fn error(&self) -> CommonError {
        let m = self.message();
        match self.status {
            StatusCode::BAD_REQUEST => CommonError::BadRequest(m),
            StatusCode::UNAUTHORIZED => CommonError::Unauthorized(m),
            StatusCode::FORBIDDEN => CommonError::Forbidden(m),
            StatusCode::NOT_FOUND => CommonError::NotFound(m),
            StatusCode::METHOD_NOT_ALLOWED => CommonError::MethodNotAllowed(m),
            StatusCode::CONFLICT => CommonError::Conflict(m),
            StatusCode::PAYLOAD_TOO_LARGE => CommonError::PayloadTooLarge,
            s if s.is_client_error() => CommonError::BadRequest(m),
            _ => CommonError::Internal(m),
        }
    }

    /// The body when the call succeeded, the error otherwise.
    pub fn ok(self) -> Result<Value, CommonError> {
        if self.is_success() {
            Ok(self.body)
        } else {
            Err(self.error())
        }
    }
}

/// The application router, set once the whole application is assembled
/// (the services are built before the router that contains them).
#[derive(Clone, Default)]
pub struct Loopback {
    app: Arc<OnceLock<Router>>,
}

impl Loopback {
    pub fn new() -> Self {
        Self::default()
    }

    /// Install the assembled application (once; later calls are ignored).
    pub fn set(&self, app: Router) {
        let _ = self.app.set(app);
    }

    /// Send `req` with the caller's token.
    pub async fn call(
        &self,
        ctx: &AuthContext,
        req: RestRequest,
    ) -> Result<RestResponse, CommonError> {
        let app = self
            .app
            .get()
            .cloned()
            .ok_or_else(|| CommonError::internal("the application is not assembled yet"))?;
        let mut b = Request::builder()
            .method(req.method)
            .uri(&req.path)
            .header("X-Auth-Token", &ctx.token)
            .header(header::ACCEPT, "application/json")
            .extension(Internal);
        let body = match &req.body {
            Some(v) => {
                if !req
                    .headers
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
                {
                    b = b.header(header::CONTENT_TYPE, "application/json");
                }
                Body::from(serde_json::to_vec(v).unwrap_or_default())
            }
            None => Body::empty(),
        };
        for (name, value) in &req.headers {
            b = b.header(*name, value);
        }
        let request = b
            .body(body)
            .map_err(|e| CommonError::internal(format!("bad internal request: {e}")))?;
        let resp = tower::ServiceExt::oneshot(app, request)
            .await
            .map_err(|e| CommonError::internal(format!("internal call failed: {e}")))?;
        let status = resp.status();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| CommonError::internal(format!("internal call body: {e}")))?
            .to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Ok(RestResponse { status, body })
    }
}
