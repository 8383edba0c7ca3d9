//! Whether a URL may be fetched, and the addresses it may reach. The URL parser turns
//! `http://2130706433/` and `http://0x7f.1/` into 127.0.0.1, so hosts are judged after
//! parsing; every address a name resolves to is judged, and the caller connects to those
//! addresses only (no second lookup that DNS rebinding could change).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use url::{Host, Url};

/// Why a URL is not fetched, in words a person understands.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("only http and https addresses can be fetched")]
    /// Not http or https.
    Scheme,
    #[error("only the standard web ports (80 and 443) can be fetched, not {0}")]
    /// A port other than 80 and 443.
    Port(u16),
    #[error("{host} is a private or reserved address ({why}) and cannot be fetched")]
    /// The host is, or resolves to, a private, loopback, link-local or reserved address.
    Private {
        /// The host as given.
        host: String,
        /// Which kind of address.
        why: &'static str,
    },
    #[error("{0} does not resolve to any address")]
    /// DNS has no address for the host.
    Unresolvable(String),
    #[error("the address has no host")]
    /// A URL without a host.
    NoHost,
    #[error("addresses with a user name or password are not fetched")]
    /// A URL carrying a user name or password.
    Credentials,
    #[error("the site redirected more than {0} times")]
    /// More redirects than allowed.
    TooManyRedirects(usize),
    #[error("the site redirected from https to plain http ({0})")]
    /// An https page redirected to plain http.
    Downgrade(String),
    #[error("the site redirected to an invalid address")]
    /// A redirect without a usable `location`.
    BadRedirect,
    #[error("{what} is larger than {limit} bytes")]
    /// A body over its limit.
    TooLarge {
        /// What was being read.
        what: String,
        /// The most bytes read.
        limit: usize,
    },
    #[error("no answer from {0} within {1} s")]
    /// The site did not answer in time: the URL and the seconds allowed.
    Timeout(String, u64),
    #[error("{0} answered HTTP {1}")]
    /// The site answered with an error status.
    Status(String, u16),
    #[error("{0} could not be reached: {1}")]
    /// The connection failed: the URL and why.
    Network(String, String),
    #[error("the site's robots.txt does not allow us to read {0}")]
    /// robots.txt disallows the path.
    Robots(String),
}

/// `host:port` pairs that skip the address and port rules (`FETCH_ALLOW_HOSTS`, for local
/// development's own simulators; empty in AWS). Nothing else is relaxed.
#[derive(Clone, Debug, Default)]
pub struct AllowHosts(Vec<(String, u16)>);

impl AllowHosts {
    /// Parses a comma-separated `host:port` list; entries without a port are ignored.
    pub fn parse(raw: &str) -> Self {
        Self(
            raw.split(',')
                .filter_map(|pair| {
                    let (host, port) = pair.trim().rsplit_once(':')?;
                    Some((host.to_ascii_lowercase(), port.parse().ok()?))
                })
                .collect(),
        )
    }

    /// `FETCH_ALLOW_HOSTS` from the environment.
    pub fn from_env() -> Self {
        Self::parse(&crate::config::optional("FETCH_ALLOW_HOSTS").unwrap_or_default())
    }

    fn allows(&self, host: &str, port: u16) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.0
            .iter()
            .any(|(h, p)| *p == port && h.trim_start_matches('[').trim_end_matches(']') == host)
    }
}

/// A URL that passed the checks that need no lookup.
#[derive(Clone, Debug)]
pub struct Target {
    /// The URL, normalised.
    pub url: Url,
    /// Its host, lower case.
    pub host: String,
    /// Its port (the scheme's default when none is written).
    pub port: u16,
    /// Listed in `FETCH_ALLOW_HOSTS`: addresses are not judged.
    pub allowed: bool,
}

/// Checks scheme, port and (for a literal IP) the address.
pub fn target(url: &Url, allow: &AllowHosts) -> Result<Target, Refusal> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Refusal::Scheme);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Refusal::Credentials);
    }
    let host = url.host().ok_or(Refusal::NoHost)?;
    let port = url.port_or_known_default().ok_or(Refusal::Scheme)?;
    let name = host.to_string();
    let allowed = allow.allows(&name, port);
    if !allowed {
        if !matches!(port, 80 | 443) {
            return Err(Refusal::Port(port));
        }
        let literal = match host {
            Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
            Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
            Host::Domain(_) => None,
        };
        if let Some(why) = literal.and_then(forbidden_ip) {
            return Err(Refusal::Private { host: name, why });
        }
    }
    Ok(Target {
        url: url.clone(),
        host: name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        port,
        allowed,
    })
}

/// Every address `target`'s host resolves to, each judged; one forbidden address refuses
/// the whole name (a name that also points inside is not fetched at all).
pub async fn resolve(target: &Target) -> Result<Vec<SocketAddr>, Refusal> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((target.host.as_str(), target.port))
        .await
        .map_err(|_| Refusal::Unresolvable(target.host.clone()))?
        .collect();
    if addrs.is_empty() {
        return Err(Refusal::Unresolvable(target.host.clone()));
    }
    if !target.allowed {
        for a in &addrs {
            if let Some(why) = forbidden_ip(a.ip()) {
                return Err(Refusal::Private {
                    host: format!("{} ({})", target.host, a.ip()),
                    why,
                });
            }
        }
    }
    Ok(addrs)
}

