//! Block storage's microversion range; negotiation and echo are the shared
//! mechanism in `ferro_api::microversion`.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
pub use ferro_api::microversion::ApiVersion;
use ferro_api::microversion::VersionRange;

use crate::error::CinderFormat;

/// The versions served field for field.
pub static RANGE: VersionRange = VersionRange {
    service: "volume",
    aliases: &["volumev3", "volumev2"],
    min: ApiVersion::new(3, 0),
    max: ApiVersion::new(3, 71),
    legacy_header: None,
};

/// Middleware: negotiate on versioned paths (`/v3/…`), echo everywhere.
pub async fn layer(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let versioned = path.len() > "/v3/".len() && path.starts_with("/v3/");
    ferro_api::microversion::negotiate(&RANGE, CinderFormat, versioned, req, next).await
}
