//! `/servers/{id}/os-interface`: the server's ports as Nova shows them;
//! attach (a `tag` from 2.49) and detach; the `tag` in the view from 2.70.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::services::{PortInfo, PortRequest};
use serde_json::{json, Value};

use super::common::parent_and_last as pair;
use super::common::{
    accepted_empty, invalid, load_server, ok, require_member, wrapped, Body, Caller,
};
use super::flavors::last;
use super::instance_actions::{record, ReqId};
use super::server_fields as fields;
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::state::vm;
use crate::store::{tags, tasks};
use crate::worker::owner_context;
use crate::ComputeService;

fn render(p: &PortInfo, tags: &HashMap<String, String>, v: ApiVersion) -> Value {
    let ips: Vec<Value> = p
        .fixed_ips
        .iter()
        .map(|(subnet, ip, _)| json!({"subnet_id": subnet, "ip_address": ip}))
        .collect();
    let mut out = json!({
        "port_id": p.id,
        "net_id": p.network_id,
        "mac_addr": p.mac_address,
        "port_state": p.status,
        "fixed_ips": ips,
    });
    if v.at_least(2, 70) {
        out["tag"] = json!(tags.get(&p.id));
    }
    out
}

async fn ports(
    svc: &ComputeService,
    i: &crate::store::instances::Instance,
) -> Result<Vec<PortInfo>> {
    Ok(svc
        .peers()
        .network
        .ports_of_device(&owner_context(i), &i.id)
        .await?)
}

pub async fn list_interfaces(
    State(svc): State<ComputeService>,
    c: Caller,
    v: ApiVersion,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    let i = load_server(&svc, &c, last(&p)).await?;
    let tags = tags::interface_tags(svc.db(), &i.id).await?;
    let items: Vec<Value> = ports(&svc, &i)
        .await?
        .iter()
        .map(|x| render(x, &tags, v))
        .collect();
    Ok(ok(json!({ "interfaceAttachments": items })))
}

pub async fn show_interface(
    State(svc): State<ComputeService>,
    c: Caller,
    v: ApiVersion,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    let (sid, port) = pair(&p);
    let i = load_server(&svc, &c, &sid).await?;
    let tags = tags::interface_tags(svc.db(), &i.id).await?;
    let found = ports(&svc, &i)
        .await?
        .into_iter()
        .find(|x| x.id == port)
        .ok_or_else(|| Error::not_found(format!("Port {port} is not attached")))?;
    Ok(ok(
        json!({ "interfaceAttachment": render(&found, &tags, v) }),
    ))
}

pub async fn attach_interface(
    State(svc): State<ComputeService>,
    c: Caller,
    v: ApiVersion,
    rid: ReqId,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    require_member(&c)?;
    let i = load_server(&svc, &c, last(&p)).await?;
    let o = wrapped(&body.object()?, "interfaceAttachment")?;
    let mut known = vec!["net_id", "port_id", "fixed_ips"];
    if v.at_least(2, 49) {
        known.push("tag");
    }
    fields::only_known(&o, &known)?;
    let tag = o.get("tag").map(|t| fields::tag(t, "tag")).transpose()?;
    if ![vm::ACTIVE, vm::STOPPED, vm::PAUSED].contains(&i.vm_state.as_str()) {
        return Err(Error::conflict(format!(
            "Cannot 'attach_interface' instance {} while it is in vm_state {}",
            i.id, i.vm_state
        )));
    }
    let s = |k: &str| -> Result<Option<String>> {
        match o.get(k) {
            None => Ok(None),
            Some(Value::String(x)) if uuid::Uuid::parse_str(x).is_ok() => Ok(Some(x.clone())),
            Some(x) => Err(invalid(k, &format!("{x} is not a 'uuid'"))),
        }
    };
    let fixed_ip = match o.get("fixed_ips") {
        None => None,
        Some(Value::Array(l)) if l.len() == 1 => Some(
            l[0]["ip_address"]
                .as_str()
                .filter(|a| a.parse::<std::net::IpAddr>().is_ok())
                .ok_or_else(|| invalid("fixed_ips", "ip_address must be an IP address"))?
                .to_owned(),
        ),
        Some(x) => return Err(invalid("fixed_ips", &format!("{x} must list one address"))),
    };
    let req = PortRequest {
        port_id: s("port_id")?,
        network_id: s("net_id")?,
        fixed_ip,
        security_groups: i.security_groups.clone(),
    };
    if req.port_id.is_some() && (req.network_id.is_some() || req.fixed_ip.is_some()) {
        return Err(Error::bad_request(
            "Must not input both network_id and port_id",
        ));
    }
    let port = svc
        .peers()
        .network
        .allocate_port(&c, &req, &i.id, "compute:nova")
        .await?;
    if let Some(t) = &tag {
        tags::set_interface_tag(svc.db(), &i.id, &port.id, t).await?;
    }
    // The worker on the server's host plugs the NIC into the guest.
    let args = json!({ "port_id": port.id });
    if let Err(e) = tasks::enqueue(svc.db(), &i.id, "attach_interface", &args).await {
        let _ = svc.peers().network.release_port(&c, &i.id, &port.id).await;
        return Err(e.into());
    }
    svc.wake_worker();
    record(&svc, &c, &i.id, "attach_interface", &rid, true).await?;
    let tags = tags::interface_tags(svc.db(), &i.id).await?;
    Ok(ok(
        json!({ "interfaceAttachment": render(&port, &tags, v) }),
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
    if !ports(&svc, &i).await?.iter().any(|x| x.id == port) {
        return Err(Error::not_found(format!("Port {port} is not attached")));
    }
    // The worker unplugs the NIC, then releases the port (Nova's cast).
    tasks::enqueue(
        svc.db(),
        &i.id,
        "detach_interface",
        &json!({ "port_id": port }),
    )
    .await?;
    svc.wake_worker();
    record(&svc, &c, &i.id, "detach_interface", &rid, true).await?;
    Ok(accepted_empty())
}
