//! Uplinks (Neutron's `bridge_mappings`): a flat network on a mapped
//! physical network is joined to a bridge the operator made in the host's
//! namespace, by a veth whose host end (`<prefix>u<net>`) is enslaved to that
//! bridge and whose other end (`upl<net>`) sits in the network's bridge.
//! The only change the data plane ever makes outside its own namespaces,
//! and only when configured. A network with an uplink has no outside-world
//! namespace: the operator's network is its outside world.

use std::collections::{BTreeMap, BTreeSet};

use crate::{dev_name, ip, NetResult, Network};

/// The host end's name: the prefix (`fs` + 8 hex) and `u` + 4 characters of
/// the network id — 15 characters, unique per deployment and network.
pub fn host_end(prefix: &str, network_id: &str) -> String {
    let short: String = network_id.chars().filter(|c| *c != '-').take(4).collect();
    let p: String = prefix.chars().take(10).collect();
    format!("{p}u{short}")
}

/// Networks with an uplink: network id → host bridge.
pub fn mapped<'a>(
    networks: &BTreeMap<&'a str, &'a Network>,
    mappings: &BTreeMap<String, String>,
) -> BTreeMap<&'a str, String> {
    networks
        .values()
        .filter_map(|n| {
            let phys = n.physical_network.as_deref()?;
            Some((n.id.as_str(), mappings.get(phys)?.clone()))
        })
        .collect()
}

/// Make the uplinks match: `host_ns` is the host's namespace (`None`: the
/// process's own), `br` the bridge namespace.
pub async fn reconcile(
    prefix: &str,
    host_ns: Option<&str>,
    br: &str,
    wanted: &BTreeMap<&str, String>,
) -> NetResult<()> {
    let host_links = match host_ns {
        Some(ns) => ip::links(ns).await?,
        None => ip::host_links().await?,
    };
    let host = |args: &[&str]| {
        let mut all: Vec<String> = Vec::new();
        if let Some(ns) = host_ns {
            all.extend(["-n".to_owned(), ns.to_owned()]);
        }
        all.extend(args.iter().map(|a| (*a).to_owned()));
        all
    };
    let inside = ip::links(br).await?;
    let mut keep = BTreeSet::new();
    for (net, bridge) in wanted {
        let outer = host_end(prefix, net);
        let inner = dev_name("upl", net);
        keep.insert(outer.clone());
        if !host_links.iter().any(|l| l.name == *bridge) {
            tracing::warn!(%bridge, network = %net, "uplink bridge missing on the host");
            continue;
        }
        let have = host_links.iter().find(|l| l.name == outer);
        if have.is_none() || !inside.iter().any(|l| l.name == inner) {
            if have.is_some() {
                ip::run_args(&host(&["link", "del", &outer])).await?;
            }
            let _ = ip::ns(br, &["link", "del", &inner]).await;
            ip::run_args(&host(&[
                "link", "add", &outer, "type", "veth", "peer", "name", &inner, "netns", br,
            ]))
            .await?;
        }
        let enslaved = have.is_some_and(|l| l.master.as_deref() == Some(bridge) && l.up);
        if !enslaved {
            ip::run_args(&host(&["link", "set", &outer, "master", bridge, "up"])).await?;
        }
        let brq = dev_name("brq", net);
        ip::ns(br, &["link", "set", &inner, "master", &brq, "up"]).await?;
    }
    let mine = format!("{}u", prefix.chars().take(10).collect::<String>());
    for l in &host_links {
        if l.name.starts_with(&mine) && !keep.contains(&l.name) {
            ip::run_args(&host(&["link", "del", &l.name])).await?;
        }
    }
    Ok(())
}
