//! iproute2, namespace by namespace: writes with `ip -n NS ...`, reads with
//! `ip -j` (JSON, never screen-scraped). `ip` does the `setns` dance per
//! call, which a multi-threaded async process cannot do safely itself.

use std::collections::BTreeSet;

use serde_json::Value;
use tokio::process::Command;

use crate::{NetError, NetResult};

async fn run(args: &[&str]) -> NetResult<Vec<u8>> {
    let out = Command::new("ip")
        .args(args)
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| NetError(format!("cannot run ip: {e}")))?;
    if !out.status.success() {
        return Err(NetError(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(out.stdout)
}

/// `ip <args>` (owned strings).
pub async fn run_args(args: &[String]) -> NetResult<()> {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&refs).await.map(|_| ())
}

/// The links of this process's own namespace (read only).
pub async fn host_links() -> NetResult<Vec<Link>> {
    let out = run(&["-j", "-d", "link", "show"]).await?;
    parse_links(&out)
}

/// `ip -n NS <args>`.
pub async fn ns(ns: &str, args: &[&str]) -> NetResult<()> {
    let mut all = vec!["-n", ns];
    all.extend_from_slice(args);
    run(&all).await.map(|_| ())
}

/// The network namespaces whose names start with `prefix`.
pub async fn namespaces(prefix: &str) -> NetResult<Vec<String>> {
    let out = run(&["-j", "netns", "list"]).await?;
    let v: Value = if out.iter().all(u8::is_ascii_whitespace) {
        Value::Array(Vec::new())
    } else {
        serde_json::from_slice(&out).map_err(|e| NetError(format!("ip netns list: {e}")))?
    };
    Ok(v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|n| n["name"].as_str())
                .filter(|n| n.starts_with(prefix))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default())
}

pub async fn add_namespace(name: &str) -> NetResult<()> {
    run(&["netns", "add", name]).await?;
    ns(name, &["link", "set", "lo", "up"]).await
}

pub async fn del_namespace(name: &str) -> NetResult<()> {
    run(&["netns", "del", name]).await.map(|_| ())
}

/// A link as `ip -j link show` describes it.
#[derive(Clone, Debug, Default)]
pub struct Link {
    pub name: String,
    pub kind: String,
    pub master: Option<String>,
    pub up: bool,
    pub mac: String,
    pub mtu: u64,
    /// `lower_up`: the other side (a guest's NIC, a veth peer) is there.
    pub carrier: bool,
}

pub async fn links(namespace: &str) -> NetResult<Vec<Link>> {
    let out = run(&["-n", namespace, "-j", "-d", "link", "show"]).await?;
    parse_links(&out)
}

fn parse_links(out: &[u8]) -> NetResult<Vec<Link>> {
    let v: Value =
        serde_json::from_slice(out).map_err(|e| NetError(format!("ip link show: {e}")))?;
    Ok(v.as_array()
        .map(|a| {
            a.iter()
                .map(|l| {
                    let flags: Vec<&str> = l["flags"]
                        .as_array()
                        .map(|f| f.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    Link {
                        name: l["ifname"].as_str().unwrap_or_default().to_owned(),
                        kind: l["linkinfo"]["info_kind"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                        master: l["master"].as_str().map(str::to_owned),
                        up: flags.contains(&"UP"),
                        mac: l["address"].as_str().unwrap_or_default().to_owned(),
                        mtu: l["mtu"].as_u64().unwrap_or(0),
                        carrier: flags.contains(&"LOWER_UP"),
                    }
                })
                .collect()
        })
        .unwrap_or_default())
}

/// The addresses (`ip/prefix`) of a link.
pub async fn addresses(namespace: &str, link: &str) -> NetResult<Vec<String>> {
    let out = run(&["-n", namespace, "-j", "addr", "show", "dev", link]).await?;
    let v: Value =
        serde_json::from_slice(&out).map_err(|e| NetError(format!("ip addr show: {e}")))?;
    Ok(v.as_array()
        .into_iter()
        .flatten()
        .flat_map(|l| l["addr_info"].as_array().cloned().unwrap_or_default())
        .filter(|a| a["scope"].as_str() == Some("global"))
        .filter_map(|a| {
            Some(format!(
                "{}/{}",
                a["local"].as_str()?,
                a["prefixlen"].as_u64()?
            ))
        })
        .collect())
}

/// Set a sysctl of namespace `namespace` (its own copy: forwarding and
/// the like are per namespace).
pub async fn sysctl(namespace: &str, key: &str, value: &str) -> NetResult<()> {
    let path = format!("/proc/sys/{}", key.replace('.', "/"));
    let current = run(&["netns", "exec", namespace, "cat", &path]).await?;
    if String::from_utf8_lossy(&current).trim() == value {
        return Ok(());
    }
    run(&[
        "netns",
        "exec",
        namespace,
        "sysctl",
        "-q",
        "-w",
        &format!("{key}={value}"),
    ])
    .await
    .map(|_| ())
}

/// The IPv4 and IPv6 routes of `namespace` that go via a gateway: `(destination,
/// gateway)` (`default` for the default route).
pub async fn gateway_routes(namespace: &str) -> NetResult<Vec<(String, String)>> {
    let mut routes = Vec::new();
    for family in ["-4", "-6"] {
        let out = run(&["-n", namespace, "-j", family, "route", "show"]).await?;
        let v: Value =
            serde_json::from_slice(&out).map_err(|e| NetError(format!("ip route show: {e}")))?;
        routes.extend(v.as_array().into_iter().flatten().filter_map(|r| {
            Some((
                r["dst"].as_str()?.to_owned(),
                r["gateway"].as_str()?.to_owned(),
            ))
        }));
    }
    Ok(routes)
}

/// Give `dev` in `ns` exactly the addresses `want` (global scope ones).
pub async fn sync_addresses(ns: &str, dev: &str, want: &BTreeSet<String>) -> NetResult<()> {
    sync(ns, dev, want, |_| true).await
}

/// The same for IPv4 only: IPv6 addresses the kernel configures itself
/// (SLAAC from a router's advertisements) stay.
pub async fn sync_ipv4_addresses(ns: &str, dev: &str, want: &BTreeSet<String>) -> NetResult<()> {
    sync(ns, dev, want, |a| !a.contains(':')).await
}

async fn sync(
    namespace: &str,
    dev: &str,
    want: &BTreeSet<String>,
    managed: impl Fn(&str) -> bool,
) -> NetResult<()> {
    let have: BTreeSet<String> = addresses(namespace, dev)
        .await?
        .into_iter()
        .filter(|a| managed(a))
        .collect();
    for a in want.difference(&have) {
        ns(namespace, &["addr", "add", a, "dev", dev]).await?;
    }
    for a in have.difference(want) {
        ns(namespace, &["addr", "del", a, "dev", dev]).await?;
    }
    Ok(())
}
