//! The app's own cookies: how they are set (one shape for all of them) and read back from a
//! request's `Cookie` headers (plain `name=value` pairs with base64url values, so no
//! unquoting is needed).

use std::time::Duration;

use http::header::{HeaderMap, HeaderValue, COOKIE};

/// One of our cookies: `HttpOnly`, `SameSite=Lax` (it must survive top-level navigations
/// from other sites, such as an identity provider's redirect back), `Path=/`. With https
/// it is `Secure` and named with the `__Host-` prefix, so the browser also enforces
/// Secure, Path=/ and no Domain.
#[derive(Debug, Clone, Copy)]
pub struct AppCookie {
    /// The name on http (local development).
    pub plain: &'static str,
    /// The name on https: `plain` with the `__Host-` prefix.
    pub host_only: &'static str,
}

impl AppCookie {
    pub fn name(&self, secure: bool) -> &'static str {
        if secure {
            self.host_only
        } else {
            self.plain
        }
    }

    /// The `Set-Cookie` value that stores `value` for `max_age` (zero removes it).
    /// `value` must be base64url (or empty), which always makes a valid header value.
    pub fn set(&self, secure: bool, value: &str, max_age: Duration) -> HeaderValue {
        let flags = if secure { "; Secure" } else { "" };
        let cookie = format!(
            "{}={value}; Max-Age={}; Path=/; HttpOnly; SameSite=Lax{flags}",
            self.name(secure),
            max_age.as_secs()
        );
        HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// The `Set-Cookie` value that removes the cookie.
    pub fn clear(&self, secure: bool) -> HeaderValue {
        self.set(secure, "", Duration::ZERO)
    }

    /// The cookie's value in the request, if it carries one.
    pub fn read<'a>(&self, headers: &'a HeaderMap, secure: bool) -> Option<&'a str> {
        value(headers, self.name(secure))
    }
}

/// The value of the first cookie called `name`, if the request carries one.
pub fn value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::HeaderValue;

    #[test]
    fn finds_a_cookie_among_several_headers() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=1; b=2"));
        headers.append(COOKIE, HeaderValue::from_static("c=3"));
        assert_eq!(value(&headers, "b"), Some("2"));
        assert_eq!(value(&headers, "c"), Some("3"));
        assert_eq!(value(&headers, "d"), None);
        // A name that is only a prefix of another is not a match.
        assert_eq!(value(&headers, "a=1"), None);
    }
}
