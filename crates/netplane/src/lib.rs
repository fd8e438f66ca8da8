//! The Linux data plane: a reconciler that makes the kernel match what the
//! network service holds. It reads a `Desired` snapshot (networks, subnets,
//! the ports bound to this host) and creates what is missing, fixes what
//! differs and removes what is no longer wanted — after every network write
//! and at start, so a restart or a crash converges instead of leaking.
//!
//! Isolation: every device lives in network namespaces named with this
//! deployment's prefix; the host's own namespace is never touched.
//!
//! - `{prefix}-br`: one Linux bridge per network (`brq<net id>`), a tap per
//!   guest port (`tap<port id>`, opened by the guest's QEMU, which runs in
//!   this namespace), the host side of each DHCP port's veth;
//! - `{prefix}-dhcp-<network id>`: the DHCP port's address on `ns-<port id>`
//!   and dnsmasq (Neutron's DHCP agent layout) serving each port's fixed IP
//!   by MAC; on networks with metadata subnets also 169.254.169.254/32,
//!   where the process serves the metadata service (Neutron's isolated
//!   metadata; the sites are reported in `Observed::metadata_sites`).
//!
//! - `{prefix}-r-<router id>` and `{prefix}-ext-<network id>`: routers and
//!   the world outside external networks (`router.rs`); a router's `lo`
//!   holds 169.254.169.254/32 too, and the router namespace is a metadata
//!   site for the networks it is on.
//!
//! Security groups: `firewall.rs` (nftables in the bridge namespace).
//!
//! - `ip.rs`: iproute2 per namespace; `nft.rs`: nftables tables, replaced
//!   whole; `dhcp.rs`: dnsmasq; `router.rs`: routers, SNAT, floating IPs;
//!   `addr.rs`: the addresses the firewall writes; `netns.rs`: listening
//!   sockets made inside a namespace.

mod addr;
mod dhcp;
pub mod firewall;
pub mod ip;
pub mod netns;
pub mod nft;
mod ra;
pub mod router;
pub mod uplink;

pub use router::{FloatingIp, Router};

pub use firewall::{Direction, Ethertype, SecurityGroup, SecurityGroupRule};

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// A failure to make the kernel match.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NetError(pub String);

pub type NetResult<T> = Result<T, NetError>;

/// A subnet as the data plane needs it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Subnet {
    pub id: String,
    pub cidr: String,
    pub ip_version: u8,
    pub gateway_ip: Option<String>,
    pub enable_dhcp: bool,
    pub dns_nameservers: Vec<String>,
    /// `(destination, nexthop)`.
    pub host_routes: Vec<(String, String)>,
    /// IPv6: `slaac`, `dhcpv6-stateless`, `dhcpv6-stateful` or none.
    pub ipv6_ra_mode: Option<String>,
}

/// A network and its subnets.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Network {
    pub id: String,
    pub mtu: u32,
    pub subnets: Vec<Subnet>,
    /// `router:external`: its subnets' gateways live in the network's
    /// outside-world namespace (unless it has an uplink).
    pub external: bool,
    /// `provider:physical_network` of a flat network (for uplinks).
    pub physical_network: Option<String>,
}

/// What a port is, for the data plane.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PortKind {
    /// A guest's NIC on this host (a tap in the bridge namespace).
    Guest,
    /// The network's DHCP server.
    Dhcp,
    /// Anything else (router legs are made from `Router`): only its fixed
    /// IPs matter, to DHCP.
    #[default]
    Other,
}

/// A port and its fixed IPs `(subnet id, address)`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Port {
    pub id: String,
    pub network_id: String,
    pub mac: String,
    pub fixed_ips: Vec<(String, String)>,
    pub kind: PortKind,
    /// The name DHCP gives the port's host (`host-10-0-0-5` by default).
    pub hostname: Option<String>,
    /// Off: a guest port is not filtered at all (no rules, no spoofing
    /// checks).
    pub port_security_enabled: bool,
    /// The ids of the port's security groups.
    pub security_groups: Vec<String>,
    /// `(IP address or CIDR, MAC)` the port may also send from.
    pub allowed_address_pairs: Vec<(String, String)>,
    /// `admin_state_up: false`: a guest port's tap is kept down (no
    /// traffic either way) and the port is not active.
    pub admin_down: bool,
}

/// The desired state: every network, and the ports that matter here.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Desired {
    pub networks: Vec<Network>,
    pub ports: Vec<Port>,
    pub routers: Vec<Router>,
    /// Every security group (ports name theirs; rules name remote groups).
    pub security_groups: Vec<SecurityGroup>,
    /// IPv4 subnets whose DHCP server also serves the metadata service
    /// (Neutron's isolated subnets: no router interface holds their
    /// gateway). Their DHCP namespace gets 169.254.169.254/32 and their
    /// guests a host route to it via the DHCP port.
    pub metadata_subnets: BTreeSet<String>,
}

