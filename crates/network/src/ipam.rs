//! Address arithmetic for IPv4 and IPv6 subnets (addresses as `u128`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An address and whether it is IPv6.
pub fn parse_ip(s: &str) -> Option<(u128, bool)> {
    match s.parse::<IpAddr>().ok()? {
        IpAddr::V4(a) => Some((u32::from(a) as u128, false)),
        IpAddr::V6(a) => Some((u128::from(a), true)),
    }
}

pub fn fmt_ip(addr: u128, v6: bool) -> String {
    if v6 {
        Ipv6Addr::from(addr).to_string()
    } else {
        Ipv4Addr::from(addr as u32).to_string()
    }
}

/// A network prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    pub addr: u128,
    pub prefix: u8,
    pub v6: bool,
}

impl Cidr {
    /// Parse `a.b.c.d/n` or `x::/n` (a bare address is a host prefix).
    /// Host bits may be set; see [`Cidr::is_network`].
    pub fn parse(s: &str) -> Option<Cidr> {
        let (ip, prefix) = match s.split_once('/') {
            Some((ip, p)) => (ip, Some(p)),
            None => (s, None),
        };
        let (addr, v6) = parse_ip(ip)?;
        let max = if v6 { 128 } else { 32 };
        let prefix = match prefix {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && p.len() <= 3 => {
                p.parse::<u8>().ok()?
            }
            Some(_) => return None,
            None => max,
        };
        if prefix > max {
            return None;
        }
        Some(Cidr { addr, prefix, v6 })
    }

    pub fn bits(&self) -> u8 {
        if self.v6 {
            128
        } else {
            32
        }
    }

    fn host_mask(&self) -> u128 {
        let host_bits = (self.bits() - self.prefix) as u32;
        if host_bits >= 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        }
    }

    pub fn first(&self) -> u128 {
        self.addr & !self.host_mask()
    }

    pub fn last(&self) -> u128 {
        self.first() | self.host_mask()
    }

    /// Whether no host bits are set.
    pub fn is_network(&self) -> bool {
        self.addr == self.first()
    }

    pub fn contains(&self, addr: u128, v6: bool) -> bool {
        v6 == self.v6 && addr >= self.first() && addr <= self.last()
    }

    pub fn overlaps(&self, other: &Cidr) -> bool {
        self.v6 == other.v6 && self.first() <= other.last() && other.first() <= self.last()
    }

    pub fn net_string(self) -> String {
        format!("{}/{}", fmt_ip(self.first(), self.v6), self.prefix)
    }

    /// The usable host range: IPv4 drops the network and broadcast
    /// addresses (for prefixes up to /30), IPv6 drops the subnet-router
    /// anycast address.
    pub fn host_range(&self) -> Option<(u128, u128)> {
        let (first, last) = (self.first(), self.last());
        if self.v6 {
            if self.prefix >= 127 {
                return Some((first, last));
            }
            Some((first + 1, last))
        } else if self.prefix >= 31 {
            Some((first, last))
        } else {
            Some((first + 1, last - 1))
        }
    }
}

/// `[start, end]` ranges minus `hole` (the gateway).
pub fn pools_without(range: (u128, u128), hole: Option<u128>) -> Vec<(u128, u128)> {
    let (s, e) = range;
    if s > e {
        return vec![];
    }
    match hole {
        Some(h) if h >= s && h <= e => {
            let mut out = vec![];
            if h > s {
                out.push((s, h - 1));
            }
            if h < e {
                out.push((h + 1, e));
            }
            out
        }
        _ => vec![(s, e)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_ranges() {
        let c = Cidr::parse("10.0.0.0/24").unwrap();
        assert_eq!(c.host_range(), Some((c.first() + 1, c.first() + 254)));
        let pools = pools_without(c.host_range().unwrap(), Some(c.first() + 1));
        assert_eq!(pools, vec![(c.first() + 2, c.first() + 254)]);
        assert!(!Cidr::parse("10.0.0.5/24").unwrap().is_network());
        assert!(Cidr::parse("10.0.0.0/33").is_none());
    }

    #[test]
    fn v6_ranges() {
        let c = Cidr::parse("2001:db8::/64").unwrap();
        assert_eq!(fmt_ip(c.first() + 1, true), "2001:db8::1");
        assert!(c.overlaps(&Cidr::parse("2001:db8::/48").unwrap()));
    }
}
