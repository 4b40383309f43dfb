//! Server functions of the classic account journey: sign up, sign in, sign out, going on
//! from the append step, and the session summary that pages and the client guard read.
//!
//! Each one works as a plain HTML form post (no JavaScript) and as a hydrated call.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::journey::SessionState;

/// What the browser may know about the session: no ids, no tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub email: String,
    pub append_pending: bool,
}

/// The journey state of an optional session summary.
pub fn state_of(info: Option<&SessionInfo>) -> SessionState {
    match info {
        None => SessionState::Anonymous,
        Some(info) if info.append_pending => SessionState::AppendPending,
        Some(_) => SessionState::Active,
    }
}

#[server(prefix = "/api", endpoint = "session")]
pub async fn fetch_session() -> Result<Option<SessionInfo>, AppError> {
    use crate::server::context::current_session;
    Ok(current_session().0.map(|session| SessionInfo {
        email: session.email().to_string(),
        append_pending: session.append_pending(),
    }))
}

#[server(prefix = "/api", endpoint = "sign_up")]
pub async fn sign_up(email: String, password: String, next: String) -> Result<(), AppError> {
    use crate::server::context::{app, log_in};
    use crate::session::AuthMethod;
    let app = app()?;
    let identity = app.idp.sign_up(&email, &password).await?;
    tracing::info!(issuer = %identity.issuer, "account created");
    log_in(&app, identity, AuthMethod::Password, &next).await
}

#[server(prefix = "/api", endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String, next: String) -> Result<(), AppError> {
    use crate::server::context::{app, log_in};
    use crate::session::AuthMethod;
    let app = app()?;
    let identity = app.idp.sign_in_with_password(&email, &password).await?;
    log_in(&app, identity, AuthMethod::Password, &next).await
}

#[server(prefix = "/api", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::server::context::{app, current_session, set_cookie};
    let app = app()?;
    if let Some(session) = current_session().0 {
        app.sessions
            .end(&session)
            .await
            .map_err(|err| AppError::internal("ending a session", err))?;
    }
    set_cookie(app.sessions.clear_cookie());
    leptos_axum::redirect(crate::journey::LOGIN_PATH);
    Ok(())
}

/// Leaves the append step ("Skip", or after a passkey was created) for `next`.
#[server(prefix = "/api", endpoint = "finish_append")]
pub async fn finish_append(next: String) -> Result<(), AppError> {
    use crate::server::context::{app, require, Need};
    let app = app()?;
    let session = require(Need::SignedIn)?;
    let still_there = app
        .sessions
        .finish_append(&session)
        .await
        .map_err(|err| AppError::internal("finishing the append step", err))?;
    if !still_there {
        return Err(AppError::Unauthenticated);
    }
    leptos_axum::redirect(&crate::journey::target_after_append(Some(&next)));
    Ok(())
}
