//! Image errors, rendered as webob renders Glance's errors for JSON clients:
//! `{"message": "…", "code": "404 Not Found", "title": "Not Found"}`.

use axum::response::{IntoResponse, Response};
use ferro_api::{CommonError, ErrorFormat};
use http::StatusCode;

/// Glance's (webob's) error body format.
#[derive(Clone, Copy, Debug, Default)]
pub struct GlanceFormat;

impl ErrorFormat for GlanceFormat {
    fn body(&self, status: StatusCode, message: &str) -> serde_json::Value {
        let title = status.canonical_reason().unwrap_or("Error");
        serde_json::json!({
            "message": message,
            "code": format!("{} {}", status.as_u16(), title),
            "title": title,
        })
    }
}

/// Every failure of an image request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Common(#[from] CommonError),
    /// 416 with the size of the data, for an unsatisfiable `Range`.
    #[error("Requested range not satisfiable")]
    RangeNotSatisfiable(i64),
    /// 413: a limit (such as the number of image properties) exceeded.
    #[error("{0}")]
    LimitExceeded(String),
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
    pub fn unsupported(msg: impl Into<String>) -> Self {
        CommonError::UnsupportedMediaType(msg.into()).into()
    }

    /// Glance's wording for an image the caller cannot see.
    pub fn no_image(id: &str) -> Self {
        Self::not_found(format!("No image found with ID {id}"))
    }

    pub fn read_only(attr: &str) -> Self {
        Self::forbidden(format!("Attribute '{attr}' is read-only."))
    }

    pub fn into_common(self) -> CommonError {
        match self {
            Error::Common(c) => c,
            Error::RangeNotSatisfiable(_) => {
                CommonError::BadRequest("Requested range not satisfiable".into())
            }
            Error::LimitExceeded(msg) => CommonError::BadRequest(msg),
        }
    }
}

impl From<ferro_store::sqlx::Error> for Error {
    fn from(e: ferro_store::sqlx::Error) -> Self {
        if ferro_store::is_unique_violation(&e) {
            return Error::conflict("An image with the given identifier already exists");
        }
        if ferro_store::is_data_exception(&e) {
            return Error::bad_request(
                "Invalid input: a value contains characters or a range the database cannot store (such as a NUL byte).",
            );
        }
        tracing::error!(error = %e, "database error");
        Error::internal(e.to_string())
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        tracing::error!(error = %e, "image store I/O error");
        Error::internal(e.to_string())
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Error::RangeNotSatisfiable(size) => {
                let status = StatusCode::RANGE_NOT_SATISFIABLE;
                let mut resp = GlanceFormat.response(status, "Requested range not satisfiable");
                if let Ok(v) = http::HeaderValue::from_str(&format!("bytes */{size}")) {
                    resp.headers_mut().insert(http::header::CONTENT_RANGE, v);
                }
                resp
            }
            Error::LimitExceeded(msg) => GlanceFormat.response(StatusCode::PAYLOAD_TOO_LARGE, &msg),
            Error::Common(c) => {
                let message = match &c {
                    CommonError::Internal(detail) => {
                        tracing::error!(%detail, "internal error");
                        c.to_string()
                    }
                    other => other.to_string(),
                };
                GlanceFormat.response(c.status(), &message)
            }
        }
    }
}
