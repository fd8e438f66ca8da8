//! What a guest learns about itself, as Nova's metadata API tells it: the
//! OpenStack documents (`meta_data.json`, `network_data.json`,
//! `vendor_data.json`, `vendor_data2.json`, `user_data`) and the EC2
//! `meta-data` tree, per version. The config drive and the metadata
//! service are made from the same `Source` by the same functions.
//!
//! - `tree.rs`: paths to answers (listings, documents, 404s), as the
//!   metadata service serves them;
//! - `service.rs`: the metadata service's answer to one request
//!   (the requester, the password a guest posts).

mod service;
pub mod tree;

pub use service::MetadataRequest;

use base64::Engine;
use ferro_api::services::{PortInfo, SubnetInfo};
use serde_json::{json, Map, Value};

use crate::store::attachments::Attachment;
use crate::store::instances::Instance;
use crate::ComputeService;

/// The EC2 versions (oldest first; `latest` is the last).
pub const EC2_VERSIONS: &[&str] = &[
    "1.0",
    "2007-01-19",
    "2007-03-01",
    "2007-08-29",
    "2007-10-10",
    "2007-12-15",
    "2008-02-01",
    "2008-09-01",
    "2009-04-04",
];

/// The OpenStack versions (oldest first; `latest` is the last). Versions
/// dated in the future are answered but not listed.
pub const OPENSTACK_VERSIONS: &[&str] = &[
    FOLSOM, GRIZZLY, HAVANA, LIBERTY, NEWTON_ONE, NEWTON_TWO, OCATA, ROCKY, VICTORIA, EPOXY,
];

const FOLSOM: &str = "2012-08-10";
const GRIZZLY: &str = "2013-04-04";
const HAVANA: &str = "2013-10-17";
const LIBERTY: &str = "2015-10-15";
const NEWTON_ONE: &str = "2016-06-30";
const NEWTON_TWO: &str = "2016-10-06";
const OCATA: &str = "2017-02-22";
const ROCKY: &str = "2018-08-27";
const VICTORIA: &str = "2020-10-14";
const EPOXY: &str = "2025-04-04";

/// Whether OpenStack version `v` (a listed one) is `at_least` or newer.
/// Dates compare as strings.
fn os_at_least(v: &str, at_least: &str) -> bool {
    v >= at_least
}

/// Whether EC2 version `v` (a listed one) is `at_least` or newer.
fn ec2_at_least(v: &str, at_least: &str) -> bool {
    let pos = |x: &str| EC2_VERSIONS.iter().position(|e| *e == x);
    pos(v) >= pos(at_least)
}

/// Everything the documents are made of, read once.
#[derive(Clone, Debug, Default)]
pub struct Source {
    pub instance: Instance,
    /// The server's ports, oldest first.
    pub ports: Vec<PortInfo>,
    /// The names of its ports' security groups.
    pub security_groups: Vec<String>,
    /// Its volumes (EC2 `block-device-mapping`).
    pub attachments: Vec<Attachment>,
    /// The (encrypted) password the guest posted, if any.
    pub password: Option<String>,
    /// Appended to the host name (Nova's `[api] dhcp_domain`).
    pub dhcp_domain: String,
    /// The requester's address (EC2 `local-ipv4` when it has no fixed
    /// IPv4 address of its own).
    pub address: Option<String>,
}

impl Source {
    /// The server's parts, read as an admin in its owner's project.
    pub(crate) async fn read(svc: &ComputeService, i: &Instance) -> Result<Source, String> {
        let ctx = crate::guest::admin_context(i);
        let net = svc
            .peers()
            .network
            .device_networks(&[(ctx, i.id.clone())])
            .await
            .map_err(|e| e.to_string())?
            .pop()
            .unwrap_or_default();
        let attachments = crate::store::attachments::of_instance(svc.db(), &i.id)
            .await
            .map_err(|e| e.to_string())?;
        let password = crate::store::instances::password(svc.db(), &i.id)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Source {
            instance: i.clone(),
            ports: net.ports,
            security_groups: net.security_group_names,
            attachments,
            password,
            dhcp_domain: svc.config().dhcp_domain.clone(),
            address: None,
        })
    }

    /// The host name with the DHCP domain (Nova's `_get_hostname`).
    pub fn hostname(&self) -> String {
        if self.dhcp_domain.is_empty() {
            self.instance.hostname.clone()
        } else {
            format!("{}.{}", self.instance.hostname, self.dhcp_domain)
        }
    }

    /// The user data as the guest gets it (decoded from the API's base64).
    pub fn user_data(&self) -> Option<Vec<u8>> {
        let encoded = self.instance.user_data.as_deref()?;
        base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .or_else(|| Some(encoded.as_bytes().to_vec()))
    }

    fn fixed_ips(&self, version: u8) -> impl Iterator<Item = &str> {
        self.ports
            .iter()
            .flat_map(|p| p.fixed_ips.iter())
            .filter(move |f| f.2 == version)
            .map(|f| f.1.as_str())
    }
}

