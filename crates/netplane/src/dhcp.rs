//! DHCP for a network: dnsmasq in the network's DHCP namespace, as
//! Neutron's DHCP agent runs it — static leases only (each port's fixed IP
//! by its MAC), options per subnet (router, DNS servers, host routes as
//! RFC 3442 classless routes, MTU). Changed hosts or options: SIGHUP;
//! changed ranges: restart.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tokio::process::Command;

use crate::{NetError, NetResult, Network, Port, PortKind, Subnet};

pub(crate) fn io(what: &'static str) -> impl Fn(std::io::Error) -> NetError {
    move |e| NetError(format!("{what}: {e}"))
}

/// `10.0.0.0/24` → (`10.0.0.0`, `255.255.255.0`).
fn network_and_mask(cidr: &str) -> Option<(Ipv4Addr, Ipv4Addr)> {
    let (addr, len) = cidr.split_once('/')?;
    let addr: Ipv4Addr = addr.parse().ok()?;
    let len: u32 = len.parse().ok().filter(|l| *l <= 32)?;
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    Some((Ipv4Addr::from(u32::from(addr) & mask), Ipv4Addr::from(mask)))
}

fn hosts(subnets: &[&Subnet], ports: &[Port], network_id: &str) -> String {
    let mut out = String::new();
    for p in ports.iter().filter(|p| p.network_id == network_id) {
        if p.kind == PortKind::Dhcp {
            continue;
        }
        for (subnet, addr) in &p.fixed_ips {
            if !subnets.iter().any(|s| &s.id == subnet) {
                continue;
            }
            let name = p
                .hostname
                .clone()
                .unwrap_or_else(|| format!("host-{}", addr.replace(['.', ':'], "-")));
            out.push_str(&format!("{},{name},{addr}\n", p.mac));
        }
    }
    out
}

/// What DHCP says about the metadata service: the subnets it is served on
/// by this network's DHCP namespace, and the DHCP port (its address on each
/// subnet is the next hop to it).
pub struct Metadata<'a> {
    pub subnets: &'a BTreeSet<String>,
    pub server: &'a Port,
}

/// Options per subnet, as Neutron's DHCP agent writes them: router, DNS
/// servers, and the classless routes (RFC 3442: host routes, the route to
/// the metadata service — via the DHCP port on subnets it serves, else via
/// the gateway — and then the default route, which a client sending option
/// 121 takes from nowhere else; also as option 249 for old Windows).
fn options(subnets: &[&Subnet], md: &Metadata) -> String {
    let mut out = String::new();
    for (n, s) in subnets.iter().enumerate() {
        let tag = format!("tag:s{n}");
        let mut gateway = s.gateway_ip.clone();
        let mut routes = Vec::new();
        for (dest, hop) in &s.host_routes {
            if dest == "0.0.0.0/0" {
                gateway.get_or_insert_with(|| hop.clone());
            } else {
                routes.push(format!("{dest},{hop}"));
            }
        }
        let metadata_hop = if md.subnets.contains(&s.id) {
            md.server
                .fixed_ips
                .iter()
                .find(|(subnet, _)| subnet == &s.id)
                .map(|(_, addr)| addr.clone())
        } else {
            gateway.clone()
        };
        if let Some(hop) = metadata_hop {
            routes.push(format!("{}/32,{hop}", crate::METADATA_ADDRESS));
        }
        if let Some(gw) = &gateway {
            out.push_str(&format!("{tag},option:router,{gw}\n"));
        } else {
            out.push_str(&format!("{tag},option:router\n"));
        }
        if !s.dns_nameservers.is_empty() {
            out.push_str(&format!(
                "{tag},option:dns-server,{}\n",
                s.dns_nameservers.join(",")
            ));
        }
        if !routes.is_empty() {
            if let Some(gw) = &gateway {
                routes.push(format!("0.0.0.0/0,{gw}"));
            }
            let routes = routes.join(",");
            out.push_str(&format!("{tag},option:classless-static-route,{routes}\n"));
            out.push_str(&format!("{tag},249,{routes}\n"));
        }
    }
    out
}