/// The metadata service's address.
pub const METADATA_ADDRESS: std::net::Ipv4Addr = std::net::Ipv4Addr::new(169, 254, 169, 254);

/// A namespace holding 169.254.169.254 where the metadata service should
/// listen, and the networks whose guests reach it there (a requester is
/// known by its source address on one of them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetadataSite {
    pub namespace: String,
    pub network_ids: Vec<String>,
}

/// What the kernel says about the ports after a reconcile.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Observed {
    /// Ports whose device is there and up: guest taps with a guest
    /// attached (carrier up), router legs, DHCP ports.
    pub active_ports: BTreeSet<String>,
    /// Floating IPs whose NAT is in place.
    pub active_floating_ips: BTreeSet<String>,
    /// Router namespaces and the networks each reaches.
    pub router_namespaces: Vec<(String, Vec<String>)>,
    /// Where the metadata service is to listen: DHCP namespaces of
    /// networks with isolated subnets, and router namespaces.
    pub metadata_sites: Vec<MetadataSite>,
    /// What could not be made to match, object by object (a port, a
    /// network's DHCP, a router): the rest was; the next pass tries again.
    pub errors: Vec<String>,
}

/// The name of a device for `id` (Neutron's: prefix + first 11 characters).
pub fn dev_name(prefix: &str, id: &str) -> String {
    format!("{prefix}{}", id.chars().take(11).collect::<String>())
}

pub struct Netplane {
    prefix: String,
    dir: PathBuf,
    /// Physical network → host bridge (`bridge_mappings`).
    uplinks: BTreeMap<String, String>,
    /// Where host bridges live (`None`: this process's namespace; tests
    /// use one of their own).
    host_namespace: Option<String>,
}

impl Netplane {
    /// `prefix`: this deployment's namespace prefix (several deployments on
    /// one host never meet); `dir`: where DHCP files live.
    pub fn new(prefix: impl Into<String>, dir: PathBuf) -> Self {
        Netplane {
            prefix: prefix.into(),
            dir,
            uplinks: BTreeMap::new(),
            host_namespace: None,
        }
    }

    /// Plug flat networks on these physical networks into these host
    /// bridges (`physical network → bridge`).
    pub fn with_uplinks(mut self, uplinks: BTreeMap<String, String>) -> Self {
        self.uplinks = uplinks;
        self
    }

    /// Take "the host" to be namespace `ns` (for tests).
    pub fn with_host_namespace(mut self, ns: impl Into<String>) -> Self {
        self.host_namespace = Some(ns.into());
        self
    }

    /// The namespace guests' QEMU processes run in.
    pub fn bridge_namespace(&self) -> String {
        format!("{}-br", self.prefix)
    }

    fn dhcp_namespace(&self, network_id: &str) -> String {
        format!("{}-dhcp-{network_id}", self.prefix)
    }

    /// Whether this process may run a data plane here (root, iproute2,
    /// namespaces, nftables and br_netfilter for security groups), and if
    /// not, why.
    pub async fn check() -> Result<(), String> {
        if !nix::unistd::Uid::effective().is_root() {
            return Err("not running as root".into());
        }
        ip::namespaces("")
            .await
            .map_err(|e| format!("iproute2 is not usable: {e}"))?;
        firewall::check().await
    }

    /// Make the kernel match `want`.
    pub async fn reconcile(&self, want: &Desired) -> NetResult<Observed> {
        let br = self.bridge_namespace();
        let existing = ip::namespaces(&format!("{}-", self.prefix)).await?;
        if !existing.contains(&br) {
            ip::add_namespace(&br).await?;
        }
        let networks: BTreeMap<&str, &Network> =
            want.networks.iter().map(|n| (n.id.as_str(), n)).collect();
        self.bridges(&br, &networks).await?;
        // Before any new tap joins a bridge: a guest is never reachable
        // before its rules are in force (and a failed update adds no tap).
        firewall::apply(&br, want).await?;
        let uplinked = uplink::mapped(&networks, &self.uplinks);
        uplink::reconcile(&self.prefix, self.host_namespace.as_deref(), &br, &uplinked).await?;
        let mut observed = self.taps(&br, want, &networks).await?;
        let mut errors = std::mem::take(&mut observed.errors);
        let (dhcp_ports, sites) = self
            .dhcp(&br, want, &networks, &existing, &mut errors)
            .await?;
        observed.active_ports.extend(dhcp_ports);
        observed.metadata_sites = sites;
        let routers = router::reconcile(
            &self.prefix,
            &self.dir,
            &br,
            want,
            &networks,
            &uplinked,
            &existing,
        )
        .await?;
        observed.active_ports.extend(routers.active_ports);
        observed.active_floating_ips = routers.active_floating_ips;
        observed
            .metadata_sites
            .extend(routers.namespaces.iter().map(|(ns, nets)| MetadataSite {
                namespace: ns.clone(),
                network_ids: nets.clone(),
            }));
        observed.router_namespaces = routers.namespaces;
        errors.extend(routers.errors);
        observed.errors = errors;
        Ok(observed)
    }

