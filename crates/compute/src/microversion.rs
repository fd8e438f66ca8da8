//! Compute microversions: read the requested version from
//! `OpenStack-API-Version: compute X` or `X-OpenStack-Nova-API-Version: X`,
//! refuse versions outside the supported range with 406, and echo the
//! version used on every response.

use axum::extract::{FromRequestParts, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::HeaderValue;

use crate::error::Error;

/// The oldest and newest versions this service implements field for field.
pub const MIN: Version = Version(2, 1);
pub const MAX: Version = Version(2, 1);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32);

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

impl Version {
    fn parse(s: &str) -> Option<Version> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("latest") {
            return Some(MAX);
        }
        let (a, b) = s.split_once('.')?;
        Some(Version(a.parse().ok()?, b.parse().ok()?))
    }
}

fn requested(req: &Request) -> Result<Version, Error> {
    let headers = req.headers();
    let from_new = headers
        .get_all("openstack-api-version")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|part| {
            let mut it = part.split_whitespace();
            match (it.next(), it.next()) {
                (Some(svc), Some(ver)) if svc.eq_ignore_ascii_case("compute") => {
                    Some(ver.to_owned())
                }
                _ => None,
            }
        });
    let raw = from_new.or_else(|| {
        headers
            .get("x-openstack-nova-api-version")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    });
    let Some(raw) = raw else { return Ok(MIN) };
    let v = Version::parse(&raw).ok_or_else(|| {
        Error::bad_request(format!(
            "API Version String {raw} is of invalid format. Must be of format MajorNum.MinorNum."
        ))
    })?;
    if v < MIN || v > MAX {
        return Err(Error::NotAcceptable(format!(
            "Version {v} is not supported by the API. Minimum is {MIN} and maximum is {MAX}."
        )));
    }
    Ok(v)
}

/// Middleware: resolve the version (406 if unsupported) and echo it.
pub async fn negotiate(mut req: Request, next: Next) -> Response {
    let (version, mut resp) = match requested(&req) {
        Ok(v) => {
            req.extensions_mut().insert(v);
            (v, next.run(req).await)
        }
        Err(e) => (MIN, e.into_response()),
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("compute {version}")) {
        h.insert("openstack-api-version", v);
    }
    if let Ok(v) = HeaderValue::from_str(&version.to_string()) {
        h.insert("x-openstack-nova-api-version", v);
    }
    h.insert(
        http::header::VARY,
        HeaderValue::from_static("OpenStack-API-Version, X-OpenStack-Nova-API-Version"),
    );
    resp
}

impl<S: Send + Sync> FromRequestParts<S> for Version {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _s: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Version>().copied().unwrap_or(MIN))
    }
}