fn args(iface: &str, dir: &Path, net: &Network, subnets: &[&Subnet]) -> Vec<String> {
    let f = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let mut a = vec![
        "--conf-file=/dev/null".to_owned(),
        // It re-reads its files on SIGHUP, and they live in the data dir,
        // which may be private to root: it keeps root's rights (it only
        // ever sees its network's namespace).
        "--user=root".into(),
        "--no-hosts".into(),
        "--no-resolv".into(),
        "--port=0".into(),
        "--leasefile-ro".into(),
        "--dhcp-authoritative".into(),
        "--bind-interfaces".into(),
        format!("--interface={iface}"),
        "--except-interface=lo".into(),
        format!("--pid-file={}", f("pid")),
        format!("--dhcp-hostsfile={}", f("host")),
        format!("--dhcp-optsfile={}", f("opts")),
        format!("--dhcp-option-force=option:mtu,{}", net.mtu),
        format!("--log-facility={}", f("log")),
        "--log-dhcp".into(),
    ];
    for (n, s) in subnets.iter().enumerate() {
        if let Some((addr, mask)) = network_and_mask(&s.cidr) {
            a.push(format!("--dhcp-range=set:s{n},{addr},static,{mask},86400s"));
        }
    }
    a
}

/// The dnsmasq directories whose server this process has (re)started. One
/// found running from an earlier run is restarted on first sight: that run
/// may have died between writing the files and signalling it, and dnsmasq
/// would go on serving what it read before.
static STARTED: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

/// Whether this is the first time this process looks after `dir`.
pub(crate) fn first_sight(dir: &Path) -> bool {
    STARTED
        .lock()
        .map(|mut s| s.insert(dir.to_path_buf()))
        .unwrap_or(true)
}

pub(crate) fn pid(dir: &Path) -> Option<i32> {
    let text = std::fs::read_to_string(dir.join("pid")).ok()?;
    let pid: i32 = text.trim().parse().ok()?;
    let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let mine = dir.join("pid").to_string_lossy().into_owned();
    String::from_utf8_lossy(&cmd).contains(&mine).then_some(pid)
}

/// Write a file when its content changed; whether it did.
pub(crate) fn put(path: &Path, content: &str) -> NetResult<bool> {
    if std::fs::read_to_string(path).ok().as_deref() == Some(content) {
        return Ok(false);
    }
    let tmp = path.with_extension("part");
    std::fs::write(&tmp, content).map_err(io("cannot write a DHCP file"))?;
    std::fs::rename(&tmp, path).map_err(io("cannot write a DHCP file"))?;
    Ok(true)
}

/// dnsmasq runs in `ns` on `iface` with the network's current hosts and
/// options.
pub async fn ensure(
    ns: &str,
    iface: &str,
    dir: &Path,
    net: &Network,
    subnets: &[&Subnet],
    ports: &[Port],
    md: &Metadata<'_>,
) -> NetResult<()> {
    std::fs::create_dir_all(dir).map_err(io("cannot make the DHCP directory"))?;
    let before = std::fs::read_to_string(dir.join("host")).unwrap_or_default();
    let now = hosts(subnets, ports, &net.id);
    // A lease dnsmasq holds for a port that is gone would keep its address
    // from the next port given it (the lowest free one often is): a host
    // removed or changed means a restart, which forgets leases (we keep
    // none on disk), as Neutron's agent releases them.
    let dropped = before.lines().any(|l| !now.lines().any(|n| n == l));
    let changed_hosts = put(&dir.join("host"), &now)?;
    let changed_opts = put(&dir.join("opts"), &options(subnets, md))?;
    let a = args(iface, dir, net, subnets);
    let changed_args = put(&dir.join("args"), &a.join("\n"))?;
    let inherited = first_sight(dir);
    match pid(dir) {
        Some(p) if !changed_args && !dropped && !inherited => {
            if changed_hosts || changed_opts {
                let _ = kill(Pid::from_raw(p), Signal::SIGHUP);
            }
            return Ok(());
        }
        Some(_) => stop_and_wait(dir).await,
        None => {}
    }
    run_dnsmasq(ns, &a).await
}

