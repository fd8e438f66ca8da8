//! `os-floating-ips`, `os-floating-ip-pools` and the `addFloatingIp` /
//! `removeFloatingIp` server actions: Neutron floating IPs in Nova's view
//! (`ip`, `fixed_ip`, `instance_id`, `pool` = the external network's name).

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::loopback::RestRequest;
use http::{Method, StatusCode};
use serde_json::{json, Value};

use super::{call, call_ok, enc, gone_from, proxy_gone};
use crate::api::common::{accepted_empty, ok, Body, Caller};
use crate::api::flavors::last;
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::store::instances::Instance;
use crate::worker::owner_context;
use crate::ComputeService;

const FIPS: &str = "/networking/v2.0/floatingips";
const NETWORKS: &str = "/networking/v2.0/networks";
const PORTS: &str = "/networking/v2.0/ports";

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

/// The network's name (a pool is an external network).
async fn network_name(svc: &ComputeService, c: &Caller, id: &str) -> Result<Option<String>> {
    let r = call(svc, c, RestRequest::get(format!("{NETWORKS}/{}", enc(id)))).await?;
    Ok(r.body
        .get("network")
        .and_then(|n| s(n, "name"))
        .map(str::to_owned))
}

/// The server a port belongs to, when a server's.
async fn port_server(svc: &ComputeService, c: &Caller, port: &str) -> Result<Option<String>> {
    let r = call(svc, c, RestRequest::get(format!("{PORTS}/{}", enc(port)))).await?;
    Ok(r.body.get("port").and_then(|p| {
        let owner = s(p, "device_owner").unwrap_or_default();
        owner
            .starts_with("compute:")
            .then(|| s(p, "device_id").map(str::to_owned))
            .flatten()
    }))
}

async fn render(svc: &ComputeService, c: &Caller, f: &Value) -> Result<Value> {
    let pool = match s(f, "floating_network_id") {
        Some(n) => network_name(svc, c, n).await?,
        None => None,
    };
    let instance = match s(f, "port_id") {
        Some(p) => port_server(svc, c, p).await?,
        None => None,
    };
    Ok(json!({
        "id": f.get("id"),
        "ip": f.get("floating_ip_address"),
        "fixed_ip": f.get("fixed_ip_address"),
        "instance_id": instance,
        "pool": pool,
    }))
}

async fn get_fip(svc: &ComputeService, c: &Caller, id: &str) -> Result<Value> {
    let r = call(svc, c, RestRequest::get(format!("{FIPS}/{}", enc(id)))).await?;
    if r.status == StatusCode::NOT_FOUND {
        return Err(Error::not_found(format!(
            "Floating IP not found for ID {id}"
        )));
    }
    Ok(r.ok()?.get("floatingip").cloned().unwrap_or(Value::Null))
}

pub async fn list(State(svc): State<ComputeService>, v: ApiVersion, c: Caller) -> Result<Response> {
    proxy_gone(v)?;
    let path = match &c.project_id {
        Some(p) => format!("{FIPS}?project_id={}", enc(p)),
        None => FIPS.to_owned(),
    };
    let body = call_ok(&svc, &c, RestRequest::get(path)).await?;
    let mut out = Vec::new();
    for f in body
        .get("floatingips")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.push(render(&svc, &c, f).await?);
    }
    Ok(ok(json!({ "floating_ips": out })))
}

pub async fn show(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    proxy_gone(v)?;
    let f = get_fip(&svc, &c, last(&p)).await?;
    Ok(ok(json!({ "floating_ip": render(&svc, &c, &f).await? })))
}

/// The external networks (pools) the caller sees.
async fn pools(svc: &ComputeService, c: &Caller) -> Result<Vec<Value>> {
    let body = call_ok(
        svc,
        c,
        RestRequest::get(format!("{NETWORKS}?router%3Aexternal=true")),
    )
    .await?;
    Ok(body
        .get("networks")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default())
}

pub async fn create(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    body: Body,
) -> Result<Response> {
    proxy_gone(v)?;
    let given = (!body.bytes.is_empty()).then_some(&body);
    let wanted = match given {
        Some(b) => match b.object()?.get("pool") {
            None | Some(Value::Null) => None,
            Some(Value::String(p)) => Some(p.clone()),
            Some(other) => {
                return Err(Error::bad_request(format!(
                    "Invalid input for field/attribute pool. Value: {other}"
                )))
            }
        },
        None => None,
    };
    let all = pools(&svc, &c).await?;
    let pool = match &wanted {
        Some(p) => all
            .iter()
            .find(|n| s(n, "name") == Some(p.as_str()) || s(n, "id") == Some(p.as_str())),
        // Nova's default pool: the default external network, else the only one.
        None => all
            .iter()
            .find(|n| n.get("is_default").and_then(Value::as_bool) == Some(true))
            .or_else(|| (all.len() == 1).then(|| &all[0])),
    };
    let Some(pool) = pool else {
        return Err(Error::not_found(format!(
            "Floating IP pool not found: {}",
            wanted.as_deref().unwrap_or("default")
        )));
    };
    let r = call(
        &svc,
        &c,
        RestRequest::new(Method::POST, FIPS)
            .json(json!({"floatingip": {"floating_network_id": pool.get("id")}})),
    )
    .await?;
    match r.status {
        StatusCode::CONFLICT if r.message().to_ascii_lowercase().contains("quota") => {
            Err(Error::forbidden(r.message()))
        }
        StatusCode::CONFLICT => Err(Error::not_found(format!(
            "No more floating IPs in pool {}.",
            s(pool, "name").unwrap_or_default()
        ))),
        _ => {
            let f = r.ok()?.get("floatingip").cloned().unwrap_or(Value::Null);
            Ok(ok(json!({ "floating_ip": render(&svc, &c, &f).await? })))
        }
    }
}

