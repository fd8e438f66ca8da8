//! Routers: interfaces (ports owned by `network:router_interface`), the
//! external gateway (a `network:router_gateway` port) and extra routes.

use serde_json::{json, Value};

use super::subnets::cidr_of;
use super::{new_obj, owner_project, ports, quotas, touch, validate as v, Ctx};
use crate::error::{Error, Result};
use crate::ipam::{fmt_ip, parse_ip, Cidr};
use crate::state::{bool_of, str_of, Kind, Obj, State};

pub const INTERFACE: &str = "network:router_interface";
pub const GATEWAY: &str = "network:router_gateway";

pub fn create(st: &mut State, ctx: &Ctx, body: &Obj) -> Result<Obj> {
    ctx.can_write("create_router")?;
    v::known_keys(
        body,
        &[
            "name",
            "description",
            "admin_state_up",
            "external_gateway_info",
            "project_id",
            "tenant_id",
            "tags",
        ],
    )?;
    let project = owner_project(body, ctx)?;
    quotas::check(st, &project, Kind::Router)?;
    let mut r = new_obj(&project);
    r.insert("name".into(), json!(""));
    r.insert("admin_state_up".into(), json!(true));
    r.insert("status".into(), json!("ACTIVE"));
    r.insert("external_gateway_info".into(), Value::Null);
    r.insert("routes".into(), json!([]));
    super::apply_name_desc(&mut r, body)?;
    if let Some(b) = v::opt_bool(body, "admin_state_up")? {
        r.insert("admin_state_up".into(), json!(b));
    }
    st.put(Kind::Router, r.clone());
    if let Some(info) = body.get("external_gateway_info") {
        set_gateway(st, ctx, &mut r, info)?;
        st.put(Kind::Router, r.clone());
    }
    Ok(r)
}

pub fn update(st: &mut State, ctx: &Ctx, id: &str, body: &Obj) -> Result<Obj> {
    ctx.can_write("update_router")?;
    let mut r = super::fetch_owned(st, Kind::Router, id, ctx, "update_router")?.clone();
    v::read_only(body, &["id", "status", "project_id", "tenant_id"])?;
    v::known_keys(
        body,
        &[
            "name",
            "description",
            "admin_state_up",
            "external_gateway_info",
            "routes",
        ],
    )?;
    super::apply_name_desc(&mut r, body)?;
    if let Some(b) = v::opt_bool(body, "admin_state_up")? {
        r.insert("admin_state_up".into(), json!(b));
    }
    if let Some(info) = body.get("external_gateway_info") {
        set_gateway(st, ctx, &mut r, info)?;
    }
    if body.contains_key("routes") {
        let routes = routes(st, id, v::opt_obj_list(body, "routes")?.unwrap_or_default())?;
        r.insert("routes".into(), json!(routes));
    }
    touch(&mut r);
    st.put(Kind::Router, r.clone());
    Ok(r)
}

/// Subnets (as `(id, cidr)`) the router has interfaces on.
fn connected(st: &State, router_id: &str) -> Vec<(String, Cidr)> {
    interface_ports(st, router_id)
        .iter()
        .flat_map(|p| p["fixed_ips"].as_array().cloned().unwrap_or_default())
        .filter_map(|ip| {
            let sid = ip["subnet_id"].as_str()?.to_owned();
            let cidr = cidr_of(st.get(Kind::Subnet, &sid)?)?;
            Some((sid, cidr))
        })
        .collect()
}

fn interface_ports<'a>(st: &'a State, router_id: &'a str) -> Vec<&'a Obj> {
    st.by(Kind::Port, "device_id", router_id)
        .into_iter()
        .filter(|p| str_of(p, "device_owner") == INTERFACE)
        .collect()
}

fn routes(st: &State, router_id: &str, list: Vec<Obj>) -> Result<Vec<Value>> {
    let subnets = connected(st, router_id);
    let mut out: Vec<Value> = vec![];
    for r in &list {
        v::known_keys(r, &["destination", "nexthop"])?;
        let dest = r
            .get("destination")
            .and_then(Value::as_str)
            .and_then(Cidr::parse);
        let hop = r.get("nexthop").and_then(Value::as_str).and_then(parse_ip);
        let (Some(dest), Some((hop, v6))) = (dest, hop) else {
            return Err(Error::invalid_attr(
                "routes",
                format!("{} is not a valid route", Value::Object(r.clone())),
            ));
        };
        if !subnets.iter().any(|(_, c)| c.contains(hop, v6)) {
            return Err(Error::bad(
                "InvalidRoutes",
                format!(
                    "Invalid format for routes: {}, the nexthop is not connected with router",
                    Value::Object(r.clone())
                ),
            ));
        }
        let e = json!({"destination": dest.net_string(), "nexthop": fmt_ip(hop, v6)});
        if !out.contains(&e) {
            out.push(e);
        }
    }
    Ok(out)
}