/// End the dnsmasq whose pid file is in `dir` and wait (up to a second)
/// until it is gone, so that its successor can bind the same interface.
pub(crate) async fn stop_and_wait(dir: &Path) {
    if let Some(p) = pid(dir) {
        let _ = kill(Pid::from_raw(p), Signal::SIGTERM);
    }
    for _ in 0..50 {
        if pid(dir).is_none() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Start dnsmasq in `ns` with `args` (it daemonizes; its pid file says
/// where it went).
pub(crate) async fn run_dnsmasq(ns: &str, args: &[String]) -> NetResult<()> {
    let out = Command::new("ip")
        .args(["netns", "exec", ns, "dnsmasq"])
        .args(args)
        .kill_on_drop(true)
        .output()
        .await
        .map_err(io("cannot run dnsmasq"))?;
    if !out.status.success() {
        return Err(NetError(format!(
            "dnsmasq in {ns} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// Stop the network's dnsmasq (if any) so that `ensure` starts another:
/// its namespace is not the one it was started in any more.
pub fn stop_stale(dir: &Path) {
    if let Some(p) = pid(dir) {
        let _ = kill(Pid::from_raw(p), Signal::SIGTERM);
    }
    let _ = std::fs::remove_file(dir.join("pid"));
}

/// Stop the dnsmasq whose files are in `dir` and forget them.
pub async fn stop(dir: &Path) {
    if let Some(p) = pid(dir) {
        let _ = kill(Pid::from_raw(p), Signal::SIGTERM);
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_and_options() {
        assert_eq!(
            network_and_mask("10.1.2.3/20"),
            Some((Ipv4Addr::new(10, 1, 0, 0), Ipv4Addr::new(255, 255, 240, 0)))
        );
        let s = Subnet {
            id: "s".into(),
            cidr: "10.0.0.0/24".into(),
            ip_version: 4,
            gateway_ip: Some("10.0.0.1".into()),
            enable_dhcp: true,
            dns_nameservers: vec!["10.0.0.2".into()],
            host_routes: vec![("192.168.0.0/16".into(), "10.0.0.254".into())],
            ..Subnet::default()
        };
        let dhcp_port = Port {
            id: "p".into(),
            network_id: "n".into(),
            mac: "fa:16:3e:00:00:02".into(),
            fixed_ips: vec![("s".into(), "10.0.0.2".into())],
            kind: PortKind::Dhcp,
            ..Port::default()
        };
        let none = BTreeSet::new();
        let routed = Metadata {
            subnets: &none,
            server: &dhcp_port,
        };
        let o = options(&[&s], &routed);
        assert!(o.contains("tag:s0,option:router,10.0.0.1"));
        // Not served here: the metadata service is behind the gateway.
        assert!(o.contains(
            "classless-static-route,192.168.0.0/16,10.0.0.254,169.254.169.254/32,10.0.0.1,0.0.0.0/0,10.0.0.1\n"
        ));
        assert!(o.contains("tag:s0,249,192.168.0.0/16,"));

        // An isolated subnet: via the DHCP port, and the default route
        // still there (option 121 overrides the router option).
        let isolated: BTreeSet<String> = ["s".to_owned()].into();
        let served = Metadata {
            subnets: &isolated,
            server: &dhcp_port,
        };
        let bare = Subnet {
            host_routes: vec![],
            ..s.clone()
        };
        let o = options(&[&bare], &served);
        assert!(
            o.contains("classless-static-route,169.254.169.254/32,10.0.0.2,0.0.0.0/0,10.0.0.1\n")
        );
        // No gateway: only the metadata route; a default host route stands
        // in for the gateway.
        let no_gw = Subnet {
            gateway_ip: None,
            ..bare.clone()
        };
        let o = options(&[&no_gw], &served);
        assert!(o.contains("tag:s0,option:router\n"));
        assert!(o.contains("classless-static-route,169.254.169.254/32,10.0.0.2\n"));
        let via_route = Subnet {
            gateway_ip: None,
            host_routes: vec![("0.0.0.0/0".into(), "10.0.0.9".into())],
            ..bare
        };
        let o = options(&[&via_route], &served);
        assert!(o.contains("option:router,10.0.0.9\n"));
        assert!(o.contains("169.254.169.254/32,10.0.0.2,0.0.0.0/0,10.0.0.9\n"));
    }
}
