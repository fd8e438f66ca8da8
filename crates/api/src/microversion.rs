//! Microversions, shared by every service that has them (compute, volume).
//!
//! A service describes its range once ([`VersionRange`]) and mounts
//! [`negotiate`] as a middleware: the version is read from
//! `OpenStack-API-Version: <service> X.Y` (or the service's legacy header,
//! `X-OpenStack-Nova-API-Version` for compute), `latest` means the maximum, no
//! header means the minimum, a malformed value is a 400 and one outside the
//! range a 406, both in the service's error format. Every response, errors
//! included, echoes the version used, with `Vary` naming the headers.
//!
//! Handlers take the negotiated [`ApiVersion`] as an extractor and pass it to
//! the request validation and view code of their resource, which compare it
//! with `v >= ApiVersion::new(2, 26)` style checks.

use axum::extract::{FromRequestParts, Request};
use axum::middleware::Next;
use axum::response::Response;
use http::request::Parts;
use http::{HeaderMap, HeaderValue, StatusCode};

use crate::error::ErrorFormat;

/// A microversion, `major.minor`, ordered numerically (2.10 > 2.9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiVersion {
    pub major: u32,
    pub minor: u32,
}

impl ApiVersion {
    pub const fn new(major: u32, minor: u32) -> ApiVersion {
        ApiVersion { major, minor }
    }

    /// `X.Y` with both parts decimal digits only.
    pub fn parse(s: &str) -> Option<ApiVersion> {
        let (a, b) = s.trim().split_once('.')?;
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit());
        if !digits(a) || !digits(b) {
            return None;
        }
        Some(ApiVersion::new(a.parse().ok()?, b.parse().ok()?))
    }

    /// `self >= major.minor`: the usual question a view or schema asks.
    pub fn at_least(self, major: u32, minor: u32) -> bool {
        self >= ApiVersion::new(major, minor)
    }
}

impl std::fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The versions one service implements, and the headers it reads them from.
#[derive(Debug)]
pub struct VersionRange {
    /// The service type in `OpenStack-API-Version` (`compute`, `volume`).
    pub service: &'static str,
    /// Other service names the header may carry for this service (Cinder
    /// takes any name containing `volume`: gophercloud sends `volumev3`).
    pub aliases: &'static [&'static str],
    pub min: ApiVersion,
    pub max: ApiVersion,
    /// A service-specific header read when the standard one names no version
    /// for this service, and echoed too (lower case).
    pub legacy_header: Option<&'static str>,
}

/// Why a requested version cannot be served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionError {
    /// 400: not of the form `X.Y`.
    Malformed(String),
    /// 406: outside the range.
    NotAcceptable(String),
}

impl VersionError {
    pub fn status(&self) -> StatusCode {
        match self {
            VersionError::Malformed(_) => StatusCode::BAD_REQUEST,
            VersionError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            VersionError::Malformed(m) | VersionError::NotAcceptable(m) => m,
        }
    }
}

impl VersionRange {
    /// The raw version this request asks of this service, if any.
    pub fn requested(&self, headers: &HeaderMap) -> Option<String> {
        let standard = headers
            .get_all("openstack-api-version")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .find_map(|part| {
                let part = part.trim();
                let (svc, ver) = part.split_once(char::is_whitespace)?;
                let ours = svc.eq_ignore_ascii_case(self.service)
                    || self.aliases.iter().any(|a| svc.eq_ignore_ascii_case(a));
                ours.then(|| ver.trim().to_owned())
            });
        standard.or_else(|| {
            let name = self.legacy_header?;
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_owned())
        })
    }

    /// The version to serve for `asked` (None: the minimum).
    pub fn negotiate(&self, asked: Option<&str>) -> Result<ApiVersion, VersionError> {
        let Some(asked) = asked else {
            return Ok(self.min);
        };
        if asked.eq_ignore_ascii_case("latest") {
            return Ok(self.max);
        }
        let v = ApiVersion::parse(asked).ok_or_else(|| {
            VersionError::Malformed(format!(
                "API Version String {asked} is of invalid format. Must be of format MajorNum.MinorNum."
            ))
        })?;
        if v < self.min || v > self.max {
            return Err(VersionError::NotAcceptable(format!(
                "Version {v} is not supported by the API. Minimum is {} and maximum is {}.",
                self.min, self.max
            )));
        }
        Ok(v)
    }

    /// Write the version used (and `Vary`) into a response's headers.
    pub fn echo(&self, used: ApiVersion, headers: &mut HeaderMap) {
        if let Ok(v) = HeaderValue::from_str(&format!("{} {used}", self.service)) {
            headers.insert("openstack-api-version", v);
        }
        let vary = match self.legacy_header {
            Some(legacy) => {
                if let Ok(v) = HeaderValue::from_str(&used.to_string()) {
                    headers.insert(legacy, v);
                }
                format!("OpenStack-API-Version, {}", header_case(legacy))
            }
            None => "OpenStack-API-Version".to_owned(),
        };
        if let Ok(v) = HeaderValue::from_str(&vary) {
            headers.append(http::header::VARY, v);
        }
    }
}

