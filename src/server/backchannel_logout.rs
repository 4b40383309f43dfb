//! `POST /auth/backchannel-logout`: the OpenID provider says a person's session there ended
//! (OpenID Connect Back-Channel Logout 1.0). The logout token is the IdP's to check
//! ([`crate::idp::IdentityProvider::verify_logout_token`]); each token is acted on once, and
//! the app sessions it names end at once.
//!
//! Server to server: no cookies, no `Origin`, so this route sits outside the browser
//! layers (same-origin check, session, guard); it is rate limited like the other OpenID
//! routes.

use std::collections::HashMap;

use axum::extract::{Extension, Form, State};
use axum::http::header::{HeaderValue, CACHE_CONTROL};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use sha2::{Digest, Sha256};

use super::state::AppState;
use crate::error::{AppError, RetryAfter};
use crate::events::{Event, EventType, Reason};
use crate::limits::Rule;
use crate::serving::ClientIp;

pub async fn backchannel_logout(
    State(app): State<AppState>,
    ip: Option<Extension<ClientIp>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let ip = ip.map_or(ClientIp::UNKNOWN, |Extension(ip)| ip);
    if let Err(exceeded) = app.limiter.check(Rule::OidcIp, &ip.0.to_string()).await {
        return AppError::RateLimited(RetryAfter::from_duration(exceeded.retry_after))
            .into_response();
    }
    let Some(token) = form.get("logout_token").filter(|t| !t.is_empty()) else {
        return refused("the request has no logout_token");
    };
    let logout = match app.idp.verify_logout_token(token).await {
        Ok(logout) => logout,
        Err(err) => {
            tracing::warn!(%err, "back-channel logout refused");
            token_refused(&app, Reason::Invalid).await;
            return refused("the logout token was not accepted");
        }
    };
    let jti_hash = format!("{:x}", Sha256::digest(logout.jti.as_bytes()));
    match app
        .store
        .first_use_of_logout_token(&jti_hash, logout.expires_at)
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!("back-channel logout refused: the token was used before");
            token_refused(&app, Reason::Replay).await;
            return refused("the logout token was used before");
        }
        Err(err) => return AppError::internal("recording a logout token", err).into_response(),
    }
    let issuer = app.idp.issuer();
    let mut ended = 0;
    // A session id names exactly one provider session; a subject alone, all of its sessions.
    if let Some(sid) = &logout.sid {
        match app
            .store
            .delete_sessions_of_provider_session(issuer, sid)
            .await
        {
            Ok(n) => ended += n,
            Err(err) => return AppError::internal("ending sessions", err).into_response(),
        }
    }
    if let (Some(subject), true) = (&logout.subject, logout.sid.is_none() || ended == 0) {
        match app.store.delete_sessions_of_subject(issuer, subject).await {
            Ok(n) => ended += n,
            Err(err) => return AppError::internal("ending sessions", err).into_response(),
        }
    }
    tracing::info!(ended, "back-channel logout");
    let mut event = Event::new(EventType::SessionEnded)
        .with_reason(Reason::BackchannelLogout)
        .with_detail(&format!("{ended} session(s)"));
    if let Some(subject) = &logout.subject {
        if let Ok(Some(account)) = app.store.find_account_by_subject(issuer, subject).await {
            event = event.with_account(account.id);
        }
    }
    app.events.record(event).await;
    no_store(StatusCode::OK.into_response())
}

/// `token.refused` for a logout token (the provider's address says nothing about a person,
/// so no client is named).
async fn token_refused(app: &AppState, reason: Reason) {
    let event = Event::new(EventType::TokenRefused)
        .with_reason(reason)
        .with_detail("logout token");
    app.events.record(event).await;
}

/// `400` with the OAuth error body the specification asks for.
fn refused(description: &str) -> Response {
    no_store(
        (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({
                "error": "invalid_request",
                "error_description": description,
            })),
        )
            .into_response(),
    )
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