/// `openstack/<version>/meta_data.json`.
pub fn meta_data(src: &Source, version: &str) -> Value {
    let i = &src.instance;
    let mut doc = Map::new();
    doc.insert("uuid".into(), json!(i.id));
    if !i.metadata.is_empty() {
        doc.insert("meta".into(), Value::Object(i.metadata.clone()));
    }
    if let (Some(name), Some(data)) = (&i.key_name, &i.key_data) {
        let kind = if data.starts_with("ssh-") || data.starts_with("ecdsa-") {
            "ssh"
        } else {
            "x509"
        };
        doc.insert("public_keys".into(), json!({ name: data }));
        doc.insert(
            "keys".into(),
            json!([{"name": name, "type": kind, "data": data}]),
        );
    }
    doc.insert("hostname".into(), json!(src.hostname()));
    doc.insert("name".into(), json!(i.name));
    doc.insert("launch_index".into(), json!(i.launch_index));
    doc.insert("availability_zone".into(), json!(i.availability_zone));
    if os_at_least(version, GRIZZLY) {
        let mut seed = [0u8; 512];
        rand::Rng::fill(&mut rand::thread_rng(), &mut seed[..]);
        doc.insert(
            "random_seed".into(),
            json!(base64::engine::general_purpose::STANDARD.encode(seed)),
        );
    }
    if os_at_least(version, LIBERTY) {
        doc.insert("project_id".into(), json!(i.project_id));
    }
    if os_at_least(version, NEWTON_ONE) {
        doc.insert("devices".into(), json!([]));
    }
    if os_at_least(version, VICTORIA) {
        doc.insert("dedicated_cpus".into(), json!([]));
    }
    Value::Object(doc)
}

/// `10.0.0.0/24` → `255.255.255.0`; `fd00::/64` → `ffff:ffff:ffff:ffff::`.
fn netmask(cidr: &str) -> Option<String> {
    let (addr, len) = cidr.split_once('/')?;
    let len: u32 = len.parse().ok()?;
    match addr.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(_) if len <= 32 => {
            let m = u32::MAX.checked_shl(32 - len).unwrap_or(0);
            Some(std::net::Ipv4Addr::from(m).to_string())
        }
        std::net::IpAddr::V6(_) if len <= 128 => {
            let m = u128::MAX.checked_shl(128 - len).unwrap_or(0);
            Some(std::net::Ipv6Addr::from(m).to_string())
        }
        _ => None,
    }
}

/// A route's `network` (the destination's network address) and `netmask`.
fn route_of(cidr: &str) -> Option<(String, String)> {
    let (addr, _) = cidr.split_once('/')?;
    let mask = netmask(cidr)?;
    let network = match (addr.parse().ok()?, mask.parse().ok()?) {
        (std::net::IpAddr::V4(a), std::net::IpAddr::V4(m)) => {
            std::net::Ipv4Addr::from(u32::from(a) & u32::from(m)).to_string()
        }
        (std::net::IpAddr::V6(a), std::net::IpAddr::V6(m)) => {
            std::net::Ipv6Addr::from(u128::from(a) & u128::from(m)).to_string()
        }
        _ => return None,
    };
    Some((network, mask))
}

fn dns_services(s: &SubnetInfo) -> Vec<Value> {
    s.dns_nameservers
        .iter()
        .map(|a| json!({"type": "dns", "address": a}))
        .collect()
}

