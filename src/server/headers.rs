//! Security headers on every response, and the Content Security Policy.
//!
//! Pages get a policy whose `script-src` names the nonce Leptos put on this response's inline
//! hydration scripts (a new one per response); everything else gets the same policy without
//! a nonce, so no inline script can run there at all. `'wasm-unsafe-eval'` lets the browser
//! compile the app's wasm; nothing else may be evaluated.

use axum::extract::{Request, State};
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use super::state::AppState;
use crate::routes::Endpoint;

/// HSTS for https origins: two years, subdomains included (what browsers' preload lists
/// ask for; an https site has nothing to gain from plain http on any subdomain).
const STRICT_TRANSPORT_SECURITY: &str = "max-age=63072000; includeSubDomains";
/// WebAuthn may be used by this origin only (never by a frame of another site).
const PERMISSIONS_POLICY: &str =
    "publickey-credentials-get=(self), publickey-credentials-create=(self)";

/// The policy for this site: `nonce` for a rendered page, `None` for anything else.
pub fn content_security_policy(app: &AppState, nonce: Option<&str>) -> String {
    let mut script = String::from("'self' 'wasm-unsafe-eval'");
    if let Some(nonce) = nonce {
        script.push_str(&format!(" 'nonce-{nonce}'"));
    }
    let mut connect = String::from("'self'");
    // A passkey service on another origin is called from the browser.
    let frontend = app.config.connect_service.frontend_url.origin();
    if frontend.is_tuple() && frontend.ascii_serialization() != app.config.origin {
        connect.push(' ');
        connect.push_str(&frontend.ascii_serialization());
    }
    // `cargo leptos watch` reloads the page through a websocket on its reload port.
    if std::env::var_os("LEPTOS_WATCH").is_some() {
        let port = app.leptos_options.reload_port;
        connect.push_str(&format!(" ws://localhost:{port} ws://127.0.0.1:{port}"));
    }
    let mut form_action = String::from("'self'");
    // An OpenID provider's login and logout: a form post without JavaScript is redirected
    // there, and `form-action` covers redirects.
    if let Some(sources) = app.idp.form_action_sources() {
        form_action.push(' ');
        form_action.push_str(&sources);
    }
    format!(
        "default-src 'self'; script-src {script}; style-src 'self'; img-src 'self' data:; \
         connect-src {connect}; frame-ancestors 'none'; base-uri 'self'; object-src 'none'; \
         form-action {form_action}"
    )
}

/// Headers every response gets: the policy (unless a page set its own, with its nonce), no
/// framing, no sniffing, no caching of personal pages, HSTS on https.
pub async fn security_headers(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let is_asset = req.uri().path().starts_with(Endpoint::Assets.path());
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        if let Ok(policy) = HeaderValue::from_str(&content_security_policy(&app, None)) {
            headers.insert(header::CONTENT_SECURITY_POLICY, policy);
        }
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Same-origin referrers carry `next` through plain (no-JS) form posts.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    headers.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static(PERMISSIONS_POLICY),
    );
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    if app.config.is_https() {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(STRICT_TRANSPORT_SECURITY),
        );
    }
    if !is_asset && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// For a page being rendered: puts the policy with this response's nonce on it.
pub fn set_page_policy() {
    use leptos::prelude::use_context;
    let (Some(app), Some(nonce), Some(response)) = (
        use_context::<AppState>(),
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    if let Ok(policy) = HeaderValue::from_str(&content_security_policy(&app, Some(&nonce))) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, policy);
    }
}
