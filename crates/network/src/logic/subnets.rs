//! Subnets and their IPAM: cidr checks, gateway, allocation pools.

use serde_json::{json, Value};

use super::{new_obj, owner_project, quotas, touch, validate as v, Ctx};
use crate::error::{Error, Result};
use crate::ipam::{fmt_ip, parse_ip, pools_without, Cidr};
use crate::state::{fixed_ip_key, str_of, Kind, Obj, State, FIXED_IP};

const CREATE_KEYS: &[&str] = &[
    "name",
    "description",
    "network_id",
    "ip_version",
    "cidr",
    "gateway_ip",
    "allocation_pools",
    "dns_nameservers",
    "host_routes",
    "enable_dhcp",
    "ipv6_ra_mode",
    "ipv6_address_mode",
    "subnetpool_id",
    "use_default_subnetpool",
    "prefixlen",
    "project_id",
    "tenant_id",
    "tags",
];

const UPDATE_KEYS: &[&str] = &[
    "name",
    "description",
    "gateway_ip",
    "allocation_pools",
    "dns_nameservers",
    "host_routes",
    "enable_dhcp",
];

const V6_MODES: &[&str] = &["slaac", "dhcpv6-stateful", "dhcpv6-stateless"];

pub fn cidr_of(sub: &Obj) -> Option<Cidr> {
    Cidr::parse(str_of(sub, "cidr"))
}

pub fn is_v6(sub: &Obj) -> bool {
    sub.get("ip_version").and_then(Value::as_i64) == Some(6)
}

/// IPv6 subnets whose addresses come from the MAC (SLAAC, DHCPv6-stateless).
pub fn is_auto_address(sub: &Obj) -> bool {
    is_v6(sub)
        && matches!(
            str_of(sub, "ipv6_address_mode"),
            "slaac" | "dhcpv6-stateless"
        )
}

