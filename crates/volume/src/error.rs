//! Errors in Cinder's body format: `{"itemNotFound": {"code": 404, "message": "…"}}`.

use axum::response::{IntoResponse, Response};
use ferro_api::{CommonError, ErrorFormat};
use http::StatusCode;

/// Cinder's fault body format (the key depends on the status).
#[derive(Clone, Copy, Debug, Default)]
pub struct CinderFormat;

/// The fault key Cinder uses for a status code.
pub fn fault_name(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "badRequest",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "itemNotFound",
        405 => "badMethod",
        409 => "conflictingRequest",
        413 => "overLimit",
        415 => "badMediaType",
        501 => "notImplemented",
        503 => "serviceUnavailable",
        _ => "computeFault",
    }
}

impl ErrorFormat for CinderFormat {
    fn body(&self, status: StatusCode, message: &str) -> serde_json::Value {
        let mut inner = serde_json::json!({"code": status.as_u16(), "message": message});
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            inner["retryAfter"] = serde_json::json!("0");
        }
        serde_json::json!({ fault_name(status): inner })
    }
}

/// Every failure of a block-storage request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Common(#[from] CommonError),
    /// 413 `overLimit`: a quota would be exceeded.
    #[error("{0}")]
    OverLimit(String),
    /// 406: the requested microversion is not supported.
    #[error("{0}")]
    NotAcceptable(String),
    /// 503 `serviceUnavailable`: a service this needs is not deployed
    /// (e.g. `cinder-backup`).
    #[error("{0}")]
    ServiceUnavailable(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn bad_request(msg: impl Into<String>) -> Self {
        CommonError::BadRequest(msg.into()).into()
    }
    pub fn forbidden(msg: impl Into<String>) -> Self {
        CommonError::Forbidden(msg.into()).into()
    }
    pub fn not_found(msg: impl Into<String>) -> Self {
        CommonError::NotFound(msg.into()).into()
    }
    pub fn conflict(msg: impl Into<String>) -> Self {
        CommonError::Conflict(msg.into()).into()
    }
    pub fn internal(msg: impl Into<String>) -> Self {
        CommonError::Internal(msg.into()).into()
    }
    pub fn volume_not_found(id: &str) -> Self {
        Self::not_found(format!("Volume {id} could not be found."))
    }
    pub fn snapshot_not_found(id: &str) -> Self {
        Self::not_found(format!("Snapshot {id} could not be found."))
    }
    pub fn type_not_found(id: &str) -> Self {
        Self::not_found(format!("Volume type {id} could not be found."))
    }
    pub fn policy() -> Self {
        Self::forbidden("Policy doesn't allow this operation to be performed.")
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::Common(c) => c.status(),
            Error::OverLimit(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            Error::ServiceUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl From<Error> for CommonError {
    fn from(e: Error) -> CommonError {
        match e {
            Error::Common(c) => c,
            Error::OverLimit(m) => CommonError::Forbidden(m),
            Error::NotAcceptable(m) => CommonError::BadRequest(m),
            Error::ServiceUnavailable(m) => CommonError::Conflict(m),
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        if ferro_store::is_unique_violation(&e) {
            return Error::conflict("A resource with these attributes already exists.");
        }
        if ferro_store::is_data_exception(&e) {
            return Error::bad_request(
                "Invalid input: a value contains characters or a range the database cannot store.",
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
            Error::Common(CommonError::Unauthorized(_)) => {
                // keystonemiddleware's answer, as Cinder returns it.
                let body = serde_json::json!({"error": {
                    "code": 401, "title": "Unauthorized",
                    "message": "The request you have made requires authentication."}});
                let mut resp = ferro_api::error::json_response(status, &body);
                resp.headers_mut().insert(
                    "www-authenticate",
                    http::HeaderValue::from_static("Keystone uri=\"/identity\""),
                );
                return resp;
            }
            Error::Common(c @ CommonError::Internal(detail)) => {
                tracing::error!(%detail, "internal error");
                c.to_string()
            }
            other => other.to_string(),
        };
        CinderFormat.response(status, &message)
    }
}
