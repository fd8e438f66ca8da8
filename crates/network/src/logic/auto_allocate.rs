//! Auto-allocated topology (`auto-allocated-topology`, "get me a network"):
//! a project's network, IPv4 subnet and router with its gateway on the
//! default external network, made on first request and kept with the
//! network (`_auto_allocated_for` / `_auto_allocated_router`).
//!
//! Without subnet pools the subnet's cidr is the first `10.x.y.0/24` that
//! overlaps none of the project's subnets nor the external network's.

use serde_json::{json, Value};

use super::{networks, routers, subnets, touch, Ctx};
use crate::error::{Error, Result};
use crate::ipam::Cidr;
use crate::state::{bool_of, str_of, Kind, Obj, State};

/// The hidden field naming the project whose topology a network is.
const FOR: &str = "_auto_allocated_for";
/// The hidden field naming the topology's router (on the network).
const ROUTER: &str = "_auto_allocated_router";

pub const NETWORK_NAME: &str = "auto_allocated_network";
pub const SUBNET_NAME: &str = "auto_allocated_subnet_v4";
pub const ROUTER_NAME: &str = "auto_allocated_router";

/// The project a request is about: `None` means the caller's own; only the
/// admin may name another (Neutron's `NotAuthorized`).
pub fn project(ctx: &Ctx, project_id: &str) -> Result<String> {
    let project = if project_id == "None" {
        ctx.project_id.as_str()
    } else {
        project_id
    };
    if project.is_empty() || (!ctx.admin && project != ctx.project_id) {
        return Err(Error::new(
            http::StatusCode::FORBIDDEN,
            "NotAuthorized",
            "Not authorized.",
        ));
    }
    if project.len() > 255 {
        return Err(Error::invalid_attr(
            "project_id",
            "it exceeds maximum length of 255",
        ));
    }
    Ok(project.to_owned())
}

fn failure(reason: &str) -> Error {
    Error::conflict(
        "AutoAllocationFailure",
        format!("Deployment error: {reason}."),
    )
}

/// The `auto_allocated_topology` body.
pub fn view(id: &str, project: &str) -> Value {
    json!({"id": id, "tenant_id": project, "project_id": project})
}

/// The default external network (the oldest if, somehow, several).
pub fn default_external(st: &State) -> Result<String> {
    st.iter(Kind::Network)
        .filter(|n| bool_of(n, "router:external") && bool_of(n, "is_default"))
        .min_by_key(|n| (str_of(n, "created_at"), str_of(n, "id")))
        .map(|n| str_of(n, "id").to_owned())
        .ok_or_else(|| failure("No default router:external network"))
}

/// The project's auto-allocated network, if it has one.
pub fn network_of(st: &State, project: &str) -> Option<String> {
    st.by(Kind::Network, FOR, project)
        .first()
        .map(|n| str_of(n, "id").to_owned())
}

/// The project's network, building the topology when it has none.
pub fn get_or_create(st: &mut State, project: &str) -> Result<String> {
    if let Some(id) = network_of(st, project) {
        return Ok(id);
    }
    let ext = default_external(st)?;
    let ctx = service_ctx(project);
    let (net_id, subnet_id) = private_network(st, &ctx, &ext)?;
    let router_id = connect(st, &ctx, &ext, &subnet_id)?;
    let mut n = st
        .get(Kind::Network, &net_id)
        .cloned()
        .ok_or_else(|| Kind::Network.not_found(&net_id))?;
    n.insert(FOR.into(), json!(project));
    n.insert(ROUTER.into(), json!(router_id));
    n.insert("admin_state_up".into(), json!(true));
    touch(&mut n);
    st.put(Kind::Network, n);
    Ok(net_id)
}

/// The topology is made and removed by the service on the project's behalf
/// (Neutron's plugin calls skip the API policy), as a member of it.
fn service_ctx(project: &str) -> Ctx {
    Ctx {
        project_id: project.to_owned(),
        admin: false,
        reader_only: false,
    }
}

/// Errors Neutron reports as a missing requirement rather than as they are.
fn unmet(e: &Error) -> bool {
    matches!(e.status.as_u16(), 400 | 404)
}

/// The network (down until the topology is complete) and its subnet.
fn private_network(st: &mut State, ctx: &Ctx, ext: &str) -> Result<(String, String)> {
    let body = obj(json!({"name": NETWORK_NAME, "admin_state_up": false}));
    let net = networks::create(st, ctx, &body)?;
    let net_id = str_of(&net, "id").to_owned();
    let cidr = free_cidr(st, &ctx.project_id, ext)
        .ok_or_else(|| failure("Unable to provide project private network"))?;
    let body = obj(json!({
        "name": SUBNET_NAME,
        "network_id": net_id,
        "ip_version": 4,
        "cidr": cidr.net_string(),
    }));
    let sub = subnets::create(st, ctx, &body).map_err(|e| {
        if unmet(&e) {
            failure("Unable to provide project private network")
        } else {
            e
        }
    })?;
    Ok((net_id, str_of(&sub, "id").to_owned()))
}

