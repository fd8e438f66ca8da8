//! Security groups for the data plane's snapshot: every group with its
//! rules in the firewall's terms, and each port's groups, port security
//! and allowed address pairs.

use ferro_netplane::{Direction, Ethertype, SecurityGroup, SecurityGroupRule};
use serde_json::Value;

use crate::logic::secgroups::protocol_number;
use crate::state::{bool_of, str_of, strings_of, Kind, Obj, State};

fn rule_of(r: &Obj) -> Option<SecurityGroupRule> {
    let direction = match str_of(r, "direction") {
        "ingress" => Direction::Ingress,
        "egress" => Direction::Egress,
        _ => return None,
    };
    let ethertype = match str_of(r, "ethertype") {
        "IPv6" => Ethertype::IPv6,
        _ => Ethertype::IPv4,
    };
    let protocol = match r.get("protocol").and_then(Value::as_str) {
        None => None,
        // Neutron reads the ICMP names as ICMPv6 in IPv6 rules.
        Some("icmp" | "icmpv6") if ethertype == Ethertype::IPv6 => Some(58),
        Some(p) => Some(protocol_number(p)?),
    };
    let port = |key| {
        r.get(key)
            .and_then(Value::as_u64)
            .and_then(|n| u16::try_from(n).ok())
    };
    let text = |key| r.get(key).and_then(Value::as_str).map(str::to_owned);
    Some(SecurityGroupRule {
        direction,
        ethertype,
        protocol,
        port_range_min: port("port_range_min"),
        port_range_max: port("port_range_max"),
        remote_ip_prefix: text("normalized_cidr").or_else(|| text("remote_ip_prefix")),
        remote_group_id: text("remote_group_id"),
    })
}

/// Every security group with its rules.
pub fn groups(st: &State) -> Vec<SecurityGroup> {
    st.iter(Kind::SecurityGroup)
        .map(|g| {
            let id = str_of(g, "id");
            SecurityGroup {
                id: id.to_owned(),
                stateful: g.get("stateful").and_then(Value::as_bool).unwrap_or(true),
                rules: st
                    .by(Kind::SecurityGroupRule, "security_group_id", id)
                    .into_iter()
                    .filter_map(rule_of)
                    .collect(),
            }
        })
        .collect()
}

/// A port's `(port_security_enabled, security_groups, allowed_address_pairs)`.
pub fn port_security(p: &Obj) -> (bool, Vec<String>, Vec<(String, String)>) {
    let groups = strings_of(p, "security_groups");
    let pairs = p
        .get("allowed_address_pairs")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|pair| {
                    Some((
                        pair["ip_address"].as_str()?.to_owned(),
                        pair["mac_address"]
                            .as_str()
                            .unwrap_or_else(|| str_of(p, "mac_address"))
                            .to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    (bool_of(p, "port_security_enabled"), groups, pairs)
}
