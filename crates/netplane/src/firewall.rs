//! Security groups in the kernel, as Neutron's firewall drivers apply them:
//! per guest port, stateful (conntrack) ingress and egress rules, the
//! traffic Neutron always allows (DHCP client, ICMPv6 neighbour discovery),
//! and anti-spoofing (source MAC, source IP, ARP sender) on what a guest
//! sends. Only guest ports with port security are filtered; the DHCP port
//! and routers' legs are trusted; a port without port security is open.
//!
//! All of it lives in the bridge namespace, in two nftables tables named
//! [`TABLE`], replaced as a whole in one `nft -f` transaction per
//! reconcile (a failed update changes nothing):
//!
//! - `bridge` (`firewall/bridge.rs`): sees every frame with the tap it
//!   came in on and goes out by. Prerouting (before br_netfilter) runs a guest's anti-spoofing and
//!   marks the packet with the guest port's index (low 15 bits); forward
//!   marks it with the index of the guest port it goes to (bits 16-30).
//!   Taps it does not know (`tap*`) are dropped: a guest's tap is never
//!   open before its rules exist.
//! - `inet` (`firewall/inet.rs`): bridged IP packets reach it through
//!   br_netfilter (`bridge-nf-call-ip(6)tables`, set in the bridge
//!   namespace only),
//!   where conntrack works (there is no conntrack in the bridge family
//!   without `nf_conntrack_bridge`). Its forward chain sends a packet to
//!   the egress chain of the port it came from and the ingress chain of the
//!   port it goes to, by the marks; each network's bridge is its own
//!   conntrack zone (tenants' addresses may overlap).
//!
//! Fail closed: the inet forward chain sets the top bit of the mark, and
//! the bridge postrouting chain drops a marked IP packet without it, so if
//! br_netfilter does not hand packets to the inet table, guests' traffic
//! stops instead of flowing unfiltered.
//!
//! Rules stay in force for connections already open: a packet of a
//! connection in its original direction is checked against the rules again
//! (replies and related packets pass), so deleting a rule ends what it
//! allowed, as Neutron's conntrack cleanup does.

mod bridge;
mod inet;

use std::collections::{BTreeMap, BTreeSet};
use tokio::process::Command;

use crate::addr::{Mac, Net};
use crate::{dev_name, Desired, NetError, NetResult, Port, PortKind};

/// The name of both tables in the bridge namespace.
pub const TABLE: &str = "ferro_sg";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Ingress,
    Egress,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ethertype {
    IPv4,
    IPv6,
}

/// A security group rule.
#[derive(Clone, Debug, PartialEq)]
pub struct SecurityGroupRule {
    pub direction: Direction,
    pub ethertype: Ethertype,
    /// The IP protocol number; `None` (or 0) for any.
    pub protocol: Option<u8>,
    /// For TCP/UDP/SCTP/DCCP/UDP-Lite the destination ports; for ICMP the
    /// type (min) and code (max).
    pub port_range_min: Option<u16>,
    pub port_range_max: Option<u16>,
    pub remote_ip_prefix: Option<String>,
    /// The group whose members' addresses (fixed IPs and allowed address
    /// pairs) are the remote end.
    pub remote_group_id: Option<String>,
}

/// A security group and its rules.
#[derive(Clone, Debug, PartialEq)]
pub struct SecurityGroup {
    pub id: String,
    pub stateful: bool,
    pub rules: Vec<SecurityGroupRule>,
}

const MARK_FROM: u32 = 0x7fff;
const MARK_TO_SHIFT: u32 = 16;
const MARK_SEEN: u32 = 0x8000_0000;
const MAX_PORTS: usize = 0x7fff;
/// Protocols whose rules' port ranges are destination ports.
const PORT_PROTOCOLS: &[u8] = &[6, 17, 33, 132, 136];

/// A guest port with port security: its index and what it may use.
struct Filtered<'a> {
    index: u32,
    port: &'a Port,
    tap: String,
    stateful: bool,
    macs: Vec<Mac>,
    /// `(MAC, network)` a guest may send from.
    pairs: Vec<(Mac, Net)>,
    fixed: Vec<Net>,
}

