//! Routers against the real kernel (root only; skipped otherwise): two
//! tenant networks behind one router, an external network whose outside
//! world is a namespace, SNAT, a floating IP, and removal. Stand-in guests
//! are namespaces of the test's own with a veth whose bridge end carries
//! the port's tap name (the reconciler plugs it as it would a guest's).

mod support;
use support::*;

use ferro_netplane::router::{external_namespace, router_namespace};
use ferro_netplane::{
    ip, netns, nft, Desired, FloatingIp, MetadataSite, Netplane, Network, Port, PortKind, Router,
    Subnet,
};

fn net(id: &str, cidr: &str, external: bool) -> Network {
    Network {
        id: id.into(),
        mtu: 1500,
        subnets: vec![Subnet {
            id: format!("{id}-s"),
            cidr: cidr.into(),
            ip_version: 4,
            gateway_ip: Some(cidr.replace("0/24", "1")),
            enable_dhcp: false,
            ..Subnet::default()
        }],
        external,
        ..Network::default()
    }
}

fn port(id: &str, network: &str, ip: &str, n: u8) -> Port {
    Port {
        id: id.into(),
        network_id: network.into(),
        mac: format!("fa:16:3e:00:01:{n:02x}"),
        fixed_ips: vec![(format!("{network}-s"), ip.into())],
        ..Port::default()
    }
}

/// A stand-in guest: namespace `ns` with `eth0` (the port's MAC and IP)
/// whose peer is the port's tap in the bridge namespace.
fn guest(ns: &str, br: &str, p: &Port, len: u8, gw: &str) {
    must(&["ip", "netns", "add", ns]);
    must(&[
        "ip",
        "-n",
        ns,
        "link",
        "add",
        "eth0",
        "address",
        &p.mac,
        "type",
        "veth",
        "peer",
        "name",
        &format!("tap{}", &p.id[..11]),
        "netns",
        br,
    ]);
    must(&["ip", "-n", ns, "link", "set", "eth0", "up"]);
    must(&[
        "ip",
        "-n",
        ns,
        "addr",
        "add",
        &format!("{}/{len}", p.fixed_ips[0].1),
        "dev",
        "eth0",
    ]);
    must(&["ip", "-n", ns, "route", "add", "default", "via", gw]);
}

