//! The journey rules as pure functions: who may see which page, and where a login, the
//! append step and a refused request send the browser (docs/journey.md).
//!
//! The server applies them to every page request (answering with a redirect) and every
//! server function; the browser applies the same rules on client-side navigation. Keeping
//! them pure and shared means one table test covers both. Which page needs what comes from
//! the route table ([`crate::routes`]).

use serde::{Deserialize, Serialize};

use crate::routes::{Guard, Page};

/// Longest `next` we accept; longer ones are dropped rather than truncated.
const MAX_NEXT_LEN: usize = 1024;

/// What the journey knows about the visitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionState {
    Anonymous,
    /// Logged in, but the passkey append step has not been passed yet.
    AppendPending,
    Active,
}

/// Whether the visitor may use the operator console, and how recent their login is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operator {
    /// Not an operator (or not signed in): the console does not exist for them.
    No,
    /// An operator whose login is older than the re-authentication window.
    Stale,
    /// An operator who signed in (or confirmed) within the window.
    Recent,
}

/// The guard's answer for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Redirect(String),
    /// The 404 page, exactly as for an address that does not exist.
    NotFound,
}

/// Where a signed-in user goes when nothing else was asked for.
fn default_target() -> String {
    Page::Dashboard.path().to_string()
}

/// Decides what happens to a request for `path` (with its raw `query`, without `?`) from
/// someone who is not an operator.
pub fn decide(path: &str, query: &str, state: SessionState) -> Decision {
    decide_as(path, query, state, Operator::No)
}

/// [`decide`] knowing whether the visitor is an operator (only the console asks).
pub fn decide_as(path: &str, query: &str, state: SessionState, operator: Operator) -> Decision {
    let (login, append) = (Page::Login.path(), Page::Append.path());
    match (Page::guard_of(path), state) {
        (Guard::Operator, state) => match (operator, state) {
            (Operator::No, _) | (_, SessionState::Anonymous) => Decision::NotFound,
            (_, SessionState::AppendPending) => {
                Decision::Redirect(with_next(append, Some(&join(path, query))))
            }
            // The re-authentication step is a fresh sign-in, which comes back here.
            (Operator::Stale, SessionState::Active) => {
                Decision::Redirect(with_next(login, Some(&join(path, query))))
            }
            (Operator::Recent, SessionState::Active) => Decision::Allow,
        },
        (Guard::Public, _) => Decision::Allow,
        (Guard::SignedOut, SessionState::Anonymous) => Decision::Allow,
        (Guard::SignedOut, SessionState::AppendPending) => {
            Decision::Redirect(with_next(append, next_param(query).as_deref()))
        }
        // A page that needs a fresh sign-in (the console, a provider step-up) sends a
        // signed-in person to `/login?next=…`: that gets the form.
        (Guard::SignedOut, SessionState::Active)
            if path == login && next_param(query).is_some() =>
        {
            Decision::Allow
        }
        (Guard::SignedOut, SessionState::Active) => {
            Decision::Redirect(next_param(query).unwrap_or_else(default_target))
        }
        (Guard::Root, SessionState::Anonymous) => Decision::Redirect(login.into()),
        (Guard::Root, SessionState::AppendPending) => Decision::Redirect(append.into()),
        (Guard::Root, SessionState::Active) => Decision::Redirect(default_target()),
        // The append page keeps the target it was given, so login sends the user on to it.
        (Guard::Append, SessionState::Anonymous) => {
            Decision::Redirect(with_next(login, next_param(query).as_deref()))
        }
        (Guard::Append, SessionState::AppendPending) => Decision::Allow,
        (Guard::Append, SessionState::Active) => {
            Decision::Redirect(next_param(query).unwrap_or_else(default_target))
        }
        (Guard::Protected, SessionState::Anonymous) => {
            Decision::Redirect(with_next(login, Some(&join(path, query))))
        }
        (Guard::Protected, SessionState::AppendPending) => {
            Decision::Redirect(with_next(append, Some(&join(path, query))))
        }
        (Guard::Protected, SessionState::Active) => Decision::Allow,
    }
}

/// Whether `target` (a path the server sent the browser to) is a page of this app, so the
/// browser may render it without a full load. An absolute URL (an OpenID provider) is not.
pub fn is_app_page(target: &str) -> bool {
    let path = target.split(['?', '#']).next().unwrap_or(target);
    path.starts_with('/') && !path.starts_with("//") && Page::matching(path).is_some()
}

/// Where to go after the append step, given the `next` the user carried.
pub fn target_after_append(next: Option<&str>) -> String {
    next.and_then(safe_next).unwrap_or_else(default_target)
}

/// Where a fresh login goes: always the append step first, carrying the target.
pub fn target_after_login(next: Option<&str>) -> String {
    with_next(Page::Append.path(), next.and_then(safe_next).as_deref())
}

