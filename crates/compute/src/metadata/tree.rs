//! The metadata service's paths, as Nova's metadata handler resolves them:
//! the path is normalised (`//`, `.`, `..`, a trailing slash), anything
//! not under `/openstack` is the EC2 tree (`/` lists the EC2 versions,
//! `/latest/meta-data/...`), a directory answers with its listing (one
//! name a line, sub-directories with a `/`), a leaf with its value, and
//! anything else is a 404.

use serde_json::Value;

use super::{
    ec2_meta_data, meta_data, network_data, os_at_least, vendor_data, vendor_data2, Source,
    EC2_VERSIONS, GRIZZLY, HAVANA, LIBERTY, NEWTON_TWO, OPENSTACK_VERSIONS,
};

pub const TEXT: &str = "text/plain; charset=UTF-8";
pub const JSON: &str = "application/json";

/// What a path resolves to.
#[derive(Debug, PartialEq)]
pub enum Answer {
    Data {
        body: Vec<u8>,
        content_type: &'static str,
    },
    /// `openstack/<version>/password`: read (GET) or set once (POST).
    Password,
    NotFound,
}

fn text(body: impl Into<Vec<u8>>) -> Answer {
    Answer::Data {
        body: body.into(),
        content_type: TEXT,
    }
}

fn json(v: &Value) -> Answer {
    Answer::Data {
        body: serde_json::to_vec(v).unwrap_or_default(),
        content_type: JSON,
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The request path as Nova sees it: decoded, `posixpath.normpath`ed,
/// always starting with `/` and never ending with one (but `/`).
pub fn normalize(path: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    for p in percent_decode(path).split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p.to_owned()),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Nova's `ec2_md_print`: a directory lists its names (sorted; a
/// sub-directory as `name/`, or its `_name`), a list its items, a leaf
/// its value.
pub fn ec2_print(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().filter(|k| *k != "_name").collect();
            keys.sort();
            keys.into_iter()
                .map(|k| match &m[k] {
                    Value::Object(sub) => match sub.get("_name") {
                        Some(name) => ec2_print(name),
                        None => format!("{k}/"),
                    },
                    _ => k.clone(),
                })
                .collect::<Vec<_>>()
                .join("\n")
        }
        Value::Array(a) => a.iter().map(ec2_print).collect::<Vec<_>>().join("\n"),
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        Value::Number(n) => n.to_string(),
    }
}

/// `/`: the EC2 versions and `latest`.
pub fn ec2_versions() -> String {
    EC2_VERSIONS
        .iter()
        .copied()
        .chain(["latest"])
        .collect::<Vec<_>>()
        .join("\n")
}

