//! Who is asking: the client's IP address, for rate limits and the record of events.
//!
//! It is the socket's peer, unless that peer is one of the configured trusted proxies
//! (`trusted-proxies`, CIDRs): then the forwarding headers are read from the right, past
//! every trusted hop, and the first address no trusted proxy vouches for is the client.
//! `Forwarded` (RFC 7239) wins over `X-Forwarded-For` when both are present. Headers from a
//! peer that is not a trusted proxy are ignored: anyone can write them.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use http::header::HeaderMap;
use ipnet::IpNet;

/// The client's address as the server decided it (in the request's extensions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    /// A request that came from no socket (a router called in process): all such requests
    /// share one address.
    pub const UNKNOWN: Self = Self(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
}

/// The proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }
}

/// The client behind `peer`, given the request's headers.
pub fn client_ip(
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
    trusted: &TrustedProxies,
) -> ClientIp {
    let Some(peer) = peer.map(|peer| canonical(peer.ip())) else {
        return ClientIp::UNKNOWN;
    };
    if !trusted.contains(peer) {
        return ClientIp(peer);
    }
    let hops = forwarded_for(headers);
    let mut nearest = peer;
    for hop in hops.iter().rev() {
        match hop {
            Some(ip) if trusted.contains(*ip) => nearest = *ip,
            Some(ip) => return ClientIp(*ip),
            // A hop we cannot read: the last address we can vouch for is the answer.
            None => return ClientIp(nearest),
        }
    }
    ClientIp(nearest)
}

/// The `for` addresses of `Forwarded`, else of `X-Forwarded-For`, in order (client first);
/// `None` for an entry that is not an address (`unknown`, an obfuscated name, garbage).
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<&str> = headers
        .get_all(http::header::FORWARDED)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|value| value.split(','))
            .map(|element| {
                element.split(';').find_map(|pair| {
                    let (key, value) = pair.split_once('=')?;
                    key.trim()
                        .eq_ignore_ascii_case("for")
                        .then(|| parse_node(value.trim().trim_matches('"')))
                })
            })
            .map(Option::flatten)
            .collect();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|entry| parse_node(entry.trim()))
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]`, `[2001:db8::1]:4711`, `2001:db8::1`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(addr) = node.parse::<SocketAddr>() {
        return Some(canonical(addr.ip()));
    }
    node.strip_prefix('[')
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(ip, _)| ip.parse().ok())
        .map(canonical)
}

/// IPv4 written as IPv6 (`::ffff:192.0.2.1`) is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    fn trusted(nets: &[&str]) -> TrustedProxies {
        TrustedProxies(nets.iter().map(|n| n.parse().unwrap()).collect())
    }

    fn ip(text: &str) -> ClientIp {
        ClientIp(text.parse().unwrap())
    }

    fn peer(text: &str) -> Option<SocketAddr> {
        Some(SocketAddr::new(text.parse().unwrap(), 40000))
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_writes() {
        let spoofed = headers(&[("x-forwarded-for", "1.2.3.4"), ("forwarded", "for=5.6.7.8")]);
        assert_eq!(
            client_ip(peer("203.0.113.9"), &spoofed, &trusted(&["10.0.0.0/8"])),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_ip(peer("203.0.113.9"), &spoofed, &TrustedProxies::default()),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_first_untrusted_hop_from_the_right_is_the_client() {
        let proxies = trusted(&["10.0.0.0/8", "192.168.1.1/32"]);
        // Client, a hop it made up, then our two proxies.
        let chain = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7, 192.168.1.1")]);
        assert_eq!(
            client_ip(peer("10.0.0.2"), &chain, &proxies),
            ip("198.51.100.7")
        );
        // No header: the proxy itself.
        assert_eq!(
            client_ip(peer("10.0.0.2"), &HeaderMap::new(), &proxies),
            ip("10.0.0.2")
        );
        // Every hop trusted: the leftmost.
        let internal = headers(&[("x-forwarded-for", "10.1.1.1, 10.2.2.2")]);
        assert_eq!(
            client_ip(peer("10.0.0.2"), &internal, &proxies),
            ip("10.1.1.1")
        );
    }

    #[test]
    fn forwarded_wins_and_is_parsed_with_ports_and_brackets() {
        let proxies = trusted(&["10.0.0.0/8"]);
        let both = headers(&[
            ("x-forwarded-for", "1.1.1.1"),
            (
                "forwarded",
                r#"for="[2001:db8:cafe::17]:4711";proto=https, for=10.0.0.5"#,
            ),
        ]);
        assert_eq!(
            client_ip(peer("10.0.0.2"), &both, &proxies),
            ip("2001:db8:cafe::17")
        );
        let port = headers(&[("forwarded", "for=192.0.2.60:8080")]);
        assert_eq!(
            client_ip(peer("10.0.0.2"), &port, &proxies),
            ip("192.0.2.60")
        );
    }

    #[test]
    fn an_unreadable_hop_stops_at_the_last_address_we_vouch_for() {
        let proxies = trusted(&["10.0.0.0/8"]);
        let garbage = headers(&[("x-forwarded-for", "1.2.3.4, not-an-ip, 10.0.0.7")]);
        assert_eq!(
            client_ip(peer("10.0.0.2"), &garbage, &proxies),
            ip("10.0.0.7")
        );
        let unknown = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(
            client_ip(peer("10.0.0.2"), &unknown, &proxies),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn mapped_ipv4_is_ipv4_and_no_socket_is_unknown() {
        assert_eq!(
            client_ip(
                peer("::ffff:203.0.113.9"),
                &HeaderMap::new(),
                &TrustedProxies::default()
            ),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_ip(None, &HeaderMap::new(), &TrustedProxies::default()),
            ClientIp::UNKNOWN
        );
    }
}