    /// A bridge per network, up, with the network's MTU; no others.
    async fn bridges(&self, br: &str, networks: &BTreeMap<&str, &Network>) -> NetResult<()> {
        let links = ip::links(br).await?;
        for n in networks.values() {
            let name = dev_name("brq", &n.id);
            let mtu = n.mtu.max(68).to_string();
            match links.iter().find(|l| l.name == name) {
                None => {
                    ip::ns(br, &["link", "add", &name, "mtu", &mtu, "type", "bridge"]).await?;
                    ip::ns(br, &["link", "set", &name, "up"]).await?;
                }
                Some(l) => {
                    if !l.up || l.mtu != u64::from(n.mtu.max(68)) {
                        ip::ns(br, &["link", "set", &name, "mtu", &mtu, "up"]).await?;
                    }
                }
            }
        }
        let wanted: BTreeSet<String> = networks.keys().map(|id| dev_name("brq", id)).collect();
        for l in links.iter().filter(|l| l.kind == "bridge") {
            if l.name.starts_with("brq") && !wanted.contains(&l.name) {
                ip::ns(br, &["link", "del", &l.name]).await?;
            }
        }
        Ok(())
    }

    /// A tap per guest port in its network's bridge (made here if QEMU has
    /// not made it yet); taps of ports gone are removed (or, while a guest
    /// holds them, taken out of their bridge).
    async fn taps(
        &self,
        br: &str,
        want: &Desired,
        networks: &BTreeMap<&str, &Network>,
    ) -> NetResult<Observed> {
        let links = ip::links(br).await?;
        let mut observed = Observed::default();
        let mut wanted = BTreeSet::new();
        for p in &want.ports {
            let Some(net) = networks.get(p.network_id.as_str()) else {
                continue;
            };
            let name = dev_name("tap", &p.id);
            wanted.insert(name.clone());
            if p.kind != PortKind::Guest {
                continue;
            }
            let bridge = dev_name("brq", &p.network_id);
            let mtu = net.mtu.max(68).to_string();
            let state = if p.admin_down { "down" } else { "up" };
            let set = ["link", "set", &name, "mtu", &mtu, "master", &bridge, state];
            let made = match links.iter().find(|l| l.name == name) {
                None => match ip::ns(br, &["tuntap", "add", "dev", &name, "mode", "tap"]).await {
                    Ok(()) => ip::ns(br, &set).await,
                    Err(e) => Err(e),
                },
                Some(l) => {
                    if l.carrier && !p.admin_down {
                        observed.active_ports.insert(p.id.clone());
                    }
                    if l.master.as_deref() != Some(bridge.as_str()) || l.up == p.admin_down {
                        ip::ns(br, &set).await
                    } else {
                        Ok(())
                    }
                }
            };
            if let Err(e) = made {
                observed.errors.push(format!("port {}: {e}", p.id));
            }
        }
        for l in &links {
            if !l.name.starts_with("tap") || wanted.contains(&l.name) {
                continue;
            }
            if l.carrier && l.kind == "tun" {
                // A guest still has it open: a port deleted under a running
                // guest, or one made after this snapshot whose QEMU is
                // already up (the next reconcile wants it). Out of its
                // bridge, but up (down would hide the carrier and get it
                // deleted under QEMU); QEMU removes its tap when it lets go.
                if l.master.is_some() {
                    ip::ns(br, &["link", "set", &l.name, "nomaster"]).await?;
                }
            } else {
                ip::ns(br, &["link", "del", &l.name]).await?;
            }
        }
        Ok(observed)
    }

