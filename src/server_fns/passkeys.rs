//! The app's server functions behind the Connect components: they turn the app session
//! into connect tokens for the passkey service's frontend API, and a passkey login's signed
//! data into an app session. The browser never talks to the backend API itself.
//!
//! Every token is for the session's own account and one action; the service consumes each
//! one once (docs/security.md).

use leptos::prelude::*;

use crate::error::AppError;

/// A `passkey-append` connect token for the signed-in user: at the append step right after
/// a login, or (on `/passkeys`) within the re-authentication window, so a stolen session
/// cookie cannot enrol the thief's passkey.
#[server(prefix = "/api", endpoint = "passkey_append_token")]
pub async fn passkey_append_token() -> Result<String, AppError> {
    use crate::connect::api::ConnectTokenType;
    use crate::server::context::{app, require, Need};
    let app = app()?;
    let session = require(Need::SignedIn)?;
    if !session.append_pending() && !app.sessions.is_recent_login(&session) {
        return Err(AppError::ReauthRequired);
    }
    token_for(&session, ConnectTokenType::PasskeyAppend).await
}

/// A `passkey-list` connect token (one per list call).
#[server(prefix = "/api", endpoint = "passkey_list_token")]
pub async fn passkey_list_token() -> Result<String, AppError> {
    use crate::connect::api::ConnectTokenType;
    use crate::server::context::{require, Need};
    let session = require(Need::Active)?;
    token_for(&session, ConnectTokenType::PasskeyList).await
}

/// A `passkey-delete` connect token, only within the re-authentication window.
#[server(prefix = "/api", endpoint = "passkey_delete_token")]
pub async fn passkey_delete_token() -> Result<String, AppError> {
    use crate::connect::api::ConnectTokenType;
    use crate::server::context::{app, require, Need};
    let app = app()?;
    let session = require(Need::Active)?;
    if !app.sessions.is_recent_login(&session) {
        return Err(AppError::ReauthRequired);
    }
    token_for(&session, ConnectTokenType::PasskeyDelete).await
}

/// A `passkey-rename` connect token: naming a passkey changes nothing about who can sign in,
/// so any signed-in session may (no re-authentication).
#[server(prefix = "/api", endpoint = "passkey_rename_token")]
pub async fn passkey_rename_token() -> Result<String, AppError> {
    use crate::connect::api::ConnectTokenType;
    use crate::server::context::{require, Need};
    let session = require(Need::Active)?;
    token_for(&session, ConnectTokenType::PasskeyRename).await
}

/// A `passkey-login` connect token for whoever signs in with `email`.
///
/// No account enumeration: an email without an account gets a token for a stand-in
/// identifier, so the answer has the same shape and the passkey service then answers exactly
/// as for an account without passkeys ("no passkey", or decoys in strict mode).
#[server(prefix = "/api", endpoint = "passkey_login_token")]
pub async fn passkey_login_token(email: String) -> Result<String, AppError> {
    use crate::connect::api::ConnectTokenType;
    use crate::connect::backend_client::connect_token_secret;
    use crate::limits::{account_and_ip, Rule};
    use crate::server::context::{app, client_ip, rate_limit};
    let app = app()?;
    let email = crate::idp::normalize_email(&email)?;
    let ip = client_ip().0;
    rate_limit(
        &app,
        &[
            (Rule::PasskeyLoginIp, &ip.to_string()),
            (Rule::PasskeyLoginAccountIp, &account_and_ip(&email, ip)),
        ],
    )
    .await?;
    let account = app
        .store
        .find_account_by_email(app.idp.issuer(), &email)
        .await
        .map_err(|err| AppError::internal("finding the account", err))?;
    // An account whose passkeys an operator blocked is answered like one without passkeys:
    // the person goes on to the password, and the answer tells nobody about the block.
    let blocked = match &account {
        Some(account) => app
            .store
            .passkeys_blocked(&account.id, crate::store::now())
            .await
            .map_err(|err| AppError::internal("reading the passkey block", err))?,
        None => false,
    };
    let identifier = match account {
        Some(account) if !blocked => account.id,
        _ => stand_in_identifier(&app.config.secrets.session_secret, &email),
    };
    connect_token_secret(
        app.connect.as_ref(),
        ConnectTokenType::PasskeyLogin,
        &identifier,
        "",
    )
    .await
    .map_err(unavailable)
}

