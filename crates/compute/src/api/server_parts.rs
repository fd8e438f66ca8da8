//! Sub-resources of a server: metadata, ips, volume attachments, interfaces.

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::services::PortRequest;
use serde_json::{json, Map, Value};

use super::common::{
    accepted_empty, invalid, load_server, no_content, ok, require_member, wrapped, Body, Caller,
};
use super::flavors::last;
use super::instance_actions::{record, ReqId};
use super::server_fields::check_metadata;
use crate::error::{Error, Result};
use crate::quota;
use crate::state::vm;
use crate::store::instances;
use crate::worker::owner_context;
use crate::ComputeService;

/// (server id, trailing parameter) from a `{server_id}/…/{x}` path.
fn pair(p: &[String]) -> (String, String) {
    let n = p.len();
    (
        p.get(n.wrapping_sub(2)).cloned().unwrap_or_default(),
        last(p).to_owned(),
    )
}

pub async fn list_meta(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    let i = load_server(&svc, &c, last(&p)).await?;
    Ok(ok(json!({ "metadata": i.metadata })))
}

async fn write_meta(
    svc: &ComputeService,
    c: &Caller,
    id: &str,
    body: &Body,
    replace: bool,
) -> Result<Response> {
    require_member(c)?;
    let mut i = load_server(svc, c, id).await?;
    let new = wrapped(&body.object()?, "metadata")?;
    check_metadata(&new)?;
    if replace {
        i.metadata = new;
    } else {
        i.metadata.extend(new);
    }
    check_metadata(&i.metadata)?;
    quota::check_metadata_items(svc, &i.project_id, i.metadata.len()).await?;
    instances::update_fields(svc.db(), &i).await?;
    Ok(ok(json!({ "metadata": i.metadata })))
}

pub async fn merge_meta(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    write_meta(&svc, &c, last(&p), &body, false).await
}

pub async fn replace_meta(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    write_meta(&svc, &c, last(&p), &body, true).await
}

pub async fn show_meta(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    let (sid, key) = pair(&p);
    let i = load_server(&svc, &c, &sid).await?;
    let v = i
        .metadata
        .get(&key)
        .ok_or_else(|| Error::not_found("Metadata item was not found"))?;
    Ok(ok(json!({ "meta": { key: v } })))
}

pub async fn put_meta(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    require_member(&c)?;
    let (sid, key) = pair(&p);
    let meta = wrapped(&body.object()?, "meta")?;
    if meta.len() != 1 || !meta.contains_key(&key) {
        return Err(Error::bad_request("Request body and URI mismatch"));
    }
    check_metadata(&meta)?;
    let mut i = load_server(&svc, &c, &sid).await?;
    i.metadata.extend(meta.clone());
    check_metadata(&i.metadata)?;
    quota::check_metadata_items(&svc, &i.project_id, i.metadata.len()).await?;
    instances::update_fields(svc.db(), &i).await?;
    Ok(ok(json!({ "meta": meta })))
}

pub async fn delete_meta(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    require_member(&c)?;
    let (sid, key) = pair(&p);
    let mut i = load_server(&svc, &c, &sid).await?;
    if i.metadata.remove(&key).is_none() {
        return Err(Error::not_found("Metadata item was not found"));
    }
    instances::update_fields(svc.db(), &i).await?;
    Ok(no_content())
}

async fn address_map(svc: &ComputeService, i: &instances::Instance) -> Result<Map<String, Value>> {
    let ports = svc
        .peers()
        .network
        .ports_of_device(&owner_context(i), &i.id)
        .await?;
    let mut out = Map::new();
    for p in ports {
        let list = out
            .entry(p.network_name.clone())
            .or_insert_with(|| json!([]));
        if let Some(l) = list.as_array_mut() {
            for (_, ip, v) in &p.fixed_ips {
                l.push(json!({"version": v, "addr": ip}));
            }
            for f in &p.floating_ips {
                l.push(json!({"version": 4, "addr": f}));
            }
        }
    }
    Ok(out)
}

