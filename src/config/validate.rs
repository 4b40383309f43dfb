//! Checks for setting values that are more than a number or a flag: URLs, addresses, the
//! RP ID and the database URL. Each failure names its setting.

use std::net::SocketAddr;

use url::Url;

use super::keys::{Setting, PUBLIC_ORIGIN, RP_ID};
use super::ConfigError;

/// What an http(s) URL setting accepts.
#[derive(Debug, Clone, Copy)]
pub(super) struct UrlRules {
    /// Plain `http` is accepted for hosts on this machine only (else anywhere).
    pub http_loopback_only: bool,
    /// Scheme, host and port only: no path.
    pub origin_only: bool,
    /// No query, fragment or user info.
    pub bare: bool,
}

impl UrlRules {
    /// A webhook receiver: https, or http on this machine; no credentials in the URL.
    pub const WEBHOOK: Self = Self {
        http_loopback_only: true,
        origin_only: false,
        bare: true,
    };

    /// Any http(s) URL with a host.
    pub const ANY: Self = Self {
        http_loopback_only: false,
        origin_only: false,
        bare: false,
    };
}

/// The one URL check: an http(s) URL with a host, within `rules`.
pub(super) fn http_url(
    setting: &Setting,
    value: &str,
    rules: UrlRules,
) -> Result<Url, ConfigError> {
    let fail = |message: String| ConfigError::new(setting.key, message);
    let url = Url::parse(value).map_err(|err| fail(format!("{value:?} is not a URL: {err}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(fail("must be an http(s) URL with a host".into()));
    }
    if url.scheme() == "http" && rules.http_loopback_only && !is_loopback(&url) {
        return Err(fail(
            "must be an https URL (http only for a host on this machine)".into(),
        ));
    }
    if rules.origin_only && url.path() != "/" {
        return Err(fail(
            "must be an origin only (scheme, host, port), with no path".into(),
        ));
    }
    if (rules.bare || rules.origin_only)
        && (url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
            || url.password().is_some())
    {
        return Err(fail(
            "must not contain a query, a fragment, a user name or a password".into(),
        ));
    }
    Ok(url)
}

/// `localhost`, a `.localhost` name, or a loopback IP.
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(host)) => host == "localhost" || host.ends_with(".localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The public origin: https (http for localhost), a domain name (WebAuthn refuses IP
/// addresses), nothing but scheme, host and port.
pub(super) fn public_origin(value: &str) -> Result<Url, ConfigError> {
    let url = http_url(
        &PUBLIC_ORIGIN,
        value,
        UrlRules {
            http_loopback_only: true,
            origin_only: true,
            bare: true,
        },
    )?;
    if !matches!(url.host(), Some(url::Host::Domain(_))) {
        return Err(ConfigError::new(
            PUBLIC_ORIGIN.key,
            "must use a domain name: WebAuthn does not accept IP addresses (use localhost)",
        ));
    }
    Ok(url)
}

/// WebAuthn: the RP ID must be the origin's host or a registrable domain suffix of it.
pub(super) fn rp_id(rp_id: &str, host: &str) -> Result<(), ConfigError> {
    if rp_id.is_empty() || rp_id.contains(['/', ':', ' ']) {
        return Err(ConfigError::new(
            RP_ID.key,
            format!("{rp_id:?} must be a bare domain name"),
        ));
    }
    if rp_id == host {
        return Ok(());
    }
    let is_suffix = host.ends_with(&format!(".{rp_id}"));
    // A public suffix ("com", "co.uk", "github.io") can never be an RP ID.
    let registrable = psl::domain_str(rp_id).is_some();
    if is_suffix && registrable {
        Ok(())
    } else {
        Err(ConfigError::new(
            RP_ID.key,
            format!("{rp_id:?} is not a registrable suffix of the public origin's host {host:?}"),
        ))
    }
}

/// The most sites (registrable-domain labels: `example` of `shop.example.co.uk`) browsers
/// follow in a `/.well-known/webauthn` list. WebAuthn Level 3 (§5.11.1, "related origin
/// requests") asks clients to support at least five; Chromium stops at five, so a sixth
/// would be silently ignored.
pub const MAX_RELATED_ORIGIN_LABELS: usize = 5;

/// `related-origins`: other https sites that may use this RP ID. Each is an origin only, on a
/// domain name, not the public origin, listed once; together they name at most
/// [`MAX_RELATED_ORIGIN_LABELS`] sites.
pub(super) fn related_origins(
    setting: &Setting,
    value: &str,
    public_origin: &Url,
) -> Result<Vec<Url>, ConfigError> {
    let fail = |message: String| ConfigError::new(setting.key, message);
    let rules = UrlRules {
        http_loopback_only: false,
        origin_only: true,
        bare: true,
    };
    let mut origins: Vec<Url> = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    for item in value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
    {
        let url = http_url(setting, item, rules)?;
        if url.scheme() != "https" {
            return Err(fail(format!(
                "{item:?} must be https: browsers fetch and trust related origins only over https"
            )));
        }
        let Some(host) = url.domain() else {
            return Err(fail(format!(
                "{item:?} must use a domain name: WebAuthn does not accept IP addresses"
            )));
        };
        let label = psl::domain_str(host)
            .and_then(|domain| domain.split('.').next())
            .ok_or_else(|| fail(format!("{item:?} is not under a registrable domain")))?;
        if url.origin() == public_origin.origin() {
            return Err(fail(format!(
                "{item:?} is the public origin itself; list only the other sites"
            )));
        }
        if origins.iter().any(|seen| seen.origin() == url.origin()) {
            return Err(fail(format!("{item:?} is listed twice")));
        }
        if !labels.iter().any(|seen| seen == label) {
            labels.push(label.to_string());
        }
        origins.push(url);
    }
    if labels.len() > MAX_RELATED_ORIGIN_LABELS {
        return Err(fail(format!(
            "names {} sites ({}); browsers follow at most {MAX_RELATED_ORIGIN_LABELS}",
            labels.len(),
            labels.join(", ")
        )));
    }
    Ok(origins)
}

/// An `ip:port` listen address.
pub(super) fn socket_addr(name: &str, value: &str) -> Result<SocketAddr, String> {
    value
        .parse()
        .map_err(|_| format!("{value:?} is not an address like 127.0.0.1:3000 (in {name})"))
}

/// A comma-separated list of CIDRs (a bare address is one host).
pub(super) fn cidrs(
    setting: &Setting,
    value: &str,
) -> Result<crate::serving::TrustedProxies, ConfigError> {
    let nets = value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<ipnet::IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    ConfigError::new(
                        setting.key,
                        format!("{item:?} is not an IP network like 10.0.0.0/8"),
                    )
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(crate::serving::TrustedProxies(nets))
}

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

/// `sqlite://<path>` or `postgres://<host>/…`; messages never repeat the password.
pub(super) fn database_url(setting: &Setting, value: &str) -> Result<DatabaseKind, ConfigError> {
    let redacted = redact_url(value);
    let url = Url::parse(value).map_err(|err| {
        ConfigError::new(
            setting.key,
            format!("{redacted:?} is not a URL ({err}); use sqlite://… or postgres://…"),
        )
    })?;
    match url.scheme() {
        "sqlite" => {
            let path = value
                .trim_start_matches("sqlite://")
                .trim_start_matches("sqlite:");
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err(ConfigError::new(
                    setting.key,
                    "sqlite:// needs a file path, e.g. sqlite://data/latchkey.db",
                ));
            }
            Ok(DatabaseKind::Sqlite)
        }
        "postgres" | "postgresql" => {
            if url.host_str().is_none_or(str::is_empty) {
                return Err(ConfigError::new(
                    setting.key,
                    format!("{redacted:?} has no host"),
                ));
            }
            Ok(DatabaseKind::Postgres)
        }
        other => Err(ConfigError::new(
            setting.key,
            format!("unsupported scheme {other:?}; use sqlite://… or postgres://…"),
        )),
    }
}

/// A URL without its password, for messages and logs.
pub fn redact_url(value: &str) -> String {
    match Url::parse(value) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        Ok(_) => value.to_string(),
        Err(_) => "<unparsable>".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::keys::CONNECT_URL;

    #[test]
    fn url_rules_are_applied() {
        let strict = UrlRules {
            http_loopback_only: true,
            origin_only: false,
            bare: true,
        };
        for ok in [
            "https://login.example.com/realms/acme",
            "http://localhost:4400",
            "http://127.0.0.1:4400/x",
            "http://[::1]:1/",
            "http://idp.localhost",
        ] {
            assert!(http_url(&CONNECT_URL, ok, strict).is_ok(), "{ok}");
        }
        for bad in [
            "login.example.com",
            "ftp://x.example.com",
            "http://login.example.com",
            "https://x.example.com/?a=b",
            "https://x.example.com/#f",
            "https://user@x.example.com/",
            "https://",
        ] {
            let err = http_url(&CONNECT_URL, bad, strict).unwrap_err();
            assert_eq!(err.key, "LATCHKEY_CONNECT_URL", "{bad}");
        }
        assert!(http_url(&CONNECT_URL, "http://10.0.0.1:4000/a?b", UrlRules::ANY).is_ok());
        assert!(http_url(&CONNECT_URL, "mailto:a@b.c", UrlRules::ANY).is_err());
    }

    #[test]
    fn related_origins_are_other_https_sites_five_at_most() {
        use crate::config::keys::RELATED_ORIGINS;
        let public = Url::parse("https://login.example.com").unwrap();
        let check = |value: &str| related_origins(&RELATED_ORIGINS, value, &public);
        let ok = check(" https://shop.example.co.uk, https://example.de:8443 ,").unwrap();
        let shown: Vec<String> = ok
            .iter()
            .map(|u| u.origin().ascii_serialization())
            .collect();
        assert_eq!(
            shown,
            ["https://shop.example.co.uk", "https://example.de:8443"]
        );
        assert!(check("").unwrap().is_empty());
        // Many origins of few sites are fine: the limit counts sites, not origins.
        let five_sites = "https://a.com,https://www.a.com,https://b.com,https://c.org,\
                          https://d.net,https://e.io,https://shop.e.io";
        assert_eq!(check(five_sites).unwrap().len(), 7);
        for (bad, says) in [
            ("http://shop.example.de", "must be https"),
            ("http://localhost:3000", "must be https"),
            ("https://shop.example.de/login", "origin only"),
            ("https://user@shop.example.de", "user name"),
            ("https://192.0.2.1", "domain name"),
            ("https://github.io", "registrable domain"),
            ("https://login.example.com", "public origin itself"),
            ("https://login.example.com:443", "public origin itself"),
            ("https://a.example.de,https://a.example.de/", "listed twice"),
            ("shop.example.de", "not a URL"),
            (
                "https://a.com,https://b.com,https://c.com,https://d.com,https://e.com,https://f.com",
                "names 6 sites (a, b, c, d, e, f); browsers follow at most 5",
            ),
        ] {
            let err = check(bad).unwrap_err();
            assert_eq!(err.key, "LATCHKEY_RELATED_ORIGINS", "{bad}");
            assert!(err.message.contains(says), "{bad}: {}", err.message);
        }
    }

    #[test]
    fn redacted_urls_hide_the_password() {
        assert_eq!(
            redact_url("postgres://u:hunter2@db/x"),
            "postgres://u:***@db/x"
        );
        assert_eq!(redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
        assert_eq!(redact_url("::"), "<unparsable>");
    }
}