/// Completes a passkey login: the passkey service verifies its signed passkey data (once),
/// and only then does the app start a session. Returns where the browser goes next (the
/// append step, like every login).
#[server(prefix = "/api", endpoint = "complete_passkey_login")]
pub async fn complete_passkey_login(
    signed_passkey_data: String,
    next: String,
) -> Result<String, AppError> {
    use crate::connect::backend_client::claimed_identifier;
    use crate::events::{Event, EventType, Reason};
    use crate::idp::Identity;
    use crate::server::context::{app, log_in, record};
    use crate::session::AuthMethod;
    let app = app()?;
    // Whom the data claims to be for (unverified); the verification below checks it.
    let identifier = claimed_identifier(&signed_passkey_data).ok_or(AppError::PasskeyRejected)?;
    verify_for(&app, &signed_passkey_data, &identifier).await?;
    let account = app
        .store
        .find_account(&identifier)
        .await
        .map_err(|err| AppError::internal("finding the account", err))?
        .ok_or_else(|| {
            tracing::warn!(%identifier, "passkey login for an account that no longer exists");
            AppError::PasskeyRejected
        })?;
    let identity = Identity {
        issuer: account.idp,
        subject: account.subject,
        email: account.email,
    };
    // The IdP's account state wins: a disabled person's passkey signs nobody in. And an
    // operator may have blocked this account's passkeys (a conditional-UI or one-tap login
    // needs no login token, so the block is checked here too).
    let refused = if !app.idp.is_active(&identity).await? {
        Some(Reason::Disabled)
    } else if app
        .store
        .passkeys_blocked(&account.id, crate::store::now())
        .await
        .map_err(|err| AppError::internal("reading the passkey block", err))?
    {
        Some(Reason::Blocked)
    } else {
        None
    };
    if let Some(reason) = refused {
        tracing::warn!(account = %account.id, reason = reason.as_ref(), "passkey login refused");
        record(
            &app,
            Event::new(EventType::PasskeyLoginFailed)
                .with_reason(reason)
                .with_account(&account.id),
        )
        .await;
        return Err(AppError::PasskeyRejected);
    }
    // Now and then the provider itself must see the person (`idp-reverify-days`): then the
    // passkey login makes no session; the provider's login that follows does.
    if let Some(max_age) = app.idp.reverify_after() {
        let last = app
            .store
            .last_idp_login(&account.id)
            .await
            .map_err(|err| AppError::internal("reading the last provider login", err))?;
        let max_age = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
        if last.is_none_or(|at| crate::store::now() - at >= max_age) {
            tracing::info!(account = %account.id, "passkey login goes on to the provider");
            record(
                &app,
                Event::new(EventType::PasskeyLoginFellBack)
                    .with_reason(Reason::ProviderReverification)
                    .with_account(&account.id),
            )
            .await;
            return crate::server::idp_redirect::provider_login_url(
                &app,
                Some(&identity.email),
                &next,
            )
            .await;
        }
    }
    let logged_in = log_in(&app, identity, AuthMethod::Passkey, &next).await?;
    // The passkey just used lives on this browser's own authenticator: the append step has
    // nothing to offer here, and is passed at once (the browser goes straight to the target
    // instead of showing an offer that would vanish). After a passkey from another device
    // (hybrid) the step offers "Create a passkey on this device" as usual.
    if crate::connect::backend_client::cross_device_of(&signed_passkey_data) == Some(false) {
        use crate::server::context::end_append;
        record(
            &app,
            Event::new(EventType::AppendSkipped)
                .with_account(&logged_in.account_id)
                .with_reason(Reason::PasskeyOnThisDevice),
        )
        .await;
        return end_append(&app, &logged_in.session, &next).await;
    }
    Ok(logged_in.target)
}

/// Has the passkey service verify signed passkey data, once, for `identifier` (the account
/// the app expects).
#[cfg(feature = "ssr")]
pub(super) async fn verify_for(
    app: &crate::server::AppState,
    signed_passkey_data: &str,
    identifier: &str,
) -> Result<(), AppError> {
    use crate::connect::api::{ErrorType, VerificationResult};
    let result = app
        .connect
        .verify_signed_data(signed_passkey_data, identifier)
        .await
        .map_err(|err| match err.error_type() {
            // Malformed data is the browser's problem, not an outage.
            Some(ErrorType::ValidationError | ErrorType::InvalidJson) => AppError::PasskeyRejected,
            _ => unavailable(err),
        })?;
    if result != VerificationResult::Success {
        tracing::warn!(?result, "signed passkey data refused");
        return Err(AppError::PasskeyRejected);
    }
    Ok(())
}

/// The identifier an email without an account is given: derived from a server secret, so
/// repeated queries for one email agree (in strict enumeration protection the service's
/// decoys follow from it), and shaped like a real account id (`acc_` and 16 bytes).
#[cfg(feature = "ssr")]
fn stand_in_identifier(secret: &crate::config::Secret, email: &str) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use hmac::{Hmac, Mac};
    // HMAC accepts keys of any length; this cannot fail.
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(b"account without passkeys\0");
    mac.update(email.as_bytes());
    let digest = mac.finalize().into_bytes();
    format!("acc_{}", URL_SAFE_NO_PAD.encode(&digest[..16]))
}

#[cfg(feature = "ssr")]
pub(super) async fn token_for(
    session: &crate::session::Session,
    token_type: crate::connect::api::ConnectTokenType,
) -> Result<String, AppError> {
    let app = crate::server::context::app()?;
    crate::connect::backend_client::connect_token_secret(
        app.connect.as_ref(),
        token_type,
        session.account_id(),
        session.email(),
    )
    .await
    .map_err(unavailable)
}

/// The passkey service failing is never the person's fault: they get "not available"
/// (and the components fall back to the password), the server log gets the reason.
#[cfg(feature = "ssr")]
fn unavailable(err: crate::connect::backend_client::BackendError) -> AppError {
    tracing::warn!(%err, "passkey service call failed");
    AppError::Unavailable
}
