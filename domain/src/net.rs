//! Who is on the other end: the client address behind trusted reverse
//! proxies, and the address a throttle counts.
//!
//! A `Forwarded` or `X-Forwarded-For` header is anyone's to write, so it is
//! read only when the TCP peer is a proxy the operator named, and then only
//! as far back as the chain of trusted proxies goes: the rightmost address
//! that is not a trusted proxy is the client. Everything to its left was
//! written by the client itself.

use std::net::{IpAddr, Ipv6Addr};

use ipnet::IpNet;

/// The reverse proxies whose forwarding headers are believed
/// (`PEERPORTAL_TRUSTED_PROXIES`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Addresses or CIDR blocks separated by commas or spaces; empty means
    /// none (the TCP peer is the client).
    pub fn parse(s: &str) -> Result<TrustedProxies, String> {
        let nets = s
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|part| !part.is_empty())
            .map(|part| {
                part.parse::<IpNet>()
                    .or_else(|_| part.parse::<IpAddr>().map(IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| format!("{part:?} is not an IP address or CIDR block (examples: 10.0.0.1, 10.0.0.0/8, ::1)"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TrustedProxies(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }
}

impl std::fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let nets: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&nets.join(", "))
    }
}

/// The client's address. `forwarded` are the values of every `Forwarded`
/// header line in order, `x_forwarded_for` those of `X-Forwarded-For`.
/// `X-Forwarded-For` wins when both are present: it is what nginx,
/// HAProxy, Caddy and Traefik append to, while a `Forwarded` header next to
/// it was most likely sent by the client and passed through untouched.
/// `Forwarded` (RFC 7239) is read when it is the only one.
pub fn client_address(peer: IpAddr, trusted: &TrustedProxies, forwarded: &[&str], x_forwarded_for: &[&str]) -> IpAddr {
    let peer = canonical(peer);
    if !trusted.trusts(peer) {
        return peer;
    }
    let hops: Vec<Option<IpAddr>> = if !x_forwarded_for.is_empty() {
        x_forwarded_for.iter().flat_map(|line| line.split(',')).map(|hop| parse_hop(hop.trim())).collect()
    } else {
        forwarded.iter().flat_map(|line| line.split(',')).map(forwarded_for).collect()
    };
    // From the right: every trusted hop is a proxy of ours; the first one
    // that is not is the client. A hop that cannot be read (`unknown`, an
    // obfuscated name) ends the walk at the last proxy that vouched for it.
    let mut client = peer;
    for hop in hops.into_iter().rev() {
        match hop {
            Some(ip) if trusted.trusts(ip) => client = ip,
            Some(ip) => return ip,
            None => return client,
        }
    }
    client
}

/// The `for=` address of one `Forwarded` element
/// (`for=192.0.2.60;proto=http`, `for="[2001:db8::1]:4711"`).
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        name.trim().eq_ignore_ascii_case("for").then(|| parse_hop(value.trim().trim_matches('"')))?
    })
}

/// One hop: an address, with an optional port (`[v6]:port`, `v4:port`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse::<Ipv6Addr>().ok()).map(|ip| canonical(IpAddr::V6(ip)));
    }
    let (ip, port) = hop.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    ip.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// An IPv4 address written as IPv6 (`::ffff:192.0.2.1`, what a dual-stack