    /// A DHCP namespace and dnsmasq per network that has a DHCP port and a
    /// subnet with DHCP on; the others' are removed. The namespaces that
    /// serve metadata are returned.
    async fn dhcp(
        &self,
        br: &str,
        want: &Desired,
        networks: &BTreeMap<&str, &Network>,
        existing: &[String],
        errors: &mut Vec<String>,
    ) -> NetResult<(Vec<String>, Vec<MetadataSite>)> {
        let mut keep = BTreeSet::new();
        let mut active = Vec::new();
        let mut sites = Vec::new();
        for net in networks.values() {
            let dhcp_subnets: Vec<&Subnet> = net
                .subnets
                .iter()
                .filter(|s| s.enable_dhcp && s.ip_version == 4)
                .collect();
            let port = want
                .ports
                .iter()
                .find(|p| p.kind == PortKind::Dhcp && p.network_id == net.id);
            let (Some(port), false) = (port, dhcp_subnets.is_empty()) else {
                continue;
            };
            let ns = self.dhcp_namespace(&net.id);
            keep.insert(ns.clone());
            // One network's failure leaves the others served.
            match self
                .dhcp_network(br, &ns, want, net, port, &dhcp_subnets, existing)
                .await
            {
                Ok(site) => {
                    sites.extend(site);
                    active.push(port.id.clone());
                }
                Err(e) => errors.push(format!("DHCP of network {}: {e}", net.id)),
            }
        }
        for ns in existing {
            if ns.starts_with(&format!("{}-dhcp-", self.prefix)) && !keep.contains(ns) {
                let id = &ns[self.prefix.len() + 6..];
                dhcp::stop(&self.dir.join("dhcp").join(id)).await;
                ip::del_namespace(ns).await?;
            }
        }
        Ok((active, sites))
    }

    /// One network's DHCP namespace, port addresses and dnsmasq; the
    /// metadata site it is, if any.
    #[allow(clippy::too_many_arguments)]
    async fn dhcp_network(
        &self,
        br: &str,
        ns: &str,
        want: &Desired,
        net: &Network,
        port: &Port,
        dhcp_subnets: &[&Subnet],
        existing: &[String],
    ) -> NetResult<Option<MetadataSite>> {
        let dir = self.dir.join("dhcp").join(&net.id);
        let inner = dev_name("ns-", &port.id);
        let outer = dev_name("tap", &port.id);
        if !existing.iter().any(|e| e == ns) {
            // A namespace made anew (or deleted under us, and kept
            // alive by what still uses it): a dnsmasq still running
            // serves the old one, and the old veth is still in the
            // bridge.
            dhcp::stop_stale(&dir);
            if ip::links(br).await?.iter().any(|l| l.name == outer) {
                ip::ns(br, &["link", "del", &outer]).await?;
            }
            ip::add_namespace(ns).await?;
        }
        let inside = ip::links(ns).await?;
        if !inside.iter().any(|l| l.name == inner) {
            ip::ns(
                ns,
                &[
                    "link", "add", &inner, "address", &port.mac, "type", "veth", "peer", "name",
                    &outer, "netns", br,
                ],
            )
            .await?;
        }
        let mtu = net.mtu.max(68).to_string();
        ip::ns(ns, &["link", "set", &inner, "mtu", &mtu, "up"]).await?;
        let bridge = dev_name("brq", &net.id);
        ip::ns(
            br,
            &["link", "set", &outer, "mtu", &mtu, "master", &bridge, "up"],
        )
        .await?;
        // The port's addresses on the DHCP subnets, and the metadata
        // service's where this server serves it; nothing else (an
        // address of a subnet gone or changed is removed).
        let mut addrs: BTreeSet<String> = port
            .fixed_ips
            .iter()
            .filter_map(|(subnet_id, addr)| {
                let s = dhcp_subnets.iter().find(|s| &s.id == subnet_id)?;
                Some(format!("{addr}/{}", s.cidr.split('/').nth(1)?))
            })
            .collect();
        let metadata = dhcp_subnets
            .iter()
            .any(|s| want.metadata_subnets.contains(&s.id));
        if metadata {
            addrs.insert(format!("{METADATA_ADDRESS}/32"));
        }
        ip::sync_ipv4_addresses(ns, &inner, &addrs).await?;
        let md = dhcp::Metadata {
            subnets: &want.metadata_subnets,
            server: port,
        };
        dhcp::ensure(ns, &inner, &dir, net, dhcp_subnets, &want.ports, &md).await?;
        Ok(metadata.then(|| MetadataSite {
            namespace: ns.to_owned(),
            network_ids: vec![net.id.clone()],
        }))
    }

    /// Remove every namespace (and DHCP server) of this deployment.
    pub async fn remove_all(&self) -> NetResult<()> {
        if let Ok(br) = ip::namespaces(&self.bridge_namespace()).await {
            if !br.is_empty() {
                let none = BTreeMap::new();
                let host = self.host_namespace.as_deref();
                uplink::reconcile(&self.prefix, host, &self.bridge_namespace(), &none).await?;
            }
        }
        for ns in ip::namespaces(&format!("{}-", self.prefix)).await? {
            if let Some(id) = ns.strip_prefix(&format!("{}-dhcp-", self.prefix)) {
                dhcp::stop(&self.dir.join("dhcp").join(id)).await;
            }
            if let Some(id) = ns.strip_prefix(&format!("{}-r-", self.prefix)) {
                ra::stop(&self.dir.join("ra").join(id)).await;
            }
            ip::del_namespace(&ns).await?;
        }
        Ok(())
    }
}
