//! OAuth1 (RFC 5849) request checking for the OS-OAUTH1 delegation flow:
//! the `Authorization: OAuth ...` header, the signature base string, and
//! HMAC-SHA1 / HMAC-SHA256 / PLAINTEXT signatures, checked the way
//! oauthlib's server endpoints (which Keystone uses) check them:
//! malformed or missing parameters and stale timestamps are a 400, a
//! signature that does not match is a 401.
//!
//! The client-side OAuth1 crates only sign requests they build; checking
//! one that arrived needs its base string rebuilt from the exact
//! parameters received, so this is our own small code on `hmac`/`sha1`.

use std::collections::BTreeMap;

use base64::Engine;
use hmac::{Hmac, Mac};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::error::{Error, Result};

/// RFC 5849 §3.6: everything but ALPHA, DIGIT, '-', '.', '_', '~'.
const RESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// How far a request's timestamp may be from now (oauthlib's default).
const TIMESTAMP_WINDOW: i64 = 600;

pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, RESERVED).to_string()
}

/// What of an HTTP request takes part in its OAuth1 signature.
#[derive(Clone, Debug)]
pub struct SignedRequest {
    pub method: String,
    /// The request URL without query: scheme, host (and port) and path.
    pub url: String,
    pub query: Option<String>,
    pub authorization: Option<String>,
    /// The body, when it is `application/x-www-form-urlencoded`.
    pub form: Option<String>,
}

/// The `oauth_*` parameters of the Authorization header.
#[derive(Clone, Debug, Default)]
pub struct OAuthParams(pub BTreeMap<String, String>);

impl OAuthParams {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

fn missing_header() -> Error {
    Error::bad_request(
        "No Authorization headers found, cannot proceed with OAuth related calls. If running \
         under mod_wsgi, ensure WSGIPassAuthorization is set to On.",
    )
}

fn invalid(what: &str) -> Error {
    Error::bad_request(format!(
        "Validation failed with errors: invalid_request, detail message is: {what}."
    ))
}

impl SignedRequest {
    /// The OAuth parameters of the Authorization header (400 when there is
    /// no OAuth header or it does not parse).
    pub fn oauth_params(&self) -> Result<OAuthParams> {
        let header = self.authorization.as_deref().ok_or_else(missing_header)?;
        let header = header.trim();
        let rest = match header.split_once(char::is_whitespace) {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("oauth") => rest,
            _ => return Err(missing_header()),
        };
        let mut out = BTreeMap::new();
        for part in rest.split(',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| invalid("Malformed authorization header"))?;
            let v = v
                .trim()
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .ok_or_else(|| invalid("Malformed authorization header"))?;
            let k = decode(k.trim())?;
            let v = decode(v)?;
            if out.insert(k, v).is_some() {
                return Err(invalid("Duplicate OAuth1 entries"));
            }
        }
        Ok(OAuthParams(out))
    }

    /// Every parameter that is signed: query, form body, and the header's
    /// `oauth_*` (less `realm` and the signature itself).
    fn signed_params(&self, oauth: &OAuthParams) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> = Vec::new();
        for src in [self.query.as_deref(), self.form.as_deref()]
            .into_iter()
            .flatten()
        {
            all.extend(form_urlencoded::parse(src.as_bytes()).into_owned());
        }
        all.extend(
            oauth
                .0
                .iter()
                .filter(|(k, _)| k.starts_with("oauth_") && *k != "oauth_signature")
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        all
    }

    /// The signature base string (RFC 5849 §3.4.1).
    pub fn base_string(&self, oauth: &OAuthParams) -> String {
        let mut params: Vec<(String, String)> = self
            .signed_params(oauth)
            .iter()
            .map(|(k, v)| (encode(k), encode(v)))
            .collect();
        params.sort();
        let normalized = params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        format!(
            "{}&{}&{}",
            self.method.to_ascii_uppercase(),
            encode(&base_uri(&self.url)),
            encode(&normalized)
        )
    }