pub async fn ips(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    let i = load_server(&svc, &c, last(&p)).await?;
    Ok(ok(json!({ "addresses": address_map(&svc, &i).await? })))
}

pub async fn ips_of_network(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    let (sid, net) = pair(&p);
    let i = load_server(&svc, &c, &sid).await?;
    let map = address_map(&svc, &i).await?;
    let v = map
        .get(&net)
        .ok_or_else(|| Error::not_found("Instance is not a member of specified network"))?;
    Ok(ok(json!({ net: v })))
}

fn render_interface(p: &ferro_api::services::PortInfo) -> Value {
    let ips: Vec<Value> = p
        .fixed_ips
        .iter()
        .map(|(subnet, ip, _)| json!({"subnet_id": subnet, "ip_address": ip}))
        .collect();
    json!({
        "port_id": p.id,
        "net_id": p.network_id,
        "mac_addr": p.mac_address,
        "port_state": p.status,
        "fixed_ips": ips,
    })
}

pub async fn list_interfaces(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    let i = load_server(&svc, &c, last(&p)).await?;
    let ports = svc
        .peers()
        .network
        .ports_of_device(&owner_context(&i), &i.id)
        .await?;
    Ok(ok(
        json!({ "interfaceAttachments": ports.iter().map(render_interface).collect::<Vec<_>>() }),
    ))
}

pub async fn show_interface(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    let (sid, port) = pair(&p);
    let i = load_server(&svc, &c, &sid).await?;
    let ports = svc
        .peers()
        .network
        .ports_of_device(&owner_context(&i), &i.id)
        .await?;
    let found = ports
        .iter()
        .find(|x| x.id == port)
        .ok_or_else(|| Error::not_found(format!("Port {port} is not attached")))?;
    Ok(ok(
        json!({ "interfaceAttachment": render_interface(found) }),
    ))
}

pub async fn attach_interface(
    State(svc): State<ComputeService>,
    c: Caller,
    rid: ReqId,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    require_member(&c)?;
    let i = load_server(&svc, &c, last(&p)).await?;
    if ![vm::ACTIVE, vm::STOPPED, vm::PAUSED].contains(&i.vm_state.as_str()) {
        return Err(Error::conflict(format!(
            "Cannot 'attach_interface' instance {} while it is in vm_state {}",
            i.id, i.vm_state
        )));
    }
    let o = wrapped(&body.object()?, "interfaceAttachment")?;
    let s = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_owned);
    let fixed_ip = o
        .get("fixed_ips")
        .and_then(Value::as_array)
        .and_then(|l| l.first())
        .and_then(|f| f["ip_address"].as_str())
        .map(str::to_owned);
    let req = PortRequest {
        port_id: s("port_id"),
        network_id: s("net_id"),
        fixed_ip,
        security_groups: i.security_groups.clone(),
    };
    if req.port_id.is_none() && req.network_id.is_none() {
        return Err(invalid(
            "interfaceAttachment",
            "one of port_id or net_id is required",
        ));
    }
    let port = svc
        .peers()
        .network
        .allocate_port(&c, &req, &i.id, "compute:nova")
        .await?;
    record(&svc, &c, &i.id, "attach_interface", &rid, true).await?;
    Ok(ok(
        json!({ "interfaceAttachment": render_interface(&port) }),
    ))
}

pub async fn detach_interface(
    State(svc): State<ComputeService>,
    c: Caller,
    rid: ReqId,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    require_member(&c)?;
    let (sid, port) = pair(&p);
    let i = load_server(&svc, &c, &sid).await?;
    let ports = svc
        .peers()
        .network
        .ports_of_device(&owner_context(&i), &i.id)
        .await?;
    if !ports.iter().any(|x| x.id == port) {
        return Err(Error::not_found(format!("Port {port} is not attached")));
    }
    svc.peers().network.release_port(&c, &i.id, &port).await?;
    record(&svc, &c, &i.id, "detach_interface", &rid, true).await?;
    Ok(accepted_empty())
}
