//! Ports: MAC generation, fixed-IP allocation, security groups, address
//! pairs, binding attributes and status.

use rand::Rng;
use serde_json::{json, Value};

use super::subnets::{cidr_of, ip_used, is_auto_address, lowest_free};
use super::{new_obj, owner_project, quotas, secgroups, touch, validate as v, Ctx};
use crate::error::{Error, Result};
use crate::ipam::{fmt_ip, parse_ip, Cidr};
use crate::state::{bool_of, str_of, Kind, Obj, State};

const CREATE_KEYS: &[&str] = &[
    "name",
    "description",
    "network_id",
    "admin_state_up",
    "mac_address",
    "fixed_ips",
    "device_id",
    "device_owner",
    "security_groups",
    "allowed_address_pairs",
    "port_security_enabled",
    "binding:host_id",
    "binding:profile",
    "binding:vnic_type",
    "extra_dhcp_opts",
    "project_id",
    "tenant_id",
    "tags",
];

const VNIC_TYPES: &[&str] = &[
    "normal",
    "direct",
    "macvtap",
    "baremetal",
    "direct-physical",
    "virtio-forwarder",
    "smart-nic",
    "vdpa",
    "remote-managed",
];

/// Device owners of ports the L3 service manages.
pub const L3_OWNERS: &[&str] = &[
    "network:router_interface",
    "network:router_gateway",
    "network:floatingip",
];

/// Attributes only the network's owner (or an admin) may set, as in
/// Neutron's policy: what the data plane trusts (the port's MAC, its
/// spoofing checks, a `network:` owner) must not be chosen by another
/// project on a shared network. (Neutron's policy also reserves a chosen
/// fixed address; here any project may ask for a free one — IPAM keeps
/// addresses unique, and Nova's interface attach with a fixed IP on a
/// shared network keeps working.)
fn network_owner_only(ctx: &Ctx, net: &Obj, body: &Obj, action: &str) -> Result<()> {
    if ctx.owns(net) {
        return Ok(());
    }
    let network_owner = body
        .get("device_owner")
        .and_then(Value::as_str)
        .is_some_and(|o| o.starts_with("network:"));
    let attr = if body.contains_key("mac_address") {
        "mac_address"
    } else if body.contains_key("port_security_enabled") {
        "port_security_enabled"
    } else if body.contains_key("allowed_address_pairs") {
        "allowed_address_pairs"
    } else if network_owner {
        "device_owner"
    } else {
        return Ok(());
    };
    Err(Error::policy(&format!("{action}:{attr}")))
}

pub fn create(st: &mut State, ctx: &Ctx, body: &Obj) -> Result<Obj> {
    ctx.can_write("create_port")?;
    v::known_keys(body, CREATE_KEYS)?;
    let net_id = v::req_uuid(body, "network_id")?;
    let net = super::fetch(st, Kind::Network, &net_id, ctx)?;
    if !ctx.owns(net) && !bool_of(net, "shared") {
        return Err(Error::policy("create_port"));
    }
    network_owner_only(ctx, net, body, "create_port")?;
    for admin_attr in ["binding:host_id", "binding:profile"] {
        if body.contains_key(admin_attr) && !ctx.admin {
            return Err(Error::policy(&format!("create_port:{admin_attr}")));
        }
    }
    let project = owner_project(body, ctx)?;
    quotas::check(st, &project, Kind::Port)?;
    build(st, &project, &net_id, body)
}

