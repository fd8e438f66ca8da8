//! The `inet` table: bridged IP packets (through br_netfilter), with
//! conntrack (a zone per network). Each guest port has an egress and an
//! ingress chain; the forward chain picks them by the marks the bridge
//! table set.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    elements, Direction, Ethertype, Filtered, SecurityGroup, SecurityGroupRule, MARK_FROM,
    MARK_SEEN, MARK_TO_SHIFT, PORT_PROTOCOLS, TABLE,
};
use crate::addr::{merge, Net};
use crate::{dev_name, Desired};

/// The remote groups the filtered ports' rules name, with a set name each.
pub(super) struct RemoteGroups<'a> {
    names: BTreeMap<&'a str, String>,
    members: BTreeMap<&'a str, Vec<Net>>,
}

impl<'a> RemoteGroups<'a> {
    pub(super) fn new(
        want: &'a Desired,
        filtered: &[Filtered],
        groups: &BTreeMap<&str, &'a SecurityGroup>,
    ) -> Self {
        let mut wanted: BTreeSet<&str> = BTreeSet::new();
        for f in filtered {
            for g in &f.port.security_groups {
                let Some(g) = groups.get(g.as_str()) else {
                    continue;
                };
                wanted.extend(g.rules.iter().filter_map(|r| r.remote_group_id.as_deref()));
            }
        }
        let mut names = BTreeMap::new();
        let mut members: BTreeMap<&str, Vec<Net>> = BTreeMap::new();
        for (i, g) in wanted.iter().filter_map(|g| groups.get(g)).enumerate() {
            names.insert(g.id.as_str(), format!("g{}", i + 1));
            members.insert(g.id.as_str(), Vec::new());
        }
        for p in &want.ports {
            for g in &p.security_groups {
                let Some(m) = members.get_mut(g.as_str()) else {
                    continue;
                };
                m.extend(p.fixed_ips.iter().filter_map(|(_, ip)| Net::parse(ip)));
                m.extend(
                    p.allowed_address_pairs
                        .iter()
                        .filter_map(|(ip, _)| Net::parse(ip)),
                );
            }
        }
        RemoteGroups { names, members }
    }

    fn sets(&self, out: &mut String) {
        for (id, name) in &self.names {
            let nets = self.members.get(id).cloned().unwrap_or_default();
            for (v4, ty, suffix) in [(true, "ipv4_addr", "4"), (false, "ipv6_addr", "6")] {
                let of_family = nets.iter().filter(|n| n.is_v4() == v4).copied().collect();
                out.push_str(&format!(
                    "  set {name}_{suffix} {{ type {ty}; flags interval;{} }}\n",
                    elements(merge(of_family).iter().map(ToString::to_string))
                ));
            }
        }
    }
}

/// A conntrack zone per network: its id's hash (stable across reconciles
/// and restarts), the next free one when two networks' hashes meet
/// (networks taken in id order), so no two networks share a zone.
fn zones(network_ids: &[&str]) -> BTreeMap<String, u32> {
    let mut ids = network_ids.to_vec();
    ids.sort_unstable();
    let mut taken = BTreeSet::new();
    let mut out = BTreeMap::new();
    for id in ids {
        let mut h: u32 = 0x811c_9dc5;
        for b in id.bytes() {
            h ^= u32::from(b);
            h = h.wrapping_mul(0x0100_0193);
        }
        let mut zone = h % 65535 + 1;
        while !taken.insert(zone) {
            zone = zone % 65535 + 1;
        }
        out.insert(id.to_owned(), zone);
    }
    out
}

