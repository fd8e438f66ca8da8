//! Compute's microversion range; negotiation and echo are the shared
//! mechanism in `ferro_api::microversion`. Handlers take [`ApiVersion`] as
//! an extractor and hand it to the validation and view code.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
pub use ferro_api::microversion::ApiVersion;
use ferro_api::microversion::VersionRange;

use crate::error::NovaFormat;

/// The versions served field for field (Nova's range as of the release named
/// in docs/compute.md).
pub static RANGE: VersionRange = VersionRange {
    service: "compute",
    aliases: &[],
    min: ApiVersion::new(2, 1),
    max: ApiVersion::new(2, 104),
    legacy_header: Some("x-openstack-nova-api-version"),
};

/// Middleware: the legacy `/v2/{project}` API takes no microversions (Nova's
/// v2 compatibility mode); everything else negotiates.
pub async fn negotiate(req: Request, next: Next) -> Response {
    let versioned = !req.uri().path().starts_with("/v2/");
    ferro_api::microversion::negotiate(&RANGE, NovaFormat, versioned, req, next).await
}