/// The router: gateway on `ext`, an interface on the subnet.
fn connect(st: &mut State, ctx: &Ctx, ext: &str, subnet_id: &str) -> Result<String> {
    let no_uplink = || failure("Unable to provide external connectivity");
    let body = obj(json!({
        "name": ROUTER_NAME,
        "admin_state_up": true,
        "external_gateway_info": {"network_id": ext},
    }));
    let router =
        routers::create(st, ctx, &body).map_err(|e| if unmet(&e) { no_uplink() } else { e })?;
    let gateway_ips = router["external_gateway_info"]["external_fixed_ips"]
        .as_array()
        .map_or(0, Vec::len);
    if gateway_ips == 0 {
        // Neutron: "No IPs available for external network".
        return Err(no_uplink());
    }
    let id = str_of(&router, "id").to_owned();
    let body = obj(json!({"subnet_id": subnet_id}));
    routers::add_interface(st, ctx, &id, &body)
        .map_err(|e| if unmet(&e) { no_uplink() } else { e })?;
    Ok(id)
}

fn obj(v: Value) -> Obj {
    match v {
        Value::Object(o) => o,
        _ => Obj::new(),
    }
}

/// The first `10.x.y.0/24` overlapping no subnet of `project` and none of
/// the external network `ext`.
pub fn free_cidr(st: &State, project: &str, ext: &str) -> Option<Cidr> {
    let mut used: Vec<Cidr> = st
        .iter(Kind::Subnet)
        .filter(|s| str_of(s, "project_id") == project || str_of(s, "network_id") == ext)
        .filter_map(subnets::cidr_of)
        .filter(|c| !c.v6)
        .collect();
    used.sort_by_key(|c| c.first());
    let base: u128 = 10 << 24;
    let end: u128 = base + (1 << 24);
    let mut cand = base;
    while cand < end {
        let c = Cidr {
            addr: cand,
            prefix: 24,
            v6: false,
        };
        match used.iter().find(|u| u.overlaps(&c)) {
            None => return Some(c),
            // Skip past the clash, to the next /24 boundary.
            Some(u) => cand = (u.last() + 1 + 255) & !255,
        }
    }
    None
}

/// Remove the project's topology (interfaces, router, subnet, network), as
/// a whole or not at all: ports still in use make it 409 `NetworkInUse`.
pub fn delete(st: &mut State, project: &str) -> Result<()> {
    let Some(net_id) = network_of(st, project) else {
        return Ok(());
    };
    let ctx = service_ctx(project);
    let router_id = st
        .get(Kind::Network, &net_id)
        .map(|n| str_of(n, ROUTER).to_owned())
        .unwrap_or_default();
    if st.get(Kind::Router, &router_id).is_some() {
        for sid in st.ids_by(Kind::Subnet, "network_id", &net_id) {
            let body = obj(json!({"subnet_id": sid}));
            ignore_not_found(routers::remove_interface(st, &ctx, &router_id, &body))?;
        }
        ignore_not_found(routers::delete(st, &ctx, &router_id))?;
    }
    ignore_not_found(networks::delete(st, &ctx, &net_id))
}

fn ignore_not_found<T>(r: Result<T>) -> Result<()> {
    match r {
        Err(e) if e.status == http::StatusCode::NOT_FOUND => Ok(()),
        Err(e) => Err(e),
        Ok(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subnet(id: &str, project: &str, network: &str, cidr: &str) -> Obj {
        obj(json!({"id": id, "project_id": project, "network_id": network, "cidr": cidr}))
    }

    #[test]
    fn free_cidr_skips_the_projects_and_the_external_subnets() {
        let mut st = State::default();
        let first = |st: &State| free_cidr(st, "p1", "ext").map(|c| c.net_string());
        assert_eq!(first(&st).as_deref(), Some("10.0.0.0/24"));
        st.put(Kind::Subnet, subnet("s1", "p1", "n1", "10.0.0.0/26"));
        st.put(Kind::Subnet, subnet("s2", "admin", "ext", "10.0.1.128/25"));
        st.put(Kind::Subnet, subnet("s3", "p2", "n2", "10.0.2.0/24"));
        st.put(Kind::Subnet, subnet("s4", "p1", "n1", "fd00::/64"));
        assert_eq!(first(&st).as_deref(), Some("10.0.2.0/24"));
        st.put(Kind::Subnet, subnet("s5", "p1", "n3", "10.0.0.0/15"));
        assert_eq!(first(&st).as_deref(), Some("10.2.0.0/24"));
        st.put(Kind::Subnet, subnet("s6", "p1", "n4", "10.0.0.0/8"));
        assert_eq!(first(&st), None);
    }
}
