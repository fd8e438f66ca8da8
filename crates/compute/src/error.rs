//! Compute errors in Nova's body format: `{"itemNotFound": {"code": 404,
//! "message": "…"}}`, keyed by the kind of failure.

use axum::response::{IntoResponse, Response};
use ferro_api::{CommonError, ErrorFormat};
use http::StatusCode;

#[derive(Clone, Copy, Debug, Default)]
pub struct NovaFormat;

impl ErrorFormat for NovaFormat {
    fn body(&self, status: StatusCode, message: &str) -> serde_json::Value {
        let key = match status.as_u16() {
            400 => "badRequest",
            401 => "unauthorized",
            403 => "forbidden",
            404 => "itemNotFound",
            405 => "badMethod",
            406 => "notAcceptable",
            409 => "conflictingRequest",
            413 => "overLimit",
            415 => "badMediaType",
            501 => "notImplemented",
            _ => "computeFault",
        };
        serde_json::json!({ key: {"code": status.as_u16(), "message": message} })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Common(#[from] CommonError),
    /// 406 for a microversion outside the supported range.
    #[error("{0}")]
    NotAcceptable(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn bad_request(m: impl Into<String>) -> Self {
        CommonError::BadRequest(m.into()).into()
    }
    pub fn not_found(m: impl Into<String>) -> Self {
        CommonError::NotFound(m.into()).into()
    }
    pub fn conflict(m: impl Into<String>) -> Self {
        CommonError::Conflict(m.into()).into()
    }
    pub fn forbidden(m: impl Into<String>) -> Self {
        CommonError::Forbidden(m.into()).into()
    }
    pub fn internal(m: impl Into<String>) -> Self {
        CommonError::Internal(m.into()).into()
    }
    pub fn status(&self) -> StatusCode {
        match self {
            Error::Common(c) => c.status(),
            Error::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
        }
    }
}

impl From<ferro_store::sqlx::Error> for Error {
    fn from(e: ferro_store::sqlx::Error) -> Self {
        if ferro_store::is_unique_violation(&e) {
            return Error::conflict("A resource with these attributes already exists.");
        }
        if ferro_store::is_data_exception(&e) {
            return Error::bad_request(
                "Invalid input: a value cannot be stored (such as a NUL byte).",
            );
        }
        tracing::error!(error = %e, "database error");
        Error::internal(e.to_string())
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            Error::Common(CommonError::Internal(detail)) => {
                tracing::error!(%detail, "internal error");
                "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.".to_owned()
            }
            other => other.to_string(),
        };
        NovaFormat.response(status, &message)
    }
}
