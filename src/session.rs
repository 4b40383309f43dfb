//! The app session: a random 256-bit token in an `HttpOnly` cookie, and server-side state
//! keyed by the token's HMAC (so a copy of the table cannot be replayed as cookies).
//!
//! Every login gets a new token; the old session, if any, is deleted (no fixation). Sessions
//! end after an idle timeout, an absolute timeout, or logout, whichever comes first.

use std::time::Duration;

use hmac::{Hmac, Mac};
use http::header::{HeaderMap, HeaderValue};
use sha2::Sha256;

use crate::config::{Config, Secret, SessionSettings};
use crate::cookies::AppCookie;
use crate::journey::SessionState;
use crate::store::sessions::SessionRow;
use crate::store::{now, Store, StoreError};

const COOKIE: AppCookie = AppCookie {
    plain: "latchkey_session",
    host_only: "__Host-latchkey_session",
};
/// Bytes of randomness in a session token.
const TOKEN_BYTES: usize = 32;
/// `last_seen_at` is written at most this often, so page views don't all become writes.
const TOUCH_INTERVAL_SECS: i64 = 60;

/// How a session's login was made (stored with the session).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::AsRefStr)]
#[strum(serialize_all = "lowercase")]
pub enum AuthMethod {
    Password,
    Passkey,
    Oidc,
}

/// A live session of the current request. Server-only: not `Serialize`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    row: SessionRow,
}

impl Session {
    pub fn account_id(&self) -> &str {
        &self.row.account_id
    }

    pub fn email(&self) -> &str {
        &self.row.email
    }

    pub fn append_pending(&self) -> bool {
        self.row.append_pending
    }

    pub fn auth_method(&self) -> &str {
        &self.row.auth_method
    }

    pub fn authenticated_at(&self) -> i64 {
        self.row.authenticated_at
    }

    /// The ID token of an OpenID Connect login (for RP-initiated logout); None otherwise.
    pub fn idp_id_token(&self) -> Option<&str> {
        self.row.idp_id_token.as_ref().map(Secret::expose)
    }

    pub fn state(&self) -> SessionState {
        if self.row.append_pending {
            SessionState::AppendPending
        } else {
            SessionState::Active
        }
    }
}

/// The session of the request being served, put in the request's extensions by the
/// session middleware and read by pages and server functions.
#[derive(Debug, Clone, Default)]
pub struct CurrentSession(pub Option<Session>);

impl CurrentSession {
    pub fn state(&self) -> SessionState {
        self.0
            .as_ref()
            .map_or(SessionState::Anonymous, Session::state)
    }
}

/// What the cookie on a request resolved to.
#[derive(Debug)]
pub struct Resolved {
    pub session: Option<Session>,
    /// The request carried a cookie that no longer names a live session: clear it.
    pub clear_cookie: bool,
}

/// Creates, finds and ends sessions.
#[derive(Clone)]
pub struct Sessions {
    store: Store,
    settings: SessionSettings,
    key: Secret,
    secure: bool,
}

impl Sessions {
    pub fn new(store: Store, config: &Config) -> Self {
        Self {
            store,
            settings: config.session.clone(),
            key: config.secrets.session_secret.clone(),
            secure: config.is_https(),
        }
    }

