//! The `bridge` table: every frame with the taps it comes in on and goes
//! out by. A guest's frames meet its anti-spoofing checks and are marked
//! with its port index; frames to a guest are marked with its index too
//! (for the inet table's rules); unknown taps are dropped; an IP packet
//! marked for filtering that did not pass the inet table is dropped.

use std::collections::BTreeMap;

use super::{elements, Filtered, MARK_SEEN, MARK_TO_SHIFT, TABLE};
use crate::addr::{merge, Mac, Net};

pub(super) fn table(out: &mut String, filtered: &[Filtered], open: &[String]) {
    out.push_str(&format!("table bridge {TABLE} {{\n"));
    // By tap name: two ports whose ids share their first 11 characters
    // would share a tap name; the first (a filtered one) wins.
    let mut from_map: BTreeMap<&str, String> = BTreeMap::new();
    let mut to_map: BTreeMap<&str, String> = BTreeMap::new();
    for f in filtered {
        let pairs =
            |v4: bool| {
                let mut by_mac: BTreeMap<Mac, Vec<Net>> = BTreeMap::new();
                for (m, n) in f.pairs.iter().filter(|(_, n)| n.is_v4() == v4) {
                    by_mac.entry(*m).or_default().push(*n);
                }
                elements(by_mac.into_iter().flat_map(|(m, nets)| {
                    merge(nets).into_iter().map(move |n| format!("{m} . {n}"))
                }))
            };
        out.push_str(&format!(
            "  set {} {{ type ether_addr;{} }}\n",
            f.chain("mac"),
            elements(f.macs.iter().map(ToString::to_string))
        ));
        out.push_str(&format!(
            "  set {} {{ type ether_addr . ipv4_addr; flags interval;{} }}\n",
            f.chain("ip4"),
            pairs(true)
        ));
        out.push_str(&format!(
            "  set {} {{ type ether_addr . ipv6_addr; flags interval;{} }}\n",
            f.chain("ip6"),
            pairs(false)
        ));
        egress(out, f);
        out.push_str(&format!(
            "  chain {} {{\n    meta mark set meta mark | {:#x}\n    accept\n  }}\n",
            f.chain("to"),
            f.index << MARK_TO_SHIFT
        ));
        from_map
            .entry(&f.tap)
            .or_insert_with(|| format!("goto {}", f.chain("from")));
        to_map
            .entry(&f.tap)
            .or_insert_with(|| format!("goto {}", f.chain("to")));
    }
    for tap in open {
        from_map.entry(tap).or_insert_with(|| "accept".into());
        to_map.entry(tap).or_insert_with(|| "accept".into());
    }
    for (chain, hook, prio, dev, map) in [
        ("prerouting", "prerouting", -300, "iifname", &from_map),
        ("forward", "forward", -200, "oifname", &to_map),
    ] {
        out.push_str(&format!(
            "  chain {chain} {{\n    type filter hook {hook} priority {prio}; policy accept;\n"
        ));
        if !map.is_empty() {
            let entries: Vec<String> = map
                .iter()
                .map(|(tap, verdict)| format!("\"{tap}\" : {verdict}"))
                .collect();
            out.push_str(&format!("    {dev} vmap {{ {} }}\n", entries.join(", ")));
        }
        out.push_str(&format!("    {dev} \"tap*\" drop\n  }}\n"));
    }
    out.push_str(&format!(
        "  chain postrouting {{\n    type filter hook postrouting priority 0; policy accept;\n    \
         ether type {{ ip, ip6 }} meta mark & {:#x} != 0 meta mark & {MARK_SEEN:#x} == 0 drop\n  }}\n}}\n",
        !MARK_SEEN
    ));
}

/// What a guest may send, before anything else sees it: its MACs, its
/// addresses (IP and ARP), never DHCP server or router advertisements.
fn egress(out: &mut String, f: &Filtered) {
    let (mac, ip4, ip6) = (f.chain("mac"), f.chain("ip4"), f.chain("ip6"));
    let lines = [
        format!("meta mark set {:#x}", f.index),
        "ether type != { ip, ip6, arp } drop".into(),
        format!("ether saddr != @{mac} drop"),
        format!("arp saddr ether . arp saddr ip != @{ip4} drop"),
        // DHCP discovery before the guest has an address; DAD and MLD
        // from the unspecified address.
        "ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 accept".into(),
        "ip6 saddr :: ip6 daddr ff02::/16 icmpv6 type { 131, 135, 143 } accept".into(),
        format!("ether saddr . ip saddr != @{ip4} drop"),
        format!("ether saddr . ip6 saddr != @{ip6} drop"),
        "udp sport 67 udp dport 68 drop".into(),
        "udp sport 547 udp dport 546 drop".into(),
        "icmpv6 type nd-router-advert drop".into(),
        "accept".into(),
    ];
    out.push_str(&format!("  chain {} {{\n", f.chain("from")));
    for l in lines {
        out.push_str(&format!("    {l}\n"));
    }
    out.push_str("  }\n");
}
