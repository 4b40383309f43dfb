use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use http::header::{HeaderMap, HeaderValue};

use super::ClassicLogin;
use crate::config::{Config, IdpSettings, Secret};
use crate::error::AppError;
use crate::store::{Store, StoreError};

/// Who the IdP says the user is. `(issuer, subject)` is stable; `email` is display data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    pub email: String,
}

#[derive(Debug, thiserror::Error)]
pub enum IdpError {
    /// Unknown user or wrong password: deliberately indistinguishable.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The right password for a disabled account. Answered exactly like
    /// [`IdpError::InvalidCredentials`]; only the audit log tells them apart.
    #[error("the account is disabled")]
    AccountDisabled,
    #[error("the email is already registered")]
    EmailTaken,
    #[error("{0}")]
    Invalid(String),
    /// What this IdP does not do ("Signing in with a password"), as the person reads it.
    #[error("{0} is not available with this identity provider")]
    Unsupported(&'static str),
    #[error("the identity provider is unavailable: {0}")]
    Unavailable(String),
    /// Too many password checks are waiting already.
    #[error("too many password checks are waiting")]
    Busy,
    /// The provider cannot serve our flow (discovery answered, but not usably).
    #[error("{0}")]
    Discovery(String),
    /// The provider's answer to a login failed a protocol check (refused code, bad ID token).
    #[error("the identity provider's answer was refused: {0}")]
    Rejected(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal identity provider error: {0}")]
    Internal(String),
}

impl From<IdpError> for AppError {
    fn from(err: IdpError) -> Self {
        match err {
            IdpError::InvalidCredentials | IdpError::AccountDisabled => Self::InvalidCredentials,
            IdpError::EmailTaken => Self::EmailTaken,
            IdpError::Invalid(message) => Self::Invalid(message),
            IdpError::Unsupported(what) => Self::Invalid(format!("{what} is not available here.")),
            IdpError::Unavailable(reason) => {
                tracing::warn!(%reason, "identity provider unavailable");
                Self::Unavailable
            }
            IdpError::Discovery(reason) => {
                tracing::warn!(%reason, "identity provider misconfigured");
                Self::Unavailable
            }
            IdpError::Rejected(reason) => {
                tracing::warn!(%reason, "identity provider answer refused");
                Self::Invalid("Signing in did not work. Please try again.".into())
            }
            IdpError::Busy => {
                tracing::warn!("password check refused: the hashing queue is full");
                Self::Busy
            }
            IdpError::Store(err) => Self::internal("identity provider store", err),
            IdpError::Internal(err) => Self::internal("identity provider", err),
        }
    }
}

/// A login that goes through the provider's own pages: where the browser goes now.
pub struct RedirectStart {
    pub url: url::Url,
    /// Binds the login to this browser (set on the response that redirects).
    pub cookie: HeaderValue,
}

/// What a login at an OpenID provider says about the provider's own session, kept with the
/// app session (never sent to the browser).
#[derive(Debug, Clone)]
pub struct ProviderSession {
    /// For the logout at the provider (`id_token_hint`).
    pub id_token: Secret,
    /// The provider's session id, for a back-channel logout that names it.
    pub sid: Option<String>,
}

/// A verified back-channel logout: whose sessions to end (a subject, one provider session,
/// or both).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderLogout {
    pub subject: Option<String>,
    pub sid: Option<String>,
    /// The logout token's `jti` and when it expires: it is acted on once.
    pub jti: String,
    pub expires_at: i64,
}

/// The provider sent the browser back with a verified login.
pub struct RedirectLogin {
    pub identity: Identity,
    pub provider_session: Option<ProviderSession>,
    /// The target the login was started for.
    pub next: String,
    /// Removes the browser-binding cookie.
    pub clear_cookie: HeaderValue,
}

/// The provider's answer did not make a login; what the person reads, and the way back.
#[derive(Debug)]
pub struct RedirectFailure {
    /// The status of the page that says so (400 refused, 503 provider unreachable, 500).
    pub status: u16,
    /// One sentence for the person, without internals.
    pub message: String,
    /// The cause, for the log.
    pub reason: String,
    /// The email typed before the login was sent away (only shown in the same browser).
    pub login_hint: String,
    pub next: String,
}

#[async_trait]
pub trait IdentityProvider: Send + Sync {
    /// The issuer half of every identity this IdP returns (`builtin`, or the OIDC issuer URL).
    fn issuer(&self) -> &str;

    /// What the login and sign-up pages show for the classic login.
    fn classic_login(&self) -> ClassicLogin;

    /// Origins our forms may send the browser to besides our own (CSP `form-action`), as a
    /// space-separated source list: a provider's login and logout.
    fn form_action_sources(&self) -> Option<String> {
        None
    }

