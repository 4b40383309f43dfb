//! Helpers for server functions: reach the app state and the current session, set cookies,
//! enforce the journey, and answer errors with the right status.

use axum::http::header::{HeaderValue, SET_COOKIE};
use axum::http::request::Parts;
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

use super::state::AppState;
use crate::error::AppError;
use crate::events::{Client, Event};
use crate::idp::Identity;
use crate::journey::SessionState;
use crate::session::{AuthMethod, CurrentSession, Session};

pub fn app() -> Result<AppState, AppError> {
    use_context::<AppState>()
        .ok_or_else(|| AppError::internal("server function", "AppState missing from context"))
}

/// The session the middleware found for this request.
pub fn current_session() -> CurrentSession {
    use_context::<Parts>()
        .and_then(|parts| parts.extensions.get::<CurrentSession>().cloned())
        .unwrap_or_default()
}

/// The client's address, as the server decided it (see [`crate::serving::client_ip`]).
pub fn client_ip() -> crate::serving::ClientIp {
    use_context::<Parts>()
        .and_then(|parts| parts.extensions.get::<crate::serving::ClientIp>().copied())
        .unwrap_or(crate::serving::ClientIp::UNKNOWN)
}

/// A request a rate limit refused; `?` turns it into the 429 answer.
#[derive(Debug)]
pub struct RateLimited {
    pub error: AppError,
    /// The bucket's first refusal in a while: worth an event (see `limits::Exceeded`).
    pub first: bool,
}

impl From<RateLimited> for AppError {
    fn from(refused: RateLimited) -> Self {
        refused.error
    }
}

/// Counts this request under each rule, keyed as given; over a limit, the error that says
/// how long to wait (and, for a bucket's first refusal in a while, a `rate-limit.hit`).
pub async fn rate_limit(
    app: &AppState,
    checks: &[(crate::limits::Rule, &str)],
) -> Result<(), RateLimited> {
    let Err(exceeded) = app.limiter.check_all(checks).await else {
        return Ok(());
    };
    if exceeded.first {
        record(app, Event::rate_limit_hit(exceeded.rule)).await;
    }
    Err(RateLimited {
        error: AppError::RateLimited(crate::error::RetryAfter::from_duration(
            exceeded.retry_after,
        )),
        first: exceeded.first,
    })
}

/// The client an event about this request names: its address, and its browser and OS.
pub fn request_client() -> Client {
    use_context::<Parts>()
        .map(|parts| {
            let ip = parts
                .extensions
                .get::<crate::serving::ClientIp>()
                .copied()
                .unwrap_or(crate::serving::ClientIp::UNKNOWN);
            Client::from_request(&parts.headers, ip)
        })
        .unwrap_or_default()
}

/// Records `event` with this request's client.
pub async fn record(app: &AppState, event: Event) {
    app.events.record(event.with_client(request_client())).await;
}

/// What a server function needs from the session before it does anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Any logged-in session, even one still at the append step.
    SignedIn,
    /// A session that has passed the append step.
    Active,
}

pub fn require(need: Need) -> Result<Session, AppError> {
    let current = current_session();
    match (current.state(), need) {
        (SessionState::Anonymous, _) => Err(AppError::Unauthenticated),
        (SessionState::AppendPending, Need::Active) => Err(AppError::AppendPending),
        _ => current.0.ok_or(AppError::Unauthenticated),
    }
}

pub fn set_cookie(value: HeaderValue) {
    if let Some(response) = use_context::<ResponseOptions>() {
        response.append_header(SET_COOKIE, value);
    }
}

/// A fresh login: where the browser goes now, and the cookies it gets.
pub struct LoggedIn {
    /// The append step, carrying the target in `next`.
    pub target: String,
    /// The session just started.
    pub session: Session,
    pub account_id: String,
    pub cookies: Vec<HeaderValue>,
}

/// What the browser of a login brings along.
pub struct LoggingInBrowser<'a> {
    /// Its session before this login, if any (ended by it).
    pub previous: Option<&'a Session>,
    pub client: &'a Client,
    /// The accounts its one-tap cookie already remembers.
    pub remembered: &'a [String],
}

/// Turns an IdP identity into an app session: account upsert, fresh session id (the one the
/// browser had, if any, is deleted), session and one-tap cookies. `provider` is what a login
/// at an OpenID provider said about the provider's own session.
pub async fn start_app_session(
    app: &AppState,
    identity: Identity,
    method: AuthMethod,
    provider: Option<&crate::idp::ProviderSession>,
    browser: LoggingInBrowser<'_>,
    next: &str,
) -> Result<LoggedIn, AppError> {
    let LoggingInBrowser {
        previous,
        client,
        remembered,
    } = browser;
    let account = app
        .store
        .upsert_account(&identity.issuer, &identity.subject, &identity.email)
        .await
        .map_err(|err| AppError::internal("saving the account", err))?;
    if method != AuthMethod::Passkey {
        app.store
            .record_idp_login(&account.id, crate::store::now())
            .await
            .map_err(|err| AppError::internal("recording the login", err))?;
    }
    let (session, cookie) = app
        .sessions
        .start_with_provider(
            &account.id,
            &account.email,
            method,
            provider,
            previous,
            client,
        )
        .await
        .map_err(|err| AppError::internal("starting a session", err))?;
    Ok(LoggedIn {
        session,
        account_id: account.id,
        target: crate::journey::target_after_login(Some(next)),
        cookies: vec![
            cookie,
            crate::login_hint::remember(&account.email, remembered, app.config.is_https()),
        ],
    })
}

/// [`start_app_session`] from a server function: the cookies go on its response.
/// Returns where the browser goes now.
pub async fn log_in(
    app: &AppState,
    identity: Identity,
    method: AuthMethod,
    next: &str,
) -> Result<LoggedIn, AppError> {
    let previous = current_session().0;
    let mut logged_in = start_app_session(
        app,
        identity,
        method,
        None,
        LoggingInBrowser {
            previous: previous.as_ref(),
            client: &request_client(),
            remembered: &login_hint(app),
        },
        next,
    )
    .await?;
    for cookie in std::mem::take(&mut logged_in.cookies) {
        set_cookie(cookie);
    }
    Ok(logged_in)
}

/// Ends the append step of `session` and redirects to the target it carried.
pub async fn leave_append(app: &AppState, session: &Session, next: &str) -> Result<(), AppError> {
    let target = end_append(app, session, next).await?;
    leptos_axum::redirect(&target);
    Ok(())
}

/// Ends the append step of `session`; returns the target it carried.
pub async fn end_append(app: &AppState, session: &Session, next: &str) -> Result<String, AppError> {
    let still_there = app
        .sessions
        .finish_append(session)
        .await
        .map_err(|err| AppError::internal("finishing the append step", err))?;
    if !still_there {
        return Err(AppError::Unauthenticated);
    }
    Ok(crate::journey::target_after_append(Some(next)))
}

/// The accounts the request's one-tap cookie remembers (see [`crate::login_hint`]).
pub fn login_hint(app: &AppState) -> Vec<String> {
    use_context::<Parts>()
        .map(|parts| crate::login_hint::read(&parts.headers, app.config.is_https()))
        .unwrap_or_default()
}