impl<'a> Filtered<'a> {
    fn new(index: u32, port: &'a Port, groups: &BTreeMap<&str, &SecurityGroup>) -> Self {
        let mac = Mac::parse(&port.mac);
        let fixed: Vec<Net> = port
            .fixed_ips
            .iter()
            .filter_map(|(_, ip)| Net::parse(ip))
            .collect();
        let mut pairs: Vec<(Mac, Net)> = Vec::new();
        if let Some(mac) = mac {
            pairs.extend(fixed.iter().map(|n| (mac, *n)));
            // Neutron: a port without fixed IPs may send from any address
            // (with its own MAC).
            if fixed.is_empty() {
                for any in ["0.0.0.0/0", "::/0"] {
                    pairs.extend(Net::parse(any).map(|n| (mac, n)));
                }
            }
        }
        for (ip, pair_mac) in &port.allowed_address_pairs {
            if let (Some(n), Some(m)) = (Net::parse(ip), Mac::parse(pair_mac).or(mac)) {
                pairs.push((m, n));
            }
        }
        let mut macs: Vec<Mac> = mac.into_iter().chain(pairs.iter().map(|p| p.0)).collect();
        macs.sort();
        macs.dedup();
        pairs.extend(macs.iter().map(|m| (*m, m.link_local())));
        let member_of: Vec<&SecurityGroup> = port
            .security_groups
            .iter()
            .filter_map(|g| groups.get(g.as_str()).copied())
            .collect();
        // A port is stateless only when every group it is in is.
        let stateful = member_of.is_empty() || member_of.iter().any(|g| g.stateful);
        Filtered {
            index,
            port,
            tap: dev_name("tap", &port.id),
            stateful,
            macs,
            pairs,
            fixed,
        }
    }

    fn chain(&self, what: &str) -> String {
        format!("p{}_{what}", self.index)
    }
}

/// The ruleset text for `want`: one transaction that replaces both tables.
pub fn ruleset(want: &Desired) -> NetResult<String> {
    let groups: BTreeMap<&str, &SecurityGroup> = want
        .security_groups
        .iter()
        .map(|g| (g.id.as_str(), g))
        .collect();
    let mut guests: Vec<&Port> = want
        .ports
        .iter()
        .filter(|p| p.kind == PortKind::Guest && p.port_security_enabled)
        .collect();
    guests.sort_by(|a, b| a.id.cmp(&b.id));
    if guests.len() > MAX_PORTS {
        return Err(NetError(format!(
            "security groups: {} filtered ports, at most {MAX_PORTS} supported",
            guests.len()
        )));
    }
    let filtered: Vec<Filtered> = guests
        .into_iter()
        .zip(1u32..)
        .map(|(p, i)| Filtered::new(i, p, &groups))
        .collect();
    // Neutron's network:* ports are trusted: DHCP, routers' legs.
    let router_legs: BTreeSet<&str> = want
        .routers
        .iter()
        .flat_map(|r| r.interfaces.iter().chain(&r.gateway))
        .map(String::as_str)
        .collect();
    let mut open: Vec<String> = Vec::new();
    for p in &want.ports {
        let trusted = match p.kind {
            PortKind::Guest => !p.port_security_enabled,
            PortKind::Dhcp => true,
            // Only router legs of these are bridged; any other's tap is
            // dropped like an unknown one.
            PortKind::Other => router_legs.contains(p.id.as_str()),
        };
        if trusted {
            open.push(dev_name("tap", &p.id));
        }
    }
    let remote = inet::RemoteGroups::new(want, &filtered, &groups);
    let mut out = String::new();
    for family in ["bridge", "inet"] {
        // Declaring first makes the delete valid when the table is new.
        out.push_str(&format!(
            "table {family} {TABLE}\ndelete table {family} {TABLE}\n"
        ));
    }
    bridge::table(&mut out, &filtered, &open);
    inet::table(&mut out, want, &filtered, &groups, &remote);
    Ok(out)
}

/// Elements of a set, or nothing for an empty one.
fn elements(items: impl IntoIterator<Item = String>) -> String {
    let items: Vec<String> = items.into_iter().collect();
    if items.is_empty() {
        String::new()
    } else {
        format!(" elements = {{ {} }};", items.join(", "))
    }
}

/// Whether security groups can be enforced here: `nft`, and br_netfilter
/// in the kernel (only looked at, never loaded: that would change the
/// host's own bridges).
pub async fn check() -> Result<(), String> {
    let ok = Command::new("nft")
        .arg("--version")
        .kill_on_drop(true)
        .output()
        .await
        .is_ok_and(|o| o.status.success());
    if !ok {
        return Err("nft (nftables) is not usable: security groups need it".into());
    }
    if !std::path::Path::new("/proc/sys/net/bridge").exists() {
        return Err("the kernel has no br_netfilter (security groups need it)".into());
    }
    Ok(())
}

/// Make the bridge namespace's firewall match `want`: br_netfilter on
/// there, then the whole ruleset in one transaction.
pub async fn apply(namespace: &str, want: &Desired) -> NetResult<()> {
    let text = ruleset(want)?;
    bridge_netfilter(namespace).await?;
    crate::nft::transaction(namespace, &text).await
}

