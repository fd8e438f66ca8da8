//! Routers, as Neutron's L3 agent builds them: a namespace per router
//! (`{prefix}-r-<router id>`) with a `qr-<port>` leg on each interface's
//! network and a `qg-<port>` leg on the external network (veths whose other
//! ends, `tap<port>`, sit in the networks' bridges), forwarding on, a
//! default route via the external subnet's gateway, the router's extra
//! routes, and an nftables `ip` table doing SNAT (`enable_snat`) and the
//! floating IPs' 1:1 NAT (each floating IP is also a /32 on `qg-`).
//!
//! The world outside each external network is a namespace of its own
//! (`{prefix}-ext-<network id>`): one leg `ex-<net>` in the network's bridge
//! holding every external subnet's `gateway_ip`, as DevStack's `br-ex` does
//! on a host — but never in the host's own namespace.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::{dev_name, ip, nft, ra, Desired, NetResult, Network, Port};

/// A floating IP as the router applies it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FloatingIp {
    pub id: String,
    pub address: String,
    pub fixed: String,
}

/// A router: its interface ports, its gateway port, extra routes, the
/// floating IPs it serves.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Router {
    pub id: String,
    /// `network:router_interface` port ids.
    pub interfaces: Vec<String>,
    /// The `network:router_gateway` port id.
    pub gateway: Option<String>,
    pub enable_snat: bool,
    /// `(destination, nexthop)`.
    pub routes: Vec<(String, String)>,
    pub floating_ips: Vec<FloatingIp>,
}

/// What the routers look like after a reconcile.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoutersObserved {
    /// Router legs that exist and are up (port ids).
    pub active_ports: BTreeSet<String>,
    /// Floating IPs whose NAT is in place.
    pub active_floating_ips: BTreeSet<String>,
    /// `(namespace, network ids)` of each router namespace.
    pub namespaces: Vec<(String, Vec<String>)>,
    /// What could not be built, router by router.
    pub errors: Vec<String>,
}

pub fn router_namespace(prefix: &str, id: &str) -> String {
    format!("{prefix}-r-{id}")
}

pub fn external_namespace(prefix: &str, network_id: &str) -> String {
    format!("{prefix}-ext-{network_id}")
}

/// `addr/len` for each of the port's fixed IPs (the length of its subnet).
fn port_addresses(port: &Port, net: &Network) -> Vec<String> {
    port.fixed_ips
        .iter()
        .filter_map(|(subnet, addr)| {
            let s = net.subnets.iter().find(|s| &s.id == subnet)?;
            let len = s.cidr.split('/').nth(1)?;
            Some(format!("{addr}/{len}"))
        })
        .collect()
}

/// A veth from namespace `ns` (`inner`, with `mac`) into the bridge of
/// `net` in the bridge namespace (`outer`), both up with the network's MTU.
pub(crate) async fn leg(
    br: &str,
    ns: &str,
    inner: &str,
    outer: &str,
    mac: Option<&str>,
    net: &Network,
) -> NetResult<bool> {
    let inside = ip::links(ns).await?;
    let mtu = net.mtu.max(68).to_string();
    let bridge = dev_name("brq", &net.id);
    match inside.iter().find(|l| l.name == inner) {
        Some(l) if l.up && l.mtu == u64::from(net.mtu.max(68)) => {}
        Some(_) => ip::ns(ns, &["link", "set", inner, "mtu", &mtu, "up"]).await?,
        None => {
            // A half-made leg (its peer left behind) would block the name.
            let _ = ip::ns(br, &["link", "del", outer]).await;
            let mut args = vec!["link", "add", inner];
            if let Some(mac) = mac {
                args.extend(["address", mac]);
            }
            args.extend(["type", "veth", "peer", "name", outer, "netns", br]);
            ip::ns(ns, &args).await?;
            ip::ns(ns, &["link", "set", inner, "mtu", &mtu, "up"]).await?;
        }
    }
    let outside = ip::links(br).await?;
    let ok = outside
        .iter()
        .find(|l| l.name == outer)
        .is_some_and(|l| l.up && l.master.as_deref() == Some(bridge.as_str()));
    if !ok {
        ip::ns(
            br,
            &["link", "set", outer, "mtu", &mtu, "master", &bridge, "up"],
        )
        .await?;
    }
    Ok(true)
}