/// Apply `external_gateway_info` (null / {} clears it).
fn set_gateway(st: &mut State, ctx: &Ctx, r: &mut Obj, info: &Value) -> Result<()> {
    let id = str_of(r, "id").to_owned();
    let info = match info {
        Value::Null => None,
        Value::Object(o) if o.is_empty() => None,
        Value::Object(o) => Some(o.clone()),
        other => {
            return Err(Error::invalid_attr(
                "external_gateway_info",
                format!("{other} is not a dictionary"),
            ))
        }
    };
    let current = r
        .get("external_gateway_info")
        .cloned()
        .unwrap_or(Value::Null);
    let cur_net = current["network_id"].as_str().map(str::to_owned);
    let Some(info) = info else {
        if cur_net.is_some() {
            ensure_no_fips(st, &id, cur_net.as_deref().unwrap_or(""))?;
            drop_gateway_ports(st, &id);
        }
        r.insert("external_gateway_info".into(), Value::Null);
        return Ok(());
    };
    v::known_keys(&info, &["network_id", "enable_snat", "external_fixed_ips"])?;
    let net_id = v::req_uuid(&info, "network_id")?;
    for admin_attr in ["enable_snat", "external_fixed_ips"] {
        if info.contains_key(admin_attr) && !ctx.admin {
            return Err(Error::policy(&format!(
                "update_router:external_gateway_info:{admin_attr}"
            )));
        }
    }
    let net = super::fetch(st, Kind::Network, &net_id, ctx)?;
    if !bool_of(net, "router:external") {
        return Err(Error::bad(
            "BadRequest",
            format!("Bad router request: Network {net_id} is not a valid external network."),
        ));
    }
    let snat = v::opt_bool(&info, "enable_snat")?
        .or_else(|| {
            current["enable_snat"]
                .as_bool()
                .filter(|_| cur_net.as_deref() == Some(net_id.as_str()))
        })
        .unwrap_or(true);
    let want_ips = v::opt_obj_list(&info, "external_fixed_ips")?;
    let existing: Option<Obj> = st
        .by(Kind::Port, "device_id", &id)
        .into_iter()
        .find(|p| str_of(p, "device_owner") == GATEWAY)
        .cloned();
    let port = match existing {
        Some(p) if str_of(&p, "network_id") == net_id => {
            let mut p = p;
            if let Some(req) = &want_ips {
                let keep = p["fixed_ips"].as_array().cloned().unwrap_or_default();
                let mac = str_of(&p, "mac_address").to_owned();
                let ips = ports::allocate(
                    st,
                    &net_id,
                    Some(req),
                    &mac,
                    str_of(&p, "id"),
                    GATEWAY,
                    &keep,
                )?;
                p.insert("fixed_ips".into(), json!(ips));
                touch(&mut p);
                st.put(Kind::Port, p.clone());
            }
            p
        }
        other => {
            if other.is_some() {
                ensure_no_fips(st, &id, cur_net.as_deref().unwrap_or(""))?;
                drop_gateway_ports(st, &id);
            }
            let mut body = Obj::new();
            body.insert("device_owner".into(), json!(GATEWAY));
            body.insert("device_id".into(), json!(id));
            if let Some(req) = &want_ips {
                body.insert("fixed_ips".into(), json!(req));
            }
            ports::build(st, "", &net_id, &body)?
        }
    };
    r.insert(
        "external_gateway_info".into(),
        json!({
            "network_id": net_id,
            "enable_snat": snat,
            "external_fixed_ips": port["fixed_ips"].clone(),
        }),
    );
    Ok(())
}

fn ensure_no_fips(st: &State, router_id: &str, net_id: &str) -> Result<()> {
    if !st.by(Kind::FloatingIp, "router_id", router_id).is_empty() {
        return Err(Error::conflict("RouterExternalGatewayInUseByFloatingIp", format!(
            "Gateway cannot be updated for router {router_id}, since a gateway to external network {net_id} is required by one or more floating IPs."
        )));
    }
    Ok(())
}

fn drop_gateway_ports(st: &mut State, router_id: &str) {
    let ids: Vec<String> = st
        .by(Kind::Port, "device_id", router_id)
        .into_iter()
        .filter(|p| str_of(p, "device_owner") == GATEWAY)
        .map(|p| str_of(p, "id").to_owned())
        .collect();
    for p in ids {
        ports::remove(st, &p);
    }
}