/// One `networks` entry of `network_data.json` (Nova's `_get_nets`):
/// `ipv4_dhcp`/`ipv6_dhcp` where DHCP configures the guest, the IPv6
/// address mode's type (`ipv6_slaac`, ...) or static `ipv4`/`ipv6`
/// otherwise, with the address, netmask, routes and DNS servers.
fn network_entry(p: &PortInfo, s: &SubnetInfo, ip: &str, n: usize, link: &str) -> Value {
    let id = format!("network{n}");
    let v = s.ip_version;
    let kind = match &s.ipv6_address_mode {
        Some(mode) => format!("ipv{v}_{mode}"),
        None if s.dhcp_server.is_some() || s.enable_dhcp => {
            return json!({
                "id": id,
                "type": format!("ipv{v}_dhcp"),
                "link": link,
                "network_id": p.network_id,
            });
        }
        None => format!("ipv{v}"),
    };
    let mut routes = Vec::new();
    if let Some(gw) = &s.gateway_ip {
        let any = if v == 6 { "::" } else { "0.0.0.0" };
        routes.push(json!({"network": any, "netmask": any, "gateway": gw}));
    }
    for (dest, hop) in &s.host_routes {
        if let Some((network, mask)) = route_of(dest) {
            routes.push(json!({"network": network, "netmask": mask, "gateway": hop}));
        }
    }
    json!({
        "id": id,
        "type": kind,
        "link": link,
        "ip_address": ip,
        "netmask": netmask(&s.cidr).unwrap_or_default(),
        "routes": routes,
        "network_id": p.network_id,
        "services": dns_services(s),
    })
}

/// `openstack/<version>/network_data.json` (Nova's
/// `get_network_metadata`): a link per port (its tap; the MTU only when no
/// DHCP server tells it), a network for the port's first IPv4 and first
/// IPv6 subnet, and the DNS servers as services.
pub fn network_data(ports: &[PortInfo]) -> Value {
    let mut links = Vec::new();
    let mut networks = Vec::new();
    let mut services: Vec<Value> = Vec::new();
    for p in ports {
        let first = |v: u8| {
            p.fixed_ips
                .iter()
                .filter(|f| f.2 == v)
                .find_map(|f| Some((p.subnets.iter().find(|s| s.id == f.0)?, f.1.as_str())))
        };
        let (v4, v6) = (first(4), first(6));
        if v4.is_none() && v6.is_none() {
            continue;
        }
        let link = format!("tap{}", p.id.chars().take(11).collect::<String>());
        let mtu = if p.subnets.iter().any(|s| s.dhcp_server.is_some()) {
            Value::Null
        } else {
            json!(p.network_mtu)
        };
        links.push(json!({
            "id": link,
            "vif_id": p.id,
            "type": "bridge",
            "mtu": mtu,
            "ethernet_mac_address": p.mac_address,
        }));
        for (s, ip) in [v4, v6].into_iter().flatten() {
            networks.push(network_entry(p, s, ip, networks.len(), &link));
            for d in dns_services(s) {
                if !services.contains(&d) {
                    services.push(d);
                }
            }
        }
    }
    json!({"links": links, "networks": networks, "services": services})
}

/// `vendor_data.json`: the static vendor data (none configured).
pub fn vendor_data() -> Value {
    json!({})
}

/// `vendor_data2.json`: each provider's vendor data (the static one).
pub fn vendor_data2() -> Value {
    json!({"static": {}})
}

/// An EC2 id from a UUID: its first 32 bits in hex (as the
/// `OS-EXT-SRV-ATTR:instance_name` of the server).
fn ec2_id(prefix: &str, uuid: &str) -> String {
    let hex: String = uuid
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(8)
        .collect();
    format!("{prefix}-{hex:0>8}")
}

/// `block-device-mapping`: the root disk, the ephemeral and swap disks,
/// volumes as `ebsN` (Nova's `instance_block_mapping`).
fn block_device_mapping(src: &Source) -> Value {
    let root = "/dev/vda";
    let mut m = Map::new();
    m.insert("ami".into(), json!("vda"));
    m.insert("root".into(), json!(root));
    let flavor = |k: &str| {
        src.instance
            .flavor
            .get(k)
            .and_then(Value::as_i64)
            .unwrap_or(0)
    };
    let mut next = b'b';
    if flavor("ephemeral") > 0 {
        m.insert("ephemeral0".into(), json!("/dev/vdb"));
        next += 1;
    }
    if flavor("swap") > 0 {
        m.insert("swap".into(), json!(format!("/dev/vd{}", next as char)));
    }
    let mut volumes: Vec<&str> = src.attachments.iter().map(|a| a.device.as_str()).collect();
    volumes.sort_unstable();
    for (n, dev) in volumes.into_iter().enumerate() {
        m.insert(format!("ebs{n}"), json!(dev));
    }
    Value::Object(m)
}

