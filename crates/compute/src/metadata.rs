//! What a guest learns about itself: the OpenStack metadata documents
//! (`meta_data.json`, `network_data.json`, `vendor_data.json`,
//! `user_data`), written on config drives now and served by the metadata
//! service later.

use base64::Engine;
use ferro_api::services::PortInfo;
use serde_json::{json, Value};

use crate::store::instances::Instance;

/// `openstack/latest/meta_data.json`.
pub fn meta_data(i: &Instance) -> Value {
    let mut public_keys = serde_json::Map::new();
    let mut keys = Vec::new();
    if let (Some(name), Some(data)) = (&i.key_name, &i.key_data) {
        public_keys.insert(name.clone(), json!(data));
        let kind = if data.starts_with("ssh-") || data.starts_with("ecdsa-") {
            "ssh"
        } else {
            "x509"
        };
        keys.push(json!({"name": name, "type": kind, "data": data}));
    }
    let mut seed = [0u8; 512];
    rand::Rng::fill(&mut rand::thread_rng(), &mut seed[..]);
    let mut doc = json!({
        "uuid": i.id,
        "meta": i.metadata,
        "hostname": i.hostname,
        "name": i.name,
        "launch_index": i.launch_index,
        "availability_zone": i.availability_zone,
        "project_id": i.project_id,
        "random_seed": base64::engine::general_purpose::STANDARD.encode(seed),
        "devices": [],
        "dedicated_cpus": [],
    });
    if !public_keys.is_empty() {
        doc["public_keys"] = Value::Object(public_keys);
        doc["keys"] = json!(keys);
    }
    doc
}

/// `openstack/latest/network_data.json`: one link per port, addresses by
/// DHCP (the data plane's DHCP server hands out each port's fixed IP).
pub fn network_data(ports: &[PortInfo]) -> Value {
    let mut links = Vec::new();
    let mut networks = Vec::new();
    for p in ports {
        let link = format!("tap{}", p.id.chars().take(11).collect::<String>());
        links.push(json!({
            "id": link,
            "vif_id": p.id,
            "type": "bridge",
            "mtu": 1500,
            "ethernet_mac_address": p.mac_address,
        }));
        for (subnet, ip, version) in &p.fixed_ips {
            networks.push(json!({
                "id": format!("network{}", networks.len()),
                "type": if *version == 6 { "ipv6_dhcp" } else { "ipv4_dhcp" },
                "link": link,
                "ip_address": ip,
                "network_id": p.network_id,
                "subnet_id": subnet,
            }));
        }
    }
    json!({"links": links, "networks": networks, "services": []})
}

/// The user data as the guest gets it (decoded from the API's base64).
pub fn user_data(i: &Instance) -> Option<Vec<u8>> {
    let encoded = i.user_data.as_deref()?;
    base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .or_else(|| Some(encoded.as_bytes().to_vec()))
}

/// The files of the instance's config drive, in OpenStack's layout.
pub fn config_drive_files(i: &Instance, ports: &[PortInfo]) -> Vec<(String, Vec<u8>)> {
    let doc = |v: Value| serde_json::to_vec(&v).unwrap_or_default();
    let meta = doc(meta_data(i));
    let network = doc(network_data(ports));
    let mut files = Vec::new();
    for version in ["latest", "2018-08-27"] {
        let dir = format!("openstack/{version}");
        files.push((format!("{dir}/meta_data.json"), meta.clone()));
        files.push((format!("{dir}/network_data.json"), network.clone()));
        files.push((format!("{dir}/vendor_data.json"), doc(json!({}))));
        files.push((format!("{dir}/vendor_data2.json"), doc(json!({}))));
        if let Some(data) = user_data(i) {
            files.push((format!("{dir}/user_data"), data));
        }
    }
    files
}