/// Routes with a gateway in `ns`: exactly `want` (`(destination, via)`,
/// `default` for the default route).
async fn sync_routes(ns: &str, want: &BTreeSet<(String, String)>) -> NetResult<()> {
    let have: BTreeSet<(String, String)> = ip::gateway_routes(ns).await?.into_iter().collect();
    for (dst, via) in have.difference(want) {
        ip::ns(ns, &["route", "del", dst, "via", via]).await?;
    }
    for (dst, via) in want.difference(&have) {
        ip::ns(ns, &["route", "replace", dst, "via", via]).await?;
    }
    Ok(())
}

/// The router namespace's NAT table.
fn nat_rules(qg: &str, gateway_ip: Option<&str>, router: &Router) -> String {
    // Connections that came in from outside are marked: only the others
    // are SNATed when they were sent to a floating IP (hairpin).
    let mut pre = format!("    iifname \"{qg}\" meta mark set 0x2\n");
    let mut out = String::new();
    let mut post = String::new();
    for f in &router.floating_ips {
        pre.push_str(&format!("    ip daddr {} dnat to {}\n", f.address, f.fixed));
        // The router itself (and its metadata service) reaches them too.
        out.push_str(&format!("    ip daddr {} dnat to {}\n", f.address, f.fixed));
    }
    // Traffic between the router's own networks keeps its addresses,
    // unless it was sent to a floating IP (hairpin: SNAT below answers it).
    post.push_str(&format!(
        "    oifname != \"{qg}\" ct status & dnat == 0 accept\n"
    ));
    for f in &router.floating_ips {
        post.push_str(&format!(
            "    ip saddr {} oifname \"{qg}\" snat to {}\n",
            f.fixed, f.address
        ));
    }
    if let (true, Some(gw)) = (router.enable_snat, gateway_ip) {
        post.push_str(&format!("    oifname \"{qg}\" snat to {gw}\n"));
        post.push_str(&format!(
            "    meta mark != 0x2 ct status & dnat != 0 snat to {gw}\n"
        ));
    }
    // The metadata service is for the router's own networks: nothing from
    // the outside reaches it.
    let input = format!(
        "    iifname \"{qg}\" ip daddr {} drop\n",
        crate::METADATA_ADDRESS
    );
    format!(
        "table ip ferro {{\n  chain pre {{\n    type nat hook prerouting priority dstnat; policy accept;\n{pre}  }}\n  \
         chain out {{\n    type nat hook output priority -100; policy accept;\n{out}  }}\n  \
         chain post {{\n    type nat hook postrouting priority srcnat; policy accept;\n{post}  }}\n  \
         chain input {{\n    type filter hook input priority filter; policy accept;\n{input}  }}\n}}\n"
    )
}