pub(super) fn table(
    out: &mut String,
    want: &Desired,
    filtered: &[Filtered],
    groups: &BTreeMap<&str, &SecurityGroup>,
    remote: &RemoteGroups,
) {
    out.push_str(&format!("table inet {TABLE} {{\n"));
    remote.sets(out);
    out.push_str(
        "  chain prerouting {\n    type filter hook prerouting priority -300; policy accept;\n",
    );
    if !want.networks.is_empty() {
        let ids: Vec<&str> = want.networks.iter().map(|n| n.id.as_str()).collect();
        let zones: Vec<String> = zones(&ids)
            .iter()
            .map(|(id, zone)| format!("\"{}\" : {zone}", dev_name("brq", id)))
            .collect();
        out.push_str(&format!(
            "    ct zone set iifname map {{ {} }}\n",
            zones.join(", ")
        ));
    }
    out.push_str(
        "  }\n  chain forward {\n    type filter hook forward priority 0; policy accept;\n",
    );
    out.push_str(&format!("    meta mark set meta mark | {MARK_SEEN:#x}\n"));
    if !filtered.is_empty() {
        let from: Vec<String> = filtered
            .iter()
            .map(|f| format!("{:#x} : jump {}", f.index, f.chain("egress")))
            .collect();
        let to: Vec<String> = filtered
            .iter()
            .map(|f| {
                format!(
                    "{:#x} : jump {}",
                    f.index << MARK_TO_SHIFT,
                    f.chain("ingress")
                )
            })
            .collect();
        out.push_str(&format!(
            "    meta mark & {MARK_FROM:#x} vmap {{ {} }}\n",
            from.join(", ")
        ));
        out.push_str(&format!(
            "    meta mark & {:#x} vmap {{ {} }}\n",
            MARK_FROM << MARK_TO_SHIFT,
            to.join(", ")
        ));
    }
    out.push_str("  }\n");
    for f in filtered {
        for direction in [Direction::Egress, Direction::Ingress] {
            port_chain(out, f, direction, groups, remote);
        }
    }
    out.push_str("}\n");
}

/// A port's stateful rules in one direction: what Neutron always allows,
/// replies and related packets, the rules of its groups, else drop.
fn port_chain(
    out: &mut String,
    f: &Filtered,
    direction: Direction,
    groups: &BTreeMap<&str, &SecurityGroup>,
    remote: &RemoteGroups,
) {
    let (name, pass) = match direction {
        Direction::Egress => (f.chain("egress"), "return"),
        Direction::Ingress => (f.chain("ingress"), "accept"),
    };
    // Always allowed, whatever the rules and the connection's state.
    let always: &[&str] = match direction {
        Direction::Egress => &[
            "meta nfproto ipv4 udp sport 68 udp dport 67",
            "meta nfproto ipv6 udp sport 546 udp dport 547",
            // Neutron's always-allowed ICMPv6 egress: MLD (query, report,
            // done, v2 report), router solicitation, neighbour discovery;
            // echo and the rest follow the rules.
            "icmpv6 type { 130, 131, 132, 133, 135, 136, 143 }",
        ],
        Direction::Ingress => {
            &["icmpv6 type { mld-listener-query, nd-neighbor-solicit, nd-neighbor-advert }"]
        }
    };
    let mut lines: Vec<String> = always.iter().map(|l| format!("{l} {pass}")).collect();
    if f.stateful {
        lines.push("ct state invalid drop".into());
        lines.push(format!("ct state related {pass}"));
        lines.push(format!("ct direction reply {pass}"));
    }
    let mut matches: Vec<String> = Vec::new();
    if direction == Direction::Ingress {
        matches.extend(provider_rules(f));
    }
    for g in f
        .port
        .security_groups
        .iter()
        .filter_map(|g| groups.get(g.as_str()))
    {
        for r in g.rules.iter().filter(|r| r.direction == direction) {
            if let Some(m) = rule_match(r, remote) {
                if !matches.contains(&m) {
                    matches.push(m);
                }
            }
        }
    }
    lines.extend(matches.iter().map(|m| format!("{m} {pass}")));
    lines.push("drop".into());
    out.push_str(&format!("  chain {name} {{\n"));
    for l in lines {
        out.push_str(&format!("    {l}\n"));
    }
    out.push_str("  }\n");
}

