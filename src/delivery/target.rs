//! Where webhooks may go. HTTPS only unless the operator allows plain HTTP; loopback, private,
//! link-local and other non-public addresses only if the operator allows them, checked on the
//! addresses the connection really uses (after DNS resolution, at every attempt), so a webhook
//! cannot become a way into the operator's network, not even by a DNS answer that changes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use thiserror::Error;
use url::Url;

#[derive(Debug, Clone, Copy, Default)]
pub struct TargetPolicy {
    pub allow_http: bool,
    pub allow_private: bool,
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TargetError {
    #[error("'{0}' is not an absolute http(s) URL")]
    NotAUrl(String),
    #[error("webhook URLs must be https (the operator can allow http with allow_http_webhooks)")]
    NotHttps,
    #[error(
        "{0} is a loopback, private or otherwise non-public address (the operator can allow \
         them with allow_private_webhook_targets)"
    )]
    Private(IpAddr),
    #[error("webhook URLs must not carry a user name or password")]
    Credentials,
}

impl TargetPolicy {
    /// Checks what can be checked without DNS: scheme, credentials, and a literal address.
    pub fn check_url(&self, text: &str) -> Result<Url, TargetError> {
        let url = Url::parse(text).map_err(|_| TargetError::NotAUrl(text.to_string()))?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            "http" => return Err(TargetError::NotHttps),
            _ => return Err(TargetError::NotAUrl(text.to_string())),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(TargetError::Credentials);
        }
        match url.host() {
            None => return Err(TargetError::NotAUrl(text.to_string())),
            Some(url::Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip))?,
            Some(url::Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip))?,
            Some(url::Host::Domain(_)) => {}
        }
        Ok(url)
    }

    pub fn check_ip(&self, ip: IpAddr) -> Result<(), TargetError> {
        if self.allow_private || is_public(ip) {
            Ok(())
        } else {
            Err(TargetError::Private(ip))
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // carrier-grade NAT 100.64/10, benchmarking 198.18/15, reserved 240/4
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // unique local fc00::/7, link-local fe80::/10, documentation 2001:db8::/32
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first == 0x2001 && v6.segments()[1] == 0x0db8)
                || v6 == Ipv6Addr::UNSPECIFIED)
        }
    }
}

/// Resolves host names and keeps only the addresses the policy allows; no address left is an
/// error, so the request fails instead of connecting.
pub struct CheckedResolver {
    pub policy: TargetPolicy,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found = tokio::task::spawn_blocking(move || {
                (host.as_str(), 0)
                    .to_socket_addrs()
                    .map(|addrs| addrs.collect::<Vec<SocketAddr>>())
            })
            .await
            .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { Box::new(e) })??;
            let mut refused = None;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| match policy.check_ip(a.ip()) {
                    Ok(()) => true,
                    Err(e) => {
                        refused = Some(e);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let why: Box<dyn std::error::Error + Send + Sync> = match refused {
                    Some(e) => Box::new(e),
                    None => "the host name has no address".into(),
                };
                return Err(why);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// The HTTP client every webhook goes through: the checked resolver, no redirects (a redirect
/// could lead anywhere), the attempt timeout.
pub fn client(policy: TargetPolicy) -> reqwest::Client {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(CheckedResolver { policy }))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(super::schedule::ATTEMPT_TIMEOUT)
        .user_agent(concat!("Roster-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the webhook client builds")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_addresses_follow_the_policy() {
        let strict = TargetPolicy::default();
        let open = TargetPolicy {
            allow_http: true,
            allow_private: true,
        };
        for (url, strict_ok, open_ok) in [
            ("https://hooks.example.com/roster", true, true),
            ("http://hooks.example.com/roster", false, true),
            ("https://127.0.0.1/x", false, true),
            ("https://10.1.2.3/x", false, true),
            ("https://169.254.169.254/latest", false, true),
            ("https://[::1]/x", false, true),
            ("https://[::ffff:192.168.0.1]/x", false, true),
            ("https://[fd00::1]/x", false, true),
            ("https://8.8.8.8/x", true, true),
            ("https://user:pw@hooks.example.com/", false, false),
            ("ftp://hooks.example.com/", false, false),
            ("not a url", false, false),
        ] {
            assert_eq!(strict.check_url(url).is_ok(), strict_ok, "strict: {url}");
            assert_eq!(open.check_url(url).is_ok(), open_ok, "open: {url}");
        }
        for ip in ["100.64.0.1", "0.0.0.0", "224.0.0.1", "192.0.2.1", "fe80::1"] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(strict.check_ip(ip).is_err(), "{ip}");
            assert!(open.check_ip(ip).is_ok(), "{ip}");
        }
    }
}
