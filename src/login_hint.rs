//! The one-tap hint: the emails of the last accounts signed in on this browser (at most
//! [`MAX_REMEMBERED`], the latest first), so `/login` can offer "Continue as <email>" for each
//! (docs/ui-contract.md).
//!
//! A first-party cookie that holds no secret: it only pre-selects whom the passkey login is
//! for, and the passkey (or the password) still proves it. `HttpOnly` so that the server
//! renders the one-tap view directly (no flash after hydration) and scripts cannot read it;
//! "Remove from this device" takes one account out of it.

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
/// The most accounts one browser remembers.
pub const MAX_REMEMBERED: usize = 3;
/// Longer values are not a list we wrote (emails are at most 254 characters each).
const MAX_VALUE_LEN: usize = 1400;

/// The list after a login as `email`: it first, then the others as they were.
fn with_first(email: &str, remembered: &[String]) -> Vec<String> {
    std::iter::once(email)
        .chain(
            remembered
                .iter()
                .map(String::as_str)
                .filter(|e| *e != email),
        )
        .take(MAX_REMEMBERED)
        .map(str::to_string)
        .collect()
}

/// The cookie holding `emails` (one per line, base64url), or its removal when there are none.
fn cookie_for(emails: &[String], secure: bool) -> HeaderValue {
    if emails.is_empty() {
        return COOKIE.clear(secure);
    }
    COOKIE.set(secure, &URL_SAFE_NO_PAD.encode(emails.join("\n")), MAX_AGE)
}

/// The `Set-Cookie` value that remembers `email` (first) beside the accounts `remembered`.
pub fn remember(email: &str, remembered: &[String], secure: bool) -> HeaderValue {
    cookie_for(&with_first(email, remembered), secure)
}

/// The `Set-Cookie` value without `email` ("Remove from this device").
pub fn forget(email: &str, remembered: &[String], secure: bool) -> HeaderValue {
    let kept: Vec<String> = remembered.iter().filter(|e| *e != email).cloned().collect();
    cookie_for(&kept, secure)
}

/// The emails remembered in the request's cookie, the latest first: only ones we could have
/// written (anything else is ignored, not shown).
pub fn read(headers: &HeaderMap, secure: bool) -> Vec<String> {
    let Some(value) = COOKIE.read(headers, secure) else {
        return Vec::new();
    };
    if value.is_empty() || value.len() > MAX_VALUE_LEN {
        return Vec::new();
    }
    let Some(text) = URL_SAFE_NO_PAD
        .decode(value)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
    else {
        return Vec::new();
    };
    let mut emails: Vec<String> = Vec::new();
    for email in text.split('\n') {
        // Only what sign-in itself would accept.
        let valid = crate::idp::normalize_email(email).is_ok_and(|normal| normal == email);
        if valid && !emails.iter().any(|e| e == email) && emails.len() < MAX_REMEMBERED {
            emails.push(email.to_string());
        }
    }
    emails
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
        let set = remember("ada@example.com", &[], false);
        let text = set.to_str().unwrap();
        assert!(
            text.contains("HttpOnly") && text.contains("SameSite=Lax"),
            "{text}"
        );
        assert!(!text.contains("Secure"), "{text}");
        let headers = request_with(&format!("other=1; {}", cookie_pair(&set)));
        assert_eq!(read(&headers, false), ["ada@example.com"]);
        // The https cookie has another name; the http one is not read there.
        assert!(read(&headers, true).is_empty());
    }

    fn emails(list: &[&str]) -> Vec<String> {
        list.iter().map(|e| e.to_string()).collect()
    }

    fn read_back(set: &HeaderValue) -> Vec<String> {
        read(&request_with(&cookie_pair(set)), false)
    }

    #[test]
    fn up_to_three_accounts_are_remembered_the_latest_first() {
        let mut remembered = Vec::new();
        for email in ["a@x.io", "b@x.io", "c@x.io", "d@x.io"] {
            remembered = read_back(&remember(email, &remembered, false));
        }
        assert_eq!(remembered, emails(&["d@x.io", "c@x.io", "b@x.io"]));
        // Signing in again moves an account to the front, without a copy.
        let again = read_back(&remember("b@x.io", &remembered, false));
        assert_eq!(again, emails(&["b@x.io", "d@x.io", "c@x.io"]));
    }

    #[test]
    fn one_account_is_removed_from_this_device() {
        let remembered = emails(&["a@x.io", "b@x.io"]);
        assert_eq!(read_back(&forget("a@x.io", &remembered, false)), ["b@x.io"]);
        // Removing the last one removes the cookie.
        let text = forget("b@x.io", &emails(&["b@x.io"]), false)
            .to_str()
            .unwrap()
            .to_string();
        assert!(text.contains("Max-Age=0"), "{text}");
    }

    #[test]
    fn a_single_email_from_before_still_reads() {
        let old = URL_SAFE_NO_PAD.encode("ada@example.com");
        let headers = request_with(&format!("latchkey_login_hint={old}"));
        assert_eq!(read(&headers, false), ["ada@example.com"]);
    }

    #[test]
    fn https_hint_is_secure_and_host_prefixed() {
        let set = remember("ada@example.com", &[], true);
        let text = set.to_str().unwrap();
        assert!(text.starts_with("__Host-latchkey_login_hint="), "{text}");
        assert!(text.contains("; Secure"), "{text}");
    }

    #[test]
    fn forgetting_the_only_account_expires_the_cookie() {
        let only = ["ada@example.com".to_string()];
        let text = forget("ada@example.com", &only, false)
            .to_str()
            .unwrap()
            .to_string();
        assert!(text.starts_with("latchkey_login_hint=;"), "{text}");
        assert!(text.contains("Max-Age=0"), "{text}");
    }

    #[test]
    fn garbage_is_ignored() {
        let not_email = URL_SAFE_NO_PAD.encode("<script>");
        let upper = URL_SAFE_NO_PAD.encode("Ada@Example.com");
        for value in ["", "%%%", "bm90IGFuIGVtYWls", &not_email, &upper] {
            let headers = request_with(&format!("latchkey_login_hint={value}"));
            assert!(read(&headers, false).is_empty(), "{value}");
        }
        let long = "A".repeat(MAX_VALUE_LEN + 4);
        assert!(read(&request_with(&format!("latchkey_login_hint={long}")), false).is_empty());
        // A bad line among good ones is dropped, the good ones kept.
        let mixed = URL_SAFE_NO_PAD.encode("a@x.io\n<script>\nb@x.io");
        let headers = request_with(&format!("latchkey_login_hint={mixed}"));
        assert_eq!(read(&headers, false), ["a@x.io", "b@x.io"]);
    }
}
