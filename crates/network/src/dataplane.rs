//! What the data plane needs from the network service: a snapshot of the
//! desired state in the reconciler's terms, a signal after every write, and
//! the DHCP ports Neutron's DHCP agent would make; and who is asking the
//! metadata service (`metadata.rs`).

use ferro_netplane::{Desired, FloatingIp, Network, Observed, Port, PortKind, Router, Subnet};
use serde_json::{json, Value};

use crate::dataplane_secgroups;
use crate::logic::{ports, routers, touch, Ctx};
use crate::state::{bool_of, str_of, strings_of, Kind, Obj, State};
use crate::NetworkService;

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
        dns_nameservers: strings_of(s, "dns_nameservers"),
        host_routes: pairs(&s["host_routes"], "destination", "nexthop"),
        ipv6_ra_mode: s
            .get("ipv6_ra_mode")
            .and_then(Value::as_str)
            .map(str::to_owned),
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
    let (port_security_enabled, security_groups, allowed_address_pairs) =
        dataplane_secgroups::port_security(p);
    Port {
        id: str_of(p, "id").to_owned(),
        network_id: str_of(p, "network_id").to_owned(),
        mac: str_of(p, "mac_address").to_owned(),
        fixed_ips: pairs(&p["fixed_ips"], "subnet_id", "ip_address"),
        kind,
        hostname: None,
        port_security_enabled,
        security_groups,
        allowed_address_pairs,
        admin_down: p.get("admin_state_up") == Some(&json!(false)),
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
                external: bool_of(n, "router:external"),
                physical_network: (str_of(n, "provider:network_type") == "flat")
                    .then(|| n.get("provider:physical_network").and_then(Value::as_str))
                    .flatten()
                    .map(str::to_owned),
            }
        })
        .collect();
    Desired {
        networks,
        ports: st.iter(Kind::Port).map(port_of).collect(),
        // A router set administratively down is taken out of the data
        // plane whole, as Neutron's L3 agent does.
        routers: st
            .iter(Kind::Router)
            .filter(|r| r.get("admin_state_up") != Some(&json!(false)))
            .map(|r| router_of(st, r))
            .collect(),
        security_groups: dataplane_secgroups::groups(st),
        metadata_subnets: crate::metadata::isolated_subnets(st),
    }
}

fn router_of(st: &State, r: &Obj) -> Router {
    let id = str_of(r, "id");
    let ports = st.by(Kind::Port, "device_id", id);
    let owned = |owner: &str| {
        ports
            .iter()
            .filter(|p| str_of(p, "device_owner") == owner)
            .map(|p| str_of(p, "id").to_owned())
            .collect::<Vec<_>>()
    };
    let gateway = &r["external_gateway_info"];
    Router {
        id: id.to_owned(),
        interfaces: owned(routers::INTERFACE),
        gateway: owned(routers::GATEWAY).into_iter().next(),
        enable_snat: gateway["enable_snat"].as_bool().unwrap_or(true),
        routes: pairs(&r["routes"], "destination", "nexthop"),
        floating_ips: st
            .by(Kind::FloatingIp, "router_id", id)
            .into_iter()
            .filter_map(|f| {
                Some(FloatingIp {
                    id: str_of(f, "id").to_owned(),
                    address: f["floating_ip_address"].as_str()?.to_owned(),
                    fixed: f["fixed_ip_address"].as_str()?.to_owned(),
                })
            })
            .collect(),
    }
}

/// A port's `fixed_ips` request: the addresses it has, and one new
/// address on each of `subnets`.
fn subnet_requests(subnets: &[String], have: &[Value]) -> Value {
    let mut list = have.to_vec();
    list.extend(subnets.iter().map(|s| json!({ "subnet_id": s })));
    Value::Array(list)
}