pub fn delete(st: &mut State, ctx: &Ctx, id: &str) -> Result<()> {
    ctx.can_write("delete_router")?;
    super::fetch_owned(st, Kind::Router, id, ctx, "delete_router")?;
    if !interface_ports(st, id).is_empty() {
        return Err(Error::conflict(
            "RouterInUse",
            format!("Router {id} still has ports"),
        ));
    }
    ensure_no_fips(st, id, "")?;
    drop_gateway_ports(st, id);
    st.remove(Kind::Router, id);
    Ok(())
}

fn interface_info(router: &Obj, port: &Obj, subnet_id: Option<&str>) -> Value {
    let subnet_ids: Vec<Value> = port["fixed_ips"]
        .as_array()
        .map(|a| a.iter().map(|ip| ip["subnet_id"].clone()).collect())
        .unwrap_or_default();
    let sid = subnet_id
        .map(|s| json!(s))
        .or_else(|| subnet_ids.first().cloned())
        .unwrap_or(Value::Null);
    json!({
        "id": router["id"],
        "tenant_id": router["project_id"],
        "project_id": router["project_id"],
        "port_id": port["id"],
        "network_id": port["network_id"],
        "subnet_id": sid,
        "subnet_ids": subnet_ids,
    })
}

fn either_id(body: &Obj) -> Result<(Option<String>, Option<String>)> {
    let sid = v::opt_uuid(body, "subnet_id")?;
    let pid = v::opt_uuid(body, "port_id")?;
    if sid.is_none() && pid.is_none() {
        return Err(Error::bad(
            "BadRequest",
            "Bad router request: Either subnet_id or port_id must be specified.",
        ));
    }
    Ok((sid, pid))
}

pub fn add_interface(st: &mut State, ctx: &Ctx, id: &str, body: &Obj) -> Result<Value> {
    ctx.can_write("add_router_interface")?;
    let router = super::fetch_owned(st, Kind::Router, id, ctx, "add_router_interface")?.clone();
    let (sid, pid) = either_id(body)?;
    if sid.is_some() && pid.is_some() {
        return Err(Error::bad(
            "BadRequest",
            "Bad router request: Cannot specify both subnet-id and port-id.",
        ));
    }
    let existing = connected(st, id);
    let overlap_check = |st: &State, new_sid: &str| -> Result<()> {
        let sub = st
            .get(Kind::Subnet, new_sid)
            .ok_or_else(|| Kind::Subnet.not_found(new_sid))?;
        let cidr = cidr_of(sub).ok_or_else(|| Error::internal("stored subnet has no cidr"))?;
        for (other, oc) in &existing {
            if other == new_sid {
                return Err(Error::bad(
                    "BadRequest",
                    format!("Bad router request: Router already has a port on subnet {new_sid}."),
                ));
            }
            if oc.overlaps(&cidr) {
                return Err(Error::bad("BadRequest", format!(
                    "Bad router request: Cidr {} of subnet {new_sid} overlaps with cidr {} of subnet {other}.",
                    cidr.net_string(), oc.net_string()
                )));
            }
        }
        Ok(())
    };
    let (port, subnet_id) = if let Some(pid) = pid {
        let mut p = super::fetch_owned(st, Kind::Port, &pid, ctx, "add_router_interface")?.clone();
        if !str_of(&p, "device_id").is_empty()
            || !str_of(&p, "device_owner").is_empty() && str_of(&p, "device_owner") != INTERFACE
        {
            return Err(Error::conflict("PortInUse", format!(
                "Unable to complete operation on port {pid} for network {}. Port already has an attached device {}.",
                str_of(&p, "network_id"), str_of(&p, "device_id")
            )));
        }
        let ips = p["fixed_ips"].as_array().cloned().unwrap_or_default();
        if ips.is_empty() {
            return Err(Error::bad(
                "BadRequest",
                format!("Bad router request: Router port {pid} must have at least one fixed IP."),
            ));
        }
        for ip in &ips {
            overlap_check(st, ip["subnet_id"].as_str().unwrap_or(""))?;
        }
        p.insert("device_owner".into(), json!(INTERFACE));
        p.insert("device_id".into(), json!(id));
        ports::refresh_status(&mut p);
        touch(&mut p);
        st.put(Kind::Port, p.clone());
        (p, None)
    } else {
        let sid = sid.unwrap_or_default();
        let sub = super::fetch(st, Kind::Subnet, &sid, ctx)?.clone();
        let Some(gw) = sub
            .get("gateway_ip")
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            return Err(Error::bad(
                "BadRequest",
                format!(
                    "Bad router request: Subnet {sid} for router interface must have a gateway IP."
                ),
            ));
        };
        overlap_check(st, &sid)?;
        let mut body = Obj::new();
        body.insert("device_owner".into(), json!(INTERFACE));
        body.insert("device_id".into(), json!(id));
        body.insert(
            "fixed_ips".into(),
            json!([{"subnet_id": sid, "ip_address": gw}]),
        );
        let p = ports::build(
            st,
            str_of(&router, "project_id"),
            str_of(&sub, "network_id"),
            &body,
        )?;
        (p, Some(sid))
    };
    let mut r = router;
    touch(&mut r);
    st.put(Kind::Router, r.clone());
    Ok(interface_info(&r, &port, subnet_id.as_deref()))
}

