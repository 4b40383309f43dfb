//! Reading what a response tells the browser: `Set-Cookie` lines and `Location`.

use reqwest::header::HeaderMap;

/// The full `Set-Cookie` line for the cookie `name`, if the response sets one.
pub fn set_cookie_named(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

/// `name=value` of a `Set-Cookie` line: what the browser sends back.
pub fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or_default().to_string()
}

/// `name=value` of the cookie `name` the response sets (empty value = cleared).
pub fn cookie_named(headers: &HeaderMap, name: &str) -> Option<String> {
    set_cookie_named(headers, name).map(|line| cookie_pair(&line))
}

/// The full `Set-Cookie` line for the session cookie, if the response sets one.
pub fn set_cookie_line(res: &reqwest::Response) -> Option<String> {
    set_cookie_named(res.headers(), "latchkey_session")
        .or_else(|| set_cookie_named(res.headers(), "__Host-latchkey_session"))
}

/// `name=value` of the session cookie the response sets (empty value = cleared).
pub fn session_cookie(res: &reqwest::Response) -> Option<String> {
    set_cookie_line(res).map(|line| cookie_pair(&line))
}

/// `name=value` of a session the response starts: a session cookie that is not cleared.
pub fn new_session_cookie(headers: &HeaderMap) -> Option<String> {
    cookie_named(headers, "latchkey_session").filter(|c| c != "latchkey_session=")
}

/// The `Location` header.
pub fn location(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}
