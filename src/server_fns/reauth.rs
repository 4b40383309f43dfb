//! Step-up: confirming it is you before a sensitive action (adding or deleting a passkey
//! outside the step after a login), with the password or with one of your passkeys. A
//! confirmation makes the session's login count as recent for the re-authentication window.

use leptos::prelude::*;

use crate::error::AppError;

/// Whether a sensitive action would need a confirmation now.
#[server(prefix = "/api", endpoint = "reauth_needed")]
pub async fn reauth_needed() -> Result<bool, AppError> {
    use crate::server::context::{app, require, Need};
    let app = app()?;
    let session = require(Need::Active)?;
    Ok(!app.sessions.is_recent_login(&session))
}

/// Confirms with the password (the IdP checks it, for this session's account only).
#[server(prefix = "/api", endpoint = "reauth_with_password")]
pub async fn reauth_with_password(password: String) -> Result<(), AppError> {
    use crate::limits::{account_and_ip, Rule};
    use crate::server::context::{app, client_ip, rate_limit, require, Need};
    let app = app()?;
    let session = require(Need::Active)?;
    let ip = client_ip().0;
    // The same buckets as a password sign-in: confirming is guessing a password too.
    rate_limit(
        &app,
        &[
            (Rule::SignInIp, &ip.to_string()),
            (Rule::SignInAccountIp, &account_and_ip(session.email(), ip)),
            (Rule::SignInAccount, session.email()),
        ],
    )
    .await?;
    let identity = app
        .idp
        .sign_in_with_password(session.email(), &password)
        .await?;
    let account = app
        .store
        .find_account(session.account_id())
        .await
        .map_err(|err| AppError::internal("finding the account", err))?
        .ok_or(AppError::Unauthenticated)?;
    if identity.issuer != account.idp || identity.subject != account.subject {
        // The email now belongs to someone else at the IdP: not this session's person.
        tracing::warn!(account = %session.account_id(), "re-authentication by another identity");
        return Err(AppError::InvalidCredentials);
    }
    reauthenticated(&app, &session).await
}

/// A `passkey-login` connect token for this session's own account (for the confirmation).
#[server(prefix = "/api", endpoint = "reauth_passkey_token")]
pub async fn reauth_passkey_token() -> Result<String, AppError> {
    use crate::limits::{account_and_ip, Rule};
    use crate::server::context::{app, client_ip, rate_limit, require, Need};
    let app = app()?;
    let session = require(Need::Active)?;
    let ip = client_ip().0;
    rate_limit(
        &app,
        &[
            (Rule::PasskeyLoginIp, &ip.to_string()),
            (
                Rule::PasskeyLoginAccountIp,
                &account_and_ip(session.email(), ip),
            ),
        ],
    )
    .await?;
    super::passkeys::token_for(
        &session,
        crate::connect::api::ConnectTokenType::PasskeyLogin,
    )
    .await
}

/// Confirms with a passkey: the passkey service verifies its signed result once, for this
/// session's account only.
#[server(prefix = "/api", endpoint = "reauth_with_passkey")]
pub async fn reauth_with_passkey(signed_passkey_data: String) -> Result<(), AppError> {
    use crate::server::context::{app, require, Need};
    let app = app()?;
    let session = require(Need::Active)?;
    super::passkeys::verify_for(&app, &signed_passkey_data, session.account_id()).await?;
    reauthenticated(&app, &session).await
}

#[cfg(feature = "ssr")]
async fn reauthenticated(
    app: &crate::server::AppState,
    session: &crate::session::Session,
) -> Result<(), AppError> {
    let still_there = app
        .sessions
        .reauthenticated(session)
        .await
        .map_err(|err| AppError::internal("confirming the session", err))?;
    if still_there {
        Ok(())
    } else {
        Err(AppError::Unauthenticated)
    }
}