/// Accepts only same-origin absolute paths; anything that could leave the site is refused.
///
/// Pages of the login journey itself are refused too, so `next` can never loop.
pub fn safe_next(next: &str) -> Option<String> {
    if next.is_empty() || next.len() > MAX_NEXT_LEN {
        return None;
    }
    let bytes = next.as_bytes();
    // Must be a path ("/x"), not scheme-relative ("//host") or a browser-normalised "/\host".
    if bytes[0] != b'/' || bytes.get(1).is_some_and(|b| *b == b'/' || *b == b'\\') {
        return None;
    }
    if next.chars().any(|c| c.is_control() || c == '\\') {
        return None;
    }
    let path = next.split(['?', '#']).next().unwrap_or(next);
    if path.contains("/../") || path.ends_with("/..") || path.contains("/./") {
        return None;
    }
    match Page::owning(path) {
        Some(Page::Root | Page::Append | Page::Login | Page::Signup) => None,
        _ => Some(next.to_string()),
    }
}

/// Reads and validates `next` from a raw query string.
pub fn next_param(query: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == "next")
        .and_then(|(_, value)| percent_decode(value))
        .and_then(|value| safe_next(&value))
}

/// `base?next=<encoded>` when there is a valid target, else just `base`.
pub fn with_next(base: &str, next: Option<&str>) -> String {
    match next.and_then(safe_next) {
        Some(next) => format!("{base}?next={}", percent_encode(&next)),
        None => base.to_string(),
    }
}

/// The password step of `/login` with the email carried over (the fallback without
/// JavaScript, and links back to it): `/login?email=<encoded>[&next=<encoded>]`.
pub fn password_step(email: &str, next: Option<&str>) -> String {
    let base = format!("{}?email={}", Page::Login.path(), percent_encode(email));
    match next.and_then(safe_next) {
        Some(next) => format!("{base}&next={}", percent_encode(&next)),
        None => base,
    }
}

fn join(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    }
}