pub fn pools_of(sub: &Obj) -> Vec<(u128, u128)> {
    sub.get("allocation_pools")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .filter_map(|p| {
                    let s = parse_ip(p["start"].as_str()?)?.0;
                    let e = parse_ip(p["end"].as_str()?)?.0;
                    Some((s, e))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The lowest address of the subnet's pools for which `used` (exact: it
/// sees the write in progress) is false. Addresses the kept state already
/// gives to ports are skipped without asking `used`, so a nearly full subnet
/// costs a walk over integers, not a lookup per address.
pub fn lowest_free(st: &State, sub: &Obj, used: impl Fn(u128) -> bool) -> Option<u128> {
    let sid = str_of(sub, "id");
    for (start, end) in pools_of(sub) {
        let mut kept = st.kept_fixed_ips(sid, start, end).peekable();
        let mut a = start;
        loop {
            while kept.next_if(|t| *t < a).is_some() {}
            if kept.peek() != Some(&a) && !used(a) {
                return Some(a);
            }
            if a == end {
                break;
            }
            a += 1;
        }
    }
    None
}

/// Whether a port other than `except` holds `addr` on the subnet.
pub fn ip_used(st: &State, subnet_id: &str, addr: u128, except: Option<&str>) -> bool {
    st.any_by(Kind::Port, FIXED_IP, &fixed_ip_key(subnet_id, addr), |p| {
        Some(str_of(p, "id")) != except
    })
}

fn pools_json(pools: &[(u128, u128)], v6: bool) -> Value {
    json!(pools
        .iter()
        .map(|(s, e)| json!({"start": fmt_ip(*s, v6), "end": fmt_ip(*e, v6)}))
        .collect::<Vec<_>>())
}

/// A subnet with neither a CIDR nor a pool was refused above.
fn unreachable_cidr() -> Result<Cidr> {
    Err(Error::bad(
        "BadRequest",
        "Bad subnets request: a cidr must be specified in the absence of a subnet pool.",
    ))
}

fn ip_version(body: &Obj) -> Result<i64> {
    match v::opt_int(body, "ip_version")? {
        Some(Some(n)) if n == 4 || n == 6 => Ok(n),
        None => Err(v::missing("ip_version")),
        _ => Err(Error::invalid_attr(
            "ip_version",
            format!(
                "{} is not in [4, 6]",
                body.get("ip_version").cloned().unwrap_or(Value::Null)
            ),
        )),
    }
}

pub fn create(st: &mut State, ctx: &Ctx, body: &Obj) -> Result<Obj> {
    ctx.can_write("create_subnet")?;
    v::known_keys(body, CREATE_KEYS)?;
    let net_id = v::req_uuid(body, "network_id")?;
    let version = ip_version(body)?;
    let net = super::fetch(st, Kind::Network, &net_id, ctx)?.clone();
    if !ctx.owns(&net) {
        return Err(Error::policy("create_subnet"));
    }
    let project = owner_project(body, ctx)?;
    let mut pool = v::opt_nullable_str(body, "subnetpool_id", 64)?.flatten();
    if pool.is_none() && v::opt_bool(body, "use_default_subnetpool")? == Some(true) {
        pool = Some(
            super::subnetpools::default_pool(st, version).ok_or_else(|| {
                Error::bad(
                    "BadRequest",
                    "Bad subnets request: use_default_subnetpool is set but there is no default subnet pool for this IP version.",
                )
            })?,
        );
    }
    let raw = v::opt_str(body, "cidr", 64)?;
    if raw.is_none() && pool.is_none() {
        return Err(Error::bad(
            "BadRequest",
            "Bad subnets request: a cidr must be specified in the absence of a subnet pool.",
        ));
    }
    let parsed = match &raw {
        Some(raw) => Some(
            Cidr::parse(raw)
                .filter(|c| raw.contains('/') || c.prefix == c.bits())
                .ok_or_else(|| {
                    Error::invalid_attr("cidr", format!("'{raw}' is not a valid IP subnet"))
                })?,
        ),
        None => None,
    };
    let prefixlen = match v::opt_int(body, "prefixlen")? {
        Some(Some(n)) if raw.is_some() => {
            return Err(Error::bad(
                "BadRequest",
                format!("Bad subnets request: cidr and prefixlen must not be supplied together (prefixlen {n})."),
            ))
        }
        other => other.flatten(),
    };
    let raw = raw.unwrap_or_default();
    let cidr = match (&pool, parsed) {
        (Some(pid), c) => {
            if let Some(c) = c.filter(|c| !c.is_network()) {
                return Err(Error::invalid_attr(
                    "cidr",
                    format!(
                        "'{raw}' isn't a recognized IP subnet cidr, '{}' is recommended",
                        c.net_string()
                    ),
                ));
            }
            super::subnetpools::allocate(st, ctx, pid, version, c, prefixlen)?
        }
        (None, Some(c)) => c,
        (None, None) => unreachable_cidr()?,
    };
    let raw = if raw.is_empty() {
        cidr.net_string()
    } else {
        raw
    };
    if !cidr.is_network() {
        return Err(Error::invalid_attr(
            "cidr",
            format!(
                "'{raw}' isn't a recognized IP subnet cidr, '{}' is recommended",
                cidr.net_string()
            ),
        ));
    }
    if (version == 6) != cidr.v6 {
        return Err(Error::invalid_input(format!(
            "Cidr {raw} does not match ip_version {version}"
        )));
    }
    if cidr.prefix == 0 {
        return Err(Error::invalid_input(
            "0 is not allowed as CIDR prefix length",
        ));
    }
    for other in st.by(Kind::Subnet, "network_id", &net_id) {
        if cidr_of(other).is_some_and(|o| o.overlaps(&cidr)) {
            return Err(Error::invalid_input(format!(
                "Requested subnet with cidr: {} for network: {net_id} overlaps with another subnet",
                cidr.net_string()
            )));
        }
    }
    quotas::check(st, &project, Kind::Subnet)?;
    let mut s = new_obj(&project);
    s.insert("name".into(), json!(""));
    s.insert("network_id".into(), json!(net_id));
    s.insert("ip_version".into(), json!(version));
    s.insert("cidr".into(), json!(cidr.net_string()));
    s.insert("subnetpool_id".into(), json!(pool));
    s.insert("enable_dhcp".into(), json!(true));
    s.insert("ipv6_ra_mode".into(), Value::Null);
    s.insert("ipv6_address_mode".into(), Value::Null);
    s.insert("dns_nameservers".into(), json!([]));
    s.insert("host_routes".into(), json!([]));
    super::apply_name_desc(&mut s, body)?;
    ipv6_modes(&mut s, body, version)?;
    let gateway = match v::opt_nullable_str(body, "gateway_ip", 64)? {
        None => cidr
            .host_range()
            .map(|(first, _)| first)
            .filter(|_| cidr.v6 || cidr.prefix < 31),
        Some(None) => None,
        // "" is no address (Neutron: 400), not "no gateway" (null is).
        Some(Some(g)) => Some(gateway_addr(&cidr, &g)?),
    };
    s.insert(
        "gateway_ip".into(),
        json!(gateway.map(|g| fmt_ip(g, cidr.v6))),
    );
    let pools = match v::opt_obj_list(body, "allocation_pools")? {
        Some(list) => explicit_pools(&cidr, &list, gateway)?,
        None => cidr
            .host_range()
            .map(|r| pools_without(r, gateway))
            .unwrap_or_default(),
    };
    s.insert("allocation_pools".into(), pools_json(&pools, cidr.v6));
    apply_dhcp_dns_routes(&mut s, body, &cidr)?;
    let out = s.clone();
    st.put(Kind::Subnet, s);
    Ok(out)
}

fn ipv6_modes(s: &mut Obj, body: &Obj, version: i64) -> Result<()> {
    let ra = v::opt_nullable_str(body, "ipv6_ra_mode", 32)?.flatten();
    let addr = v::opt_nullable_str(body, "ipv6_address_mode", 32)?.flatten();
    for (key, val) in [("ipv6_ra_mode", &ra), ("ipv6_address_mode", &addr)] {
        if let Some(m) = val {
            if !V6_MODES.contains(&m.as_str()) {
                return Err(Error::invalid_attr(
                    key,
                    format!("'{m}' is not in {V6_MODES:?}"),
                ));
            }
            if version != 6 {
                return Err(Error::invalid_input(format!(
                    "{key} is not valid when ip_version is 4"
                )));
            }
        }
    }
    if let (Some(r), Some(a)) = (&ra, &addr) {
        if r != a {
            return Err(Error::invalid_input(format!(
                "ipv6_ra_mode set to '{r}' with ipv6_address_mode set to '{a}' is not valid. If both attributes are set, they must be the same value"
            )));
        }
    }
    s.insert("ipv6_ra_mode".into(), json!(ra));
    s.insert("ipv6_address_mode".into(), json!(addr));
    Ok(())
}

fn gateway_addr(cidr: &Cidr, g: &str) -> Result<u128> {
    let (addr, v6) = parse_ip(g).ok_or_else(|| {
        Error::invalid_attr("gateway_ip", format!("'{g}' is not a valid IP address"))
    })?;
    if v6 != cidr.v6 {
        return Err(Error::invalid_input(format!(
            "gateway_ip {g} does not match the ip_version of the subnet"
        )));
    }
    if cidr.contains(addr, v6)
        && ((!v6 && cidr.prefix < 31 && (addr == cidr.first() || addr == cidr.last()))
            || (v6 && cidr.prefix < 127 && addr == cidr.first()))
    {
        return Err(Error::invalid_input(format!(
            "Gateway is not valid on subnet: {g} is the network or broadcast address"
        )));
    }
    Ok(addr)
}

fn explicit_pools(cidr: &Cidr, list: &[Obj], gateway: Option<u128>) -> Result<Vec<(u128, u128)>> {
    let mut pools = vec![];
    let range = cidr.host_range().unwrap_or((cidr.first(), cidr.last()));
    for p in list {
        let get = |k: &str| -> Result<u128> {
            let s = p.get(k).and_then(Value::as_str).ok_or_else(|| {
                Error::invalid_attr("allocation_pools", format!("each pool needs '{k}'"))
            })?;
            match parse_ip(s) {
                Some((a, v6)) if v6 == cidr.v6 => Ok(a),
                _ => Err(Error::invalid_attr(
                    "allocation_pools",
                    format!("'{s}' is not a valid IP address of the subnet's version"),
                )),
            }
        };
        let (s, e) = (get("start")?, get("end")?);
        if s > e {
            return Err(Error::bad(
                "InvalidAllocationPool",
                format!(
                    "The allocation pool {}-{} is not valid.",
                    fmt_ip(s, cidr.v6),
                    fmt_ip(e, cidr.v6)
                ),
            ));
        }
        if s < range.0 || e > range.1 {
            return Err(Error::bad(
                "OutOfBoundsAllocationPool",
                format!(
                    "The allocation pool {}-{} spans beyond the subnet cidr {}.",
                    fmt_ip(s, cidr.v6),
                    fmt_ip(e, cidr.v6),
                    cidr.net_string()
                ),
            ));
        }
        pools.push((s, e));
    }
    pools.sort();
    for w in pools.windows(2) {
        if w[1].0 <= w[0].1 {
            return Err(Error::bad(
                "OverlappingAllocationPools",
                format!(
                    "Found overlapping allocation pools: {}-{} and {}-{} for subnet {}.",
                    fmt_ip(w[0].0, cidr.v6),
                    fmt_ip(w[0].1, cidr.v6),
                    fmt_ip(w[1].0, cidr.v6),
                    fmt_ip(w[1].1, cidr.v6),
                    cidr.net_string()
                ),
            ));
        }
    }
    if let Some(g) = gateway {
        if pools.iter().any(|(s, e)| g >= *s && g <= *e) {
            return Err(Error::conflict(
                "GatewayConflictWithAllocationPools",
                format!(
                    "Gateway ip {} conflicts with allocation pool {}",
                    fmt_ip(g, cidr.v6),
                    pools
                        .iter()
                        .map(|(s, e)| format!("{}-{}", fmt_ip(*s, cidr.v6), fmt_ip(*e, cidr.v6)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    Ok(pools)
}

fn apply_dhcp_dns_routes(s: &mut Obj, body: &Obj, cidr: &Cidr) -> Result<()> {
    if let Some(b) = v::opt_bool(body, "enable_dhcp")? {
        s.insert("enable_dhcp".into(), json!(b));
    }
    if let Some(dns) = v::opt_str_list(body, "dns_nameservers")? {
        let mut seen = vec![];
        for d in &dns {
            if parse_ip(d).is_none() {
                return Err(Error::invalid_attr(
                    "dns_nameservers",
                    format!("'{d}' is not a valid nameserver"),
                ));
            }
            if seen.contains(d) {
                return Err(Error::invalid_attr(
                    "dns_nameservers",
                    format!("Duplicate nameserver '{d}'"),
                ));
            }
            seen.push(d.clone());
        }
        if dns.len() > 5 {
            return Err(Error::bad(
                "DNSNameServersExhausted",
                "Unable to complete operation: the number of DNS nameservers exceeds the limit 5.",
            ));
        }
        s.insert("dns_nameservers".into(), json!(dns));
    }
    if let Some(routes) = v::opt_obj_list(body, "host_routes")? {
        let mut out: Vec<Value> = vec![];
        for r in &routes {
            v::known_keys(r, &["destination", "nexthop"])?;
            let dest = r
                .get("destination")
                .and_then(Value::as_str)
                .and_then(Cidr::parse);
            let hop = r.get("nexthop").and_then(Value::as_str).and_then(parse_ip);
            let (Some(dest), Some((hop, hop_v6))) = (dest, hop) else {
                return Err(Error::invalid_attr(
                    "host_routes",
                    format!("{} is not a valid host route", Value::Object(r.clone())),
                ));
            };
            if dest.v6 != cidr.v6 || hop_v6 != cidr.v6 {
                return Err(Error::invalid_input(
                    "host route addresses must match the subnet's ip_version",
                ));
            }
            let entry = json!({"destination": dest.net_string(), "nexthop": fmt_ip(hop, hop_v6)});
            if out.contains(&entry) {
                return Err(Error::invalid_attr("host_routes", "Duplicate hostroute"));
            }
            out.push(entry);
        }
        s.insert("host_routes".into(), json!(out));
    }
    Ok(())
}

pub fn update(st: &mut State, ctx: &Ctx, id: &str, body: &Obj) -> Result<Obj> {
    ctx.can_write("update_subnet")?;
    let mut s = super::fetch_owned(st, Kind::Subnet, id, ctx, "update_subnet")?.clone();
    v::read_only(
        body,
        &[
            "id",
            "cidr",
            "ip_version",
            "network_id",
            "project_id",
            "tenant_id",
            "subnetpool_id",
            "ipv6_ra_mode",
            "ipv6_address_mode",
        ],
    )?;
    v::known_keys(body, UPDATE_KEYS)?;
    let cidr = cidr_of(&s).ok_or_else(|| Error::internal("stored subnet has no cidr"))?;
    super::apply_name_desc(&mut s, body)?;
    let mut gateway = parse_ip(str_of(&s, "gateway_ip")).map(|(a, _)| a);
    if let Some(g) = v::opt_nullable_str(body, "gateway_ip", 64)? {
        gateway = match g {
            Some(g) => Some(gateway_addr(&cidr, &g)?),
            None => None,
        };
        if let Some(g) = gateway {
            let holder = st.iter(Kind::Port).find(|p| {
                p["fixed_ips"].as_array().is_some_and(|ips| {
                    ips.iter().any(|ip| {
                        ip["subnet_id"] == json!(id)
                            && ip["ip_address"] == json!(fmt_ip(g, cidr.v6))
                    })
                }) && str_of(p, "device_owner") != "network:router_interface"
            });
            if holder.is_some() {
                return Err(Error::conflict(
                    "GatewayIpInUse",
                    format!(
                        "Gateway ip {} conflicts with an allocated IP on subnet {id}.",
                        fmt_ip(g, cidr.v6)
                    ),
                ));
            }
        }
        s.insert(
            "gateway_ip".into(),
            json!(gateway.map(|g| fmt_ip(g, cidr.v6))),
        );
    }
    let pools = match v::opt_obj_list(body, "allocation_pools")? {
        Some(list) => explicit_pools(&cidr, &list, gateway)?,
        None => pools_of(&s),
    };
    if let Some(g) = gateway {
        if pools.iter().any(|(a, b)| g >= *a && g <= *b) {
            return Err(Error::conflict(
                "GatewayConflictWithAllocationPools",
                format!(
                    "Gateway ip {} conflicts with the allocation pools of subnet {id}",
                    fmt_ip(g, cidr.v6)
                ),
            ));
        }
    }
    s.insert("allocation_pools".into(), pools_json(&pools, cidr.v6));
    apply_dhcp_dns_routes(&mut s, body, &cidr)?;
    touch(&mut s);
    let out = s.clone();
    st.put(Kind::Subnet, s);
    Ok(out)
}

pub fn delete(st: &mut State, ctx: &Ctx, id: &str) -> Result<()> {
    ctx.can_write("delete_subnet")?;
    let sub = super::fetch_owned(st, Kind::Subnet, id, ctx, "delete_subnet")?.clone();
    let auto = is_auto_address(&sub);
    let holders: Vec<Obj> = st
        .iter(Kind::Port)
        .filter(|p| {
            p["fixed_ips"]
                .as_array()
                .is_some_and(|ips| ips.iter().any(|ip| ip["subnet_id"] == json!(id)))
        })
        .cloned()
        .collect();
    for p in &holders {
        let owner = str_of(p, "device_owner");
        let removable = super::networks::AUTO_DELETE_OWNERS.contains(&owner)
            || (auto && !owner.starts_with("network:router"));
        if !removable {
            return Err(Error::conflict("SubnetInUse", format!(
                "Unable to complete operation on subnet {id}: One or more ports have an IP allocation from this subnet."
            )));
        }
    }
    for p in holders {
        let pid = str_of(&p, "id").to_owned();
        if let Some(port) = st.get_mut(Kind::Port, &pid) {
            if let Some(Value::Array(ips)) = port.get_mut("fixed_ips") {
                ips.retain(|ip| ip["subnet_id"] != json!(id));
            }
            touch(port);
        }
    }
    st.remove(Kind::Subnet, id);
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn obj(v: Value) -> Obj {
        let Value::Object(o) = v else { unreachable!() };
        o
    }

    fn port(id: &str, ip: &str) -> Obj {
        obj(json!({"id": id, "fixed_ips": [{"subnet_id": "s", "ip_address": ip}]}))
    }

    #[test]
    fn lowest_free_skips_kept_and_asks_about_the_rest() {
        let sub = obj(json!({"id": "s", "allocation_pools": [
            {"start": "10.0.0.2", "end": "10.0.0.4"}, {"start": "10.0.0.10", "end": "10.0.0.11"}]}));
        let ip = |s: &str| parse_ip(s).unwrap().0;
        let mut st = State::default();
        st.put(Kind::Port, port("a", "10.0.0.2"));
        st.put(Kind::Port, port("b", "10.0.0.4"));
        st.put(Kind::Port, port("other-subnet", "10.0.0.3"));
        st.get_mut(Kind::Port, "other-subnet").unwrap()["fixed_ips"][0]["subnet_id"] = json!("t");
        st.clear_dirty();
        assert_eq!(
            lowest_free(&st, &sub, |a| ip_used(&st, "s", a, None)),
            Some(ip("10.0.0.3"))
        );
        // A port of the write in progress takes .3: the next pool's first.
        st.put(Kind::Port, port("c", "10.0.0.3"));
        assert_eq!(
            lowest_free(&st, &sub, |a| ip_used(&st, "s", a, None)),
            Some(ip("10.0.0.10"))
        );
        assert_eq!(
            lowest_free(&st, &sub, |a| a == ip("10.0.0.10")
                || ip_used(&st, "s", a, None)),
            Some(ip("10.0.0.11"))
        );
        assert_eq!(lowest_free(&st, &sub, |_| true), None);
        // Excepting the port being updated frees its own address.
        st.clear_dirty();
        assert!(ip_used(&st, "s", ip("10.0.0.2"), None));
        assert!(!ip_used(&st, "s", ip("10.0.0.2"), Some("a")));
    }
}