/// Make one router's namespace match.
async fn router(
    br: &str,
    dir: &Path,
    ns: &str,
    r: &Router,
    want: &Desired,
    networks: &BTreeMap<&str, &Network>,
    observed: &mut RoutersObserved,
) -> NetResult<()> {
    ip::sysctl(ns, "net.ipv4.ip_forward", "1").await?;
    ip::sysctl(ns, "net.ipv6.conf.all.forwarding", "1").await?;
    let ports: BTreeMap<&str, &Port> = want.ports.iter().map(|p| (p.id.as_str(), p)).collect();
    let mut legs = BTreeSet::new();
    let mut nets = Vec::new();
    // Destination (and family) → nexthop: one route per destination, the
    // first asked for (two nexthops for one destination would replace
    // each other on every pass).
    let mut wanted_routes: BTreeMap<(String, bool), String> = BTreeMap::new();
    let mut advertise = Vec::new();
    for pid in &r.interfaces {
        let (Some(p), true) = (ports.get(pid.as_str()), true) else {
            continue;
        };
        let Some(net) = networks.get(p.network_id.as_str()) else {
            continue;
        };
        let inner = dev_name("qr-", &p.id);
        leg(br, ns, &inner, &dev_name("tap", &p.id), Some(&p.mac), net).await?;
        ip::sync_addresses(ns, &inner, &port_addresses(p, net).into_iter().collect()).await?;
        for (subnet, _) in &p.fixed_ips {
            if let Some(s) = net.subnets.iter().find(|s| &s.id == subnet) {
                if s.ip_version == 6 && ra::wanted(s.ipv6_ra_mode.as_deref()) {
                    let mode = s.ipv6_ra_mode.clone().unwrap_or_default();
                    advertise.push((inner.clone(), s.cidr.clone(), mode, net.mtu));
                }
            }
        }
        observed.active_ports.insert(p.id.clone());
        legs.insert(inner);
        nets.push(net.id.clone());
    }
    let mut qg_name = None;
    let mut gateway_ip = None;
    if let Some(gw) = r.gateway.as_deref().and_then(|g| ports.get(g)) {
        if let Some(net) = networks.get(gw.network_id.as_str()) {
            let qg = dev_name("qg-", &gw.id);
            leg(br, ns, &qg, &dev_name("tap", &gw.id), Some(&gw.mac), net).await?;
            let mut addrs: BTreeSet<String> = port_addresses(gw, net).into_iter().collect();
            for f in &r.floating_ips {
                addrs.insert(format!("{}/32", f.address));
            }
            ip::sync_addresses(ns, &qg, &addrs).await?;
            // The default routes: the gateways of the external subnets the
            // router's first IPv4 and first IPv6 addresses are on.
            for (subnet, addr) in &gw.fixed_ips {
                let Some(s) = net.subnets.iter().find(|s| &s.id == subnet) else {
                    continue;
                };
                let v6 = s.ip_version == 6;
                if !v6 && gateway_ip.is_none() {
                    gateway_ip = Some(addr.clone());
                }
                if let Some(g) = &s.gateway_ip {
                    wanted_routes
                        .entry(("default".to_owned(), v6))
                        .or_insert_with(|| g.clone());
                }
            }
            observed.active_ports.insert(gw.id.clone());
            legs.insert(qg.clone());
            qg_name = Some(qg);
        }
    }
    // Legs of interfaces gone.
    for l in ip::links(ns).await? {
        if (l.name.starts_with("qr-") || l.name.starts_with("qg-")) && !legs.contains(&l.name) {
            ip::ns(ns, &["link", "del", &l.name]).await?;
        }
    }
    for (dst, via) in &r.routes {
        if let Some(dst) = canonical_dst(dst) {
            wanted_routes
                .entry((dst, via.contains(':')))
                .or_insert_with(|| via.clone());
        }
    }
    let wanted_routes = wanted_routes
        .into_iter()
        .map(|((dst, _), via)| (dst, via))
        .collect();
    sync_routes(ns, &wanted_routes).await?;
    ra::ensure(ns, &dir.join("ra").join(&r.id), &advertise).await?;
    ip::sync_addresses(
        ns,
        "lo",
        &BTreeSet::from([format!("{}/32", crate::METADATA_ADDRESS)]),
    )
    .await?;
    match &qg_name {
        Some(qg) => {
            nft::replace_table(ns, "ip", "ferro", &nat_rules(qg, gateway_ip.as_deref(), r)).await?;
            for f in &r.floating_ips {
                observed.active_floating_ips.insert(f.id.clone());
            }
        }
        None => nft::delete_table(ns, "ip", "ferro").await?,
    }
    observed.namespaces.push((ns.to_owned(), nets));
    Ok(())
}

/// A route's destination as `ip -j route` names it: `default` for a
/// zero-length prefix, a host route without its length, addresses in their
/// canonical form; `None` for what is not a CIDR.
fn canonical_dst(dst: &str) -> Option<String> {
    let (addr, len) = dst.split_once('/').unwrap_or((dst, ""));
    let addr: std::net::IpAddr = addr.parse().ok()?;
    let host = if addr.is_ipv4() { 32 } else { 128 };
    let len: u8 = if len.is_empty() {
        host
    } else {
        len.parse().ok()?
    };
    Some(match len {
        0 => "default".into(),
        l if l == host => addr.to_string(),
        l => format!("{addr}/{l}"),
    })
}

