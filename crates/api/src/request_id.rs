//! `X-Openstack-Request-Id` on every response.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;

pub const HEADER: &str = "x-openstack-request-id";

/// A fresh request id in OpenStack's `req-<uuid>` form.
pub fn new_request_id() -> String {
    format!("req-{}", uuid::Uuid::new_v4())
}

/// Middleware: stamps a request id on the request extensions and the response.
pub async fn request_id(mut req: Request, next: Next) -> Response {
    let id = new_request_id();
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let mut resp = next.run(req).await;
    tracing::info!(request_id = %id, %method, %path, status = resp.status().as_u16(), "request");
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(HEADER, v);
    }
    resp
}

/// The id of the current request, for logs.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// Marks a request whose path ended in `/` before [`strip_trailing_slash`]
/// (for the few routes where `/a/` means "`/a/{id}` with an empty id").
#[derive(Clone, Copy, Debug)]
pub struct TrailingSlash;

/// Route `/a/b/` like `/a/b` (OpenStack clients use both); applied before
/// routing with `tower::ServiceExt::map_request`.
pub fn strip_trailing_slash<B>(mut req: http::Request<B>) -> http::Request<B> {
    let path = req.uri().path();
    if path.len() > 1 && path.ends_with('/') {
        let trimmed = path.trim_end_matches('/');
        let trimmed = if trimmed.is_empty() { "/" } else { trimmed };
        let new = match req.uri().query() {
            Some(q) => format!("{trimmed}?{q}"),
            None => trimmed.to_owned(),
        };
        if let Ok(uri) = new.parse() {
            *req.uri_mut() = uri;
            req.extensions_mut().insert(TrailingSlash);
        }
    }
    req
}
