//! Security groups of a server, through the network service:
//! `GET /servers/{id}/os-security-groups` and the `addSecurityGroup` /
//! `removeSecurityGroup` actions. A server's groups are its ports' groups.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::services::{PortInfo, SecurityGroupInfo, SecurityGroupRuleInfo};
use ferro_api::{AuthContext, CommonError};
use serde_json::{json, Value};

use super::common::{accepted_empty, load_server, ok, Caller};
use super::flavors::last;
use crate::error::{Error, Result};
use crate::store::instances::Instance;
use crate::worker::owner_context;
use crate::ComputeService;

/// The groups on the server's ports, each once, in port order.
pub async fn groups_of(svc: &ComputeService, i: &Instance) -> Result<Vec<SecurityGroupInfo>> {
    let ctx = owner_context(i);
    let ports = svc.peers().network.ports_of_device(&ctx, &i.id).await?;
    let mut ids: Vec<String> = Vec::new();
    for id in ports.iter().flat_map(|p| p.security_group_ids.iter()) {
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(svc.peers().network.security_groups(&ctx, &ids).await?)
}

fn render_rule(r: &SecurityGroupRuleInfo, group: &str, names: &HashMap<String, Value>) -> Value {
    let (from, to) = match (&r.protocol, r.port_range_min, r.port_range_max) {
        (Some(p), None, None) if ["tcp", "udp"].contains(&p.to_ascii_lowercase().as_str()) => {
            (json!(1), json!(65535))
        }
        (Some(_), None, None) => (json!(-1), json!(-1)),
        (_, min, max) => (json!(min), json!(max)),
    };
    let (remote, range) = match (&r.remote_group_id, &r.remote_ip_prefix) {
        (Some(g), _) => (
            names.get(g).cloned().unwrap_or_else(|| json!({})),
            json!({}),
        ),
        (None, Some(cidr)) => (json!({}), json!({ "cidr": cidr })),
        (None, None) => (json!({}), json!({})),
    };
    json!({
        "id": r.id,
        "parent_group_id": group,
        "ip_protocol": r.protocol,
        "from_port": from,
        "to_port": to,
        "group": remote,
        "ip_range": range,
    })
}

/// Nova's view of a Neutron group: only ingress rules are listed.
pub(crate) fn render_group(g: &SecurityGroupInfo, names: &HashMap<String, Value>) -> Value {
    let rules: Vec<Value> = g
        .rules
        .iter()
        .filter(|r| r.direction == "ingress")
        .map(|r| render_rule(r, &g.id, names))
        .collect();
    json!({
        "id": g.id,
        "name": g.name,
        "description": g.description,
        "tenant_id": g.project_id,
        "rules": rules,
    })
}

pub async fn list_server_groups(
    State(svc): State<ComputeService>,
    v: crate::microversion::ApiVersion,
    c: Caller,
    q: super::common::QueryParams,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    super::listing::no_query_from_2_102(v, &q)?;
    let i = load_server(&svc, &c, last(&p)).await?;
    let groups = groups_of(&svc, &i).await?;
    let remote_ids: Vec<String> = groups
        .iter()
        .flat_map(|g| g.rules.iter().filter_map(|r| r.remote_group_id.clone()))
        .collect();
    let remotes = svc
        .peers()
        .network
        .security_groups(&owner_context(&i), &remote_ids)
        .await?;
    let names: HashMap<String, Value> = remotes
        .iter()
        .map(|g| {
            (
                g.id.clone(),
                json!({"name": g.name, "tenant_id": g.project_id}),
            )
        })
        .collect();
    let items: Vec<Value> = groups.iter().map(|g| render_group(g, &names)).collect();
    Ok(ok(json!({ "security_groups": items })))
}

/// The group name of an `addSecurityGroup`/`removeSecurityGroup` body.
fn group_name(action: &str, arg: &Value) -> Result<String> {
    let Value::Object(o) = arg else {
        return Err(Error::bad_request(format!(
            "Invalid input for field/attribute {action}. Missing parameter dict"
        )));
    };
    match o.get("name") {
        None => Err(Error::bad_request("Security group not specified")),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(Value::String(_)) | Some(Value::Null) => {
            Err(Error::bad_request("Security group name cannot be empty"))
        }
        Some(v) => Err(Error::bad_request(format!(
            "Invalid input for field/attribute name. Value: {v}. {v} is not of type 'string'"
        ))),
    }
}

/// The group in the caller's project: 404 unknown, 409 ambiguous name.
async fn find_group(svc: &ComputeService, ctx: &AuthContext, name: &str) -> Result<String> {
    match svc.peers().network.find_security_group(ctx, name).await {
        Ok(g) => Ok(g.id),
        Err(CommonError::NotFound(m)) => Err(Error::not_found(m)),
        Err(e) => Err(e.into()),
    }
}

fn no_ports(i: &Instance) -> Error {
    Error::not_found(format!(
        "instance_id {} could not be found as device id on any ports",
        i.id
    ))
}

/// The action's group (name and id) and the server's ports (404 when it
/// has none), shared by `addSecurityGroup` and `removeSecurityGroup`.
async fn group_and_ports(
    svc: &ComputeService,
    c: &Caller,
    i: &Instance,
    action: &str,
    arg: &Value,
) -> Result<(String, String, Vec<PortInfo>)> {
    let name = group_name(action, arg)?;
    let gid = find_group(svc, c, &name).await?;
    let ports = svc
        .peers()
        .network
        .ports_of_device(&owner_context(i), &i.id)
        .await?;
    if ports.is_empty() {
        return Err(no_ports(i));
    }
    Ok((name, gid, ports))
}

pub async fn add_security_group(
    svc: &ComputeService,
    c: &Caller,
    i: &Instance,
    arg: &Value,
) -> Result<Response> {
    let (_, gid, ports) = group_and_ports(svc, c, i, "addSecurityGroup", arg).await?;
    if ports
        .iter()
        .any(|p| !p.port_security_enabled || p.fixed_ips.is_empty())
    {
        return Err(Error::bad_request(
            "Network requires port_security_enabled and subnet associated in order to apply security groups.",
        ));
    }
    for p in ports {
        let mut ids = p.security_group_ids.clone();
        if !ids.contains(&gid) {
            ids.push(gid.clone());
            svc.peers()
                .network
                .set_port_security_groups(c, &p.id, &ids)
                .await?;
        }
    }
    Ok(accepted_empty())
}

pub async fn remove_security_group(
    svc: &ComputeService,
    c: &Caller,
    i: &Instance,
    arg: &Value,
) -> Result<Response> {
    let (name, gid, ports) = group_and_ports(svc, c, i, "removeSecurityGroup", arg).await?;
    let mut found = false;
    for p in ports {
        if !p.security_group_ids.contains(&gid) {
            continue;
        }
        let ids: Vec<String> = p
            .security_group_ids
            .iter()
            .filter(|g| **g != gid)
            .cloned()
            .collect();
        svc.peers()
            .network
            .set_port_security_groups(c, &p.id, &ids)
            .await?;
        found = true;
    }
    if !found {
        return Err(Error::bad_request(format!(
            "Security group {name} not associated with the instance {}",
            i.id
        )));
    }
    Ok(accepted_empty())
}