    /// Registers a new user with a password.
    async fn sign_up(&self, _email: &str, _password: &str) -> Result<Identity, IdpError> {
        Err(IdpError::Unsupported("Creating an account with a password"))
    }

    /// Checks a password login.
    async fn sign_in_with_password(
        &self,
        _email: &str,
        _password: &str,
    ) -> Result<Identity, IdpError> {
        Err(IdpError::Unsupported("Signing in with a password"))
    }

    /// Starts a login at the provider's pages for the browser that sent `headers`, the typed
    /// email as a hint, coming back to `next`.
    async fn start_redirect(
        &self,
        _headers: &HeaderMap,
        _login_hint: Option<&str>,
        _next: &str,
    ) -> Result<RedirectStart, IdpError> {
        Err(IdpError::Unsupported("Signing in through another service"))
    }

    /// Checks the provider's redirect back (`query`: its parameters) against the login this
    /// browser started.
    async fn finish_redirect(
        &self,
        _headers: &HeaderMap,
        _query: &HashMap<String, String>,
    ) -> Result<RedirectLogin, RedirectFailure> {
        Err(RedirectFailure {
            status: 404,
            message: "This site does not sign in through another service.".into(),
            reason: "no redirect login with this identity provider".into(),
            login_hint: String::new(),
            next: String::new(),
        })
    }

    /// Checks a back-channel logout token from the provider (signature by its keys, `iss`,
    /// `aud`, `iat`, `events`, and `sub` and/or `sid`); whose sessions it ends.
    async fn verify_logout_token(&self, _token: &str) -> Result<ProviderLogout, IdpError> {
        Err(IdpError::Unsupported("Back-channel logout"))
    }

    /// Whether the IdP still lets this person in (not disabled, not deleted). Asked before a
    /// passkey login becomes a session: the IdP's account state wins over the passkey.
    async fn is_active(&self, _identity: &Identity) -> Result<bool, IdpError> {
        Ok(true)
    }

    /// Disables (or enables) the person at the IdP: while disabled, neither the password nor
    /// a passkey signs them in. Only IdPs whose accounts Latchkey holds can.
    async fn set_active(&self, _identity: &Identity, _active: bool) -> Result<(), IdpError> {
        Err(IdpError::Unsupported("Disabling accounts"))
    }

    /// Whether [`IdentityProvider::set_active`] works here.
    fn can_disable(&self) -> bool {
        false
    }

    /// How long a login at the IdP itself stays good for: after that, a passkey login must
    /// be followed by one there before it makes a session (`None`: passkeys alone suffice).
    fn reverify_after(&self) -> Option<std::time::Duration> {
        None
    }

    /// Where the browser goes after sign-out to end its session at the provider too (given
    /// the ID token the session kept), if the provider offers that.
    fn logout_url(&self, _id_token: Option<&str>) -> Option<String> {
        None
    }

    /// Whether logins can reach the provider now (readiness); the error says why not, for
    /// the log. A provider inside this process is always ready.
    async fn readiness(&self) -> Result<(), IdpError> {
        Ok(())
    }
}

/// The configured identity provider: the one place that knows every kind.
pub async fn from_settings(
    config: &Config,
    store: &Store,
) -> Result<Arc<dyn IdentityProvider>, IdpError> {
    Ok(match &config.idp {
        IdpSettings::Builtin => Arc::new(
            super::builtin::BuiltinIdp::new(store.clone())?
                .with_hash_queue(config.protection.password_hash_queue),
        ),
        IdpSettings::Oidc(settings) => {
            let oidc = super::oidc::OidcIdp::discover(
                (**settings).clone(),
                store.clone(),
                config.is_https(),
            )
            .await?;
            tracing::info!(issuer = %settings.issuer, "OpenID provider discovered");
            Arc::new(oidc)
        }
    })
}

/// Trims and lower-cases an email and checks its shape; the same rules for sign-up and login.
pub fn normalize_email(email: &str) -> Result<String, IdpError> {
    let email = email.trim().to_lowercase();
    let invalid = || IdpError::Invalid("Enter a valid email address.".into());
    if email.is_empty() || email.len() > 254 || email.chars().any(char::is_whitespace) {
        return Err(invalid());
    }
    let (local, domain) = email.rsplit_once('@').ok_or_else(invalid)?;
    if local.is_empty()
        || local.contains('@')
        || domain.is_empty()
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || domain.contains("..")
    {
        return Err(invalid());
    }
    Ok(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised() {
        assert_eq!(
            normalize_email("  Ada@Example.COM ").unwrap(),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "a@@b.com",
            "a@b..com",
            "a@.b.com",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?}");
        }
    }
}
