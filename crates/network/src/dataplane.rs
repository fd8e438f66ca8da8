//! What the data plane needs from the network service: a snapshot of the
//! desired state in the reconciler's terms, a signal after every write, and
//! the DHCP ports Neutron's DHCP agent would make.

use ferro_netplane::{Desired, Network, Port, PortKind, Subnet};
use serde_json::{json, Value};

use crate::logic::{ports, Ctx};
use crate::state::{bool_of, str_of, Kind, Obj, State};
use crate::NetworkService;

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn subnet_of(s: &Obj) -> Subnet {
    Subnet {
        id: str_of(s, "id").to_owned(),
        cidr: str_of(s, "cidr").to_owned(),
        ip_version: s.get("ip_version").and_then(Value::as_u64).unwrap_or(4) as u8,
        gateway_ip: s
            .get("gateway_ip")
            .and_then(Value::as_str)
            .map(str::to_owned),
        enable_dhcp: bool_of(s, "enable_dhcp"),
        dns_nameservers: strings(s.get("dns_nameservers").unwrap_or(&Value::Null)),
        host_routes: s
            .get("host_routes")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|r| {
                        Some((
                            r["destination"].as_str()?.to_owned(),
                            r["nexthop"].as_str()?.to_owned(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn port_of(p: &Obj) -> Port {
    let owner = str_of(p, "device_owner");
    let kind = if owner.starts_with("compute:") {
        PortKind::Guest
    } else if owner == "network:dhcp" {
        PortKind::Dhcp
    } else {
        PortKind::Other
    };
    Port {
        id: str_of(p, "id").to_owned(),
        network_id: str_of(p, "network_id").to_owned(),
        mac: str_of(p, "mac_address").to_owned(),
        fixed_ips: p
            .get("fixed_ips")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|f| {
                        Some((
                            f["subnet_id"].as_str()?.to_owned(),
                            f["ip_address"].as_str()?.to_owned(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default(),
        kind,
        hostname: None,
    }
}

fn snapshot(st: &State) -> Desired {
    let networks = st
        .iter(Kind::Network)
        .map(|n| {
            let id = str_of(n, "id");
            Network {
                id: id.to_owned(),
                mtu: n.get("mtu").and_then(Value::as_u64).unwrap_or(1500) as u32,
                subnets: st
                    .by(Kind::Subnet, "network_id", id)
                    .into_iter()
                    .map(subnet_of)
                    .collect(),
            }
        })
        .collect();
    Desired {
        networks,
        ports: st.iter(Kind::Port).map(port_of).collect(),
    }
}

/// Networks with a DHCP-enabled IPv4 subnet and no DHCP port yet:
/// `(network id, project id, subnet ids)`.
fn missing_dhcp_ports(st: &State) -> Vec<(String, String, Vec<String>)> {
    st.iter(Kind::Network)
        .filter_map(|n| {
            let id = str_of(n, "id");
            let subnets: Vec<String> = st
                .by(Kind::Subnet, "network_id", id)
                .into_iter()
                .filter(|s| bool_of(s, "enable_dhcp") && s.get("ip_version") == Some(&json!(4)))
                .map(|s| str_of(s, "id").to_owned())
                .collect();
            let has_port = st
                .by(Kind::Port, "network_id", id)
                .into_iter()
                .any(|p| str_of(p, "device_owner") == "network:dhcp");
            (!subnets.is_empty() && !has_port)
                .then(|| (id.to_owned(), str_of(n, "project_id").to_owned(), subnets))
        })
        .collect()
}

impl NetworkService {
    /// Woken after every committed write.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<i64> {
        self.inner.changes.subscribe()
    }

    /// The desired state for the data plane.
    pub async fn dataplane_snapshot(&self) -> crate::error::Result<Desired> {
        Ok(snapshot(&*self.read().await?))
    }

    /// Give each network with DHCP a `network:dhcp` port (one fixed IP per
    /// DHCP subnet), as Neutron's DHCP agent does; `host` names the agent.
    pub async fn ensure_dhcp_ports(&self, host: &str) -> crate::error::Result<()> {
        let missing = missing_dhcp_ports(&*self.read().await?);
        for (network, project, subnets) in missing {
            let ctx = Ctx {
                project_id: project,
                admin: true,
                reader_only: false,
            };
            let host = host.to_owned();
            self.write(move |st| {
                // Another writer may have made it meanwhile.
                if st
                    .by(Kind::Port, "network_id", &network)
                    .into_iter()
                    .any(|p| str_of(p, "device_owner") == "network:dhcp")
                {
                    return Ok(());
                }
                let mut body = Obj::new();
                body.insert("network_id".into(), json!(network));
                body.insert(
                    "fixed_ips".into(),
                    json!(subnets
                        .iter()
                        .map(|s| json!({ "subnet_id": s }))
                        .collect::<Vec<_>>()),
                );
                body.insert("device_owner".into(), json!("network:dhcp"));
                body.insert("device_id".into(), json!(format!("dhcp-{host}-{network}")));
                body.insert("binding:host_id".into(), json!(host));
                ports::create(st, &ctx, &body).map(|_| ())
            })
            .await?;
        }
        Ok(())
    }
}
