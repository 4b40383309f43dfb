//! The HTTP side of an OpenID Connect login: sending the browser to the provider (from a
//! server function) and `GET /auth/callback`, where the provider sends it back.

use axum::extract::{Query, State};
use axum::http::header::{self, HeaderMap};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;

use super::context::start_app_session;
use super::state::AppState;
use crate::error::AppError;
use crate::idp::oidc::flow::{self, CallbackFailure, CallbackParams};
use crate::idp::IdpError;
use crate::session::{AuthMethod, CurrentSession};

/// From a server function: sends the browser to the provider's login, the typed email as
/// `login_hint`. When the provider cannot be reached the person is told so on our page,
/// where passkey login still works.
pub async fn go_to_provider(
    app: &AppState,
    email: Option<&str>,
    next: &str,
) -> Result<(), AppError> {
    use leptos::prelude::use_context;
    let oidc = app
        .oidc
        .as_ref()
        .ok_or_else(|| AppError::Invalid("This site signs in with a password.".into()))?;
    let headers = use_context::<axum::http::request::Parts>()
        .map(|parts| parts.headers)
        .unwrap_or_default();
    let hint = email.and_then(|email| crate::idp::normalize_email(email).ok());
    let started = flow::begin(
        oidc,
        &app.store,
        &headers,
        app.config.is_https(),
        hint.as_deref(),
        next,
    )
    .await
    .map_err(|err| match err {
        IdpError::Unavailable(reason) | IdpError::Discovery(reason) => {
            tracing::warn!(%reason, "cannot send a login to the identity provider");
            AppError::idp_unreachable(&oidc.settings().display_name)
        }
        other => other.into(),
    })?;
    super::context::set_cookie(started.cookie);
    leptos_axum::redirect(started.url.as_str());
    Ok(())
}

/// `GET /auth/callback`: the provider's answer. A verified login becomes an app session and
/// goes to the append step like any other; anything else gets a page that says what
/// happened, with the right status and a way back to the login (email carried over).
pub async fn callback(
    State(app): State<AppState>,
    current: Option<Extension<CurrentSession>>,
    headers: HeaderMap,
    Query(params): Query<CallbackParams>,
) -> Response {
    let Some(oidc) = app.oidc.as_ref() else {
        return AppError::Invalid("This site does not use an OpenID provider.".into())
            .into_response();
    };
    let provider = oidc.settings().display_name.clone();
    let finished =
        match flow::finish(oidc, &app.store, &headers, app.config.is_https(), params).await {
            Ok(finished) => finished,
            Err(failure) => return failure_page(&failure, &provider),
        };
    let previous = current.and_then(|Extension(current)| current.0);
    let logged_in = match start_app_session(
        &app,
        finished.verified.identity,
        AuthMethod::Oidc,
        Some(finished.verified.id_token.expose()),
        previous.as_ref(),
        &finished.next,
    )
    .await
    {
        Ok(logged_in) => logged_in,
        Err(err) => return err.into_response(),
    };
    let mut response = super::middleware::redirect(&logged_in.target);
    let headers = response.headers_mut();
    for cookie in logged_in.cookies {
        headers.append(header::SET_COOKIE, cookie);
    }
    headers.append(header::SET_COOKIE, finished.clear_cookie);
    response
}

fn failure_page(failure: &CallbackFailure, provider: &str) -> Response {
    let status = failure.error.status();
    if status >= 500 {
        tracing::warn!(error = %failure.error, "OpenID callback failed");
    } else {
        tracing::info!(error = %failure.error, "OpenID callback refused");
    }
    let next = Some(failure.next.as_str());
    let back = if failure.login_hint.is_empty() {
        crate::journey::with_next(crate::journey::LOGIN_PATH, next)
    } else {
        crate::journey::password_step(&failure.login_hint, next)
    };
    let body = format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign-in did not work</title><link rel="stylesheet" href="/pkg/latchkey.css"></head>
<body><main><section class="card"><h1>Sign-in did not work</h1>
<p class="alert" role="alert">{}</p>
<p><a class="button primary" href="{}">Back to sign in</a></p>
</section></main></body></html>"#,
        escape_html(&failure.error.message(provider)),
        escape_html(&back),
    );
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
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
