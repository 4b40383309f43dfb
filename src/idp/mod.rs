//! Identity providers: where classic sign-up and password login live.
//!
//! Latchkey never replaces the IdP; it asks it "who is this?" and layers passkeys on top.
//! `builtin` stands for a company's own login code; `oidc` (any OpenID Connect provider)
//! implements the same trait.

pub mod builtin;
pub mod oidc;

use async_trait::async_trait;

use crate::error::AppError;
use crate::store::StoreError;

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
    #[error("the email is already registered")]
    EmailTaken,
    #[error("{0}")]
    Invalid(String),
    #[error("this identity provider does not support {0}")]
    Unsupported(&'static str),
    #[error("the identity provider is unavailable: {0}")]
    Unavailable(String),
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
            IdpError::InvalidCredentials => Self::InvalidCredentials,
            IdpError::EmailTaken => Self::EmailTaken,
            IdpError::Invalid(message) => Self::Invalid(message),
            IdpError::Unsupported(what) => {
                Self::Invalid(format!("Sign-in with {what} is not available here."))
            }
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
            IdpError::Store(err) => Self::internal("identity provider store", err),
            IdpError::Internal(err) => Self::internal("identity provider", err),
        }
    }
}

#[async_trait]
pub trait IdentityProvider: Send + Sync {
    /// The issuer half of every identity this IdP returns (`builtin`, or the OIDC issuer URL).
    fn issuer(&self) -> &str;

    /// Whether the login page shows an email + password form for this IdP.
    fn supports_password(&self) -> bool;

    /// Registers a new user with a password.
    async fn sign_up(&self, email: &str, password: &str) -> Result<Identity, IdpError>;

    /// Checks a password login.
    async fn sign_in_with_password(
        &self,
        email: &str,
        password: &str,
    ) -> Result<Identity, IdpError>;
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
