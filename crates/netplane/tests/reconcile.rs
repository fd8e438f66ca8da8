//! The reconciler against the real kernel (root only; skipped otherwise):
//! it builds namespaces, bridges, taps and DHCP from a desired state,
//! converges again after changes, and leaves nothing once nothing is
//! wanted.

mod support;
use support::*;

use ferro_netplane::{ip, netns, Desired, MetadataSite, Netplane, Network, Port, PortKind, Subnet};

fn net(id: &str, cidr: &str) -> Network {
    Network {
        id: id.into(),
        mtu: 1450,
        subnets: vec![Subnet {
            id: format!("{id}-s"),
            cidr: cidr.into(),
            ip_version: 4,
            gateway_ip: Some(cidr.replace("0/24", "1")),
            enable_dhcp: true,
            dns_nameservers: vec![],
            host_routes: vec![],
            ..Subnet::default()
        }],
        ..Network::default()
    }
}

fn port(id: &str, network: &str, ip: &str, kind: PortKind) -> Port {
    Port {
        id: id.into(),
        network_id: network.into(),
        mac: format!("fa:16:3e:00:00:{}", &id[id.len() - 2..]),
        fixed_ips: vec![(format!("{network}-s"), ip.into())],
        kind,
        port_security_enabled: true,
        ..Port::default()
    }
}

#[tokio::test]
async fn builds_converges_and_removes() {
    if Netplane::check().await.is_err() {
        eprintln!("skipped: the data plane needs root");
        return;
    }
    let prefix = format!("fstest{}", std::process::id());
    let dir = std::env::temp_dir().join(&prefix);
    let _cleanup = Cleanup(prefix.clone(), Some(dir.clone()));
    let np = Netplane::new(prefix.clone(), dir.clone());
    let mut want = Desired {
        networks: vec![net("net00000001", "10.201.0.0/24")],
        ports: vec![
            port("dhcpport0001", "net00000001", "10.201.0.2", PortKind::Dhcp),
            port("guestport001", "net00000001", "10.201.0.5", PortKind::Guest),
        ],
        metadata_subnets: ["net00000001-s".to_owned()].into(),
        ..Desired::default()
    };
    let result = async {
        np.reconcile(&want).await?;
        // twice: nothing to change the second time
        let seen = np.reconcile(&want).await?;
        let dhcp_ns = format!("{prefix}-dhcp-net00000001");
        assert_eq!(
            seen.metadata_sites,
            vec![MetadataSite {
                namespace: dhcp_ns.clone(),
                network_ids: vec!["net00000001".into()],
            }]
        );
        let br = np.bridge_namespace();
        let links = ip::links(&br).await?;
        let bridge = links
            .iter()
            .find(|l| l.name == "brqnet00000001")
            .expect("bridge");
        assert!(bridge.up && bridge.mtu == 1450);
        let tap = links
            .iter()
            .find(|l| l.name == "tapguestport00")
            .expect("tap");
        assert_eq!(tap.master.as_deref(), Some("brqnet00000001"));
        assert!(links.iter().any(|l| l.name == "tapdhcpport000"));
        assert_eq!(
            ip::addresses(&dhcp_ns, "ns-dhcpport000").await?,
            vec!["10.201.0.2/24".to_owned(), "169.254.169.254/32".to_owned()]
        );
        // Guests are told the way to the metadata service: via the DHCP
        // port (the subnet has no router), and still their default route.
        let opts = std::fs::read_to_string(dir.join("dhcp/net00000001/opts")).expect("opts");
        assert!(opts.contains(
            "option:classless-static-route,169.254.169.254/32,10.201.0.2,0.0.0.0/0,10.201.0.1\n"
        ));
        // A listener made in the namespace is there, not in the host's.
        let (listener, ns_id) = netns::listen(&dhcp_ns, "169.254.169.254:80".parse().unwrap())
            .map_err(|e| ferro_netplane::NetError(e.to_string()))?;
        assert_eq!(netns::id(&dhcp_ns).ok(), Some(ns_id));
        let ss = std::process::Command::new("ip")
            .args(["netns", "exec", &dhcp_ns, "ss", "-Hltn"])
            .output()
            .expect("ss");
        assert!(String::from_utf8_lossy(&ss.stdout).contains("169.254.169.254:80"));
        drop(listener);
        let hosts = std::fs::read_to_string(dir.join("dhcp/net00000001/host")).expect("hosts");
        assert_eq!(hosts, "fa:16:3e:00:00:01,host-10-201-0-5,10.201.0.5\n");
        let pid: i32 = std::fs::read_to_string(dir.join("dhcp/net00000001/pid"))
            .expect("pid")
            .trim()
            .parse()
            .expect("a pid");
        assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());

        // The subnet is routed now: no metadata here any more.
        want.metadata_subnets.clear();
        let seen = np.reconcile(&want).await?;
        assert!(seen.metadata_sites.is_empty());
        assert_eq!(
            ip::addresses(&dhcp_ns, "ns-dhcpport000").await?,
            vec!["10.201.0.2/24".to_owned()]
        );

        let pid_of = || -> i32 {
            std::fs::read_to_string(dir.join("dhcp/net00000001/pid"))
                .expect("pid")
                .trim()
                .parse()
                .expect("a pid")
        };
        // A port more: dnsmasq re-reads its hosts (same process).
        want.ports.push(port(
            "secondport02",
            "net00000001",
            "10.201.0.6",
            PortKind::Guest,
        ));
        np.reconcile(&want).await?;
        assert_eq!(pid_of(), pid);

        // The guest ports go, a second network comes: a host removed means
        // a fresh dnsmasq (it forgets the leases that would block the
        // addresses' next owners).
        want.ports.truncate(1);
        want.networks.push(net("net00000002", "10.202.0.0/24"));
        np.reconcile(&want).await?;
        let before = pid;
        let pid = pid_of();
        assert_ne!(pid, before, "a fresh dnsmasq");
        let links = ip::links(&br).await?;
        assert!(!links.iter().any(|l| l.name == "tapguestport00"));
        assert!(links.iter().any(|l| l.name == "brqnet00000002"));
        // No DHCP port on net 2: no DHCP namespace for it.
        let all = ip::namespaces(&format!("{prefix}-")).await?;
        assert!(!all.iter().any(|n| n.ends_with("net00000002")));

        // Nothing wanted: the DHCP server and namespace go.
        np.reconcile(&Desired::default()).await?;
        assert_eq!(
            ip::namespaces(&format!("{prefix}-")).await?,
            vec![br.clone()]
        );
        assert!(ip::links(&br).await?.iter().all(|l| l.name == "lo"));
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}/cmdline")).exists()
                || !String::from_utf8_lossy(
                    &std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default()
                )
                .contains("dnsmasq")
        );
        Ok::<(), ferro_netplane::NetError>(())
    }
    .await;
    np.remove_all().await.expect("remove all");
    assert!(ip::namespaces(&format!("{prefix}-"))
        .await
        .expect("list")
        .is_empty());
    let _ = std::fs::remove_dir_all(&dir);
    result.expect("reconcile");
}