/// `x-openstack-nova-api-version` → `X-OpenStack-Nova-API-Version`.
fn header_case(name: &str) -> String {
    name.split('-')
        .map(|w| match w {
            "openstack" => "OpenStack".to_owned(),
            "api" => "API".to_owned(),
            _ => {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// The middleware body: negotiate (errors in `format`), run the handler with
/// the version in the request's extensions, echo the version used.
///
/// `versioned` says whether this request's path takes microversions at all
/// (Nova's legacy `/v2` does not); when it does not, the request runs at the
/// minimum and nothing is refused.
pub async fn negotiate<F: ErrorFormat>(
    range: &'static VersionRange,
    format: F,
    versioned: bool,
    mut req: Request,
    next: Next,
) -> Response {
    let asked = range.requested(req.headers());
    let outcome = if versioned {
        range.negotiate(asked.as_deref())
    } else {
        Ok(range.min)
    };
    let (used, mut resp) = match outcome {
        Ok(v) => {
            req.extensions_mut().insert(v);
            (v, next.run(req).await)
        }
        Err(e) => (range.min, format.response(e.status(), e.message())),
    };
    range.echo(used, resp.headers_mut());
    resp
}

/// The version the middleware chose; 0.0 where no middleware ran (which
/// every `at_least` check treats as the oldest behaviour).
impl<S: Send + Sync> FromRequestParts<S> for ApiVersion {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _s: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ApiVersion>()
            .copied()
            .unwrap_or(ApiVersion::new(0, 0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static NOVA: VersionRange = VersionRange {
        service: "compute",
        aliases: &[],
        min: ApiVersion::new(2, 1),
        max: ApiVersion::new(2, 104),
        legacy_header: Some("x-openstack-nova-api-version"),
    };

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn ordering_is_numeric() {
        assert!(ApiVersion::new(2, 10) > ApiVersion::new(2, 9));
        assert!(ApiVersion::new(3, 0) > ApiVersion::new(2, 104));
        assert!(ApiVersion::new(2, 52).at_least(2, 52));
        assert!(!ApiVersion::new(2, 51).at_least(2, 52));
    }

    #[test]
    fn reads_both_headers_standard_first() {
        let h = headers(&[("openstack-api-version", "volume 3.5, compute 2.26")]);
        assert_eq!(NOVA.requested(&h).as_deref(), Some("2.26"));
        let h = headers(&[("x-openstack-nova-api-version", "2.9")]);
        assert_eq!(NOVA.requested(&h).as_deref(), Some("2.9"));
        let h = headers(&[
            ("openstack-api-version", "compute 2.60"),
            ("x-openstack-nova-api-version", "2.9"),
        ]);
        assert_eq!(NOVA.requested(&h).as_deref(), Some("2.60"));
        let h = headers(&[("openstack-api-version", "volume 3.5")]);
        assert_eq!(NOVA.requested(&h), None);
    }

    #[test]
    fn aliases_name_the_service_too() {
        static CINDER: VersionRange = VersionRange {
            service: "volume",
            aliases: &["volumev3"],
            min: ApiVersion::new(3, 0),
            max: ApiVersion::new(3, 71),
            legacy_header: None,
        };
        let h = headers(&[("openstack-api-version", "volumev3 3.27")]);
        assert_eq!(CINDER.requested(&h).as_deref(), Some("3.27"));
        let h = headers(&[("openstack-api-version", "compute 2.5")]);
        assert_eq!(CINDER.requested(&h), None);
    }

    #[test]
    fn negotiation() {
        assert_eq!(NOVA.negotiate(None), Ok(ApiVersion::new(2, 1)));
        assert_eq!(NOVA.negotiate(Some("latest")), Ok(ApiVersion::new(2, 104)));
        assert_eq!(NOVA.negotiate(Some("LATEST")), Ok(ApiVersion::new(2, 104)));
        assert_eq!(NOVA.negotiate(Some("2.53")), Ok(ApiVersion::new(2, 53)));
        for bad in ["2.105", "3.0", "2.0", "1.1"] {
            assert_eq!(
                NOVA.negotiate(Some(bad)).unwrap_err().status(),
                406,
                "{bad}"
            );
        }
        for bad in ["abc", "2.", ".1", "2.1.1", "2.-1", "+2.1"] {
            assert_eq!(
                NOVA.negotiate(Some(bad)).unwrap_err().status(),
                400,
                "{bad}"
            );
        }
    }

    #[test]
    fn echo_names_both_headers() {
        let mut h = HeaderMap::new();
        NOVA.echo(ApiVersion::new(2, 26), &mut h);
        assert_eq!(h["openstack-api-version"], "compute 2.26");
        assert_eq!(h["x-openstack-nova-api-version"], "2.26");
        assert_eq!(
            h["vary"],
            "OpenStack-API-Version, X-OpenStack-Nova-API-Version"
        );
    }
}
