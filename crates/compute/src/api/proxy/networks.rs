//! `os-networks` and `os-tenant-networks`: Neutron networks in the views of
//! Nova's network-era APIs. Only reads remain: creating, deleting and
//! associating networks went with nova-network (410 Gone).

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::loopback::RestRequest;
use http::StatusCode;
use serde_json::{json, Map, Value};

use super::{call, call_ok, enc, proxy_gone};
use crate::api::common::{ok, Caller};
use crate::api::flavors::last;
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::ComputeService;

const NETWORKS: &str = "/networking/v2.0/networks";

/// The fields every caller sees, then the ones only admins see; Neutron
/// has no value for most of them (null), as Nova showed with Neutron.
const FIELDS: &[&str] = &[
    "id",
    "cidr",
    "netmask",
    "gateway",
    "broadcast",
    "dns1",
    "dns2",
    "cidr_v6",
    "gateway_v6",
    "label",
    "netmask_v6",
];
const ADMIN_FIELDS: &[&str] = &[
    "created_at",
    "updated_at",
    "deleted_at",
    "deleted",
    "injected",
    "bridge",
    "vlan",
    "vpn_public_address",
    "vpn_public_port",
    "vpn_private_address",
    "dhcp_start",
    "project_id",
    "host",
    "bridge_interface",
    "multi_host",
    "priority",
    "rxtx_base",
    "mtu",
    "dhcp_server",
    "enable_dhcp",
    "share_address",
];

fn network_view(n: &Value, admin: bool) -> Value {
    let mut out = Map::new();
    let fields = FIELDS
        .iter()
        .chain(if admin { ADMIN_FIELDS } else { &[] }.iter());
    for f in fields {
        let value = match *f {
            "id" => n.get("id").cloned(),
            "label" => n.get("name").cloned(),
            "project_id" => n.get("project_id").cloned(),
            "mtu" => n.get("mtu").cloned(),
            _ => None,
        };
        out.insert((*f).to_owned(), value.unwrap_or(Value::Null));
    }
    Value::Object(out)
}

fn tenant_view(n: &Value) -> Value {
    json!({"id": n.get("id"), "label": n.get("name"), "cidr": null})
}

async fn visible(svc: &ComputeService, c: &Caller) -> Result<Vec<Value>> {
    let body = call_ok(svc, c, RestRequest::get(NETWORKS)).await?;
    Ok(body
        .get("networks")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default())
}

async fn one(svc: &ComputeService, c: &Caller, id: &str) -> Result<Value> {
    let r = call(svc, c, RestRequest::get(format!("{NETWORKS}/{}", enc(id)))).await?;
    if r.status == StatusCode::NOT_FOUND {
        return Err(Error::not_found(format!(
            "Network {id} could not be found."
        )));
    }
    Ok(r.ok()?.get("network").cloned().unwrap_or(Value::Null))
}

pub async fn list(State(svc): State<ComputeService>, v: ApiVersion, c: Caller) -> Result<Response> {
    proxy_gone(v)?;
    let admin = c.is_admin();
    let items: Vec<Value> = visible(&svc, &c)
        .await?
        .iter()
        .map(|n| network_view(n, admin))
        .collect();
    Ok(ok(json!({ "networks": items })))
}

pub async fn show(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    proxy_gone(v)?;
    let n = one(&svc, &c, last(&p)).await?;
    Ok(ok(json!({ "network": network_view(&n, c.is_admin()) })))
}

pub async fn list_tenant(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
) -> Result<Response> {
    proxy_gone(v)?;
    let items: Vec<Value> = visible(&svc, &c).await?.iter().map(tenant_view).collect();
    Ok(ok(json!({ "networks": items })))
}

pub async fn show_tenant(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    proxy_gone(v)?;
    let n = one(&svc, &c, last(&p)).await?;
    Ok(ok(json!({ "network": tenant_view(&n) })))
}

/// What went with nova-network: 410 Gone at every microversion.
pub async fn gone() -> Response {
    use ferro_api::ErrorFormat;
    crate::error::NovaFormat.response(
        StatusCode::GONE,
        "This resource is no longer available (it went with nova-network).",
    )
}