/// `[{a: .., b: ..}]` → `[(a, b)]`.
fn pairs(v: &Value, a: &str, b: &str) -> Vec<(String, String)> {
    v.as_array()
        .map(|list| {
            list.iter()
                .filter_map(|o| Some((o[a].as_str()?.to_owned(), o[b].as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// What Neutron's DHCP agent would do to one network's DHCP port.
enum DhcpPortChange {
    /// Make it: `(network id, project id, subnet ids)`.
    Create(String, String, Vec<String>),
    /// Give the existing port an address on these subnets too (DHCP
    /// subnets added after it was made): `(port id, subnet ids)`.
    AddSubnets(String, Vec<String>),
}

/// Networks with a DHCP-enabled IPv4 subnet whose DHCP port is missing or
/// lacks an address on one of them.
fn dhcp_port_changes(st: &State) -> Vec<DhcpPortChange> {
    st.iter(Kind::Network)
        .filter_map(|n| {
            let id = str_of(n, "id");
            let subnets: Vec<String> = st
                .by(Kind::Subnet, "network_id", id)
                .into_iter()
                .filter(|s| bool_of(s, "enable_dhcp") && s.get("ip_version") == Some(&json!(4)))
                .map(|s| str_of(s, "id").to_owned())
                .collect();
            if subnets.is_empty() {
                return None;
            }
            let port = st
                .by(Kind::Port, "network_id", id)
                .into_iter()
                .find(|p| str_of(p, "device_owner") == "network:dhcp");
            match port {
                None => Some(DhcpPortChange::Create(
                    id.to_owned(),
                    str_of(n, "project_id").to_owned(),
                    subnets,
                )),
                Some(p) => {
                    let missing: Vec<String> = subnets
                        .into_iter()
                        .filter(|s| !ports::has_subnet(p, s))
                        .collect();
                    (!missing.is_empty())
                        .then(|| DhcpPortChange::AddSubnets(str_of(p, "id").to_owned(), missing))
                }
            }
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

    /// Give each network with DHCP a `network:dhcp` port with one fixed IP
    /// per DHCP subnet (subnets added later too), as Neutron's DHCP agent
    /// does; `host` names the agent.
    pub async fn ensure_dhcp_ports(&self, host: &str) -> crate::error::Result<()> {
        let changes = dhcp_port_changes(&*self.read().await?);
        let ctx = |project: String| Ctx {
            project_id: project,
            admin: true,
            reader_only: false,
        };
        for change in changes {
            let host = host.to_owned();
            self.write(move |st| match &change {
                DhcpPortChange::Create(network, project, subnets) => {
                    // Another writer may have made it meanwhile.
                    if st
                        .by(Kind::Port, "network_id", network)
                        .into_iter()
                        .any(|p| str_of(p, "device_owner") == "network:dhcp")
                    {
                        return Ok(());
                    }
                    let mut body = Obj::new();
                    body.insert("network_id".into(), json!(network));
                    body.insert("fixed_ips".into(), subnet_requests(subnets, &[]));
                    body.insert("device_owner".into(), json!("network:dhcp"));
                    body.insert("device_id".into(), json!(format!("dhcp-{host}-{network}")));
                    body.insert("binding:host_id".into(), json!(host));
                    ports::create(st, &ctx(project.clone()), &body).map(|_| ())
                }
                DhcpPortChange::AddSubnets(port, subnets) => {
                    let Some(p) = st.get(Kind::Port, port) else {
                        return Ok(());
                    };
                    let project = str_of(p, "project_id").to_owned();
                    let missing: Vec<String> = subnets
                        .iter()
                        .filter(|s| !ports::has_subnet(p, s))
                        .cloned()
                        .collect();
                    if missing.is_empty() {
                        return Ok(());
                    }
                    let have = p["fixed_ips"].as_array().cloned().unwrap_or_default();
                    let mut body = Obj::new();
                    body.insert("fixed_ips".into(), subnet_requests(&missing, &have));
                    ports::update(st, &ctx(project), port, &body).map(|_| ())
                }
            })
            .await?;
        }
        Ok(())
    }

    /// Record what the kernel says: the status of every port the data
    /// plane builds (ACTIVE when its device is there and up, else DOWN)
    /// and of every floating IP (ACTIVE when its NAT is in place), as
    /// Neutron's agents report them. Writes only what changed.
    pub async fn dataplane_observed(&self, seen: &Observed) -> crate::error::Result<()> {
        let changes = status_changes(&*self.read().await?, seen);
        if changes.is_empty() {
            return Ok(());
        }
        self.write(move |st| {
            for (kind, id, status) in &changes {
                if let Some(o) = st.get(*kind, id) {
                    let mut o = o.clone();
                    o.insert("status".into(), json!(status));
                    touch(&mut o);
                    st.put(*kind, o);
                }
            }
            Ok(())
        })
        .await
    }
}

/// `(kind, id, new status)` for every port and floating IP whose status
/// differs from what the kernel says.
fn status_changes(st: &State, seen: &Observed) -> Vec<(Kind, String, &'static str)> {
    let mut out = Vec::new();
    for p in st.iter(Kind::Port) {
        let owner = str_of(p, "device_owner");
        let built = owner.starts_with("compute:")
            || owner == "network:dhcp"
            || owner == routers::INTERFACE
            || owner == routers::GATEWAY;
        if !built {
            continue;
        }
        let id = str_of(p, "id");
        let want = if seen.active_ports.contains(id) {
            "ACTIVE"
        } else {
            "DOWN"
        };
        if str_of(p, "status") != want {
            out.push((Kind::Port, id.to_owned(), want));
        }
    }
    for f in st.iter(Kind::FloatingIp) {
        let id = str_of(f, "id");
        let want = if seen.active_floating_ips.contains(id) {
            "ACTIVE"
        } else {
            "DOWN"
        };
        if str_of(f, "status") != want {
            out.push((Kind::FloatingIp, id.to_owned(), want));
        }
    }
    out
}