/// Create a port on `net_id` for `project` (no policy checks: callers did them).
pub fn build(st: &mut State, project: &str, net_id: &str, body: &Obj) -> Result<Obj> {
    let net = st
        .get(Kind::Network, net_id)
        .cloned()
        .ok_or_else(|| Kind::Network.not_found(net_id))?;
    let mut p = new_obj(project);
    let id = str_of(&p, "id").to_owned();
    p.insert("name".into(), json!(""));
    p.insert("network_id".into(), json!(net_id));
    p.insert("admin_state_up".into(), json!(true));
    p.insert("device_id".into(), json!(""));
    p.insert("device_owner".into(), json!(""));
    p.insert("allowed_address_pairs".into(), json!([]));
    p.insert("binding:host_id".into(), json!(""));
    p.insert("binding:profile".into(), json!({}));
    p.insert("binding:vnic_type".into(), json!("normal"));
    p.insert("extra_dhcp_opts".into(), json!([]));
    super::apply_name_desc(&mut p, body)?;
    apply_simple(&mut p, body)?;
    let mac = match v::opt_str(body, "mac_address", 32)? {
        Some(m) => {
            let m = valid_mac(&m)?;
            check_mac_free(st, net_id, &m, None)?;
            m
        }
        None => new_mac(st, net_id)?,
    };
    p.insert("mac_address".into(), json!(mac));
    let req = v::opt_obj_list(body, "fixed_ips")?;
    let ips = allocate(
        st,
        net_id,
        req.as_deref(),
        &mac,
        &id,
        str_of(&p, "device_owner"),
        &[],
    )?;
    p.insert("fixed_ips".into(), json!(ips));
    let psec = v::opt_bool(body, "port_security_enabled")?
        .unwrap_or_else(|| bool_of(&net, "port_security_enabled"));
    p.insert("port_security_enabled".into(), json!(psec));
    let sgs = match v::opt_str_list(body, "security_groups")? {
        Some(list) => resolve_groups(st, project, &list)?,
        None if psec && !str_of(&p, "device_owner").starts_with("network:") => {
            vec![secgroups::ensure_default(st, project)?]
        }
        None => vec![],
    };
    if !psec && !sgs.is_empty() {
        return Err(port_security_required());
    }
    p.insert("security_groups".into(), json!(sgs));
    address_pairs(&mut p, body)?;
    refresh_status(&mut p);
    let out = p.clone();
    st.put(Kind::Port, p);
    Ok(out)
}

fn port_security_required() -> Error {
    Error::bad(
        "PortSecurityAndIPRequiredForSecurityGroups",
        "Port security must be enabled and port must have an IP address in order to use security groups.",
    )
}

/// `extra_dhcp_opts`: merged by (opt_name, ip_version); a null value removes one.
fn dhcp_opts(p: &mut Obj, body: &Obj) -> Result<()> {
    let Some(list) = v::opt_obj_list(body, "extra_dhcp_opts")? else {
        return Ok(());
    };
    let mut opts: Vec<Value> = p["extra_dhcp_opts"].as_array().cloned().unwrap_or_default();
    for o in &list {
        v::known_keys(o, &["opt_name", "opt_value", "ip_version"])?;
        let name = v::req_str(o, "opt_name", 255)?;
        let version = match v::opt_int(o, "ip_version")?.flatten() {
            None => 4,
            Some(n) if n == 4 || n == 6 => n,
            Some(n) => {
                return Err(Error::invalid_attr(
                    "extra_dhcp_opts",
                    format!("ip_version {n} is not in [4, 6]"),
                ))
            }
        };
        let value = v::opt_nullable_str(o, "opt_value", 255)?.flatten();
        opts.retain(|x| !(x["opt_name"] == json!(name) && x["ip_version"] == json!(version)));
        if let Some(value) = value {
            opts.push(json!({"opt_name": name, "opt_value": value, "ip_version": version}));
        }
    }
    p.insert("extra_dhcp_opts".into(), json!(opts));
    Ok(())
}

/// `admin_state_up`, `device_*`, `binding:*`, `extra_dhcp_opts`.
fn apply_simple(p: &mut Obj, body: &Obj) -> Result<()> {
    dhcp_opts(p, body)?;
    if let Some(b) = v::opt_bool(body, "admin_state_up")? {
        p.insert("admin_state_up".into(), json!(b));
    }
    for key in ["device_id", "device_owner"] {
        if let Some(s) = v::opt_nullable_str(body, key, 255)? {
            p.insert(key.into(), json!(s.unwrap_or_default()));
        }
    }
    if let Some(h) = v::opt_nullable_str(body, "binding:host_id", 255)? {
        p.insert("binding:host_id".into(), json!(h.unwrap_or_default()));
    }
    match body.get("binding:profile") {
        None => {}
        Some(Value::Null) => {
            p.insert("binding:profile".into(), json!({}));
        }
        Some(Value::Object(o)) => {
            p.insert("binding:profile".into(), Value::Object(o.clone()));
        }
        Some(other) => {
            return Err(Error::invalid_attr(
                "binding:profile",
                format!("{other} is not a dictionary"),
            ))
        }
    }
    if let Some(t) = v::opt_str(body, "binding:vnic_type", 64)? {
        if !VNIC_TYPES.contains(&t.as_str()) {
            return Err(Error::invalid_attr(
                "binding:vnic_type",
                format!("'{t}' is not in {VNIC_TYPES:?}"),
            ));
        }
        p.insert("binding:vnic_type".into(), json!(t));
    }
    Ok(())
}