/// Why an address must not be reached from inside our network, if it must not.
pub fn forbidden_ip(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], bits: u32) -> bool {
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

const V4_RULES: &[([u8; 4], u32, &str)] = &[
    ([0, 0, 0, 0], 8, "this network"),
    ([10, 0, 0, 0], 8, "private network"),
    ([100, 64, 0, 0], 10, "carrier-grade NAT"),
    ([127, 0, 0, 0], 8, "loopback"),
    ([169, 254, 0, 0], 16, "link-local, cloud metadata"),
    ([172, 16, 0, 0], 12, "private network"),
    ([192, 0, 0, 0], 24, "protocol assignments"),
    ([192, 0, 2, 0], 24, "documentation"),
    ([192, 168, 0, 0], 16, "private network"),
    ([198, 18, 0, 0], 15, "benchmarking"),
    ([198, 51, 100, 0], 24, "documentation"),
    ([203, 0, 113, 0], 24, "documentation"),
    ([224, 0, 0, 0], 4, "multicast"),
    ([240, 0, 0, 0], 4, "reserved"),
];

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    V4_RULES
        .iter()
        .find(|(net, bits, _)| in_v4(ip, *net, *bits))
        .map(|(_, _, why)| *why)
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96 and
    // the local-use 64:ff9b:1::/48) and 6to4 (2002::/16) carry an IPv4 address inside.
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    let mapped = s[..5] == [0; 5] && (s[5] == 0xffff || s[5] == 0);
    let nat64 = s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] || s[..3] == [0x64, 0xff9b, 1];
    let inner = if mapped || nat64 {
        Some(embedded(s[6], s[7]))
    } else if s[0] == 0x2002 {
        Some(embedded(s[1], s[2]))
    } else {
        None
    };
    if let Some(v4) = inner {
        return forbidden_v4(v4);
    }
    match s[0] {
        x if x & 0xfe00 == 0xfc00 => Some("unique local"),
        x if x & 0xffc0 == 0xfe80 => Some("link-local"),
        x if x & 0xffc0 == 0xfec0 => Some("site-local"),
        x if x & 0xff00 == 0xff00 => Some("multicast"),
        0x2001 if s[1] == 0x0db8 => Some("documentation"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(raw: &str) -> Option<Refusal> {
        target(&Url::parse(raw).unwrap(), &AllowHosts::default()).err()
    }

    #[test]
    fn only_http_and_https_on_ports_80_and_443() {
        assert_eq!(refused("ftp://example.com/"), Some(Refusal::Scheme));
        assert_eq!(refused("file:///etc/passwd"), Some(Refusal::Scheme));
        assert_eq!(
            refused("http://example.com:8080/"),
            Some(Refusal::Port(8080))
        );
        assert_eq!(refused("https://example.com:22/"), Some(Refusal::Port(22)));
        assert_eq!(refused("http://example.com/"), None);
        assert_eq!(refused("https://example.com:443/"), None);
    }

    #[test]
    fn numeric_hosts_are_judged_after_the_parser_normalises_them() {
        for raw in [
            "http://2130706433/",
            "http://0x7f.1/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:a9fe:a9fe]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://0.0.0.0/",
        ] {
            assert!(
                matches!(refused(raw), Some(Refusal::Private { .. })),
                "{raw} must be refused"
            );
        }
    }

    #[test]
    fn every_reserved_range_is_refused_and_public_addresses_pass() {
        let bad = [
            "0.1.2.3",
            "10.0.0.1",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:10.0.0.1",
            "::ffff:192.168.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
        ];
        for raw in bad {
            let ip: IpAddr = raw.parse().unwrap();
            assert!(forbidden_ip(ip).is_some(), "{raw} must be refused");
        }
        for ok in [
            "93.184.216.34",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            let ip: IpAddr = ok.parse().unwrap();
            assert_eq!(forbidden_ip(ip), None, "{ok} is public");
        }
    }

    #[test]
    fn the_allow_list_skips_address_and_port_rules_for_exactly_its_pairs() {
        let allow = AllowHosts::parse("127.0.0.1:8765, localhost:9000");
        let ok = |raw: &str| target(&Url::parse(raw).unwrap(), &allow);
        assert!(ok("http://127.0.0.1:8765/cafe/").unwrap().allowed);
        assert!(ok("http://localhost:9000/").unwrap().allowed);
        assert!(matches!(
            ok("http://127.0.0.1:8766/"),
            Err(Refusal::Port(8766))
        ));
        assert!(matches!(
            ok("http://127.0.0.1/"),
            Err(Refusal::Private { .. })
        ));
        assert!(matches!(ok("ftp://127.0.0.1:8765/"), Err(Refusal::Scheme)));
    }

    #[tokio::test]
    async fn a_name_is_refused_when_any_address_it_resolves_to_is_private() {
        let t = target(
            &Url::parse("http://localhost/").unwrap(),
            &AllowHosts::default(),
        )
        .unwrap();
        assert!(matches!(resolve(&t).await, Err(Refusal::Private { .. })));
    }
}