/// A network that cannot be built (its DHCP port's address is not one the
/// kernel takes) is reported on its own; the other network is served.
#[tokio::test]
async fn one_bad_network_leaves_the_others_served() {
    if Netplane::check().await.is_err() {
        eprintln!("skipped: the data plane needs root");
        return;
    }
    let prefix = format!("fsbad{}", std::process::id());
    let dir = std::env::temp_dir().join(&prefix);
    let _cleanup = Cleanup(prefix.clone(), Some(dir.clone()));
    let np = Netplane::new(prefix.clone(), dir.clone());
    let mut bad = net("net0000000b", "10.203.0.0/24");
    bad.subnets[0].cidr = "10.203.0.0/40".into();
    let want = Desired {
        networks: vec![net("net0000000a", "10.204.0.0/24"), bad],
        ports: vec![
            port("dhcpaport01a", "net0000000a", "10.204.0.2", PortKind::Dhcp),
            port("dhcpbport01b", "net0000000b", "10.203.0.2", PortKind::Dhcp),
        ],
        ..Desired::default()
    };
    let result = async {
        let seen = np.reconcile(&want).await?;
        assert_eq!(seen.errors.len(), 1, "{:?}", seen.errors);
        assert!(seen.errors[0].contains("net0000000b"), "{:?}", seen.errors);
        assert!(seen.active_ports.contains("dhcpaport01a"));
        assert!(!seen.active_ports.contains("dhcpbport01b"));
        let good = format!("{prefix}-dhcp-net0000000a");
        assert_eq!(
            ip::addresses(&good, "ns-dhcpaport01").await?,
            vec!["10.204.0.2/24".to_owned()]
        );
        np.remove_all().await
    }
    .await;
    result.expect("reconcile");
}
