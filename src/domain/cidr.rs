//! Address ranges in CIDR notation (`10.0.0.0/8`, `::1/128`), for the addresses an admin key
//! may be used from.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::{Serialize, Serializer};

use super::error::DomainError;

/// A network: an address with the bits past `prefix` cleared, so `10.1.2.3/8` is `10.0.0.0/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

fn bits(addr: IpAddr) -> (u128, u8) {
    match addr {
        IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    }
}

/// The mask of the first `prefix` bits of a `width`-bit address.
fn mask(prefix: u8, width: u8) -> u128 {
    let host = u32::from(width - prefix);
    let all = if width == 128 {
        u128::MAX
    } else {
        (1u128 << width) - 1
    };
    all.checked_shl(host).map_or(0, |m| m & all)
}

impl Cidr {
    /// Whether `addr` is inside. An IPv4 client seen on an IPv6 socket (`::ffff:10.0.0.1`)
    /// counts as its IPv4 address.
    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = addr.to_canonical();
        if addr.is_ipv4() != self.network.is_ipv4() {
            return false;
        }
        let ((a, width), (n, _)) = (bits(addr), bits(self.network));
        let m = mask(self.prefix, width);
        a & m == n & m
    }
}

impl FromStr for Cidr {
    type Err = DomainError;

    /// `ADDRESS/PREFIX`, or a bare address for that address alone.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| DomainError::Invalid(format!("'{s}' is not a CIDR range: {why}"));
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| bad("use e.g. 10.0.0.0/8 or ::1/128"))?;
        let width = bits(addr).1;
        let prefix = match prefix {
            None => width,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= width)
                .ok_or_else(|| bad(&format!("the prefix length is 0 to {width}")))?,
        };
        let kept = bits(addr).0 & mask(prefix, width);
        let network = match addr {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(kept as u32)),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(kept)),
        };
        Ok(Cidr { network, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl Serialize for Cidr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A comma-separated list of ranges; at least one.
pub fn parse_list(text: &str) -> Result<Vec<Cidr>, DomainError> {
    let list = text
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::parse)
        .collect::<Result<Vec<Cidr>, _>>()?;
    if list.is_empty() {
        return Err(DomainError::Invalid(
            "an allow list names at least one CIDR range".into(),
        ));
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_normalise_and_contain() {
        let cases = [
            ("127.0.0.1/32", "127.0.0.1/32", "127.0.0.1", true),
            ("127.0.0.1", "127.0.0.1/32", "127.0.0.2", false),
            ("10.1.2.3/8", "10.0.0.0/8", "10.255.0.1", true),
            ("10.0.0.0/8", "10.0.0.0/8", "11.0.0.1", false),
            ("0.0.0.0/0", "0.0.0.0/0", "203.0.113.9", true),
            ("0.0.0.0/0", "0.0.0.0/0", "::1", false),
            ("::1/128", "::1/128", "::1", true),
            ("::1", "::1/128", "::2", false),
            ("2001:db8::/32", "2001:db8::/32", "2001:db8:ffff::1", true),
            ("::/0", "::/0", "2001:db8::1", true),
            ("127.0.0.0/8", "127.0.0.0/8", "::ffff:127.0.0.1", true),
        ];
        for (text, shown, addr, inside) in cases {
            let c: Cidr = text.parse().unwrap();
            assert_eq!(c.to_string(), shown, "{text}");
            assert_eq!(c.contains(addr.parse().unwrap()), inside, "{text} ∋ {addr}");
        }
        for bad in [
            "",
            "10.0.0.0/33",
            "::1/129",
            "10.0.0/8",
            "example.com/8",
            "10.0.0.0/-1",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
        assert_eq!(parse_list(" 127.0.0.1/32 , ::1/128 ").unwrap().len(), 2);
        assert!(parse_list(" , ").is_err());
        assert!(parse_list("127.0.0.1/32,nope").is_err());
    }
}
