//! IPv6 router advertisements from a router's namespace, as Neutron's L3
//! agent sends them (it runs radvd; here dnsmasq, already the DHCP server,
//! in RA mode): on each `qr-` leg whose IPv6 subnet has an `ipv6_ra_mode`,
//! `slaac` → the prefix with the autonomous flag (guests make their EUI-64
//! address, which is the port's fixed IP); `dhcpv6-stateless` → the same
//! plus the "other configuration" flag. `dhcpv6-stateful` (addresses from
//! DHCPv6) is not built: such subnets get no advertisements.

use std::path::Path;

use crate::dhcp::{first_sight, io, pid, put, run_dnsmasq, stop_and_wait};
use crate::NetResult;

/// One advertising interface: `(device, prefix cidr, ra mode, mtu)`.
pub type Leg = (String, String, String, u32);

fn args(dir: &Path, legs: &[Leg]) -> Vec<String> {
    let f = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let mut a = vec![
        "--conf-file=/dev/null".to_owned(),
        "--user=root".into(),
        "--no-hosts".into(),
        "--no-resolv".into(),
        "--port=0".into(),
        "--leasefile-ro".into(),
        "--bind-interfaces".into(),
        "--except-interface=lo".into(),
        "--enable-ra".into(),
        format!("--pid-file={}", f("pid")),
        format!("--log-facility={}", f("log")),
    ];
    for (dev, cidr, mode, mtu) in legs {
        let Some((net, len)) = cidr.split_once('/') else {
            continue;
        };
        let flavour = if mode == "dhcpv6-stateless" {
            "ra-stateless"
        } else {
            "ra-only"
        };
        a.push(format!("--interface={dev}"));
        a.push(format!("--dhcp-range={net},{flavour},{len},1h"));
        a.push(format!("--ra-param={dev},mtu:{mtu},10,1800"));
    }
    a
}

/// The legs that advertise: the IPv6 subnets with an RA mode we build.
pub fn wanted(mode: Option<&str>) -> bool {
    matches!(mode, Some("slaac") | Some("dhcpv6-stateless"))
}

/// dnsmasq advertises on exactly `legs` in namespace `ns` (none: stopped).
pub async fn ensure(ns: &str, dir: &Path, legs: &[Leg]) -> NetResult<()> {
    if legs.is_empty() {
        stop(dir).await;
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(io("cannot make the RA directory"))?;
    let a = args(dir, legs);
    let changed = put(&dir.join("args"), &a.join("\n"))?;
    let inherited = first_sight(dir);
    match pid(dir) {
        Some(_) if !changed && !inherited => return Ok(()),
        Some(_) => stop_and_wait(dir).await,
        None => {}
    }
    run_dnsmasq(ns, &a).await
}

/// Stop the namespace's advertiser and forget its files.
pub async fn stop(dir: &Path) {
    crate::dhcp::stop(dir).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        let legs = vec![
            (
                "qr-a".into(),
                "2001:db8:1::/64".into(),
                "slaac".into(),
                1450,
            ),
            (
                "qr-b".into(),
                "2001:db8:2::/64".into(),
                "dhcpv6-stateless".into(),
                1500,
            ),
        ];
        let a = args(Path::new("/d"), &legs);
        assert!(a.contains(&"--dhcp-range=2001:db8:1::,ra-only,64,1h".to_owned()));
        assert!(a.contains(&"--dhcp-range=2001:db8:2::,ra-stateless,64,1h".to_owned()));
        assert!(a.contains(&"--ra-param=qr-a,mtu:1450,10,1800".to_owned()));
        assert!(wanted(Some("slaac")) && !wanted(Some("dhcpv6-stateful")) && !wanted(None));
    }
}
