//! Floating IPs: an address (a `network:floatingip` port) on an external
//! network, associated to a port reachable through a router.

use serde_json::{json, Value};

use super::subnets::is_v6;
use super::{new_obj, owner_project, ports, quotas, routers, touch, validate as v, Ctx};
use crate::error::{Error, Result};
use crate::state::{bool_of, str_of, Kind, Obj, State};

pub const OWNER: &str = "network:floatingip";

pub fn create(st: &mut State, ctx: &Ctx, body: &Obj) -> Result<Obj> {
    ctx.can_write("create_floatingip")?;
    v::known_keys(
        body,
        &[
            "floating_network_id",
            "floating_ip_address",
            "subnet_id",
            "port_id",
            "fixed_ip_address",
            "description",
            "project_id",
            "tenant_id",
            "tags",
        ],
    )?;
    let net_id = v::req_uuid(body, "floating_network_id")?;
    let project = owner_project(body, ctx)?;
    let want_addr = v::opt_nullable_str(body, "floating_ip_address", 64)?.flatten();
    if want_addr.is_some() && !ctx.admin {
        return Err(Error::policy("create_floatingip:floating_ip_address"));
    }
    let want_subnet = v::opt_nullable_uuid(body, "subnet_id")?.flatten();
    let net = super::fetch(st, Kind::Network, &net_id, ctx)?;
    if !bool_of(net, "router:external") {
        return Err(Error::bad(
            "BadRequest",
            format!("Bad floatingip request: Network {net_id} is not a valid external network."),
        ));
    }
    quotas::check(st, &project, Kind::FloatingIp)?;
    let mut f = new_obj(&project);
    let fid = str_of(&f, "id").to_owned();
    let v4: Vec<String> = st
        .by(Kind::Subnet, "network_id", &net_id)
        .into_iter()
        .filter(|s| !is_v6(s))
        .map(|s| str_of(s, "id").to_owned())
        .collect();
    if v4.is_empty() {
        return Err(Error::bad(
            "BadRequest",
            format!("Bad floatingip request: Network {net_id} does not contain any IPv4 subnet."),
        ));
    }
    if let Some(s) = &want_subnet {
        if !v4.contains(s) {
            return Err(Error::bad(
                "BadRequest",
                format!(
                    "Bad floatingip request: Subnet {s} is not an IPv4 subnet of network {net_id}."
                ),
            ));
        }
    }
    let candidates: Vec<Obj> = match (&want_addr, &want_subnet) {
        (Some(a), s) => {
            let mut e = Obj::new();
            e.insert("ip_address".into(), json!(a));
            if let Some(s) = s {
                e.insert("subnet_id".into(), json!(s));
            }
            vec![e]
        }
        (None, Some(s)) => vec![json!({"subnet_id": s})
            .as_object()
            .cloned()
            .unwrap_or_default()],
        (None, None) => v4
            .iter()
            .map(|s| {
                json!({"subnet_id": s})
                    .as_object()
                    .cloned()
                    .unwrap_or_default()
            })
            .collect(),
    };
    let mut last_err = None;
    let mut port = None;
    for c in candidates {
        let mut pbody = Obj::new();
        pbody.insert("device_owner".into(), json!(OWNER));
        pbody.insert("device_id".into(), json!(fid));
        pbody.insert("fixed_ips".into(), json!([c]));
        match ports::build(st, "", &net_id, &pbody) {
            Ok(p) => {
                port = Some(p);
                break;
            }
            Err(e) => last_err = Some(e),
        }
    }
    let port = match (port, last_err) {
        (Some(p), _) => p,
        (None, Some(e)) => return Err(e),
        (None, None) => return Err(Error::internal("no candidate subnet")),
    };
    let addr = port["fixed_ips"][0]["ip_address"].clone();
    f.insert("floating_network_id".into(), json!(net_id));
    f.insert("floating_ip_address".into(), addr);
    f.insert("_port".into(), port["id"].clone());
    clear_association(&mut f);
    f.insert("revision_number".into(), json!(0));
    if let Some(d) = v::opt_str(body, "description", 255)? {
        f.insert("description".into(), json!(d));
    }
    if body.contains_key("tags") {
        f.insert("tags".into(), json!(v::tags(body.get("tags"))?));
    }
    if let Some(Some(pid)) = v::opt_nullable_uuid(body, "port_id")? {
        let fixed = v::opt_nullable_str(body, "fixed_ip_address", 64)?.flatten();
        associate(st, ctx, &mut f, &pid, fixed)?;
    }
    st.put(Kind::FloatingIp, f.clone());
    Ok(f)
}

/// Forget the port a floating IP points at.
pub fn clear_association(f: &mut Obj) {
    f.insert("port_id".into(), Value::Null);
    f.insert("fixed_ip_address".into(), Value::Null);
    f.insert("router_id".into(), Value::Null);
    f.insert("status".into(), json!("DOWN"));
    touch(f);
}

