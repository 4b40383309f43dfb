//! Server functions of the classic account journey: sign up, sign in, sign out, the
//! session summary that pages and the client guard read, and what the login page shows.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
pub use crate::idp::ClassicLogin;
use crate::journey::SessionState;

/// What the browser may know about the session: no ids, no tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub email: String,
    pub append_pending: bool,
    /// An operator (`admin-emails`): the dashboard links to the console.
    pub operator: bool,
}

/// The journey state of an optional session summary.
pub fn state_of(info: Option<&SessionInfo>) -> SessionState {
    match info {
        None => SessionState::Anonymous,
        Some(info) if info.append_pending => SessionState::AppendPending,
        Some(_) => SessionState::Active,
    }
}

/// What `/login` and `/signup` need before they render.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginPageInfo {
    /// The one-tap accounts: the last ones signed in on this browser, the latest first.
    pub remembered: Vec<String>,
    pub classic: ClassicLogin,
}

#[server(prefix = "/api", endpoint = "session")]
pub async fn fetch_session() -> Result<Option<SessionInfo>, AppError> {
    use crate::server::context::{app, current_session};
    let app = app()?;
    Ok(current_session().0.map(|session| SessionInfo {
        email: session.email().to_string(),
        append_pending: session.append_pending(),
        operator: app.config.is_operator(session.email()),
    }))
}

#[server(prefix = "/api", endpoint = "sign_up")]
pub async fn sign_up(email: String, password: String, next: String) -> Result<(), AppError> {
    use crate::events::{Event, EventType};
    use crate::limits::Rule;
    use crate::server::context::{app, client_ip, log_in, rate_limit, record};
    use crate::session::AuthMethod;
    let app = app()?;
    let ip = client_ip().0.to_string();
    rate_limit(&app, &[(Rule::SignUpIp, &ip)]).await?;
    let identity = app.idp.sign_up(&email, &password).await?;
    tracing::info!(issuer = %identity.issuer, "account created");
    let logged_in = log_in(&app, identity, AuthMethod::Password, &next).await?;
    for event in [EventType::AccountCreated, EventType::PasswordLoginSucceeded] {
        record(&app, Event::new(event).with_account(&logged_in.account_id)).await;
    }
    leptos_axum::redirect(&logged_in.target);
    Ok(())
}

/// Password login. Without a password this is the identifier step of a plain form post
/// (no JavaScript, so no passkey attempt): it answers with the password step, the email
/// carried over. With an OpenID provider the password is typed at the provider: this sends
/// the browser there, the email as its login hint.
#[server(prefix = "/api", endpoint = "sign_in")]
pub async fn sign_in(
    email: String,
    password: Option<String>,
    next: String,
) -> Result<(), AppError> {
    use crate::events::{Event, EventType, Reason};
    use crate::idp::IdpError;
    use crate::limits::{account_and_ip, Rule};
    use crate::server::context::{app, client_ip, log_in, rate_limit, record};
    use crate::session::AuthMethod;
    let app = app()?;
    let password = password.unwrap_or_default();
    if let ClassicLogin::Provider { .. } = app.idp.classic_login() {
        // Without JavaScript there is no passkey attempt: Continue goes to the provider.
        return crate::server::idp_redirect::go_to_provider(&app, Some(&email), &next).await;
    }
    if password.is_empty() {
        let email = crate::idp::normalize_email(&email)?;
        leptos_axum::redirect(&crate::journey::password_step(&email, Some(&next)));
        return Ok(());
    }
    // Counted before the password is hashed: a flood costs no CPU. Each bucket is separate
    // from passkey login's, which a throttled password never blocks.
    let ip = client_ip().0;
    // The account as typed (a malformed email still gets the generic refusal below).
    let account = email.trim().to_lowercase();
    // A failed attempt names the account when there is one (never what was typed).
    let failed = |reason: Reason| {
        let app = app.clone();
        let account = account.clone();
        async move {
            let known = app
                .store
                .find_account_by_email(app.idp.issuer(), &account)
                .await
                .ok()
                .flatten();
            let mut event = Event::new(EventType::PasswordLoginFailed).with_reason(reason);
            if let Some(known) = known {
                event = event.with_account(known.id);
            }
            record(&app, event).await;
        }
    };
    let limited = rate_limit(
        &app,
        &[
            (Rule::SignInIp, &ip.to_string()),
            (Rule::SignInAccountIp, &account_and_ip(&account, ip)),
            (Rule::SignInAccount, &account),
        ],
    )
    .await;
    if let Err(refused) = limited {
        // A flood is refused without an account lookup and a write per attempt.
        if refused.first {
            failed(Reason::RateLimited).await;
        }
        return Err(refused.into());
    }
    let identity = match app.idp.sign_in_with_password(&email, &password).await {
        Ok(identity) => identity,
        Err(err) => {
            match err {
                IdpError::InvalidCredentials => failed(Reason::WrongCredentials).await,
                IdpError::AccountDisabled => failed(Reason::Disabled).await,
                _ => {}
            }
            return Err(err.into());
        }
    };
    let logged_in = log_in(&app, identity, AuthMethod::Password, &next).await?;
    record(
        &app,
        Event::new(EventType::PasswordLoginSucceeded).with_account(&logged_in.account_id),
    )
    .await;
    leptos_axum::redirect(&logged_in.target);
    Ok(())
}

/// What the login and sign-up pages show: the one-tap hint and how classic login works.
#[server(prefix = "/api", endpoint = "login_page")]
pub async fn fetch_login_page() -> Result<LoginPageInfo, AppError> {
    use crate::server::context::{app, login_hint};
    let app = app()?;
    Ok(LoginPageInfo {
        remembered: login_hint(&app),
        classic: app.idp.classic_login(),
    })
}

/// "Remove from this device": the one-tap list forgets `email`. (A plain form post is sent
/// back to the page it came from, which then renders without it.)
#[server(prefix = "/api", endpoint = "forget_remembered_account")]
pub async fn forget_remembered_account(email: String) -> Result<(), AppError> {
    use crate::server::context::{app, login_hint, set_cookie};
    let app = app()?;
    let remembered = login_hint(&app);
    set_cookie(crate::login_hint::forget(
        &email,
        &remembered,
        app.config.is_https(),
    ));
    Ok(())
}

#[server(prefix = "/api", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::events::{Event, EventType};
    use crate::server::context::{app, current_session, record, set_cookie};
    let app = app()?;
    let mut target = crate::routes::Page::Login.path().to_string();
    if let Some(session) = current_session().0 {
        app.sessions
            .end(&session)
            .await
            .map_err(|err| AppError::internal("ending a session", err))?;
        record(
            &app,
            Event::new(EventType::SignedOut).with_account(session.account_id()),
        )
        .await;
        // A session that came from the provider ends there too, when it offers that; it
        // then sends the browser back to /login.
        if let Some(url) = app.idp.logout_url(session.idp_id_token()) {
            target = url;
        }
    }
    set_cookie(app.sessions.clear_cookie());
    leptos_axum::redirect(&target);
    Ok(())
}
