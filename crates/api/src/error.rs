//! Errors shared by all services. Each service wraps [`CommonError`] in its own
//! error enum and renders it in its upstream body format via [`ErrorFormat`].

use axum::body::Body;
use axum::response::Response;
use http::{header, HeaderValue, StatusCode};

/// Failures every service can produce; the message always names the field or
/// the resource concerned.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CommonError {
    #[error("{0}")]
    BadRequest(String),
    #[error("The request you have made requires authentication.")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    #[error("Request Entity Too Large")]
    PayloadTooLarge,
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("An unexpected error prevented the server from fulfilling your request.")]
    Internal(String),
}

impl CommonError {
    pub fn status(&self) -> StatusCode {
        match self {
            CommonError::BadRequest(_) => StatusCode::BAD_REQUEST,
            CommonError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            CommonError::Forbidden(_) => StatusCode::FORBIDDEN,
            CommonError::NotFound(_) => StatusCode::NOT_FOUND,
            CommonError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            CommonError::Conflict(_) => StatusCode::CONFLICT,
            CommonError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            CommonError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            CommonError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn bad_request(msg: impl Into<String>) -> Self {
        CommonError::BadRequest(msg.into())
    }

    pub fn not_found(msg: impl Into<String>) -> Self {
        CommonError::NotFound(msg.into())
    }

    pub fn conflict(msg: impl Into<String>) -> Self {
        CommonError::Conflict(msg.into())
    }

    pub fn forbidden(msg: impl Into<String>) -> Self {
        CommonError::Forbidden(msg.into())
    }

    pub fn internal(msg: impl Into<String>) -> Self {
        CommonError::Internal(msg.into())
    }
}

/// How one service writes an error body (Keystone, Nova, Neutron, ...).
pub trait ErrorFormat: Clone + Send + Sync + 'static {
    /// Render `message` for `status` as this service's JSON body.
    fn body(&self, status: StatusCode, message: &str) -> serde_json::Value;

    fn response(&self, status: StatusCode, message: &str) -> Response {
        json_response(status, &self.body(status, message))
    }
}

/// A JSON response with the given status.
pub fn json_response(status: StatusCode, value: &serde_json::Value) -> Response {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// Middleware body: gives router-level errors (unknown path, wrong method,
/// body too large) the service's own error format instead of an empty body.
pub async fn format_router_errors<F: ErrorFormat>(format: F, resp: Response) -> Response {
    let status = resp.status();
    let empty = resp.headers().get(header::CONTENT_TYPE).is_none();
    if !empty || !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let message = match status {
        StatusCode::NOT_FOUND => "The resource could not be found.",
        StatusCode::METHOD_NOT_ALLOWED => "The method is not allowed for the requested URL.",
        StatusCode::PAYLOAD_TOO_LARGE => "Request Entity Too Large",
        _ => status.canonical_reason().unwrap_or("Error"),
    };
    let mut out = format.response(status, message);
    if let Some(allow) = resp.headers().get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    out
}
