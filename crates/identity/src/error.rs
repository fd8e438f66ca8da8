//! Identity errors, rendered in Keystone's body format:
//! `{"error": {"code": 404, "message": "…", "title": "Not Found"}}`.

use axum::response::{IntoResponse, Response};
use ferro_api::{CommonError, ErrorFormat};
use http::{HeaderValue, StatusCode};

/// Keystone's error body format.
#[derive(Clone, Copy, Debug, Default)]
pub struct KeystoneFormat;

impl ErrorFormat for KeystoneFormat {
    fn body(&self, status: StatusCode, message: &str) -> serde_json::Value {
        serde_json::json!({"error": {
            "code": status.as_u16(),
            "message": message,
            "title": title(status),
        }})
    }
}

fn title(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Request Entity Too Large",
        415 => "Unsupported Media Type",
        _ => "Internal Server Error",
    }
}

/// Every failure of an identity request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Common(#[from] CommonError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn bad_request(msg: impl Into<String>) -> Self {
        CommonError::BadRequest(msg.into()).into()
    }
    pub fn unauthorized(msg: impl Into<String>) -> Self {
        CommonError::Unauthorized(msg.into()).into()
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

    /// `Could not find user: abc.`, Keystone's wording.
    pub fn no_such(kind: &str, id: &str) -> Self {
        Self::not_found(format!("Could not find {kind}: {id}."))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::Common(c) => c.status(),
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        if ferro_store::is_unique_violation(&e) {
            return Error::conflict(
                "Conflict occurred attempting to store the resource: a duplicate entry exists.",
            );
        }
        if ferro_store::is_data_exception(&e) {
            return Error::bad_request("Invalid input: a value contains characters or a range the database cannot store (such as a NUL byte).");
        }
        tracing::error!(error = %e, "database error");
        Error::internal(e.to_string())
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let Error::Common(c) = &self;
        let status = c.status();
        let message = match c {
            CommonError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                c.to_string()
            }
            // Keystone says why a login is refused ("The account is locked
            // for user: …", "Could not find trust: …").
            CommonError::Unauthorized(msg) if !msg.is_empty() => msg.clone(),
            other => other.to_string(),
        };
        let mut resp = KeystoneFormat.response(status, &message);
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                "www-authenticate",
                HeaderValue::from_static("Keystone uri=\"/identity\""),
            );
        }
        resp
    }
}
