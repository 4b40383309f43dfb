//! The HTTP side of a login at the IdP's own pages (an OpenID provider): sending the browser
//! there (from a server function) and `GET /auth/callback`, where the provider sends it
//! back. What the provider's answer must satisfy is the IdP's business
//! ([`crate::idp::IdentityProvider::finish_redirect`]); this turns the outcome into a
//! session or a page that says what happened.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::header::{self, HeaderMap};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;

use super::context::{start_app_session, LoggingInBrowser};
use super::state::AppState;
use crate::error::{AppError, RetryAfter};
use crate::events::{Event, EventType, Reason};
use crate::idp::{ClassicLogin, IdpError, RedirectFailure};
use crate::limits::Rule;
use crate::routes::Page;
use crate::serving::ClientIp;
use crate::session::{AuthMethod, CurrentSession};

/// What the pages call the provider.
fn provider_name(app: &AppState) -> String {
    match app.idp.classic_login() {
        ClassicLogin::Provider { name, .. } => name,
        ClassicLogin::Password => "the sign-in service".into(),
    }
}

/// From a server function: sends the browser to the provider's login, the typed email as
/// `login_hint`. When the provider cannot be reached the person is told so on our page,
/// where passkey login still works.
pub async fn go_to_provider(
    app: &AppState,
    email: Option<&str>,
    next: &str,
) -> Result<(), AppError> {
    let url = provider_login_url(app, email, next).await?;
    leptos_axum::redirect(&url);
    Ok(())
}

/// From a server function: starts a login at the provider for this browser (its binding
/// cookie goes on the response) and says where to send the browser.
pub async fn provider_login_url(
    app: &AppState,
    email: Option<&str>,
    next: &str,
) -> Result<String, AppError> {
    use leptos::prelude::use_context;
    let ip = super::context::client_ip().0.to_string();
    super::context::rate_limit(app, &[(crate::limits::Rule::OidcIp, &ip)]).await?;
    let headers = use_context::<axum::http::request::Parts>()
        .map(|parts| parts.headers)
        .unwrap_or_default();
    let started = app
        .idp
        .start_redirect(&headers, email, next)
        .await
        .map_err(|err| match err {
            IdpError::Unavailable(reason) | IdpError::Discovery(reason) => {
                tracing::warn!(%reason, "cannot send a login to the identity provider");
                AppError::idp_unreachable(&provider_name(app))
            }
            other => other.into(),
        })?;
    super::context::set_cookie(started.cookie);
    Ok(started.url.to_string())
}

/// `GET /auth/callback`: the provider's answer. A verified login becomes an app session and
/// goes to the append step like any other; anything else gets a page that says what
/// happened, with the right status and a way back to the login (email carried over).
pub async fn callback(
    State(app): State<AppState>,
    current: Option<Extension<CurrentSession>>,
    ip: Option<Extension<ClientIp>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let ip = ip.map_or(ClientIp::UNKNOWN, |Extension(ip)| ip);
    let client = crate::events::Client::from_request(&headers, ip);
    if let Err(exceeded) = app.limiter.check(Rule::OidcIp, &ip.0.to_string()).await {
        if exceeded.first {
            let event = Event::rate_limit_hit(exceeded.rule).with_client(client);
            app.events.record(event).await;
        }
        return AppError::RateLimited(RetryAfter::from_duration(exceeded.retry_after))
            .into_response();
    }
    let login = match app.idp.finish_redirect(&headers, &query).await {
        Ok(login) => login,
        Err(failure) => {
            let reason = if failure.status >= 500 {
                Reason::ProviderUnreachable
            } else {
                Reason::CallbackRefused
            };
            let event = Event::new(EventType::OidcLoginFailed)
                .with_reason(reason)
                .with_detail(&failure.reason);
            app.events.record(event.with_client(client)).await;
            return failure_page(&failure, &app.stylesheet);
        }
    };
    let previous = current.and_then(|Extension(current)| current.0);
    let logged_in = match start_app_session(
        &app,
        login.identity,
        AuthMethod::Oidc,
        login.provider_session.as_ref(),
        LoggingInBrowser {
            previous: previous.as_ref(),
            client: &client,
            remembered: &crate::login_hint::read(&headers, app.config.is_https()),
        },
        &login.next,
    )
    .await
    {
        Ok(logged_in) => logged_in,
        Err(err) => return err.into_response(),
    };
    let event = Event::new(EventType::OidcLoginSucceeded).with_account(&logged_in.account_id);
    app.events.record(event.with_client(client)).await;
    let mut response = super::middleware::redirect(&logged_in.target);
    let headers = response.headers_mut();
    for cookie in logged_in.cookies {
        headers.append(header::SET_COOKIE, cookie);
    }
    headers.append(header::SET_COOKIE, login.clear_cookie);
    response
}

fn failure_page(failure: &RedirectFailure, stylesheet: &str) -> Response {
    if failure.status >= 500 {
        tracing::warn!(reason = %failure.reason, "identity provider callback failed");
    } else {
        tracing::info!(reason = %failure.reason, "identity provider callback refused");
    }
    let next = Some(failure.next.as_str());
    let back = if failure.login_hint.is_empty() {
        crate::journey::with_next(Page::Login.path(), next)
    } else {
        crate::journey::password_step(&failure.login_hint, next)
    };
    let body = format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign-in did not work</title><link rel="stylesheet" href="{}"></head>
<body><main><section class="card"><h1>Sign-in did not work</h1>
<p class="alert" role="alert">{}</p>
<p><a class="button primary" href="{}">Back to sign in</a></p>
</section></main></body></html>"#,
        escape_html(stylesheet),
        escape_html(&failure.message),
        escape_html(&back),
    );
    (
        StatusCode::from_u16(failure.status).unwrap_or(StatusCode::BAD_REQUEST),
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