/// socket reports) is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// What a per-address limit counts: the IPv4 address, or the /64 an IPv6
/// address belongs to (one subscriber usually has a whole /64, so counting
/// single IPv6 addresses would give an attacker 2^64 fresh budgets).
pub fn throttle_address(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let prefix = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            format!("{prefix}/64")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn proxies(s: &str) -> TrustedProxies {
        TrustedProxies::parse(s).unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_the_headers_say() {
        let none = TrustedProxies::default();
        assert_eq!(client_address(ip("10.0.0.1"), &none, &["for=203.0.113.9"], &["198.51.100.1"]), ip("10.0.0.1"));
    }

    #[test]
    fn an_untrusted_peer_cannot_name_another_client() {
        let trusted = proxies("10.0.0.0/8");
        assert_eq!(client_address(ip("192.0.2.7"), &trusted, &[], &["198.51.100.1"]), ip("192.0.2.7"));
    }

    #[test]
    fn the_rightmost_address_that_is_not_a_trusted_proxy_is_the_client() {
        let trusted = proxies("10.0.0.0/8, 127.0.0.1");
        // The client wrote 1.2.3.4 itself; nginx appended the real address.
        assert_eq!(client_address(ip("127.0.0.1"), &trusted, &[], &["1.2.3.4, 198.51.100.1, 10.1.1.1"]), ip("198.51.100.1"));
        assert_eq!(client_address(ip("127.0.0.1"), &trusted, &[], &["1.2.3.4", "198.51.100.1"]), ip("198.51.100.1"), "one header per hop");
        assert_eq!(client_address(ip("127.0.0.1"), &trusted, &[], &[]), ip("127.0.0.1"), "no header: the proxy itself");
        assert_eq!(client_address(ip("127.0.0.1"), &trusted, &[], &["10.2.2.2"]), ip("10.2.2.2"), "all trusted: the leftmost");
    }

    #[test]
    fn forwarded_is_read_with_ports_quotes_and_other_parameters() {
        let trusted = proxies("127.0.0.1");
        let peer = ip("127.0.0.1");
        assert_eq!(client_address(peer, &trusted, &["for=192.0.2.60;proto=https;by=203.0.113.43"], &[]), ip("192.0.2.60"));
        assert_eq!(client_address(peer, &trusted, &["for=\"[2001:db8:cafe::17]:4711\""], &[]), ip("2001:db8:cafe::17"));
        assert_eq!(client_address(peer, &trusted, &["For=198.51.100.1:8080, for=192.0.2.1"], &[]), ip("192.0.2.1"));
        // nginx appended the real address to X-Forwarded-For and passed the
        // client's own Forwarded through: the client cannot choose.
        assert_eq!(client_address(peer, &trusted, &["for=192.0.2.1"], &["203.0.113.5"]), ip("203.0.113.5"), "X-Forwarded-For wins");
        assert_eq!(client_address(peer, &trusted, &["for=unknown"], &[]), peer, "an unreadable hop stops at the proxy");
        assert_eq!(client_address(peer, &trusted, &["for=_hidden, for=192.0.2.1"], &[]), ip("192.0.2.1"));
    }

    #[test]
    fn ipv4_mapped_addresses_are_ipv4() {
        let trusted = proxies("127.0.0.1");
        assert_eq!(client_address(ip("::ffff:127.0.0.1"), &trusted, &[], &["::ffff:192.0.2.1"]), ip("192.0.2.1"));
        assert_eq!(throttle_address(ip("::ffff:192.0.2.1")), "192.0.2.1");
    }

    #[test]
    fn ipv6_clients_are_counted_per_64() {
        assert_eq!(throttle_address(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(throttle_address(ip("2001:db8:1:2:bbbb::9")), throttle_address(ip("2001:db8:1:2::5")));
        assert_ne!(throttle_address(ip("2001:db8:1:3::1")), throttle_address(ip("2001:db8:1:2::1")));
        assert_eq!(throttle_address(ip("192.0.2.1")), "192.0.2.1");
    }

    #[test]
    fn trusted_proxies_parse_addresses_and_blocks_and_name_what_is_wrong() {
        let t = proxies("10.0.0.1 192.168.0.0/16,::1");
        assert!(t.trusts(ip("10.0.0.1")) && t.trusts(ip("192.168.44.1")) && t.trusts(ip("::1")));
        assert!(!t.trusts(ip("10.0.0.2")));
        assert!(proxies("").is_empty());
        assert!(proxies("10.1.2.3/8").trusts(ip("10.9.9.9")), "host bits are ignored");
        let e = TrustedProxies::parse("10.0.0.1, nginx").unwrap_err();
        assert!(e.contains("\"nginx\""), "{e}");
    }
}