/// Encodes everything but RFC 3986 unreserved characters and `/`, so the value survives a
/// round trip through a query string.
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Decodes `%XX` and `+`; `None` for malformed escapes or invalid UTF-8.
pub fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = value.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use SessionState::*;

    fn redirect(to: &str) -> Decision {
        Decision::Redirect(to.to_string())
    }

    /// Every route kind × every session state, with and without a target.
    #[test]
    fn guard_table() {
        let cases: &[(&str, &str, SessionState, Decision)] = &[
            ("/", "", Anonymous, redirect("/login")),
            ("/", "", AppendPending, redirect("/append")),
            ("/", "", Active, redirect("/dashboard")),
            ("/login", "", Anonymous, Decision::Allow),
            ("/login", "email=a%40b.c", Anonymous, Decision::Allow),
            ("/login", "", AppendPending, redirect("/append")),
            (
                "/login",
                "next=%2Fpasskeys",
                AppendPending,
                redirect("/append?next=/passkeys"),
            ),
            // Signed in: the dashboard, unless a page asked for a fresh sign-in (`next`).
            ("/login", "", Active, redirect("/dashboard")),
            ("/login", "email=a%40b.c", Active, redirect("/dashboard")),
            ("/login", "next=%2Fadmin", Active, Decision::Allow),
            (
                "/login",
                "next=https%3A%2F%2Fevil.example",
                Active,
                redirect("/dashboard"),
            ),
            ("/signup", "", Anonymous, Decision::Allow),
            ("/signup", "", AppendPending, redirect("/append")),
            ("/signup", "", Active, redirect("/dashboard")),
            ("/signup", "next=%2Fpasskeys", Active, redirect("/passkeys")),
            ("/no-such-page", "", Anonymous, Decision::Allow),
            ("/no-such-page", "", Active, Decision::Allow),
            ("/append", "", Anonymous, redirect("/login")),
            (
                "/append",
                "next=%2Fpasskeys",
                Anonymous,
                redirect("/login?next=/passkeys"),
            ),
            ("/append", "", AppendPending, Decision::Allow),
            (
                "/append",
                "next=%2Fpasskeys",
                AppendPending,
                Decision::Allow,
            ),
            ("/append", "", Active, redirect("/dashboard")),
            ("/append", "next=%2Fpasskeys", Active, redirect("/passkeys")),
            (
                "/append",
                "next=https%3A%2F%2Fevil.example",
                Active,
                redirect("/dashboard"),
            ),
            (
                "/dashboard",
                "",
                Anonymous,
                redirect("/login?next=/dashboard"),
            ),
            (
                "/dashboard",
                "",
                AppendPending,
                redirect("/append?next=/dashboard"),
            ),
            ("/dashboard", "", Active, Decision::Allow),
            (
                "/passkeys",
                "",
                Anonymous,
                redirect("/login?next=/passkeys"),
            ),
            (
                "/passkeys",
                "",
                AppendPending,
                redirect("/append?next=/passkeys"),
            ),
            ("/passkeys", "", Active, Decision::Allow),
            (
                "/passkeys/x",
                "a=1",
                Anonymous,
                redirect("/login?next=/passkeys/x%3Fa%3D1"),
            ),
            ("/dashboardx", "", Anonymous, Decision::Allow),
        ];
        for (path, query, state, expected) in cases {
            assert_eq!(
                &decide(path, query, *state),
                expected,
                "{path}?{query} as {state:?}"
            );
        }
    }

    /// The console × who asks: it exists only for operators; a stale login signs in again.
    #[test]
    fn console_guard_table() {
        use Operator::*;
        let cases: &[(&str, SessionState, Operator, Decision)] = &[
            ("/admin", Anonymous, No, Decision::NotFound),
            ("/admin", AppendPending, No, Decision::NotFound),
            ("/admin", Active, No, Decision::NotFound),
            ("/admin/accounts/acc-1", Active, No, Decision::NotFound),
            ("/admin/no-such-page", Active, No, Decision::NotFound),
            ("/admin", Active, Stale, redirect("/login?next=/admin")),
            (
                "/admin/settings",
                AppendPending,
                Recent,
                redirect("/append?next=/admin/settings"),
            ),
            ("/admin", Active, Recent, Decision::Allow),
            ("/admin/events", Active, Recent, Decision::Allow),
            // Operators are ordinary people everywhere else.
            ("/dashboard", Active, Recent, Decision::Allow),
            (
                "/dashboard",
                Anonymous,
                No,
                redirect("/login?next=/dashboard"),
            ),
        ];
        for (path, state, operator, expected) in cases {
            assert_eq!(
                &decide_as(path, "", *state, *operator),
                expected,
                "{path} as {state:?}, operator {operator:?}"
            );
        }
        assert_eq!(
            safe_next("/admin/accounts").as_deref(),
            Some("/admin/accounts")
        );
    }

    #[test]
    fn next_accepts_same_origin_paths_only() {
        assert_eq!(safe_next("/dashboard").as_deref(), Some("/dashboard"));
        assert_eq!(
            safe_next("/passkeys?tab=1#x").as_deref(),
            Some("/passkeys?tab=1#x")
        );
        for bad in [
            "",
            "dashboard",
            "//evil.example",
            "/\\evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            "/a\\b",
            "/a\n",
            "/../etc",
            "/x/..",
            "/login",
            "/signup",
            "/append",
            "/",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?} must be refused");
        }
        assert_eq!(safe_next(&format!("/{}", "a".repeat(2000))), None);
    }

    #[test]
    fn only_pages_of_the_app_are_rendered_without_a_full_load() {
        for page in [
            "/dashboard",
            "/passkeys?x=1",
            "/append?next=%2Fpasskeys",
            "/admin/accounts/a",
        ] {
            assert!(is_app_page(page), "{page}");
        }
        for other in [
            "https://idp.example/authorize?x",
            "//evil.example/dashboard",
            "/healthz",
            "/admin/overview.csv",
            "",
        ] {
            assert!(!is_app_page(other), "{other}");
        }
    }

    #[test]
    fn password_step_carries_email_and_a_safe_next_only() {
        assert_eq!(
            password_step("a+b@example.com", Some("/passkeys?x=1")),
            "/login?email=a%2Bb%40example.com&next=/passkeys%3Fx%3D1"
        );
        assert_eq!(
            password_step("a@example.com", Some("https://evil.example/")),
            "/login?email=a%40example.com"
        );
    }

    #[test]
    fn next_round_trips_through_a_query_string() {
        let target = "/passkeys?x=1&y=a b";
        let url = with_next(Page::Append.path(), Some(target));
        let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
        assert_eq!(next_param(query).as_deref(), Some(target));
    }

    #[test]
    fn decoding_refuses_malformed_escapes() {
        assert_eq!(percent_decode("%2"), None);
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%FF"), None);
        assert_eq!(percent_decode("a+b%2F").as_deref(), Some("a b/"));
    }

    #[test]
    fn logins_always_go_to_append_first() {
        assert_eq!(target_after_login(None), "/append");
        assert_eq!(
            target_after_login(Some("/passkeys")),
            "/append?next=/passkeys"
        );
        assert_eq!(target_after_login(Some("//evil.example")), "/append");
        assert_eq!(target_after_append(Some("/passkeys")), "/passkeys");
        assert_eq!(
            target_after_append(Some("https://evil.example")),
            "/dashboard"
        );
        assert_eq!(target_after_append(None), "/dashboard");
    }
}