pub fn remove_interface(st: &mut State, ctx: &Ctx, id: &str, body: &Obj) -> Result<Value> {
    ctx.can_write("remove_router_interface")?;
    let router = super::fetch_owned(st, Kind::Router, id, ctx, "remove_router_interface")?.clone();
    let (sid, pid) = either_id(body)?;
    let ifaces: Vec<Obj> = interface_ports(st, id).into_iter().cloned().collect();
    let port = match (&pid, &sid) {
        (Some(pid), _) => {
            let p = ifaces
                .iter()
                .find(|p| str_of(p, "id") == pid)
                .cloned()
                .ok_or_else(|| {
                    Error::not_found(
                        "RouterInterfaceNotFound",
                        format!("Router {id} does not have an interface with id {pid}"),
                    )
                })?;
            if let Some(sid) = &sid {
                if !ports::has_subnet(&p, sid) {
                    return Err(Error::conflict(
                        "SubnetMismatchForPort",
                        format!("Subnet {sid} does not match the port {pid}."),
                    ));
                }
            }
            p
        }
        (None, Some(sid)) => ifaces
            .iter()
            .find(|p| ports::has_subnet(p, sid))
            .cloned()
            .ok_or_else(|| {
                Error::not_found(
                    "RouterInterfaceNotFoundForSubnet",
                    format!("Router {id} has no interface on subnet {sid}"),
                )
            })?,
        (None, None) => {
            return Err(Error::bad_request(
                "Either subnet_id or port_id must be specified",
            ))
        }
    };
    let removed: Vec<String> = match (&pid, &sid) {
        (None, Some(sid)) => vec![sid.clone()],
        _ => port["fixed_ips"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|ip| ip["subnet_id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
    };
    for s in &removed {
        in_use_by_fips(st, id, s)?;
        if let Some(c) = st.get(Kind::Subnet, s).and_then(cidr_of) {
            let used = router["routes"].as_array().is_some_and(|rs| {
                rs.iter().any(|r| {
                    r["nexthop"]
                        .as_str()
                        .and_then(parse_ip)
                        .is_some_and(|(a, v6)| c.contains(a, v6))
                })
            });
            if used {
                return Err(Error::conflict("RouterInterfaceInUseByRoute", format!(
                    "Router interface for subnet {s} on router {id} cannot be deleted, as it is required by one or more routes."
                )));
            }
        }
    }
    let info = interface_info(&router, &port, sid.as_deref());
    let remaining: Vec<Value> = port["fixed_ips"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|ip| !removed.iter().any(|s| ip["subnet_id"] == json!(s)))
        .collect();
    let port_id = str_of(&port, "id").to_owned();
    if remaining.is_empty() {
        ports::remove(st, &port_id);
    } else if let Some(p) = st.get_mut(Kind::Port, &port_id) {
        p.insert("fixed_ips".into(), json!(remaining));
        touch(p);
    }
    let mut r = router;
    touch(&mut r);
    st.put(Kind::Router, r);
    Ok(info)
}

fn in_use_by_fips(st: &State, router_id: &str, subnet_id: &str) -> Result<()> {
    let used = st
        .by(Kind::FloatingIp, "router_id", router_id)
        .iter()
        .any(|f| {
            st.get(Kind::Port, str_of(f, "port_id")).is_some_and(|p| {
                p["fixed_ips"].as_array().is_some_and(|ips| {
                    ips.iter().any(|ip| {
                        ip["subnet_id"] == json!(subnet_id)
                            && ip["ip_address"] == f["fixed_ip_address"]
                    })
                })
            })
        });
    if used {
        return Err(Error::conflict("RouterInterfaceInUseByFloatingIP", format!(
            "Router interface for subnet {subnet_id} on router {router_id} cannot be deleted, as it is required by one or more floating IPs."
        )));
    }
    Ok(())
}

/// The router that reaches `ext_net` from `subnet_id`, if any.
pub fn router_for(st: &State, subnet_id: &str, ext_net: &str) -> Option<String> {
    st.iter(Kind::Router)
        .filter(|r| r["external_gateway_info"]["network_id"].as_str() == Some(ext_net))
        .find(|r| {
            interface_ports(st, str_of(r, "id"))
                .iter()
                .any(|p| ports::has_subnet(p, subnet_id))
        })
        .map(|r| str_of(r, "id").to_owned())
}