/// `status` and the derived binding attributes: a bound port is a tap in
/// its network's Linux bridge (ML2's linuxbridge binding). With the data
/// plane on, the reconciler then reports the status the kernel shows.
pub fn refresh_status(p: &mut Obj) {
    let bound = !str_of(p, "device_id").is_empty();
    p.insert(
        "status".into(),
        json!(if bound { "ACTIVE" } else { "DOWN" }),
    );
    let host = !str_of(p, "binding:host_id").is_empty();
    p.insert(
        "binding:vif_type".into(),
        json!(if host { "bridge" } else { "unbound" }),
    );
    p.insert(
        "binding:vif_details".into(),
        if host {
            json!({"port_filter": true, "connectivity": "l2"})
        } else {
            json!({})
        },
    );
}

fn valid_mac(m: &str) -> Result<String> {
    let parts: Vec<&str> = m.split([':', '-']).collect();
    let ok = parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()));
    let lower = parts.join(":").to_ascii_lowercase();
    if !ok || lower == "00:00:00:00:00:00" || lower == "ff:ff:ff:ff:ff:ff" {
        return Err(Error::invalid_attr(
            "mac_address",
            format!("'{m}' is not a valid MAC address"),
        ));
    }
    Ok(lower)
}

fn check_mac_free(st: &State, net_id: &str, mac: &str, except: Option<&str>) -> Result<()> {
    let taken = st.any_by(Kind::Port, "mac_address", mac, |p| {
        str_of(p, "network_id") == net_id && Some(str_of(p, "id")) != except
    });
    if taken {
        return Err(Error::conflict(
            "MacAddressInUse",
            format!(
            "Unable to complete operation for network {net_id}. The mac address {mac} is in use."
        ),
        ));
    }
    Ok(())
}