    /// Check the request's form (mandatory parameters, timestamp, method)
    /// and then its signature with the consumer's and the token's secret.
    /// `Ok(false)`: well formed, but the signature does not match.
    pub fn verify(
        &self,
        oauth: &OAuthParams,
        consumer_secret: &str,
        token_secret: &str,
        now_secs: i64,
    ) -> Result<bool> {
        check_form(oauth, now_secs)?;
        let method = oauth.get("oauth_signature_method").unwrap_or_default();
        let given = oauth.get("oauth_signature").unwrap_or_default();
        let key = format!("{}&{}", encode(consumer_secret), encode(token_secret));
        if method == "PLAINTEXT" {
            return Ok(constant_eq(given.as_bytes(), key.as_bytes()));
        }
        let Ok(given) = base64::engine::general_purpose::STANDARD.decode(given) else {
            return Ok(false);
        };
        let base = self.base_string(oauth);
        let good = match method {
            "HMAC-SHA1" => {
                let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()) else {
                    return Ok(false);
                };
                mac.update(base.as_bytes());
                mac.verify_slice(&given).is_ok()
            }
            "HMAC-SHA256" => {
                let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()) else {
                    return Ok(false);
                };
                mac.update(base.as_bytes());
                mac.verify_slice(&given).is_ok()
            }
            _ => false,
        };
        Ok(good)
    }
}

fn decode(s: &str) -> Result<String> {
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| invalid("Malformed authorization header"))
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// RFC 5849 §3.4.1.2: scheme and host in lower case, the default port
/// dropped, no query or fragment.
fn base_uri(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let scheme = scheme.to_ascii_lowercase();
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let path = path.split(['?', '#']).next().unwrap_or("/");
    let mut host = authority.to_ascii_lowercase();
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    if let Some(h) = host.strip_suffix(default_port) {
        host = h.to_owned();
    }
    format!("{scheme}://{host}{path}")
}

/// What oauthlib's endpoints require of every signed request.
fn check_form(oauth: &OAuthParams, now_secs: i64) -> Result<()> {
    for key in [
        "oauth_consumer_key",
        "oauth_signature",
        "oauth_signature_method",
        "oauth_timestamp",
        "oauth_nonce",
    ] {
        if oauth.get(key).is_none() {
            return Err(invalid(&format!(
                "Missing mandatory OAuth parameters: {key}"
            )));
        }
    }
    if oauth.0.get("oauth_version").is_some_and(|v| v != "1.0") {
        return Err(invalid("Invalid OAuth version"));
    }
    let method = oauth.get("oauth_signature_method").unwrap_or_default();
    if !["HMAC-SHA1", "HMAC-SHA256", "PLAINTEXT"].contains(&method) {
        return Err(invalid(&format!(
            "Invalid signature, {method} not in allowed methods"
        )));
    }
    let ts = oauth.get("oauth_timestamp").unwrap_or_default();
    let ts: i64 = match ts.parse() {
        Ok(t) if ts.len() == 10 => t,
        _ => return Err(invalid("Invalid timestamp size")),
    };
    if (now_secs - ts).abs() > TIMESTAMP_WINDOW {
        return Err(invalid(&format!(
            "Timestamp given is invalid, differ from allowed by over {TIMESTAMP_WINDOW} seconds"
        )));
    }
    Ok(())
}

/// A verifier: 8 letters and digits, as Keystone makes them.
pub fn new_verifier() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..8)
        .map(|_| char::from(CHARS[rng.gen_range(0..CHARS.len())]))
        .collect()
}

