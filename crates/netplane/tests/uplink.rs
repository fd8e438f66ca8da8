//! Uplinks against the real kernel (root only): "the host" is a namespace
//! of the test's own holding the operator's bridge `br-up` (with the
//! external subnet's gateway address); a flat external network on the
//! mapped physical network reaches it, and without the mapping the veth
//! goes and the outside-world namespace comes instead.

mod support;
use support::*;

use std::collections::BTreeMap;

use ferro_netplane::router::external_namespace;
use ferro_netplane::uplink::host_end;
use ferro_netplane::{ip, Desired, Netplane, Network, Port, PortKind, Subnet};

#[tokio::test]
async fn flat_network_joins_the_host_bridge() {
    if Netplane::check().await.is_err() {
        eprintln!("skipped: the data plane needs root");
        return;
    }
    let prefix = format!("fsup{:06}", std::process::id() % 1_000_000);
    let dir = std::env::temp_dir().join(&prefix);
    let _cleanup = Cleanup(prefix.clone(), Some(dir.clone()));
    let host = format!("{prefix}-host");
    must(&["ip", "netns", "add", &host]);
    must(&["ip", "-n", &host, "link", "add", "br-up", "type", "bridge"]);
    must(&["ip", "-n", &host, "link", "set", "br-up", "up"]);
    must(&[
        "ip",
        "-n",
        &host,
        "addr",
        "add",
        "172.31.251.1/24",
        "dev",
        "br-up",
    ]);
    let ext = Network {
        id: "physnet00001".into(),
        mtu: 1500,
        subnets: vec![Subnet {
            id: "physsub".into(),
            cidr: "172.31.251.0/24".into(),
            ip_version: 4,
            gateway_ip: Some("172.31.251.1".into()),
            ..Subnet::default()
        }],
        external: true,
        physical_network: Some("phys1".into()),
    };
    let guest = Port {
        id: "guestonext01".into(),
        network_id: ext.id.clone(),
        mac: "fa:16:3e:00:02:01".into(),
        fixed_ips: vec![("physsub".into(), "172.31.251.5".into())],
        kind: PortKind::Guest,
        ..Port::default()
    };
    let want = Desired {
        networks: vec![ext.clone()],
        ports: vec![guest.clone()],
        ..Desired::default()
    };
    let mapped = Netplane::new(prefix.clone(), dir.clone())
        .with_uplinks(BTreeMap::from([("phys1".to_owned(), "br-up".to_owned())]))
        .with_host_namespace(host.clone());
    let result = async {
        mapped.reconcile(&Desired::default()).await?;
        let br = mapped.bridge_namespace();
        let g = format!("{prefix}-g");
        must(&["ip", "netns", "add", &g]);
        must(&[
            "ip",
            "-n",
            &g,
            "link",
            "add",
            "eth0",
            "address",
            &guest.mac,
            "type",
            "veth",
            "peer",
            "name",
            "tapguestonext0",
            "netns",
            &br,
        ]);
        must(&["ip", "-n", &g, "link", "set", "eth0", "up"]);
        must(&[
            "ip",
            "-n",
            &g,
            "addr",
            "add",
            "172.31.251.5/24",
            "dev",
            "eth0",
        ]);
        mapped.reconcile(&want).await?;
        mapped.reconcile(&want).await?;
        let outer = host_end(&prefix, &ext.id);
        let on_host = ip::links(&host).await?;
        let l = on_host.iter().find(|l| l.name == outer).expect("host end");
        assert_eq!(l.master.as_deref(), Some("br-up"));
        must(&[
            "ip",
            "netns",
            "exec",
            &g,
            "ping",
            "-c",
            "3",
            "-i",
            "0.3",
            "-W",
            "1",
            "172.31.251.1",
        ]);
        let all = ip::namespaces(&format!("{prefix}-")).await?;
        assert!(!all.contains(&external_namespace(&prefix, &ext.id)));

        // Without the mapping: the host end goes, the outside world comes.
        let unmapped = Netplane::new(prefix.clone(), dir.clone()).with_host_namespace(host.clone());
        unmapped.reconcile(&want).await?;
        assert!(!ip::links(&host).await?.iter().any(|l| l.name == outer));
        let all = ip::namespaces(&format!("{prefix}-")).await?;
        assert!(all.contains(&external_namespace(&prefix, &ext.id)));
        Ok::<(), ferro_netplane::NetError>(())
    }
    .await;
    mapped.remove_all().await.expect("remove all");
    let _ = std::fs::remove_dir_all(&dir);
    result.expect("reconcile");
}
