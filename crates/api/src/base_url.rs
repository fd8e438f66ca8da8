//! The absolute URL a service is reached at, for `links` and `self` hrefs.

use axum::extract::FromRequestParts;
use http::request::Parts;

/// The path prefix a service router is mounted under (`/identity`, or `""`
/// on a classic per-service port). Inserted as a request extension.
#[derive(Clone, Debug)]
pub struct Prefix(pub &'static str);

/// The configured public URL of the single-port layout (`--public-url`),
/// inserted as a request extension; links then use it instead of `Host`.
#[derive(Clone, Debug)]
pub struct PublicBase(pub String);

/// `scheme://host[:port]/prefix`, as the client addressed us (or the
/// configured public URL).
#[derive(Clone, Debug)]
pub struct BaseUrl(pub String);

impl BaseUrl {
    pub fn join(&self, path: &str) -> String {
        format!("{}{}", self.0, path)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for BaseUrl {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(BaseUrl(base_url(parts)))
    }
}

fn base_url(parts: &Parts) -> String {
    let prefix = parts.extensions.get::<Prefix>().map(|p| p.0).unwrap_or("");
    if let Some(PublicBase(public)) = parts.extensions.get::<PublicBase>() {
        return format!("{}{prefix}", public.trim_end_matches('/'));
    }
    let host = parts
        .headers
        .get("x-forwarded-host")
        .or_else(|| parts.headers.get(http::header::HOST))
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| "localhost".to_owned());
    let scheme = parts
        .headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("http");
    format!("{scheme}://{host}{prefix}")
}