impl crate::Identity {
    /// The secret of OAuth1 consumer `id` (None: no such consumer, or one
    /// registered before secrets were kept).
    pub async fn consumer_secret(&self, id: &str) -> Result<Option<String>> {
        let doc = crate::store::documents::get(self.db(), "consumer", id).await?;
        Ok(doc.and_then(|d| {
            d.get("secret")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5849 §3.4.1.1's example request and base string.
    #[test]
    fn rfc5849_base_string() {
        let req = SignedRequest {
            method: "POST".into(),
            url: "http://example.com/request".into(),
            query: Some("b5=%3D%253D&a3=a&c%40=&a2=r%20b".into()),
            authorization: Some(
                "OAuth realm=\"Example\", oauth_consumer_key=\"9djdj82h48djs9d2\", \
                 oauth_token=\"kkk9d7dh3k39sjv7\", oauth_signature_method=\"HMAC-SHA1\", \
                 oauth_timestamp=\"137131201\", oauth_nonce=\"7d8f3e4a\", \
                 oauth_signature=\"djosJKDKJSD8743243%2Fjdk33klY%3D\""
                    .into(),
            ),
            form: Some("c2&a3=2+q".into()),
        };
        let p = req.oauth_params().unwrap();
        assert_eq!(
            req.base_string(&p),
            "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q\
             %26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_\
             key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_m\
             ethod%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk\
             9d7dh3k39sjv7"
        );
    }

    fn signed(secret: &str, now: i64) -> (SignedRequest, OAuthParams) {
        let mut req = SignedRequest {
            method: "POST".into(),
            url: "HTTP://Host.Example:80/v3/x".into(),
            query: None,
            authorization: None,
            form: None,
        };
        let mut p = OAuthParams::default();
        for (k, v) in [
            ("oauth_consumer_key", "ck"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_nonce", "n1"),
            ("oauth_version", "1.0"),
        ] {
            p.0.insert(k.into(), v.into());
        }
        p.0.insert("oauth_timestamp".into(), now.to_string());
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(format!("{secret}&").as_bytes()).unwrap();
        mac.update(req.base_string(&p).as_bytes());
        let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        let header =
            p.0.iter()
                .map(|(k, v)| format!("{k}=\"{}\"", encode(v)))
                .chain([format!("oauth_signature=\"{}\"", encode(&sig))])
                .collect::<Vec<_>>()
                .join(", ");
        req.authorization = Some(format!("OAuth {header}"));
        req.url = "http://host.example/v3/x".into();
        let p = req.oauth_params().unwrap();
        (req, p)
    }

    #[test]
    fn hmac_sha1_round_trip_and_failures() {
        let now = 1_700_000_000;
        let (req, p) = signed("s3cret", now);
        assert!(req.verify(&p, "s3cret", "", now).unwrap());
        assert!(!req.verify(&p, "other", "", now).unwrap());
        assert!(!req.verify(&p, "s3cret", "tok", now).unwrap());
        // stale timestamps and missing parameters are bad requests
        assert!(req.verify(&p, "s3cret", "", now + 601).is_err());
        let mut q = p.clone();
        q.0.remove("oauth_nonce");
        assert!(req.verify(&q, "s3cret", "", now).is_err());
        let mut q = p.clone();
        q.0.insert("oauth_signature_method".into(), "RSA-MD5".into());
        assert!(req.verify(&q, "s3cret", "", now).is_err());
    }

    #[test]
    fn header_parsing() {
        let r = |h: &str| SignedRequest {
            method: "POST".into(),
            url: "http://h/".into(),
            query: None,
            authorization: Some(h.into()),
            form: None,
        };
        assert!(r("Bearer abc").oauth_params().is_err());
        assert!(r("OAuth a=b").oauth_params().is_err());
        assert!(r("OAuth a=\"%ZZ\"").oauth_params().is_ok());
        assert!(r("OAuth a=\"1\", a=\"2\"").oauth_params().is_err());
        assert_eq!(
            r("OAuth oauth_token=\"a%20b\"")
                .oauth_params()
                .unwrap()
                .get("oauth_token"),
            Some("a b")
        );
        assert_eq!(base_uri("https://H:443/a?b"), "https://h/a");
        assert_eq!(base_uri("http://h:8080/a"), "http://h:8080/a");
    }
}
