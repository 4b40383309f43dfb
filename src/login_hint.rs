//! The one-tap hint: the email of whoever last signed in on this browser, so `/login` can
//! offer "Continue as <email>" (docs/ui-contract.md).
//!
//! A first-party cookie that holds no secret: it only pre-selects whom the passkey login is
//! for, and the passkey (or the password) still proves it. `HttpOnly` so that the server
//! renders the one-tap view directly (no flash after hydration) and scripts cannot read it;
//! "Use another account" clears it.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use http::header::{HeaderMap, HeaderValue};

use crate::cookies::AppCookie;

const COOKIE: AppCookie = AppCookie {
    plain: "latchkey_login_hint",
    host_only: "__Host-latchkey_login_hint",
};
/// Browsers cap cookie lifetimes at 400 days.
const MAX_AGE: Duration = Duration::from_secs(400 * 24 * 3600);
/// Longer values are not an email we wrote (emails are at most 254 characters).
const MAX_VALUE_LEN: usize = 400;

/// The `Set-Cookie` value that remembers `email` for the next visit.
pub fn remember(email: &str, secure: bool) -> HeaderValue {
    COOKIE.set(secure, &URL_SAFE_NO_PAD.encode(email.as_bytes()), MAX_AGE)
}

/// The `Set-Cookie` value that forgets the hint ("Use another account").
pub fn forget(secure: bool) -> HeaderValue {
    COOKIE.clear(secure)
}

/// The email remembered in the request's cookie, if it is one we could have written.
pub fn read(headers: &HeaderMap, secure: bool) -> Option<String> {
    let value = COOKIE.read(headers, secure)?;
    if value.is_empty() || value.len() > MAX_VALUE_LEN {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(value).ok()?;
    let email = String::from_utf8(bytes).ok()?;
    // Only what sign-in itself would accept; anything else is ignored, not shown.
    crate::idp::normalize_email(&email)
        .ok()
        .filter(|normal| *normal == email)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::COOKIE;

    fn request_with(cookie: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(cookie).unwrap());
        headers
    }

    fn cookie_pair(set_cookie: &HeaderValue) -> String {
        set_cookie
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string()
    }

    #[test]
    fn remembered_email_round_trips() {
        let set = remember("ada@example.com", false);
        let text = set.to_str().unwrap();
        assert!(
            text.contains("HttpOnly") && text.contains("SameSite=Lax"),
            "{text}"
        );
        assert!(!text.contains("Secure"), "{text}");
        let headers = request_with(&format!("other=1; {}", cookie_pair(&set)));
        assert_eq!(read(&headers, false).as_deref(), Some("ada@example.com"));
        // The https cookie has another name; the http one is not read there.
        assert_eq!(read(&headers, true), None);
    }

    #[test]
    fn https_hint_is_secure_and_host_prefixed() {
        let set = remember("ada@example.com", true);
        let text = set.to_str().unwrap();
        assert!(text.starts_with("__Host-latchkey_login_hint="), "{text}");
        assert!(text.contains("; Secure"), "{text}");
    }

    #[test]
    fn forgetting_expires_the_cookie() {
        let text = forget(false).to_str().unwrap().to_string();
        assert!(text.starts_with("latchkey_login_hint=;"), "{text}");
        assert!(text.contains("Max-Age=0"), "{text}");
    }

    #[test]
    fn garbage_is_ignored() {
        let not_email = URL_SAFE_NO_PAD.encode("<script>");
        let upper = URL_SAFE_NO_PAD.encode("Ada@Example.com");
        for value in ["", "%%%", "bm90IGFuIGVtYWls", &not_email, &upper] {
            let headers = request_with(&format!("latchkey_login_hint={value}"));
            assert_eq!(read(&headers, false), None, "{value}");
        }
        let long = "A".repeat(MAX_VALUE_LEN + 4);
        assert_eq!(
            read(&request_with(&format!("latchkey_login_hint={long}")), false),
            None
        );
    }
}