/// What Neutron adds to every port's ingress: DHCP replies to its
/// addresses (or broadcast), router advertisements when it has IPv6.
fn provider_rules(f: &Filtered) -> Vec<String> {
    let mut v4: Vec<Net> = f.fixed.iter().filter(|n| n.is_v4()).copied().collect();
    v4.extend(Net::parse("255.255.255.255"));
    let mut v6: Vec<Net> = f.fixed.iter().filter(|n| !n.is_v4()).copied().collect();
    let has_v6 = !v6.is_empty();
    v6.extend(Net::parse("fe80::/64"));
    let list = |nets: Vec<Net>| {
        merge(nets)
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = vec![
        format!("udp sport 67 udp dport 68 ip daddr {{ {} }}", list(v4)),
        format!("udp sport 547 udp dport 546 ip6 daddr {{ {} }}", list(v6)),
    ];
    if has_v6 {
        out.push("icmpv6 type nd-router-advert".into());
    }
    out
}

/// The match part of a rule, or `None` when it can match nothing (a
/// remote group that does not exist, a prefix of the other family).
fn rule_match(r: &SecurityGroupRule, remote: &RemoteGroups) -> Option<String> {
    let v4 = r.ethertype == Ethertype::IPv4;
    let (fam, l3) = if v4 { ("ipv4", "ip") } else { ("ipv6", "ip6") };
    let end = if r.direction == Direction::Ingress {
        "saddr"
    } else {
        "daddr"
    };
    let mut m = vec![format!("meta nfproto {fam}")];
    if let Some(prefix) = &r.remote_ip_prefix {
        let net = Net::parse(prefix).filter(|n| n.is_v4() == v4)?;
        if !net.is_any() {
            m.push(format!("{l3} {end} {net}"));
        }
    }
    if let Some(g) = &r.remote_group_id {
        let set = remote.names.get(g.as_str())?;
        m.push(format!("{l3} {end} @{set}_{}", if v4 { "4" } else { "6" }));
    }
    match r.protocol {
        None | Some(0) => {}
        Some(p) if (p == 1 && v4) || (p == 58 && !v4) => {
            let icmp = if v4 { "icmp" } else { "icmpv6" };
            m.push(format!("meta l4proto {p}"));
            // Types and codes are bytes (the API says so; nft refuses more).
            if let Some(t) = r.port_range_min {
                m.push(format!("{icmp} type {}", u8::try_from(t).ok()?));
                if let Some(c) = r.port_range_max {
                    m.push(format!("{icmp} code {}", u8::try_from(c).ok()?));
                }
            }
        }
        Some(p) if PORT_PROTOCOLS.contains(&p) => {
            m.push(format!("meta l4proto {p}"));
            match (r.port_range_min, r.port_range_max) {
                (Some(a), Some(b)) if a < b => m.push(format!("th dport {a}-{b}")),
                (Some(a), _) => m.push(format!("th dport {a}")),
                _ => {}
            }
        }
        Some(p) => m.push(format!("meta l4proto {p}")),
    }
    Some(m.join(" "))
}

#[cfg(test)]
mod tests {
    use super::zones;

    #[test]
    fn zones_are_stable_and_never_shared() {
        let z = zones(&["net-b", "net-a"]);
        assert_eq!(z, zones(&["net-a", "net-b"]));
        assert_ne!(z["net-a"], z["net-b"]);
        // The same id gets the same zone beside other networks.
        assert_eq!(zones(&["net-a"])["net-a"], z["net-a"]);
        // Many networks: all distinct, all in 1..=65535.
        let ids: Vec<String> = (0..3000).map(|n| format!("network-{n}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let all = zones(&refs);
        let distinct: std::collections::BTreeSet<u32> = all.values().copied().collect();
        assert_eq!(distinct.len(), ids.len());
        assert!(distinct.iter().all(|z| (1..=65535).contains(z)));
    }
}
