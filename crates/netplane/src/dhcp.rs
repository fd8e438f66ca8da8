//! DHCP for a network: dnsmasq in the network's DHCP namespace, as
//! Neutron's DHCP agent runs it — static leases only (each port's fixed IP
//! by its MAC), options per subnet (router, DNS servers, host routes as
//! RFC 3442 classless routes, MTU). Changed hosts or options: SIGHUP;
//! changed ranges: restart.

use std::net::Ipv4Addr;
use std::path::Path;

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

fn options(subnets: &[&Subnet]) -> String {
    let mut out = String::new();
    for (n, s) in subnets.iter().enumerate() {
        let tag = format!("tag:s{n}");
        if let Some(gw) = &s.gateway_ip {
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
        if !s.host_routes.is_empty() {
            // With classless routes a client ignores option 3: the default
            // route goes in the list too.
            let mut routes: Vec<String> = s
                .host_routes
                .iter()
                .map(|(d, h)| format!("{d},{h}"))
                .collect();
            if let Some(gw) = &s.gateway_ip {
                routes.push(format!("0.0.0.0/0,{gw}"));
            }
            out.push_str(&format!(
                "{tag},option:classless-static-route,{}\n",
                routes.join(",")
            ));
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
    let changed_opts = put(&dir.join("opts"), &options(subnets))?;
    let a = args(iface, dir, net, subnets);
    let changed_args = put(&dir.join("args"), &a.join("\n"))?;
    match pid(dir) {
        Some(p) if !changed_args && !dropped => {
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
        let o = options(&[&s]);
        assert!(o.contains("tag:s0,option:router,10.0.0.1"));
        assert!(o.contains("classless-static-route,192.168.0.0/16,10.0.0.254,0.0.0.0/0,10.0.0.1"));
    }
}
