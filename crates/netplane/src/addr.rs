//! Addresses as the firewall writes them: every IP, prefix and MAC that
//! goes into an nftables ruleset is parsed here first and printed back in
//! one canonical form, so nothing from the database reaches `nft` as raw
//! text.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An IP network: an address and a prefix length, host bits cleared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Net {
    pub addr: IpAddr,
    pub len: u8,
}

impl Net {
    /// `10.0.0.5`, `10.0.0.0/24`, `fd00::/64`; host bits are cleared.
    pub fn parse(s: &str) -> Option<Net> {
        let (addr, len) = match s.split_once('/') {
            Some((a, l)) => (a.parse::<IpAddr>().ok()?, Some(l.parse::<u8>().ok()?)),
            None => (s.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = len.unwrap_or(max);
        (len <= max).then(|| Net::new(addr, len))
    }

    fn new(addr: IpAddr, len: u8) -> Net {
        let addr = match addr {
            IpAddr::V4(a) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
                IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask))
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask))
            }
        };
        Net { addr, len }
    }

    pub fn is_v4(&self) -> bool {
        self.addr.is_ipv4()
    }

    /// The whole address family (`0.0.0.0/0`, `::/0`).
    pub fn is_any(&self) -> bool {
        self.len == 0
    }

    fn max_len(&self) -> u8 {
        if self.is_v4() {
            32
        } else {
            128
        }
    }

    /// Whether `other` lies inside this network.
    pub fn contains(&self, other: &Net) -> bool {
        self.is_v4() == other.is_v4()
            && other.len >= self.len
            && Net::new(other.addr, self.len).addr == self.addr
    }
}

impl fmt::Display for Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.len == self.max_len() {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.len)
        }
    }
}

/// Networks with the ones inside another dropped: what an nftables
/// interval set accepts (it refuses overlapping elements).
pub fn merge(mut nets: Vec<Net>) -> Vec<Net> {
    nets.sort_by_key(|n| (n.is_v4(), n.len, n.addr));
    let mut out: Vec<Net> = Vec::new();
    for n in nets {
        if !out.iter().any(|o| o.contains(&n)) {
            out.push(n);
        }
    }
    out.sort();
    out
}

/// A MAC address (`fa:16:3e:00:00:01`, any case).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    pub fn parse(s: &str) -> Option<Mac> {
        let mut out = [0u8; 6];
        let mut parts = s.split([':', '-']);
        for b in &mut out {
            let p = parts.next()?;
            if p.len() != 2 {
                return None;
            }
            *b = u8::from_str_radix(p, 16).ok()?;
        }
        parts.next().is_none().then_some(Mac(out))
    }

    /// The IPv6 link-local address a guest derives from this MAC (EUI-64).
    pub fn link_local(&self) -> Net {
        let m = self.0;
        let mut b = [0u8; 16];
        b[0] = 0xfe;
        b[1] = 0x80;
        b[8..16].copy_from_slice(&[m[0] ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]]);
        Net {
            addr: IpAddr::V6(Ipv6Addr::from(b)),
            len: 128,
        }
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nets_parse_normalise_and_merge() {
        let n = |s| Net::parse(s).unwrap_or_else(|| panic!("{s}"));
        assert_eq!(n("10.1.2.3/16").to_string(), "10.1.0.0/16");
        assert_eq!(n("10.1.2.3").to_string(), "10.1.2.3");
        assert_eq!(n("10.1.2.3/32").to_string(), "10.1.2.3");
        assert_eq!(n("fd00::1/64").to_string(), "fd00::/64");
        assert_eq!(n("0.0.0.0/0").to_string(), "0.0.0.0/0");
        assert!(n("::/0").is_any());
        for bad in ["10.0.0.1/33", "10.0.0", "fd00::/129", "x", "10.0.0.1/"] {
            assert!(Net::parse(bad).is_none(), "{bad}");
        }
        let merged = merge(vec![
            n("10.0.0.5"),
            n("10.0.0.0/24"),
            n("10.0.1.7"),
            n("10.0.0.0/24"),
            n("fd00::5"),
        ]);
        let shown: Vec<String> = merged.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["10.0.0.0/24", "10.0.1.7", "fd00::5"]);
    }

    #[test]
    fn macs_and_link_local() {
        let m = Mac::parse("FA:16:3E:00:00:01").expect("mac");
        assert_eq!(m.to_string(), "fa:16:3e:00:00:01");
        assert_eq!(m.link_local().to_string(), "fe80::f816:3eff:fe00:1");
        for bad in [
            "fa:16:3e:00:00",
            "fa:16:3e:00:00:01:02",
            "fa:16:3e:00:00:zz",
            "fa:16:3e:0:00:01",
        ] {
            assert!(Mac::parse(bad).is_none(), "{bad}");
        }
    }
}