#[tokio::test]
async fn routes_snats_and_floats() {
    if Netplane::check().await.is_err() || !sh(&["nft", "--version"]) {
        eprintln!("skipped: routers need root and nft");
        return;
    }
    let prefix = format!("fsrt{}", std::process::id());
    let dir = std::env::temp_dir().join(&prefix);
    let _cleanup = Cleanup(prefix.clone(), Some(dir.clone()));
    let np = Netplane::new(prefix.clone(), dir.clone());
    let ext = net("extnet000001", "172.31.250.0/24", true);
    let ga = Port {
        kind: PortKind::Guest,
        ..port("guestporta01", "tenant1net00", "10.210.1.5", 1)
    };
    let gb = Port {
        kind: PortKind::Guest,
        ..port("guestportb01", "tenant2net00", "10.210.2.5", 2)
    };
    let mut r = Router {
        id: "router000001".into(),
        interfaces: vec!["rtrif1port00".into(), "rtrif2port00".into()],
        gateway: Some("rtrgw1port00".into()),
        enable_snat: true,
        routes: vec![],
        floating_ips: vec![FloatingIp {
            id: "fip1".into(),
            address: "172.31.250.20".into(),
            fixed: "10.210.1.5".into(),
        }],
    };
    let mut want = Desired {
        networks: vec![
            ext.clone(),
            net("tenant1net00", "10.210.1.0/24", false),
            net("tenant2net00", "10.210.2.0/24", false),
        ],
        ports: vec![
            ga.clone(),
            gb.clone(),
            port("rtrif1port00", "tenant1net00", "10.210.1.1", 3),
            port("rtrif2port00", "tenant2net00", "10.210.2.1", 4),
            port("rtrgw1port00", "extnet000001", "172.31.250.10", 5),
        ],
        routers: vec![r.clone()],
        ..Desired::default()
    };
    let rns = router_namespace(&prefix, &r.id);
    let xns = external_namespace(&prefix, &ext.id);
    let (a, b) = (format!("{prefix}-ga"), format!("{prefix}-gb"));
    let result = async {
        np.reconcile(&Desired::default()).await?;
        let br = np.bridge_namespace();
        guest(&a, &br, &ga, 24, "10.210.1.1");
        guest(&b, &br, &gb, 24, "10.210.2.1");
        np.reconcile(&want).await?;
        // again: nothing changes (the taps were plugged the first time)
        let seen = np.reconcile(&want).await?;
        assert_eq!(np.reconcile(&want).await?, seen);
        for leg in ["rtrif1port00", "rtrif2port00", "rtrgw1port00"] {
            assert!(seen.active_ports.contains(leg), "{leg} active");
        }
        assert!(seen.active_floating_ips.contains("fip1"));
        // The router is where its networks' guests find the metadata
        // service, and a request arrives from the guest's own address.
        assert!(seen.metadata_sites.contains(&MetadataSite {
            namespace: rns.clone(),
            network_ids: vec!["tenant1net00".into(), "tenant2net00".into()],
        }));
        let (listener, _) = netns::listen(&rns, "169.254.169.254:80".parse().unwrap())
            .map_err(|e| ferro_netplane::NetError(e.to_string()))?;
        assert!(sh(&[
            "ip",
            "netns",
            "exec",
            &a,
            "timeout",
            "5",
            "bash",
            "-c",
            "exec 3<>/dev/tcp/169.254.169.254/80"
        ]));
        let mut peer = None;
        for _ in 0..50 {
            if let Ok((_, addr)) = listener.accept() {
                peer = Some(addr.ip().to_string());
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(peer.as_deref(), Some("10.210.1.5"));
        // From the outside world, with a route to it via the router's
        // gateway: not reachable.
        must(&[
            "ip",
            "-n",
            &xns,
            "route",
            "add",
            "169.254.169.254",
            "via",
            "172.31.250.10",
        ]);
        assert!(!sh(&[
            "ip",
            "netns",
            "exec",
            &xns,
            "timeout",
            "3",
            "bash",
            "-c",
            "exec 3<>/dev/tcp/169.254.169.254/80"
        ]));
        must(&["ip", "-n", &xns, "route", "del", "169.254.169.254"]);
        drop(listener);
        assert_eq!(
            ip::addresses(&rns, "qg-rtrgw1port0").await?,
            vec!["172.31.250.10/24".to_owned(), "172.31.250.20/32".to_owned()]
        );
        assert_eq!(
            ip::addresses(&xns, "ex-extnet00000").await?,
            vec!["172.31.250.1/24".to_owned()]
        );

        // East-west through the router; north through SNAT (the outside
        // world has no route back to 10.210/16); in through the floating
        // IP to A only.
        assert!(ping(&a, "10.210.2.5"), "a → b");
        assert!(ping(&b, "172.31.250.1"), "b → outside (SNAT)");
        assert!(ping(&xns, "172.31.250.20"), "outside → a's floating IP");
        assert!(!ping(&xns, "10.210.1.5"), "outside → a's fixed IP");
        // IPv6 with SLAAC on the first network: the router advertises the
        // prefix, the guest makes its EUI-64 address (the port's fixed IP).
        let mut n1 = want.networks[1].clone();
        n1.subnets.push(Subnet {
            id: "tenant1net00-v6".into(),
            cidr: "2001:db8:210:1::/64".into(),
            ip_version: 6,
            gateway_ip: Some("2001:db8:210:1::1".into()),
            ipv6_ra_mode: Some("slaac".into()),
            ..Subnet::default()
        });
        want.networks[1] = n1;
        want.ports[2]
            .fixed_ips
            .push(("tenant1net00-v6".into(), "2001:db8:210:1::1".into()));
        np.reconcile(&want).await?;
        let slaac = "2001:db8:210:1:f816:3eff:fe00:101/64".to_owned();
        let mut got = Vec::new();
        for _ in 0..100 {
            got = ip::addresses(&a, "eth0").await?;
            if got.contains(&slaac) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        assert!(got.contains(&slaac), "{got:?}");
        // (the new addresses are tentative until duplicate detection ends)
        let mut reached = false;
        for _ in 0..10 {
            reached = ping(&a, "2001:db8:210:1::1");
            if reached {
                break;
            }
        }
        assert!(reached, "a reaches its router over IPv6");
        // Extra routes land in the router namespace, IPv6 ones too; of two
        // nexthops for one destination the first is taken, and stays.
        let route = |d: &str, v: &str| (d.to_owned(), v.to_owned());
        r.routes = vec![
            route("192.168.77.0/24", "10.210.2.5"),
            route("192.168.77.0/24", "10.210.1.5"),
            route("192.168.78.9/32", "10.210.2.5"),
            route("2001:DB8:77::/64", "2001:db8:210:1::5"),
        ];
        want.routers = vec![r.clone()];
        np.reconcile(&want).await?;
        let routes = ip::gateway_routes(&rns).await?;
        for want in [
            route("192.168.77.0/24", "10.210.2.5"),
            route("192.168.78.9", "10.210.2.5"),
            route("2001:db8:77::/64", "2001:db8:210:1::5"),
        ] {
            assert!(routes.contains(&want), "{want:?} in {routes:?}");
        }
        assert!(!routes.contains(&route("192.168.77.0/24", "10.210.1.5")));
        np.reconcile(&want).await?;
        assert_eq!(ip::gateway_routes(&rns).await?, routes, "no flapping");

        // The floating IP goes and SNAT is turned off: A is cut off both
        // ways, and the floating IP's address leaves the gateway.
        r.floating_ips.clear();
        r.enable_snat = false;
        r.routes.clear();
        want.routers = vec![r.clone()];
        let seen = np.reconcile(&want).await?;
        assert!(seen.active_floating_ips.is_empty());
        assert!(!ping(&xns, "172.31.250.20"));
        assert!(!ping(&a, "172.31.250.1"));
        assert!(ping(&a, "10.210.2.5"), "east-west still routed");
        assert!(ip::gateway_routes(&rns)
            .await?
            .iter()
            .all(|(d, _)| d == "default"));

        // A router and an external network removed: their namespaces go.
        want.routers.clear();
        want.networks.retain(|n| !n.external);
        np.reconcile(&want).await?;
        let left = ip::namespaces(&format!("{prefix}-")).await?;
        assert!(!left.contains(&rns) && !left.contains(&xns), "{left:?}");
        assert!(!ip::links(&br)
            .await?
            .iter()
            .any(|l| l.name.starts_with("exo")));
        Ok::<(), ferro_netplane::NetError>(())
    }
    .await;
    if result.is_err() || std::env::var_os("NETPLANE_TEST_KEEP").is_some() {
        if let Ok(rules) = nft::ruleset(&rns).await {
            eprintln!("{rns} nft: {rules}");
        }
    }
    if std::env::var_os("NETPLANE_TEST_KEEP").is_some() {
        return;
    }
    np.remove_all().await.expect("remove all");
    let _ = std::fs::remove_dir_all(&dir);
    result.expect("reconcile");
}
