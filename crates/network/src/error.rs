//! Neutron errors: `{"NeutronError": {"type": "NetworkNotFound", "message": "…", "detail": ""}}`.

use axum::response::{IntoResponse, Response};
use ferro_api::{CommonError, ErrorFormat};
use http::StatusCode;

/// Neutron's error body format (used for router-level errors too).
#[derive(Clone, Copy, Debug, Default)]
pub struct NeutronFormat;

impl ErrorFormat for NeutronFormat {
    fn body(&self, status: StatusCode, message: &str) -> serde_json::Value {
        serde_json::json!({"NeutronError": {
            "type": generic_type(status),
            "message": message,
            "detail": "",
        }})
    }
}

fn generic_type(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "HTTPBadRequest",
        401 => "HTTPUnauthorized",
        403 => "HTTPForbidden",
        404 => "HTTPNotFound",
        405 => "HTTPMethodNotAllowed",
        409 => "HTTPConflict",
        413 => "HTTPRequestEntityTooLarge",
        415 => "HTTPUnsupportedMediaType",
        _ => "HTTPInternalServerError",
    }
}

/// A failed Neutron request: status, upstream exception name, message.
#[derive(Debug, Clone)]
pub struct Error {
    pub status: StatusCode,
    pub kind: String,
    pub message: String,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(status: StatusCode, kind: &str, message: impl Into<String>) -> Self {
        Error {
            status,
            kind: kind.to_owned(),
            message: message.into(),
        }
    }
    /// 400 `HTTPBadRequest` (attribute validation).
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "HTTPBadRequest", message)
    }
    /// 400 `InvalidInput`.
    pub fn invalid_input(message: impl AsRef<str>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            format!(
                "Invalid input for operation: {}.",
                message.as_ref().trim_end_matches('.')
            ),
        )
    }
    /// 400 for a named attribute.
    pub fn invalid_attr(attr: &str, reason: impl AsRef<str>) -> Self {
        Self::bad_request(format!(
            "Invalid input for {attr}. Reason: {}.",
            reason.as_ref().trim_end_matches('.')
        ))
    }
    pub fn bad(kind: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, kind, message)
    }
    pub fn conflict(kind: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, kind, message)
    }
    pub fn not_found(kind: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, kind, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "PolicyNotAuthorized", message)
    }
    pub fn policy(action: &str) -> Self {
        Self::forbidden(format!("rule:{action} is disallowed by policy"))
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "HTTPInternalServerError",
            message,
        )
    }
}

impl From<CommonError> for Error {
    fn from(c: CommonError) -> Self {
        let status = c.status();
        if let CommonError::Internal(detail) = &c {
            tracing::error!(%detail, "internal error");
        }
        Error::new(status, generic_type(status), c.to_string())
    }
}

impl From<Error> for CommonError {
    fn from(e: Error) -> Self {
        match e.status.as_u16() {
            400 => CommonError::BadRequest(e.message),
            401 => CommonError::Unauthorized(e.message),
            403 => CommonError::Forbidden(e.message),
            404 => CommonError::NotFound(e.message),
            409 => CommonError::Conflict(e.message),
            _ => CommonError::Internal(e.message),
        }
    }
}

impl From<ferro_store::sqlx::Error> for Error {
    fn from(e: ferro_store::sqlx::Error) -> Self {
        if ferro_store::is_data_exception(&e) {
            return Error::bad_request(
                "Invalid input: a value contains characters the database cannot store.",
            );
        }
        tracing::error!(error = %e, "database error");
        Error::internal("Request Failed: internal server error while processing your request.")
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        ferro_api::error::json_response(
            self.status,
            &serde_json::json!({"NeutronError": {
                "type": self.kind,
                "message": self.message,
                "detail": "",
            }}),
        )
    }
}
