//! Nova's proxy APIs: `os-security-groups`, `os-security-group-rules`,
//! `os-floating-ips` (and the `addFloatingIp`/`removeFloatingIp` actions),
//! `os-floating-ip-pools`, `os-networks`, `os-tenant-networks`, `os-volumes`,
//! `os-snapshots` and `images/{id}/metadata`. Each translates to the owning
//! service's own REST API, called in process with the caller's token
//! ([`ferro_api::loopback`]), as upstream Nova calls Neutron, Cinder and
//! Glance; the answers are reshaped into Nova's old views. All of them are
//! gone (404) from microversion 2.36 (the server actions from 2.44).

pub mod floating_ips;
pub mod image_metadata;
pub mod networks;
pub mod security_groups;
pub mod volumes;

use ferro_api::loopback::{RestRequest, RestResponse};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::ComputeService;

/// 404 from `major.minor` on, as Nova answers for removed proxy routes.
pub fn gone_from(v: ApiVersion, major: u32, minor: u32) -> Result<()> {
    if v.at_least(major, minor) {
        return Err(Error::not_found("The resource could not be found."));
    }
    Ok(())
}

/// The proxy APIs' cut-off.
pub fn proxy_gone(v: ApiVersion) -> Result<()> {
    gone_from(v, 2, 36)
}

/// Call another service's REST API with the caller's token.
pub async fn call(
    svc: &ComputeService,
    ctx: &ferro_api::AuthContext,
    req: RestRequest,
) -> Result<RestResponse> {
    Ok(svc.peers().rest.call(ctx, req).await?)
}

/// Call and take the body of a success; an error keeps its status and the
/// other service's message.
pub async fn call_ok(
    svc: &ComputeService,
    ctx: &ferro_api::AuthContext,
    req: RestRequest,
) -> Result<Value> {
    Ok(call(svc, ctx, req).await?.ok()?)
}

/// Percent-encode a query value.
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `body[key]` as an object, Nova's 400s otherwise.
pub fn section<'a>(
    body: &'a serde_json::Map<String, Value>,
    key: &str,
) -> Result<&'a serde_json::Map<String, Value>> {
    match body.get(key) {
        Some(Value::Object(m)) => Ok(m),
        None | Some(Value::Null) => Err(Error::bad_request(format!("Missing parameter {key}"))),
        Some(_) => Err(Error::bad_request(format!(
            "Invalid input for field/attribute {key}. Value: must be an object"
        ))),
    }
}

/// A request for `collection/` (the trailing slash stripped before routing):
/// an empty id, which Nova answers 404.
pub fn blank_id(slash: bool, what: &str) -> Result<()> {
    if slash {
        return Err(Error::not_found(format!("{what} could not be found.")));
    }
    Ok(())
}

/// Nova's `limit`/`offset` paging of the old proxy lists.
pub fn limited<T>(items: Vec<T>, q: &crate::api::common::QueryParams) -> Result<Vec<T>> {
    let count = |key: &str| -> Result<Option<usize>> {
        crate::api::common::query_get(q, key)
            .map(|s| {
                s.parse::<usize>()
                    .map_err(|_| Error::bad_request(format!("{key} param must be an integer")))
            })
            .transpose()
    };
    let offset = count("offset")?.unwrap_or(0);
    let limit = count("limit")?.unwrap_or(usize::MAX);
    Ok(items.into_iter().skip(offset).take(limit).collect())
}