/// The EC2 `meta-data` tree of `version` (a listed EC2 version). A
/// directory whose listing is not its keys carries it in `_name` (the
/// public keys: `0=<key name>`).
pub fn ec2_meta_data(src: &Source, version: &str) -> Value {
    let i = &src.instance;
    let hostname = src.hostname();
    let fixed = src
        .fixed_ips(4)
        .next()
        .map(str::to_owned)
        .or_else(|| src.address.clone())
        .unwrap_or_default();
    let floating = src
        .ports
        .iter()
        .flat_map(|p| p.floating_ips.iter())
        .next()
        .cloned()
        .unwrap_or_default();
    let image = if i.image_id.is_empty() {
        "ami-00000000".to_owned()
    } else {
        ec2_id("ami", &i.image_id)
    };
    let mut md = Map::new();
    md.insert("ami-id".into(), json!(image));
    md.insert("ami-launch-index".into(), json!(i.launch_index));
    md.insert("ami-manifest-path".into(), json!("FIXME"));
    md.insert("instance-id".into(), json!(ec2_id("i", &i.id)));
    md.insert("hostname".into(), json!(hostname));
    md.insert("local-ipv4".into(), json!(fixed));
    md.insert("reservation-id".into(), json!(i.reservation_id));
    md.insert("security-groups".into(), json!(src.security_groups));
    if let (Some(name), Some(data)) = (&i.key_name, &i.key_data) {
        md.insert(
            "public-keys".into(),
            json!({"0": {"_name": format!("0={name}"), "openssh-key": data}}),
        );
    }
    if ec2_at_least(version, "2007-01-19") {
        md.insert("local-hostname".into(), json!(hostname));
        md.insert("public-hostname".into(), json!(hostname));
        md.insert("public-ipv4".into(), json!(floating));
    }
    if ec2_at_least(version, "2007-08-29") {
        let flavor = i.flavor.get("name").and_then(Value::as_str).unwrap_or("");
        md.insert("instance-type".into(), json!(flavor));
    }
    if ec2_at_least(version, "2007-12-15") {
        md.insert("block-device-mapping".into(), block_device_mapping(src));
    }
    if ec2_at_least(version, "2008-02-01") {
        md.insert(
            "placement".into(),
            json!({"availability-zone": i.availability_zone}),
        );
    }
    if ec2_at_least(version, "2008-09-01") {
        md.insert("instance-action".into(), json!("none"));
    }
    Value::Object(md)
}

/// The files of the instance's config drive, in OpenStack's layout: the
/// EC2 `meta-data.json`/`user-data` and the OpenStack documents of every
/// version and `latest`.
pub fn config_drive_files(src: &Source) -> Vec<(String, Vec<u8>)> {
    let doc = |v: &Value| serde_json::to_vec(v).unwrap_or_default();
    let user_data = src.user_data();
    let mut files = Vec::new();
    for version in EC2_VERSIONS.iter().copied().chain(["latest"]) {
        let v = if version == "latest" {
            EC2_VERSIONS[EC2_VERSIONS.len() - 1]
        } else {
            version
        };
        if let Some(data) = &user_data {
            files.push((format!("ec2/{version}/user-data"), data.clone()));
        }
        let mut md = ec2_meta_data(src, v);
        if let Some(Value::Object(k)) = md.pointer_mut("/public-keys/0") {
            k.remove("_name");
        }
        files.push((format!("ec2/{version}/meta-data.json"), doc(&md)));
    }
    let network = doc(&network_data(&src.ports));
    for version in OPENSTACK_VERSIONS.iter().copied().chain(["latest"]) {
        let v = if version == "latest" {
            OPENSTACK_VERSIONS[OPENSTACK_VERSIONS.len() - 1]
        } else {
            version
        };
        let dir = format!("openstack/{version}");
        files.push((format!("{dir}/meta_data.json"), doc(&meta_data(src, v))));
        if let Some(data) = &user_data {
            files.push((format!("{dir}/user_data"), data.clone()));
        }
        if os_at_least(v, HAVANA) {
            files.push((format!("{dir}/vendor_data.json"), doc(&vendor_data())));
        }
        if os_at_least(v, LIBERTY) {
            files.push((format!("{dir}/network_data.json"), network.clone()));
        }
        if os_at_least(v, NEWTON_TWO) {
            files.push((format!("{dir}/vendor_data2.json"), doc(&vendor_data2())));
        }
    }
    files
}