pub async fn delete(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    proxy_gone(v)?;
    let id = last(&p);
    get_fip(&svc, &c, id).await?;
    call_ok(
        &svc,
        &c,
        RestRequest::new(Method::DELETE, format!("{FIPS}/{}", enc(id))),
    )
    .await?;
    Ok(accepted_empty())
}

/// `GET /os-floating-ip-pools`: the external networks' names.
pub async fn list_pools(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
) -> Result<Response> {
    proxy_gone(v)?;
    let names: Vec<Value> = pools(&svc, &c)
        .await?
        .iter()
        .map(|n| json!({ "name": n.get("name") }))
        .collect();
    Ok(ok(json!({ "floating_ip_pools": names })))
}

/// The floating IP with this address, Nova's 404 otherwise.
async fn by_address(svc: &ComputeService, c: &Caller, address: &str) -> Result<Value> {
    let body = call_ok(
        svc,
        c,
        RestRequest::get(format!("{FIPS}?floating_ip_address={}", enc(address))),
    )
    .await?;
    body.get("floatingips")
        .and_then(Value::as_array)
        .and_then(|l| l.first())
        .cloned()
        .ok_or_else(|| Error::not_found(format!("floating IP not found for address {address}")))
}

fn address_of(action: &str, arg: &Value) -> Result<String> {
    match arg.get("address") {
        Some(Value::String(a)) if !a.is_empty() => Ok(a.clone()),
        Some(Value::String(_)) => Err(Error::bad_request(format!(
            "Invalid input for field/attribute address. Value: . '' is not a 'ip-address' ({action})"
        ))),
        _ => Err(Error::bad_request(format!(
            "Invalid input for field/attribute {action}. 'address' is a required property"
        ))),
    }
}

/// `addFloatingIp` (until 2.44): the address onto the server's port (the
/// one with `fixed_address`, else the first with an IPv4 address).
pub async fn add_floating_ip(
    svc: &ComputeService,
    c: &Caller,
    v: ApiVersion,
    i: &Instance,
    arg: &Value,
) -> Result<Response> {
    gone_from(v, 2, 44)?;
    let address = address_of("addFloatingIp", arg)?;
    let fixed = arg.get("fixed_address").and_then(Value::as_str);
    let fip = by_address(svc, c, &address).await?;
    let ports = svc
        .peers()
        .network
        .ports_of_device(&owner_context(i), &i.id)
        .await?;
    let choice = ports.iter().find_map(|p| {
        p.fixed_ips.iter().find_map(|(_, addr, version)| {
            let fits = match fixed {
                Some(f) => addr == f,
                None => *version == 4,
            };
            fits.then(|| (p.id.clone(), addr.clone()))
        })
    });
    let Some((port, fixed_ip)) = choice else {
        return Err(Error::bad_request(match fixed {
            Some(f) => format!("Specified fixed address {f} not assigned to instance"),
            None => format!("No nw_info cache associated with instance {}", i.id),
        }));
    };
    let id = s(&fip, "id").unwrap_or_default();
    let r = call(
        svc,
        c,
        RestRequest::new(Method::PUT, format!("{FIPS}/{}", enc(id)))
            .json(json!({"floatingip": {"port_id": port, "fixed_ip_address": fixed_ip}})),
    )
    .await?;
    if r.status == StatusCode::CONFLICT || r.status == StatusCode::BAD_REQUEST {
        return Err(Error::bad_request(format!(
            "Unable to associate floating IP {address} to fixed IP {fixed_ip} for instance {}. {}",
            i.id,
            r.message()
        )));
    }
    r.ok()?;
    Ok(accepted_empty())
}

/// `removeFloatingIp` (until 2.44): only from this server's port.
pub async fn remove_floating_ip(
    svc: &ComputeService,
    c: &Caller,
    v: ApiVersion,
    i: &Instance,
    arg: &Value,
) -> Result<Response> {
    gone_from(v, 2, 44)?;
    let address = address_of("removeFloatingIp", arg)?;
    let fip = by_address(svc, c, &address).await?;
    let ports = svc
        .peers()
        .network
        .ports_of_device(&owner_context(i), &i.id)
        .await?;
    let on_server = s(&fip, "port_id").is_some_and(|p| ports.iter().any(|q| q.id == p));
    if !on_server {
        return Err(Error::conflict(format!(
            "Floating IP {address} is not associated with instance {}.",
            i.id
        )));
    }
    let id = s(&fip, "id").unwrap_or_default();
    call_ok(
        svc,
        c,
        RestRequest::new(Method::PUT, format!("{FIPS}/{}", enc(id)))
            .json(json!({"floatingip": {"port_id": null}})),
    )
    .await?;
    Ok(accepted_empty())
}