fn associate(
    st: &State,
    ctx: &Ctx,
    f: &mut Obj,
    port_id: &str,
    fixed: Option<String>,
) -> Result<()> {
    let fid = str_of(f, "id").to_owned();
    let port = super::fetch(st, Kind::Port, port_id, ctx)?;
    if str_of(port, "project_id") != str_of(f, "project_id") && !ctx.admin {
        return Err(Kind::Port.not_found(port_id));
    }
    // Neutron serves every port but a DHCP server's and a router's
    // gateway (and its message leaves the port id unformatted).
    if ["network:dhcp", "network:router_gateway"].contains(&str_of(port, "device_owner")) {
        return Err(Error::bad(
            "BadRequest",
            "Bad floatingip request: Port %(id)s is unable to be assigned a floating IP.",
        ));
    }
    let ips = port["fixed_ips"].as_array().cloned().unwrap_or_default();
    let chosen = match &fixed {
        Some(a) => ips.iter().find(|ip| ip["ip_address"].as_str() == Some(a)).cloned().ok_or_else(|| {
            Error::bad("BadRequest", format!("Bad floatingip request: Port {port_id} does not have fixed ip {a}."))
        })?,
        None => ips.iter().find(|ip| ip["ip_address"].as_str().is_some_and(|a| !a.contains(':'))).cloned().ok_or_else(|| {
            Error::bad("BadRequest", format!("Bad floatingip request: Port {port_id} does not have any IPv4 address to associate with a floating IP."))
        })?,
    };
    let addr = chosen["ip_address"].as_str().unwrap_or("").to_owned();
    if addr.contains(':') {
        return Err(Error::bad("BadRequest", format!("Bad floatingip request: Cannot process floating IP association with {addr}, since that is not an IPv4 address.")));
    }
    let ext = str_of(f, "floating_network_id").to_owned();
    let clash = st.iter(Kind::FloatingIp).find(|o| {
        str_of(o, "id") != fid
            && str_of(o, "port_id") == port_id
            && str_of(o, "fixed_ip_address") == addr
    });
    if let Some(o) = clash {
        return Err(Error::conflict("FloatingIPPortAlreadyAssociated", format!(
            "Cannot associate floating IP {} ({fid}) with port {port_id} using fixed IP {addr}, as that fixed IP already has a floating IP on external network {}.",
            str_of(f, "floating_ip_address"), str_of(o, "floating_network_id")
        )));
    }
    let subnet = chosen["subnet_id"].as_str().unwrap_or("");
    let router = routers::router_for(st, subnet, &ext).ok_or_else(|| Error::not_found(
        "ExternalGatewayForFloatingIPNotFound",
        format!("External network {ext} is not reachable from subnet {subnet}.  Therefore, cannot associate Port {port_id} with a Floating IP."),
    ))?;
    f.insert("port_id".into(), json!(port_id));
    f.insert("fixed_ip_address".into(), json!(addr));
    f.insert("router_id".into(), json!(router));
    f.insert("status".into(), json!("ACTIVE"));
    touch(f);
    Ok(())
}

pub fn update(st: &mut State, ctx: &Ctx, id: &str, body: &Obj) -> Result<Obj> {
    ctx.can_write("update_floatingip")?;
    let mut f = super::fetch_owned(st, Kind::FloatingIp, id, ctx, "update_floatingip")?.clone();
    v::read_only(
        body,
        &[
            "id",
            "floating_network_id",
            "floating_ip_address",
            "router_id",
            "status",
            "project_id",
            "tenant_id",
            "subnet_id",
        ],
    )?;
    v::known_keys(body, &["port_id", "fixed_ip_address", "description"])?;
    if let Some(d) = v::opt_str(body, "description", 255)? {
        f.insert("description".into(), json!(d));
        touch(&mut f);
    }
    let fixed = v::opt_nullable_str(body, "fixed_ip_address", 64)?.flatten();
    match v::opt_nullable_uuid(body, "port_id")? {
        Some(None) => clear_association(&mut f),
        Some(Some(pid)) => associate(st, ctx, &mut f, &pid, fixed)?,
        None if fixed.is_some() => {
            let pid = str_of(&f, "port_id").to_owned();
            if pid.is_empty() {
                return Err(Error::bad("BadRequest", "Bad floatingip request: fixed_ip_address cannot be specified without a port_id."));
            }
            associate(st, ctx, &mut f, &pid, fixed)?;
        }
        None => {}
    }
    st.put(Kind::FloatingIp, f.clone());
    Ok(f)
}

pub fn delete(st: &mut State, ctx: &Ctx, id: &str) -> Result<()> {
    ctx.can_write("delete_floatingip")?;
    let f = super::fetch_owned(st, Kind::FloatingIp, id, ctx, "delete_floatingip")?;
    let port = str_of(f, "_port").to_owned();
    st.remove(Kind::FloatingIp, id);
    ports::remove(st, &port);
    Ok(())
}