    pub fn cookie_name(&self) -> &'static str {
        COOKIE.name(self.secure)
    }

    pub fn settings(&self) -> &SessionSettings {
        &self.settings
    }

    fn hash(&self, token: &str) -> String {
        // HMAC accepts keys of any length; this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.key.expose().as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(token.as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    /// Starts a session for a fresh login and returns it with its `Set-Cookie` value.
    /// `replaces` (the session the browser had, if any) is deleted.
    pub async fn start(
        &self,
        account_id: &str,
        email: &str,
        method: AuthMethod,
        replaces: Option<&Session>,
    ) -> Result<(Session, HeaderValue), StoreError> {
        let client = crate::events::Client::default();
        self.start_with_provider(account_id, email, method, None, replaces, &client)
            .await
    }

    /// [`Sessions::start`] for a login at an OpenID provider, keeping what the provider said
    /// about its own session: the ID token (for the logout there) and its `sid` (for a
    /// back-channel logout that names it).
    pub async fn start_with_provider(
        &self,
        account_id: &str,
        email: &str,
        method: AuthMethod,
        provider: Option<&crate::idp::ProviderSession>,
        replaces: Option<&Session>,
        client: &crate::events::Client,
    ) -> Result<(Session, HeaderValue), StoreError> {
        if let Some(old) = replaces {
            self.store.delete_session(&old.row.id_hash).await?;
        }
        let token = crate::random::token(TOKEN_BYTES);
        let now = now();
        let row = SessionRow {
            id_hash: self.hash(&token),
            account_id: account_id.to_string(),
            email: email.to_string(),
            auth_method: method.as_ref().to_string(),
            // Every login passes through the passkey append step first.
            append_pending: true,
            created_at: now,
            authenticated_at: now,
            last_seen_at: now,
            expires_at: now + secs(self.settings.absolute_timeout),
            idp_id_token: provider.map(|p| p.id_token.clone()),
            idp_sid: provider.and_then(|p| p.sid.clone()),
            client_ip: client.ip.clone(),
            browser: client.browser.clone(),
            os: client.os.clone(),
        };
        self.store.insert_session(&row).await?;
        tracing::info!(account = %account_id, method = method.as_ref(), "session started");
        Ok((Session { row }, self.cookie(&token)))
    }

    /// Finds the live session named by the request's cookie, enforcing both timeouts.
    pub async fn resolve(&self, headers: &HeaderMap) -> Result<Resolved, StoreError> {
        let Some(token) = self.token_from(headers) else {
            return Ok(Resolved {
                session: None,
                clear_cookie: false,
            });
        };
        let dead = Resolved {
            session: None,
            clear_cookie: true,
        };
        if !looks_like_token(&token) {
            return Ok(dead);
        }
        let id_hash = self.hash(&token);
        let Some(row) = self.store.find_session(&id_hash).await? else {
            return Ok(dead);
        };
        let now = now();
        if self.is_expired(&row, now) {
            self.store.delete_session(&id_hash).await?;
            return Ok(dead);
        }
        if now - row.last_seen_at >= TOUCH_INTERVAL_SECS {
            self.store.touch_session(&id_hash, now).await?;
        }
        Ok(Resolved {
            session: Some(Session { row }),
            clear_cookie: false,
        })
    }

    fn is_expired(&self, row: &SessionRow, now: i64) -> bool {
        now >= row.expires_at || now - row.last_seen_at >= secs(self.settings.idle_timeout)
    }

    /// Logout: the session is deleted server side.
    pub async fn end(&self, session: &Session) -> Result<(), StoreError> {
        self.store.delete_session(&session.row.id_hash).await?;
        tracing::info!(account = %session.row.account_id, "session ended");
        Ok(())
    }

    /// The user went on from `/append`; false if the session vanished meanwhile.
    pub async fn finish_append(&self, session: &Session) -> Result<bool, StoreError> {
        self.store.clear_append_pending(&session.row.id_hash).await
    }

    /// The person confirmed it is them (password or passkey, for this session's account):
    /// sensitive actions are allowed again for the re-authentication window. False when the
    /// session has ended meanwhile.
    pub async fn reauthenticated(&self, session: &Session) -> Result<bool, StoreError> {
        let done = self
            .store
            .set_authenticated_at(&session.row.id_hash, now())
            .await?;
        if done {
            tracing::info!(account = %session.row.account_id, "re-authenticated");
        }
        Ok(done)
    }

    /// The account's live sessions, most recently seen first.
    pub async fn of_account(&self, account_id: &str) -> Result<Vec<SessionRow>, StoreError> {
        let now = now();
        self.store
            .sessions_of_account(account_id, now, now - secs(self.settings.idle_timeout))
            .await
    }

    /// Whether the login is recent enough for sensitive actions (e.g. deleting a passkey).
    pub fn is_recent_login(&self, session: &Session) -> bool {
        now() - session.row.authenticated_at < secs(self.settings.reauth_window)
    }

    /// Deletes expired sessions; run periodically.
    /// Deletes expired sessions; returns the account of each.
    pub async fn purge_expired(&self) -> Result<Vec<String>, StoreError> {
        let now = now();
        self.store
            .purge_sessions(now, now - secs(self.settings.idle_timeout))
            .await
    }

    fn cookie(&self, token: &str) -> HeaderValue {
        COOKIE.set(self.secure, token, self.settings.absolute_timeout)
    }

    /// A `Set-Cookie` value that removes the session cookie.
    pub fn clear_cookie(&self) -> HeaderValue {
        COOKIE.clear(self.secure)
    }

    fn token_from(&self, headers: &HeaderMap) -> Option<String> {
        COOKIE.read(headers, self.secure).map(str::to_string)
    }
}

fn looks_like_token(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