/// Bridged IP packets go through the inet hooks — in this namespace only.
async fn bridge_netfilter(namespace: &str) -> NetResult<()> {
    let script = "echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables && \
                  echo 1 > /proc/sys/net/bridge/bridge-nf-call-ip6tables";
    let out = Command::new("ip")
        .args(["netns", "exec", namespace, "sh", "-c", script])
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| NetError(format!("cannot run ip netns exec: {e}")))?;
    if !out.status.success() {
        return Err(NetError(format!(
            "cannot turn on br_netfilter in {namespace} (security groups need it): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Network;

    fn port(id: &str, mac: &str, ips: &[&str], kind: PortKind, groups: &[&str]) -> Port {
        Port {
            id: id.into(),
            network_id: "net1".into(),
            mac: mac.into(),
            fixed_ips: ips
                .iter()
                .map(|ip| ("s".to_owned(), (*ip).to_owned()))
                .collect(),
            kind,
            port_security_enabled: true,
            security_groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            ..Port::default()
        }
    }

    fn rule(direction: Direction, ethertype: Ethertype) -> SecurityGroupRule {
        SecurityGroupRule {
            direction,
            ethertype,
            protocol: None,
            port_range_min: None,
            port_range_max: None,
            remote_ip_prefix: None,
            remote_group_id: None,
        }
    }

    fn desired() -> Desired {
        let mut a = port(
            "aaaaaaaaaaaa1",
            "fa:16:3e:00:00:0a",
            &["10.0.0.5", "fd00::5"],
            PortKind::Guest,
            &["sg1"],
        );
        a.allowed_address_pairs = vec![
            ("10.0.0.0/28".into(), "fa:16:3e:00:00:0a".into()),
            ("10.9.0.1".into(), "fa:16:3e:00:00:ee".into()),
        ];
        let b = port(
            "bbbbbbbbbbbb1",
            "fa:16:3e:00:00:0b",
            &["10.0.0.6"],
            PortKind::Guest,
            &["sg1"],
        );
        let mut open = port(
            "cccccccccccc1",
            "fa:16:3e:00:00:0c",
            &["10.0.0.7"],
            PortKind::Guest,
            &[],
        );
        open.port_security_enabled = false;
        let dhcp = port(
            "dddddddddddd1",
            "fa:16:3e:00:00:0d",
            &["10.0.0.2"],
            PortKind::Dhcp,
            &[],
        );
        let other = port(
            "eeeeeeeeeeee1",
            "fa:16:3e:00:00:0e",
            &["10.0.0.20"],
            PortKind::Other,
            &["sg1"],
        );
        let leg = port(
            "ffffffffffff1",
            "fa:16:3e:00:00:0f",
            &["10.0.0.1"],
            PortKind::Other,
            &[],
        );
        let mut ssh = rule(Direction::Ingress, Ethertype::IPv4);
        ssh.protocol = Some(6);
        ssh.port_range_min = Some(22);
        ssh.port_range_max = Some(22);
        ssh.remote_ip_prefix = Some("192.168.1.7/24".into());
        let mut members = rule(Direction::Ingress, Ethertype::IPv4);
        members.remote_group_id = Some("sg1".into());
        let mut ping = rule(Direction::Ingress, Ethertype::IPv4);
        ping.protocol = Some(1);
        ping.port_range_min = Some(8);
        let mut wrong_family = rule(Direction::Ingress, Ethertype::IPv6);
        wrong_family.remote_ip_prefix = Some("10.0.0.0/8".into());
        let mut gone = rule(Direction::Ingress, Ethertype::IPv4);
        gone.remote_group_id = Some("no-such-group".into());
        Desired {
            networks: vec![Network {
                id: "net1".into(),
                mtu: 1450,
                ..Network::default()
            }],
            ports: vec![a, b, open, dhcp, other, leg],
            routers: vec![crate::Router {
                id: "r1".into(),
                interfaces: vec!["ffffffffffff1".into()],
                ..crate::Router::default()
            }],
            security_groups: vec![SecurityGroup {
                id: "sg1".into(),
                stateful: true,
                rules: vec![
                    rule(Direction::Egress, Ethertype::IPv4),
                    rule(Direction::Egress, Ethertype::IPv4),
                    ssh,
                    members,
                    ping,
                    wrong_family,
                    gone,
                ],
            }],
            ..Desired::default()
        }
    }

    #[test]
    fn ruleset_for_guests() {
        let text = ruleset(&desired()).expect("ruleset");
        // One transaction replacing both tables.
        assert!(text.starts_with(
            "table bridge ferro_sg\ndelete table bridge ferro_sg\ntable inet ferro_sg\ndelete table inet ferro_sg\n"
        ));
        // Ports by id: a is 1, b is 2; the open port's, the DHCP port's and
        // the router leg's taps pass; the other port's tap is dropped like
        // any unknown tap.
        assert!(text.contains("iifname vmap { \"tapaaaaaaaaaaa\" : goto p1_from, \"tapbbbbbbbbbbb\" : goto p2_from, \"tapccccccccccc\" : accept, \"tapddddddddddd\" : accept, \"tapfffffffffff\" : accept }"));
        assert!(!text.contains("tapeeeeeeeeeee"));
        assert!(text.contains("iifname \"tap*\" drop") && text.contains("oifname \"tap*\" drop"));
        // Spoofing: fixed IPs, pairs (the /28 swallows the fixed IP), the
        // link-local addresses of both MACs.
        assert!(text.contains(
            "set p1_mac { type ether_addr; elements = { fa:16:3e:00:00:0a, fa:16:3e:00:00:ee }; }"
        ));
        assert!(text.contains(
            "elements = { fa:16:3e:00:00:0a . 10.0.0.0/28, fa:16:3e:00:00:ee . 10.9.0.1 }"
        ));
        assert!(text.contains("fa:16:3e:00:00:0a . fd00::5, fa:16:3e:00:00:0a . fe80::f816:3eff:fe00:a, fa:16:3e:00:00:ee . fe80::f816:3eff:fe00:ee"));
        // The remote group: members' fixed IPs and pairs (the other port
        // too: membership is not about this host's guests).
        assert!(text.contains("set g1_4 { type ipv4_addr; flags interval; elements = { 10.0.0.0/28, 10.0.0.20, 10.9.0.1 }; }"));
        assert!(
            text.contains("set g1_6 { type ipv6_addr; flags interval; elements = { fd00::5 }; }")
        );
        // Rules: duplicates once, prefix normalised, ICMP type, the
        // unmatchable ones left out.
        assert_eq!(text.matches("meta nfproto ipv4 return").count(), 2);
        assert!(text.contains(
            "meta nfproto ipv4 ip saddr 192.168.1.0/24 meta l4proto 6 th dport 22 accept"
        ));
        assert!(text.contains("meta nfproto ipv4 ip saddr @g1_4 accept"));
        assert!(text.contains("meta nfproto ipv4 meta l4proto 1 icmp type 8 accept"));
        assert!(!text.contains("10.0.0.0/8") && !text.contains("no-such-group"));
        // DHCP replies to the port's own addresses; RA only with IPv6.
        assert!(text
            .contains("udp sport 67 udp dport 68 ip daddr { 10.0.0.5, 255.255.255.255 } accept"));
        assert_eq!(
            text.matches("icmpv6 type nd-router-advert accept").count(),
            1
        );
        // Egress ICMPv6: neighbour discovery, RS and MLD always; echo and
        // the rest only by the rules.
        assert!(text.contains("icmpv6 type { 130, 131, 132, 133, 135, 136, 143 } return"));
        assert!(!text.contains("l4proto ipv6-icmp return"));
        // Stateful: replies pass, invalid is dropped.
        assert_eq!(text.matches("ct direction reply accept").count(), 2);
        assert!(text.contains("ct zone set iifname map { \"brqnet1\" : "));
    }

    #[test]
    fn shared_device_names_stay_valid() {
        // Ids alike in their first 11 characters share a tap name: nft
        // refuses a map with a key twice, so the first (filtered) wins.
        let mut want = desired();
        let mut twin = want.ports[0].clone();
        twin.id = "aaaaaaaaaaa-twin".into();
        twin.port_security_enabled = false;
        want.ports.push(twin);
        let text = ruleset(&want).expect("ruleset");
        assert_eq!(text.matches("\"tapaaaaaaaaaaa\" : ").count(), 2, "{text}");
        assert!(text.contains("\"tapaaaaaaaaaaa\" : goto p1_from"));
    }

    #[test]
    fn stateless_groups_and_no_groups() {
        let mut want = desired();
        want.security_groups[0].stateful = false;
        let text = ruleset(&want).expect("ruleset");
        assert!(!text.contains("ct state"));
        for p in &mut want.ports {
            p.security_groups.clear();
        }
        let text = ruleset(&want).expect("ruleset");
        // No groups: only what is always allowed, then drop.
        assert!(text.contains("ct direction reply accept"));
        assert!(!text.contains("th dport") && !text.contains("@g1_4"));
        let mut none = want.clone();
        none.ports.clear();
        let text = ruleset(&none).expect("ruleset");
        assert!(!text.contains("vmap"));
    }
}