fn new_mac(st: &State, net_id: &str) -> Result<String> {
    let mut rng = rand::thread_rng();
    for _ in 0..64 {
        let b: [u8; 3] = rng.gen();
        let mac = format!("fa:16:3e:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2]);
        if check_mac_free(st, net_id, &mac, None).is_ok() {
            return Ok(mac);
        }
    }
    Err(Error::conflict(
        "MacAddressGenerationFailure",
        format!("Unable to generate unique mac on network {net_id}."),
    ))
}

/// EUI-64 interface identifier of `mac` inside a /64.
fn eui64(cidr: &Cidr, mac: &str) -> u128 {
    let b: Vec<u8> = mac
        .split(':')
        .filter_map(|h| u8::from_str_radix(h, 16).ok())
        .collect();
    if b.len() != 6 {
        return cidr.first() + 1;
    }
    let iid = [b[0] ^ 0x02, b[1], b[2], 0xff, 0xfe, b[3], b[4], b[5]];
    cidr.first() | u64::from_be_bytes(iid) as u128
}

/// Subnets of a network, oldest first.
fn subnets_of(st: &State, net_id: &str) -> Vec<Obj> {
    let mut subs: Vec<Obj> = st
        .by(Kind::Subnet, "network_id", net_id)
        .into_iter()
        .cloned()
        .collect();
    subs.sort_by(|a, b| {
        (str_of(a, "created_at"), str_of(a, "id")).cmp(&(str_of(b, "created_at"), str_of(b, "id")))
    });
    subs
}

fn exhausted(net_id: &str) -> Error {
    Error::conflict(
        "IpAddressGenerationFailure",
        format!("No more IP addresses available on network {net_id}."),
    )
}

/// Fixed IPs for a port: requested entries or one address per IP version
/// (every SLAAC subnet). `keep` are the port's current entries (on update).
pub fn allocate(
    st: &State,
    net_id: &str,
    req: Option<&[Obj]>,
    mac: &str,
    port_id: &str,
    owner: &str,
    keep: &[Value],
) -> Result<Vec<Value>> {
    let subs = subnets_of(st, net_id);
    let mut taken: Vec<(String, u128)> = vec![];
    let mut out: Vec<Value> = vec![];
    let router = owner.starts_with("network:router");
    let push = |out: &mut Vec<Value>, taken: &mut Vec<(String, u128)>, sub: &Obj, addr: u128| {
        let cidr_v6 = super::subnets::is_v6(sub);
        taken.push((str_of(sub, "id").to_owned(), addr));
        out.push(json!({"subnet_id": str_of(sub, "id"), "ip_address": fmt_ip(addr, cidr_v6)}));
    };
    let Some(req) = req else {
        for version6 in [false, true] {
            let mut picked = false;
            let mut any = false;
            for sub in subs.iter().filter(|s| super::subnets::is_v6(s) == version6) {
                any = true;
                let Some(cidr) = cidr_of(sub) else { continue };
                if is_auto_address(sub) {
                    if !router {
                        push(&mut out, &mut taken, sub, eui64(&cidr, mac));
                    }
                    continue;
                }
                if picked {
                    continue;
                }
                let sid = str_of(sub, "id");
                if let Some(a) = lowest_free(st, sub, |a| ip_used(st, sid, a, Some(port_id))) {
                    push(&mut out, &mut taken, sub, a);
                    picked = true;
                }
            }
            let auto_only = subs
                .iter()
                .filter(|s| super::subnets::is_v6(s) == version6)
                .all(is_auto_address);
            if any && !picked && !auto_only {
                return Err(exhausted(net_id));
            }
        }
        return Ok(out);
    };
    for entry in req {
        v::known_keys(entry, &["subnet_id", "ip_address"])?;
        let sid = v::opt_str(entry, "subnet_id", 64)?;
        let ip = v::opt_str(entry, "ip_address", 64)?;
        let sub = match (&sid, &ip) {
            (Some(sid), _) => subs.iter().find(|s| str_of(s, "id") == sid).ok_or_else(|| {
                Error::invalid_input(format!(
                    "Failed to create port on network {net_id}, because fixed_ips included invalid subnet {sid}"
                ))
            })?,
            (None, Some(ip)) => {
                let (a, v6) = parse_ip(ip).ok_or_else(|| Error::invalid_attr("fixed_ips", format!("'{ip}' is not a valid IP address")))?;
                subs.iter().find(|s| cidr_of(s).is_some_and(|c| c.contains(a, v6))).ok_or_else(|| {
                    Error::bad("InvalidIpForNetwork", format!("IP address {ip} is not a valid IP for any of the subnets on the specified network."))
                })?
            }
            (None, None) => {
                return Err(Error::invalid_attr("fixed_ips", "each entry needs subnet_id or ip_address"))
            }
        };
        let sub_id = str_of(sub, "id").to_owned();
        let cidr = cidr_of(sub).ok_or_else(|| Error::internal("stored subnet has no cidr"))?;
        let used = |a: u128| {
            taken.iter().any(|(s, t)| *s == sub_id && *t == a)
                || ip_used(st, &sub_id, a, Some(port_id))
        };
        let addr = match ip {
            Some(ip) => {
                let (a, v6) = parse_ip(&ip).ok_or_else(|| {
                    Error::invalid_attr("fixed_ips", format!("'{ip}' is not a valid IP address"))
                })?;
                let kept = keep.iter().any(|k| {
                    k["subnet_id"] == json!(sub_id)
                        && k["ip_address"].as_str().and_then(parse_ip) == Some((a, v6))
                });
                let reserved =
                    !cidr.v6 && cidr.prefix < 31 && (a == cidr.first() || a == cidr.last());
                if !cidr.contains(a, v6) || reserved {
                    return Err(Error::bad(
                        "InvalidIpForSubnet",
                        format!("IP address {ip} is not a valid IP for the specified subnet."),
                    ));
                }
                if is_auto_address(sub) && !router && !kept && a != eui64(&cidr, mac) {
                    return Err(Error::invalid_input(format!(
                        "IPv6 address {ip} cannot be directly assigned to a port on subnet {sub_id} as the subnet is configured for automatic addresses"
                    )));
                }
                if used(a) {
                    return Err(Error::conflict(
                        "IpAddressAlreadyAllocated",
                        format!("IP address {ip} already allocated in subnet {sub_id}"),
                    ));
                }
                a
            }
            None if is_auto_address(sub) && !router => eui64(&cidr, mac),
            None => {
                let current = keep
                    .iter()
                    .find(|k| k["subnet_id"] == json!(sub_id))
                    .and_then(|k| k["ip_address"].as_str())
                    .and_then(parse_ip);
                match current {
                    Some((a, _)) if !taken.iter().any(|(s, t)| *s == sub_id && *t == a) => a,
                    _ => lowest_free(st, sub, used).ok_or_else(|| exhausted(net_id))?,
                }
            }
        };
        if taken.iter().any(|(s, a)| *s == sub_id && *a == addr) {
            return Err(Error::conflict(
                "IpAddressAlreadyAllocated",
                format!(
                    "IP address {} already allocated in subnet {sub_id}",
                    fmt_ip(addr, cidr.v6)
                ),
            ));
        }
        push(&mut out, &mut taken, sub, addr);
    }
    Ok(out)
}

/// Security group ids of `project` from ids or names.
pub fn resolve_groups(st: &mut State, project: &str, list: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = vec![];
    for g in list {
        let found = match st.get(Kind::SecurityGroup, g) {
            Some(sg) if str_of(sg, "project_id") == project => Some(g.clone()),
            _ => {
                let by_name: Vec<String> = st
                    .iter(Kind::SecurityGroup)
                    .filter(|s| str_of(s, "project_id") == project && str_of(s, "name") == g)
                    .map(|s| str_of(s, "id").to_owned())
                    .collect();
                match (g == "default", by_name.len()) {
                    (true, 0) => Some(secgroups::ensure_default(st, project)?),
                    (_, 1) => by_name.into_iter().next(),
                    _ => None,
                }
            }
        };
        let id = found.ok_or_else(|| Kind::SecurityGroup.not_found(g))?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

fn address_pairs(p: &mut Obj, body: &Obj) -> Result<()> {
    let Some(pairs) = v::opt_obj_list(body, "allowed_address_pairs")? else {
        return Ok(());
    };
    if !pairs.is_empty() && !bool_of(p, "port_security_enabled") {
        return Err(Error::conflict(
            "AddressPairAndPortSecurityRequired",
            "Port Security must be enabled in order to have allowed address pairs on a port.",
        ));
    }
    if pairs.len() > 10 {
        return Err(Error::bad(
            "AllowedAddressPairExhausted",
            "The number of allowed address pair exceeds the maximum 10.",
        ));
    }
    let mut out: Vec<Value> = vec![];
    for pair in &pairs {
        v::known_keys(pair, &["ip_address", "mac_address"])?;
        let ip = v::req_str(pair, "ip_address", 64)?;
        if Cidr::parse(&ip).is_none() {
            return Err(Error::invalid_attr(
                "allowed_address_pairs",
                format!("'{ip}' is not a valid IP address"),
            ));
        }
        let mac = match v::opt_str(pair, "mac_address", 32)? {
            Some(m) => valid_mac(&m)?,
            None => str_of(p, "mac_address").to_owned(),
        };
        let entry = json!({"ip_address": ip, "mac_address": mac});
        if out.contains(&entry) {
            return Err(Error::bad(
                "DuplicateAddressPairInRequest",
                format!(
                    "Request contains duplicate address pair: mac_address {mac} ip_address {ip}."
                ),
            ));
        }
        out.push(entry);
    }
    p.insert("allowed_address_pairs".into(), json!(out));
    Ok(())
}

pub fn update(st: &mut State, ctx: &Ctx, id: &str, body: &Obj) -> Result<Obj> {
    ctx.can_write("update_port")?;
    let mut p = super::fetch_owned(st, Kind::Port, id, ctx, "update_port")?.clone();
    v::read_only(
        body,
        &[
            "id",
            "network_id",
            "status",
            "project_id",
            "tenant_id",
            "binding:vif_type",
            "binding:vif_details",
            "created_at",
            "updated_at",
        ],
    )?;
    v::known_keys(body, CREATE_KEYS)?;
    for admin_attr in ["binding:host_id", "binding:profile"] {
        if body.contains_key(admin_attr) && !ctx.admin {
            return Err(Error::policy(&format!("update_port:{admin_attr}")));
        }
    }
    let net_id = str_of(&p, "network_id").to_owned();
    if let Some(net) = st.get(Kind::Network, &net_id) {
        network_owner_only(ctx, net, body, "update_port")?;
    }
    let project = str_of(&p, "project_id").to_owned();
    super::apply_name_desc(&mut p, body)?;
    if let Some(m) = v::opt_str(body, "mac_address", 32)? {
        let m = valid_mac(&m)?;
        if m != str_of(&p, "mac_address") {
            if !str_of(&p, "binding:host_id").is_empty() {
                return Err(Error::conflict("PortBound", format!("Unable to complete operation on port {id}: the port is bound, its MAC address cannot change.")));
            }
            check_mac_free(st, &net_id, &m, Some(id))?;
            p.insert("mac_address".into(), json!(m));
        }
    }
    apply_simple(&mut p, body)?;
    if let Some(req) = v::opt_obj_list(body, "fixed_ips")? {
        let keep = p["fixed_ips"].as_array().cloned().unwrap_or_default();
        let mac = str_of(&p, "mac_address").to_owned();
        let ips = allocate(
            st,
            &net_id,
            Some(&req),
            &mac,
            id,
            str_of(&p, "device_owner"),
            &keep,
        )?;
        p.insert("fixed_ips".into(), json!(ips));
    }
    if let Some(b) = v::opt_bool(body, "port_security_enabled")? {
        p.insert("port_security_enabled".into(), json!(b));
    }
    if let Some(list) = v::opt_str_list(body, "security_groups")? {
        let sgs = resolve_groups(st, &project, &list)?;
        p.insert("security_groups".into(), json!(sgs));
    }
    let has_sgs = p["security_groups"]
        .as_array()
        .is_some_and(|a| !a.is_empty());
    if !bool_of(&p, "port_security_enabled") {
        if has_sgs {
            return Err(port_security_required());
        }
        let pairs = p["allowed_address_pairs"]
            .as_array()
            .is_some_and(|a| !a.is_empty());
        if pairs && !body.contains_key("allowed_address_pairs") {
            return Err(Error::conflict(
                "AddressPairAndPortSecurityRequired",
                "Port Security must be enabled in order to have allowed address pairs on a port.",
            ));
        }
    }
    address_pairs(&mut p, body)?;
    refresh_status(&mut p);
    touch(&mut p);
    let out = p.clone();
    st.put(Kind::Port, p);
    Ok(out)
}

pub fn delete(st: &mut State, ctx: &Ctx, id: &str) -> Result<()> {
    ctx.can_write("delete_port")?;
    let p = super::fetch_owned(st, Kind::Port, id, ctx, "delete_port")?;
    let owner = str_of(p, "device_owner");
    if L3_OWNERS.contains(&owner) {
        let device = str_of(p, "device_id");
        let alive =
            st.get(Kind::Router, device).is_some() || st.get(Kind::FloatingIp, device).is_some();
        if alive {
            return Err(Error::conflict(
                "L3PortInUse",
                format!(
                "Port {id} cannot be deleted directly via the port API: has device owner {owner}."
            ),
            ));
        }
    }
    remove(st, id);
    Ok(())
}

/// Remove a port, disassociating floating IPs that pointed at it.
pub fn remove(st: &mut State, id: &str) {
    for fip in st.ids_by(Kind::FloatingIp, "port_id", id) {
        if let Some(f) = st.get_mut(Kind::FloatingIp, &fip) {
            super::floatingips::clear_association(f);
        }
    }
    st.remove(Kind::Port, id);
}

/// Addresses of a port's fixed IPs on `subnet_id`.
pub fn has_subnet(p: &Obj, subnet_id: &str) -> bool {
    p["fixed_ips"]
        .as_array()
        .is_some_and(|ips| ips.iter().any(|ip| ip["subnet_id"] == json!(subnet_id)))
}
