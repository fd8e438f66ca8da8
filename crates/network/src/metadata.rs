//! What the metadata service asks the network service: which subnets'
//! DHCP servers serve it (Neutron's isolated subnets), and which guest a
//! request comes from (its source address on one of the networks of the
//! place it arrived at, as Neutron's metadata proxy finds the port).

use std::collections::BTreeSet;
use std::net::IpAddr;

use serde_json::Value;

use crate::state::{str_of, Kind, State};
use crate::NetworkService;

/// Neutron's router interface owners: a subnet whose gateway address one
/// of them holds is routed (the router serves its metadata).
const ROUTER_INTERFACE_OWNERS: &[&str] = &[
    "network:router_interface",
    "network:ha_router_replicated_interface",
    "network:router_interface_distributed",
];

fn fixed_ips(p: &crate::state::Obj) -> impl Iterator<Item = (&str, &str)> {
    p.get("fixed_ips")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|f| Some((f["subnet_id"].as_str()?, f["ip_address"].as_str()?)))
}

/// IPv4 subnets with DHCP on and no router interface on their gateway
/// address (Neutron's `get_isolated_subnets`).
pub(crate) fn isolated_subnets(st: &State) -> BTreeSet<String> {
    st.iter(Kind::Subnet)
        .filter(|s| s.get("ip_version").and_then(Value::as_u64) == Some(4))
        .filter(|s| s.get("enable_dhcp").and_then(Value::as_bool) == Some(true))
        .filter(|s| {
            let id = str_of(s, "id");
            let Some(gw) = s.get("gateway_ip").and_then(Value::as_str) else {
                return true;
            };
            !st.by(Kind::Port, "network_id", str_of(s, "network_id"))
                .into_iter()
                .filter(|p| ROUTER_INTERFACE_OWNERS.contains(&str_of(p, "device_owner")))
                .any(|p| fixed_ips(p).any(|(sub, ip)| sub == id && ip == gw))
        })
        .map(|s| str_of(s, "id").to_owned())
        .collect()
}

/// The guest a metadata request comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetadataRequester {
    /// The server (the port's `device_id`).
    pub device_id: String,
    /// The port's project (Nova answers only when it is the server's).
    pub project_id: String,
}

impl NetworkService {
    /// The guest whose port on one of `network_ids` has the fixed IP
    /// `address` (a `compute:*` port); `None` when there is none, or more
    /// than one.
    pub async fn metadata_requester(
        &self,
        network_ids: &[String],
        address: &str,
    ) -> crate::error::Result<Option<MetadataRequester>> {
        let Ok(address) = address.parse::<IpAddr>() else {
            return Ok(None);
        };
        let same = |ip: &str| ip.parse::<IpAddr>().is_ok_and(|ip| ip == address);
        let st = self.read().await?;
        let mut found = network_ids.iter().flat_map(|net| {
            st.by(Kind::Port, "network_id", net)
                .into_iter()
                .filter(|p| str_of(p, "device_owner").starts_with("compute:"))
                .filter(|p| fixed_ips(p).any(|(_, ip)| same(ip)))
                .map(|p| MetadataRequester {
                    device_id: str_of(p, "device_id").to_owned(),
                    project_id: str_of(p, "project_id").to_owned(),
                })
        });
        let first = found.next();
        Ok(match (first, found.next()) {
            (Some(one), None) if !one.device_id.is_empty() => Some(one),
            _ => None,
        })
    }
}
