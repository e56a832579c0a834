//! IP networks (`10.244.0.0/16`, `fd00:10:244::/56`) and apiserver endpoints
//! (`192.0.2.10`, `192.0.2.10:6443`, `[2001:db8::10]:6443`), parsed strictly. Pure: used by the
//! firewall model, the site config and the auto-detection readers alike.
//!
//! A network is kept normalised to its network address (`10.244.1.7/16` becomes `10.244.0.0/16`,
//! as iptables itself stores it), so comparing what hardnode asked for with what the kernel lists
//! is a plain equality.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An IPv4 or IPv6 network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// The network containing just `address` (`/32` or `/128`).
    pub fn host(address: IpAddr) -> Cidr {
        Cidr {
            network: address,
            prefix: max_prefix(address),
        }
    }

    pub fn network(&self) -> IpAddr {
        self.network
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    pub fn is_ipv6(&self) -> bool {
        self.network.is_ipv6()
    }

    /// `0.0.0.0/0` or `::/0`: every address.
    pub fn is_everything(&self) -> bool {
        self.prefix == 0
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, address) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                mask_v4(u32::from(address), self.prefix) == u32::from(network)
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                mask_v6(u128::from(address), self.prefix) == u128::from(network)
            }
            _ => false,
        }
    }

    /// Whether the two networks share at least one address.
    pub fn overlaps(&self, other: &Cidr) -> bool {
        self.contains(other.network) || other.contains(self.network)
    }
}

fn max_prefix(address: IpAddr) -> u8 {
    if address.is_ipv6() { 128 } else { 32 }
}

fn mask_v4(bits: u32, prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        bits & (u32::MAX << (32 - u32::from(prefix)))
    }
}

fn mask_v6(bits: u128, prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        bits & (u128::MAX << (128 - u32::from(prefix)))
    }
}

impl FromStr for Cidr {
    type Err = String;

    /// `ADDR/LEN` or a bare address (a host network). Whitespace around it is an error, not
    /// trimmed: a value read from a file is trimmed by its reader.
    fn from_str(text: &str) -> Result<Cidr, String> {
        let (address_text, prefix_text) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address_text.parse().map_err(|_| {
            format!("{text:?} is not an IP network (expected ADDR/LEN, e.g. 10.244.0.0/16)")
        })?;
        let max = max_prefix(address);
        let prefix = match prefix_text {
            None => max,
            Some(prefix) => match prefix.parse::<u8>() {
                Ok(value) if value <= max && !prefix.starts_with('+') => value,
                _ => {
                    return Err(format!(
                        "{text:?}: prefix length must be a number from 0 to {max}"
                    ));
                }
            },
        };
        let network = match address {
            IpAddr::V4(v4) => IpAddr::V4(Ipv4Addr::from(mask_v4(u32::from(v4), prefix))),
            IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(mask_v6(u128::from(v6), prefix))),
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
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// An apiserver address, with the TCP port when the block should match that port only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Endpoint {
    pub address: IpAddr,
    pub port: Option<u16>,
}

impl FromStr for Endpoint {
    type Err = String;

    /// `ADDR`, `ADDR:PORT`, `[V6]`, `[V6]:PORT` or a bare IPv6 address (no port).
    fn from_str(text: &str) -> Result<Endpoint, String> {
        let malformed = || {
            format!(
                "{text:?} is not an apiserver address (expected ADDR or ADDR:PORT, \
                 [V6ADDR]:PORT for IPv6; a host name must be resolved first)"
            )
        };
        if let Ok(address) = text.parse::<IpAddr>() {
            return Ok(Endpoint {
                address,
                port: None,
            });
        }
        let (address_text, port_text) = if let Some(rest) = text.strip_prefix('[') {
            let (address, after) = rest.split_once(']').ok_or_else(malformed)?;
            match after {
                "" => (address, None),
                _ => (
                    address,
                    Some(after.strip_prefix(':').ok_or_else(malformed)?),
                ),
            }
        } else {
            let (address, port) = text.rsplit_once(':').ok_or_else(malformed)?;
            (address, Some(port))
        };
        let address = address_text.parse::<IpAddr>().map_err(|_| malformed())?;
        if address_text.contains(':') && !text.starts_with('[') {
            return Err(malformed());
        }
        let port = match port_text {
            None => None,
            Some(port) => match port.parse::<u16>() {
                Ok(value) if value > 0 && !port.starts_with('+') => Some(value),
                _ => return Err(format!("{text:?}: port must be a number from 1 to 65535")),
            },
        };
        Ok(Endpoint { address, port })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.address, self.port) {
            (address, None) => write!(f, "{address}"),
            (IpAddr::V4(address), Some(port)) => write!(f, "{address}:{port}"),
            (IpAddr::V6(address), Some(port)) => write!(f, "[{address}]:{port}"),
        }
    }
}

impl Serialize for Endpoint {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Endpoint {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(text: &str) -> Cidr {
        text.parse().expect("valid cidr")
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("valid ip")
    }

    #[test]
    fn networks_are_normalised() {
        assert_eq!(cidr("10.244.1.7/16").to_string(), "10.244.0.0/16");
        assert_eq!(cidr("192.0.2.10").to_string(), "192.0.2.10/32");
        assert_eq!(cidr("fd00:10:244::5/56").to_string(), "fd00:10:244::/56");
        assert_eq!(cidr("2001:db8::1").to_string(), "2001:db8::1/128");
        assert!(cidr("0.0.0.0/0").is_everything());
        assert!(cidr("::/0").is_everything());
    }

    #[test]
    fn malformed_networks_are_refused() {
        for bad in [
            "",
            "10.244.0.0/33",
            "10.244.0.0/",
            "10.244/16",
            "x",
            "::/129",
            "1.2.3.4/+8",
            " 10.0.0.0/8",
            "10.0.0.0/8 ",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn containment_and_overlap() {
        assert!(cidr("10.244.0.0/16").contains(ip("10.244.3.4")));
        assert!(!cidr("10.244.0.0/16").contains(ip("10.245.0.1")));
        assert!(!cidr("10.244.0.0/16").contains(ip("::1")));
        assert!(cidr("0.0.0.0/0").contains(ip("8.8.8.8")));
        assert!(cidr("fd00::/8").contains(ip("fd12::1")));
        assert!(cidr("10.0.0.0/8").overlaps(&cidr("10.244.0.0/16")));
        assert!(cidr("10.244.0.0/16").overlaps(&cidr("10.0.0.0/8")));
        assert!(!cidr("10.244.0.0/16").overlaps(&cidr("10.245.0.0/16")));
    }

    #[test]
    fn endpoints() {
        let parse = |text: &str| text.parse::<Endpoint>();
        assert_eq!(
            parse("192.0.2.10:6443").expect("v4 port").to_string(),
            "192.0.2.10:6443"
        );
        assert_eq!(parse("192.0.2.10").expect("v4").port, None);
        assert_eq!(parse("2001:db8::10").expect("bare v6").port, None);
        assert_eq!(
            parse("[2001:db8::10]:6443").expect("v6 port").port,
            Some(6443)
        );
        assert_eq!(
            parse("[2001:db8::10]:6443").expect("v6").to_string(),
            "[2001:db8::10]:6443"
        );
        for bad in [
            "",
            "api.example:6443",
            "192.0.2.10:0",
            "192.0.2.10:70000",
            "192.0.2.10:",
            "[2001:db8::10",
            "192.0.2.300",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