/// Every router's namespace, and the external worlds; the others removed.
pub async fn reconcile(
    prefix: &str,
    dir: &Path,
    br: &str,
    want: &Desired,
    networks: &BTreeMap<&str, &Network>,
    uplinked: &BTreeMap<&str, String>,
    existing: &[String],
) -> NetResult<RoutersObserved> {
    // An external network with an uplink has the operator's network as its
    // outside world.
    let outside = |n: &&&Network| n.external && !uplinked.contains_key(n.id.as_str());
    let mut observed = RoutersObserved::default();
    let mut keep = BTreeSet::new();
    for r in &want.routers {
        let ns = router_namespace(prefix, &r.id);
        keep.insert(ns.clone());
        // One router's failure leaves the others working.
        let built = async {
            if !existing.contains(&ns) {
                // Made anew (or deleted under us): an advertiser still
                // running serves the old namespace.
                crate::dhcp::stop_stale(&dir.join("ra").join(&r.id));
                ip::add_namespace(&ns).await?;
            }
            router(br, dir, &ns, r, want, networks, &mut observed).await
        }
        .await;
        if let Err(e) = built {
            observed.errors.push(format!("router {}: {e}", r.id));
        }
    }
    for net in networks.values().filter(outside) {
        let ns = external_namespace(prefix, &net.id);
        if !existing.contains(&ns) {
            ip::add_namespace(&ns).await?;
        }
        keep.insert(ns.clone());
        let inner = dev_name("ex-", &net.id);
        leg(br, &ns, &inner, &dev_name("exo", &net.id), None, net).await?;
        let addrs: BTreeSet<String> = net
            .subnets
            .iter()
            .filter_map(|s| {
                let len = s.cidr.split('/').nth(1)?;
                Some(format!("{}/{len}", s.gateway_ip.as_ref()?))
            })
            .collect();
        ip::sync_addresses(&ns, &inner, &addrs).await?;
    }
    // External legs of networks no longer external.
    for l in ip::links(br).await? {
        if l.name.starts_with("exo") {
            let wanted = networks
                .values()
                .filter(outside)
                .any(|n| dev_name("exo", &n.id) == l.name);
            if !wanted {
                ip::ns(br, &["link", "del", &l.name]).await?;
            }
        }
    }
    for ns in existing {
        let ours =
            ns.starts_with(&format!("{prefix}-r-")) || ns.starts_with(&format!("{prefix}-ext-"));
        if ours && !keep.contains(ns) {
            if let Some(id) = ns.strip_prefix(&format!("{prefix}-r-")) {
                ra::stop(&dir.join("ra").join(id)).await;
            }
            ip::del_namespace(ns).await?;
        }
    }
    Ok(observed)
}

#[cfg(test)]
mod tests {
    #[test]
    fn route_destinations_as_ip_names_them() {
        assert_eq!(canonical_dst("0.0.0.0/0").as_deref(), Some("default"));
        assert_eq!(canonical_dst("::/0").as_deref(), Some("default"));
        assert_eq!(canonical_dst("10.1.2.3/32").as_deref(), Some("10.1.2.3"));
        assert_eq!(canonical_dst("10.1.0.0/16").as_deref(), Some("10.1.0.0/16"));
        assert_eq!(
            canonical_dst("2001:DB8:0::/64").as_deref(),
            Some("2001:db8::/64")
        );
        assert_eq!(
            canonical_dst("2001:db8::1/128").as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(canonical_dst("nonsense"), None);
    }

    use super::*;

    #[test]
    fn nat_table() {
        let r = Router {
            id: "r".into(),
            enable_snat: true,
            floating_ips: vec![FloatingIp {
                id: "f".into(),
                address: "172.24.4.10".into(),
                fixed: "10.0.0.5".into(),
            }],
            ..Router::default()
        };
        let t = nat_rules("qg-x", Some("172.24.4.2"), &r);
        assert!(t.contains("ip daddr 172.24.4.10 dnat to 10.0.0.5"));
        assert!(t.contains("ip saddr 10.0.0.5 oifname \"qg-x\" snat to 172.24.4.10"));
        assert!(t.contains("oifname \"qg-x\" snat to 172.24.4.2"));
        // The floating IP's SNAT comes before the router's.
        assert!(t.find("snat to 172.24.4.10") < t.find("snat to 172.24.4.2"));
        let r = Router {
            enable_snat: false,
            ..r
        };
        assert!(!nat_rules("qg-x", Some("172.24.4.2"), &r).contains("172.24.4.2"));
    }
}
