//! Microversions: `OpenStack-API-Version: volume X.Y`. Out-of-range versions
//! get 406, malformed ones 400; every response says which version it used.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::HeaderValue;

use crate::error::Error;

/// The range this server implements, field for field.
pub const MIN: (u32, u32) = (3, 0);
pub const MAX: (u32, u32) = (3, 0);

pub fn fmt(v: (u32, u32)) -> String {
    format!("{}.{}", v.0, v.1)
}

fn requested(req: &Request) -> Option<String> {
    for value in req.headers().get_all("openstack-api-version") {
        let Ok(s) = value.to_str() else { continue };
        for part in s.split(',') {
            let mut words = part.split_whitespace();
            if words
                .next()
                .is_some_and(|w| w.eq_ignore_ascii_case("volume"))
            {
                return Some(words.collect::<Vec<_>>().join(" "));
            }
        }
    }
    None
}

/// Parse `X.Y` (or `latest`) and check it against the range.
pub fn negotiate(asked: Option<&str>) -> Result<(u32, u32), Error> {
    let Some(asked) = asked else { return Ok(MIN) };
    if asked.eq_ignore_ascii_case("latest") {
        return Ok(MAX);
    }
    let parsed = asked
        .split_once('.')
        .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)))
        .filter(|_| asked.chars().all(|c| c.is_ascii_digit() || c == '.'));
    let Some(v) = parsed else {
        return Err(Error::bad_request(format!(
            "API Version String {asked} is of invalid format. Must be of format MajorNum.MinorNum."
        )));
    };
    if v < MIN || v > MAX {
        return Err(Error::NotAcceptable(format!(
            "Version {asked} is not supported by the API. Minimum is {} and maximum is {}.",
            fmt(MIN),
            fmt(MAX)
        )));
    }
    Ok(v)
}

/// Middleware: negotiate on versioned paths, echo the version everywhere.
pub async fn layer(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let versioned = path.len() > "/v3/".len() && path.starts_with("/v3/");
    let asked = requested(&req);
    let outcome = if versioned {
        negotiate(asked.as_deref())
    } else {
        Ok(MAX)
    };
    let (mut resp, used) = match outcome {
        Ok(v) => (next.run(req).await, v),
        Err(e) => (e.into_response(), MIN),
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("volume {}", fmt(used))) {
        h.insert("openstack-api-version", v);
    }
    h.append("vary", HeaderValue::from_static("OpenStack-API-Version"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation() {
        assert_eq!(negotiate(None).unwrap(), (3, 0));
        assert_eq!(negotiate(Some("3.0")).unwrap(), (3, 0));
        assert_eq!(negotiate(Some("latest")).unwrap(), MAX);
        assert_eq!(negotiate(Some("3.72")).unwrap_err().status(), 406);
        assert_eq!(negotiate(Some("2.0")).unwrap_err().status(), 406);
        assert_eq!(negotiate(Some("abc")).unwrap_err().status(), 400);
        assert_eq!(negotiate(Some("3.")).unwrap_err().status(), 400);
    }
}