/// The answer to `path` (normalised) for the guest of `src`; `today`
/// (`YYYY-MM-DD`) hides the OpenStack versions of later dates from the
/// listing.
pub fn lookup(src: &Source, path: &str, today: &str) -> Answer {
    let mut tokens: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match tokens[0] {
        "ec2" | "openstack" => {}
        "" => tokens = vec!["ec2"],
        _ => tokens.insert(0, "ec2"),
    }
    match (tokens[0], tokens.len()) {
        ("openstack", 1) => text(
            OPENSTACK_VERSIONS
                .iter()
                .copied()
                .filter(|v| *v <= today)
                .chain(["latest"])
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        ("openstack", _) => openstack(src, &tokens[1..]),
        (_, 1) => text(ec2_versions()),
        _ => ec2(src, &tokens[1..]),
    }
}

fn openstack(src: &Source, tokens: &[&str]) -> Answer {
    let version = match tokens[0] {
        "latest" => OPENSTACK_VERSIONS[OPENSTACK_VERSIONS.len() - 1],
        v => match OPENSTACK_VERSIONS.iter().find(|x| **x == v) {
            Some(v) => v,
            None => return Answer::NotFound,
        },
    };
    let rest = if tokens.len() == 1 {
        "version".to_owned()
    } else {
        tokens[1..].join("/")
    };
    match rest.as_str() {
        "version" => {
            let mut names = vec!["meta_data.json"];
            if src.instance.user_data.is_some() {
                names.push("user_data");
            }
            for (since, name) in [
                (GRIZZLY, "password"),
                (HAVANA, "vendor_data.json"),
                (LIBERTY, "network_data.json"),
                (NEWTON_TWO, "vendor_data2.json"),
            ] {
                if os_at_least(version, since) {
                    names.push(name);
                }
            }
            text(names.join("\n"))
        }
        "meta_data.json" => json(&meta_data(src, version)),
        "user_data" => match src.user_data() {
            Some(data) => text(data),
            None => Answer::NotFound,
        },
        "password" if os_at_least(version, GRIZZLY) => Answer::Password,
        "vendor_data.json" if os_at_least(version, HAVANA) => json(&vendor_data()),
        // Nova answers it at every version (only the listing leaves it
        // out before Liberty), as text.
        "network_data.json" => {
            text(serde_json::to_vec(&network_data(&src.ports)).unwrap_or_default())
        }
        "vendor_data2.json" if os_at_least(version, NEWTON_TWO) => json(&vendor_data2()),
        _ => Answer::NotFound,
    }
}

fn ec2(src: &Source, tokens: &[&str]) -> Answer {
    let version = match tokens[0] {
        "latest" => EC2_VERSIONS[EC2_VERSIONS.len() - 1],
        v => match EC2_VERSIONS.iter().find(|x| **x == v) {
            Some(v) => v,
            None => return Answer::NotFound,
        },
    };
    let user_data = src.user_data();
    match tokens.get(1) {
        None => {
            let mut names = vec!["meta-data/"];
            if user_data.is_some() {
                names.push("user-data");
            }
            text(names.join("\n"))
        }
        Some(&"user-data") if tokens.len() == 2 => match user_data {
            Some(data) => text(data),
            None => Answer::NotFound,
        },
        Some(&"meta-data") => {
            let mut node = ec2_meta_data(src, version);
            for t in &tokens[2..] {
                node = match node {
                    Value::Object(mut m) => match m.remove(*t) {
                        Some(v) => v,
                        None => return Answer::NotFound,
                    },
                    _ => return Answer::NotFound,
                };
            }
            text(ec2_print(&node))
        }
        _ => Answer::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use ferro_api::services::{PortInfo, SubnetInfo};
    use serde_json::json;

    use super::*;
    use crate::metadata::config_drive_files;
    use crate::store::attachments::Attachment;
    use crate::store::instances::Instance;

    const TODAY: &str = "2030-01-01";

    fn source(user_data: Option<&str>) -> Source {
        let instance = Instance {
            id: "3f2a1b0c-1111-2222-3333-444455556666".into(),
            name: "vm one".into(),
            hostname: "vm-one".into(),
            project_id: "p1".into(),
            image_id: "0a1b2c3d-0000-0000-0000-000000000000".into(),
            flavor: json!({"name": "m1.tiny", "ephemeral": 1, "swap": 0}),
            key_name: Some("k1".into()),
            key_data: Some("ssh-ed25519 AAAA test".into()),
            availability_zone: "nova".into(),
            reservation_id: "r-abcdefgh".into(),
            launch_index: 0,
            user_data: user_data.map(str::to_owned),
            ..Default::default()
        };
        let subnet = SubnetInfo {
            id: "s4".into(),
            cidr: "10.0.0.0/24".into(),
            ip_version: 4,
            gateway_ip: Some("10.0.0.1".into()),
            enable_dhcp: true,
            dhcp_server: Some("10.0.0.2".into()),
            ..Default::default()
        };
        Source {
            instance,
            ports: vec![PortInfo {
                id: "port1234567890".into(),
                network_id: "n1".into(),
                mac_address: "fa:16:3e:00:00:01".into(),
                fixed_ips: vec![("s4".into(), "10.0.0.5".into(), 4)],
                floating_ips: vec!["172.24.4.10".into()],
                network_mtu: Some(1450),
                subnets: vec![subnet],
                ..Default::default()
            }],
            security_groups: vec!["default".into(), "web".into()],
            attachments: vec![Attachment {
                device: "/dev/vdc".into(),
                ..Default::default()
            }],
            password: None,
            dhcp_domain: "novalocal".into(),
            address: Some("10.0.0.5".into()),
        }
    }

    fn body(a: Answer) -> String {
        match a {
            Answer::Data { body, .. } => String::from_utf8(body).unwrap(),
            other => panic!("not data: {other:?}"),
        }
    }

    fn get(src: &Source, path: &str) -> Answer {
        lookup(src, &normalize(path), TODAY)
    }

    #[test]
    fn paths_normalise_as_nova_does() {
        assert_eq!(normalize(""), "/");
        assert_eq!(normalize("/"), "/");
        assert_eq!(normalize("/latest/meta-data/"), "/latest/meta-data");
        assert_eq!(
            normalize("//openstack/./latest//x/../meta_data.json"),
            "/openstack/latest/meta_data.json"
        );
        assert_eq!(normalize("/latest/meta%2Ddata"), "/latest/meta-data");
        assert_eq!(normalize("/../.."), "/");
    }

    #[test]
    fn openstack_listings_follow_the_versions() {
        let src = source(Some("aGVsbG8="));
        let all = body(get(&src, "/openstack"));
        assert!(all.starts_with("2012-08-10\n2013-04-04\n"));
        assert!(all.ends_with("\n2025-04-04\nlatest"));
        // Versions dated after today are not listed (but answered).
        let early = body(lookup(&src, "/openstack", "2016-01-01"));
        assert_eq!(
            early,
            "2012-08-10\n2013-04-04\n2013-10-17\n2015-10-15\nlatest"
        );
        assert_eq!(
            body(get(&src, "/openstack/latest/")),
            "meta_data.json\nuser_data\npassword\nvendor_data.json\nnetwork_data.json\nvendor_data2.json"
        );
        assert_eq!(
            body(get(&src, "/openstack/2012-08-10")),
            "meta_data.json\nuser_data"
        );
        assert_eq!(
            body(get(&source(None), "/openstack/2013-10-17")),
            "meta_data.json\npassword\nvendor_data.json"
        );
        assert_eq!(
            body(get(&src, "/openstack/latest/version")),
            body(get(&src, "/openstack/latest"))
        );
    }

    #[test]
    fn openstack_documents_and_404s() {
        let src = source(Some("aGVsbG8="));
        let md = get(&src, "/openstack/latest/meta_data.json");
        let Answer::Data {
            body: raw,
            content_type,
        } = md
        else {
            panic!()
        };
        assert_eq!(content_type, JSON);
        let md: Value = serde_json::from_slice(&raw).unwrap();
        assert_eq!(md["uuid"], src.instance.id.as_str());
        assert_eq!(md["hostname"], "vm-one.novalocal");
        assert_eq!(md["name"], "vm one");
        assert_eq!(md["public_keys"]["k1"], "ssh-ed25519 AAAA test");
        assert_eq!(md["keys"][0]["type"], "ssh");
        assert_eq!(md["project_id"], "p1");
        assert_eq!(md["devices"], json!([]));
        assert!(md.get("meta").is_none(), "no metadata, no meta");
        let old: Value =
            serde_json::from_str(&body(get(&src, "/openstack/2012-08-10/meta_data.json"))).unwrap();
        assert!(old.get("random_seed").is_none() && old.get("project_id").is_none());
        assert_eq!(body(get(&src, "/openstack/latest/user_data")), "hello");
        assert_eq!(
            get(&source(None), "/openstack/latest/user_data"),
            Answer::NotFound
        );
        assert_eq!(get(&src, "/openstack/latest/password"), Answer::Password);
        assert_eq!(
            get(&src, "/openstack/2013-04-04/password"),
            Answer::Password
        );
        assert_eq!(
            get(&src, "/openstack/2012-08-10/password"),
            Answer::NotFound
        );
        assert_eq!(body(get(&src, "/openstack/latest/vendor_data.json")), "{}");
        assert_eq!(
            get(&src, "/openstack/2013-04-04/vendor_data.json"),
            Answer::NotFound
        );
        assert_eq!(
            body(get(&src, "/openstack/latest/vendor_data2.json")),
            r#"{"static":{}}"#
        );
        assert_eq!(
            get(&src, "/openstack/2016-06-30/vendor_data2.json"),
            Answer::NotFound
        );
        for missing in [
            "/openstack/2011-01-01/meta_data.json",
            "/openstack/latest/nothing",
            "/openstack/latest/meta_data.json/uuid",
            "/openstack/content",
            "/openstack/latest/content",
        ] {
            assert_eq!(get(&src, missing), Answer::NotFound, "{missing}");
        }
    }

    #[test]
    fn ec2_tree() {
        let src = source(Some("aGVsbG8="));
        assert_eq!(body(get(&src, "/latest")), "meta-data/\nuser-data");
        assert_eq!(body(get(&source(None), "/latest/")), "meta-data/");
        assert_eq!(
            body(get(&src, "/latest/meta-data/")),
            "ami-id\nami-launch-index\nami-manifest-path\nblock-device-mapping/\nhostname\n\
             instance-action\ninstance-id\ninstance-type\nlocal-hostname\nlocal-ipv4\nplacement/\n\
             public-hostname\npublic-ipv4\npublic-keys/\nreservation-id\nsecurity-groups"
        );
        // `public-keys/` lists `0=<name>`, `public-keys/0/` the formats.
        for (path, want) in [
            ("/latest/meta-data/public-keys", "0=k1"),
            ("/latest/meta-data/public-keys/0/", "openssh-key"),
            (
                "/latest/meta-data/public-keys/0/openssh-key",
                "ssh-ed25519 AAAA test",
            ),
            ("/latest/meta-data/instance-id", "i-3f2a1b0c"),
            ("/latest/meta-data/ami-id", "ami-0a1b2c3d"),
            ("/latest/meta-data/hostname", "vm-one.novalocal"),
            ("/latest/meta-data/local-ipv4", "10.0.0.5"),
            ("/latest/meta-data/public-ipv4", "172.24.4.10"),
            ("/latest/meta-data/instance-type", "m1.tiny"),
            ("/latest/meta-data/reservation-id", "r-abcdefgh"),
            ("/latest/meta-data/security-groups", "default\nweb"),
            ("/latest/meta-data/placement", "availability-zone"),
            ("/latest/meta-data/placement/availability-zone", "nova"),
            ("/latest/meta-data/ami-launch-index", "0"),
            (
                "/latest/meta-data/block-device-mapping/",
                "ami\nebs0\nephemeral0\nroot",
            ),
            (
                "/latest/meta-data/block-device-mapping/ephemeral0",
                "/dev/vdb",
            ),
        ] {
            assert_eq!(body(get(&src, path)), want, "{path}");
        }
        assert_eq!(body(get(&src, "/latest/user-data")), "hello");
        // The same tree under /ec2, and by version.
        assert_eq!(
            body(get(&src, "/ec2/2009-04-04/meta-data/instance-id")),
            "i-3f2a1b0c"
        );
        let v1 = body(get(&src, "/1.0/meta-data"));
        assert!(!v1.contains("local-hostname") && !v1.contains("placement"));
        let mut no_fip = source(None);
        no_fip.ports[0].floating_ips.clear();
        assert_eq!(body(get(&no_fip, "/latest/meta-data/public-ipv4")), "");
        assert_eq!(get(&no_fip, "/latest/user-data"), Answer::NotFound);
        for missing in [
            "/2099-01-01/meta-data",
            "/latest/meta-data/nothing",
            "/latest/meta-data/hostname/more",
            "/latest/meta-data/security-groups/default",
            "/latest/user-data/x",
            "/latest/other",
        ] {
            assert_eq!(get(&src, missing), Answer::NotFound, "{missing}");
        }
        // No key pair: no public-keys at all.
        let mut keyless = source(None);
        keyless.instance.key_name = None;
        assert_eq!(
            get(&keyless, "/latest/meta-data/public-keys"),
            Answer::NotFound
        );
    }

    #[test]
    fn network_data_per_subnet_mode() {
        let mut src = source(None);
        let nd = network_data(&src.ports);
        assert_eq!(nd["links"][0]["id"], "tapport1234567");
        assert_eq!(nd["links"][0]["mtu"], Value::Null, "DHCP tells the MTU");
        assert_eq!(
            nd["networks"][0],
            json!({"id": "network0", "type": "ipv4_dhcp", "link": "tapport1234567", "network_id": "n1"})
        );
        // Without DHCP: the address, netmask, routes and DNS servers.
        let p = &mut src.ports[0];
        p.subnets[0].enable_dhcp = false;
        p.subnets[0].dhcp_server = None;
        p.subnets[0].dns_nameservers = vec!["10.0.0.53".into()];
        p.subnets[0].host_routes = vec![("192.168.7.9/16".into(), "10.0.0.254".into())];
        p.subnets.push(SubnetInfo {
            id: "s6".into(),
            cidr: "fd00:1::/64".into(),
            ip_version: 6,
            gateway_ip: Some("fd00:1::1".into()),
            enable_dhcp: true,
            ipv6_address_mode: Some("slaac".into()),
            ipv6_ra_mode: Some("slaac".into()),
            ..Default::default()
        });
        p.fixed_ips
            .push(("s6".into(), "fd00:1::f816:3eff:fe00:1".into(), 6));
        let nd = network_data(&src.ports);
        assert_eq!(nd["links"][0]["mtu"], 1450);
        assert_eq!(
            nd["networks"][0],
            json!({
                "id": "network0", "type": "ipv4", "link": "tapport1234567",
                "ip_address": "10.0.0.5", "netmask": "255.255.255.0",
                "routes": [
                    {"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "10.0.0.1"},
                    {"network": "192.168.0.0", "netmask": "255.255.0.0", "gateway": "10.0.0.254"}
                ],
                "network_id": "n1",
                "services": [{"type": "dns", "address": "10.0.0.53"}]
            })
        );
        assert_eq!(nd["networks"][1]["type"], "ipv6_slaac");
        assert_eq!(nd["networks"][1]["netmask"], "ffff:ffff:ffff:ffff::");
        assert_eq!(
            nd["networks"][1]["routes"][0],
            json!({"network": "::", "netmask": "::", "gateway": "fd00:1::1"})
        );
        assert_eq!(
            nd["services"],
            json!([{"type": "dns", "address": "10.0.0.53"}])
        );
        // An IPv6 subnet without a mode and without DHCP is static.
        src.ports[0].subnets[1].ipv6_address_mode = None;
        src.ports[0].subnets[1].enable_dhcp = false;
        assert_eq!(network_data(&src.ports)["networks"][1]["type"], "ipv6");
        src.ports[0].subnets[1].ipv6_address_mode = Some("dhcpv6-stateful".into());
        assert_eq!(
            network_data(&src.ports)["networks"][1]["type"],
            "ipv6_dhcpv6-stateful"
        );
    }

    #[test]
    fn the_config_drive_holds_what_the_service_answers() {
        let src = source(Some("aGVsbG8="));
        let files = config_drive_files(&src);
        let file = |name: &str| {
            files
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, d)| String::from_utf8(d.clone()).unwrap())
        };
        for v in OPENSTACK_VERSIONS.iter().chain(&["latest"]) {
            assert!(
                file(&format!("openstack/{v}/meta_data.json")).is_some(),
                "{v}"
            );
            assert_eq!(
                file(&format!("openstack/{v}/user_data")).as_deref(),
                Some("hello")
            );
        }
        assert!(file("openstack/2012-08-10/network_data.json").is_none());
        assert_eq!(
            file("openstack/latest/network_data.json"),
            Some(body(get(&src, "/openstack/latest/network_data.json")))
        );
        assert_eq!(
            file("openstack/latest/vendor_data2.json").as_deref(),
            Some(r#"{"static":{}}"#)
        );
        let ec2: Value = serde_json::from_str(&file("ec2/latest/meta-data.json").unwrap()).unwrap();
        assert_eq!(ec2["instance-id"], "i-3f2a1b0c");
        assert_eq!(
            ec2["public-keys"],
            json!({"0": {"openssh-key": "ssh-ed25519 AAAA test"}})
        );
        assert_eq!(file("ec2/2009-04-04/user-data").as_deref(), Some("hello"));
        let md: Value =
            serde_json::from_str(&file("openstack/latest/meta_data.json").unwrap()).unwrap();
        assert_eq!(md["hostname"], "vm-one.novalocal");
    }
}
