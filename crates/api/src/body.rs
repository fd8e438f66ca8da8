//! Reading JSON request bodies with a size limit, turning every failure into
//! a [`CommonError`] that names what was wrong.

use std::marker::PhantomData;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::response::IntoResponse;
use serde::de::DeserializeOwned;

use crate::CommonError;

/// The JSON body size limit, inserted as a request extension by the server
/// (next to axum's `DefaultBodyLimit`).
#[derive(Clone, Copy, Debug)]
pub struct BodyLimit(pub usize);

/// At most this much of an oversized body is read and dropped before the 413,
/// so the client, still sending, sees the answer instead of a reset.
const DRAIN_MAX: usize = 64 * 1024 * 1024;

/// The raw body of a request, read within the configured limit. The rejection
/// is the service's own error type `E`, so it renders in that service's format.
pub struct JsonBody<E> {
    pub bytes: Bytes,
    _e: PhantomData<E>,
}

impl<E> JsonBody<E> {
    /// Parse the body as `T`.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, CommonError> {
        parse_json(&self.bytes)
    }

    /// Parse the body as a JSON value that must be an object.
    pub fn object(&self) -> Result<serde_json::Map<String, serde_json::Value>, CommonError> {
        match parse_json::<serde_json::Value>(&self.bytes)? {
            serde_json::Value::Object(map) => Ok(map),
            _ => Err(CommonError::bad_request(
                "The request body must be a JSON object.",
            )),
        }
    }
}

impl<S, E> FromRequest<S> for JsonBody<E>
where
    S: Send + Sync,
    E: From<CommonError> + IntoResponse + Send + Sync + 'static,
{
    type Rejection = E;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase);
        let json_type = content_type.as_deref().is_none_or(is_json);
        if let Some(BodyLimit(limit)) = req.extensions().get::<BodyLimit>().copied() {
            let declared = req
                .headers()
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<usize>().ok());
            if declared.is_some_and(|n| n > limit) {
                drain(req.into_body()).await;
                return Err(CommonError::PayloadTooLarge.into());
            }
        }
        match Bytes::from_request(req, state).await {
            Ok(bytes) if !bytes.is_empty() && !json_type => Err(CommonError::bad_request(
                "Expecting to find application/json in Content-Type header.",
            )
            .into()),
            Ok(bytes) => Ok(JsonBody {
                bytes,
                _e: PhantomData,
            }),
            Err(rej) if rej.status() == http::StatusCode::PAYLOAD_TOO_LARGE => {
                Err(CommonError::PayloadTooLarge.into())
            }
            Err(rej) => Err(CommonError::bad_request(rej.body_text()).into()),
        }
    }
}

/// Read and drop up to [`DRAIN_MAX`] bytes of a body.
async fn drain(body: axum::body::Body) {
    use http_body_util::BodyExt;
    let mut body = body;
    let mut seen = 0usize;
    while seen < DRAIN_MAX {
        match body.frame().await {
            Some(Ok(frame)) => seen += frame.data_ref().map_or(0, |d| d.len()),
            _ => break,
        }
    }
}

/// `application/json`, `application/*+json` (and their parameters).
fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parse `bytes` as JSON into `T`, with a message that says where it failed.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CommonError> {
    if bytes.is_empty() {
        return Err(CommonError::bad_request("The request body is empty."));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| CommonError::bad_request(format!("Invalid JSON in request body: {e}")))
}
