//! One login through the provider, seen from our side: the request we send the browser off
//! with, and the callback that must answer exactly that request in exactly that browser.
//!
//! `state` names a server-side row (stored by hash, consumed once), and the row is bound to
//! the browser that started it through a cookie (stored by hash too): a callback URL pasted
//! into another browser, replayed, or carrying a made-up `state` never makes a session.

use std::collections::HashMap;
use std::time::Duration;

use super::OidcIdp;
use crate::cookies::AppCookie;
use crate::idp::{IdpError, ProviderSession, RedirectLogin, RedirectStart};
use crate::store::oidc_logins::PendingLogin;
use crate::store::{now, StoreError};
use http::header::HeaderMap;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// SameSite=Lax, like all our cookies: the provider's redirect back is a top-level GET
/// from another site.
const BINDING_COOKIE: AppCookie = AppCookie {
    plain: "latchkey_oidc",
    host_only: "__Host-latchkey_oidc",
};
/// How long a person may take at the provider's pages.
pub const LOGIN_LIFETIME: Duration = Duration::from_secs(600);
const BINDING_BYTES: usize = 32;

/// The query string of the provider's redirect back to us.
#[derive(Debug, Default, serde::Deserialize)]
pub struct CallbackParams {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    /// RFC 9207: which provider answered (checked when sent).
    pub iss: Option<String>,
}

impl CallbackParams {
    pub fn from_query(query: &HashMap<String, String>) -> Self {
        let get = |key: &str| query.get(key).cloned();
        Self {
            state: get("state"),
            code: get("code"),
            error: get("error"),
            error_description: get("error_description"),
            iss: get("iss"),
        }
    }
}

/// Why a callback does not make a session. Each is shown to the person as one sentence.
#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    #[error("the callback has no state")]
    MissingState,
    #[error("unknown, expired or already used state")]
    UnknownState,
    #[error("the login was started in another browser")]
    OtherBrowser,
    #[error("the callback names issuer {0:?}")]
    WrongIssuer(String),
    #[error("the provider answered {error}")]
    Provider {
        error: String,
        description: Option<String>,
    },
    #[error("the callback has no code")]
    MissingCode,
    #[error(transparent)]
    Idp(#[from] IdpError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CallbackError {
    /// The HTTP status of the page that says so.
    pub fn status(&self) -> u16 {
        match self {
            Self::Idp(IdpError::Unavailable(_) | IdpError::Discovery(_)) => 503,
            Self::Idp(IdpError::Rejected(_)) => 400,
            Self::Idp(_) | Self::Store(_) => 500,
            _ => 400,
        }
    }

    /// What the person reads (no internals).
    pub fn message(&self, provider: &str) -> String {
        match self {
            Self::MissingState | Self::UnknownState => {
                "This sign-in link has expired or was already used. Please sign in again.".into()
            }
            Self::OtherBrowser => {
                "This sign-in was started in another browser or tab that has since been closed. Please sign in again here.".into()
            }
            Self::Provider { error, .. } if error == "access_denied" => {
                format!("Signing in at {provider} was cancelled.")
            }
            Self::Idp(IdpError::Unavailable(_) | IdpError::Discovery(_)) => format!(
                "We can't reach {provider} right now. Try again in a few minutes, or sign in with a passkey."
            ),
            Self::Idp(IdpError::Store(_) | IdpError::Internal(_)) | Self::Store(_) => {
                "Something went wrong on our side. Please try again.".into()
            }
            _ => format!("Signing in at {provider} did not work. Please try again."),
        }
    }
}

/// A callback that did not work, with what we still know of the login (for the way back).
#[derive(Debug)]
pub struct CallbackFailure {
    pub error: CallbackError,
    pub login_hint: String,
    pub next: String,
}

fn hash(value: &str) -> String {
    format!("{:x}", Sha256::digest(value.as_bytes()))
}

/// The binding value the browser already carries, if it is one we could have written.
fn binding_of(headers: &HeaderMap, secure: bool) -> Option<&str> {
    BINDING_COOKIE.read(headers, secure).filter(|value| {
        value.len() == 43
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// Stores a new authorization request bound to this browser and says where to send it.
/// Several tabs of one browser share the binding, so each can finish its own login.
pub async fn begin(
    idp: &OidcIdp,
    headers: &HeaderMap,
    login_hint: Option<&str>,
    next: &str,
) -> Result<RedirectStart, IdpError> {
    let (store, secure) = (&idp.store, idp.secure);
    let binding = binding_of(headers, secure)
        .map(str::to_string)
        .unwrap_or_else(|| crate::random::token(BINDING_BYTES));
    let authorization = idp.authorization(login_hint).await?;
    let now = now();
    let login = PendingLogin {
        browser_hash: hash(&binding),
        nonce: authorization.nonce,
        pkce_verifier: authorization.pkce_verifier,
        next: crate::journey::safe_next(next).unwrap_or_default(),
        login_hint: login_hint.unwrap_or_default().to_string(),
        expires_at: now + LOGIN_LIFETIME.as_secs() as i64,
    };
    store
        .insert_oidc_login(&hash(authorization.state.expose()), &login, now)
        .await?;
    Ok(RedirectStart {
        url: authorization.url,
        cookie: BINDING_COOKIE.set(secure, &binding, LOGIN_LIFETIME),
    })
}

/// Checks the callback against the request it claims to answer, then has the provider's
/// answer verified. The pending request is consumed whatever the outcome.
pub async fn finish(
    idp: &OidcIdp,
    headers: &HeaderMap,
    params: CallbackParams,
) -> Result<RedirectLogin, CallbackFailure> {
    let (store, secure) = (&idp.store, idp.secure);
    let fail = |error: CallbackError, login: Option<&PendingLogin>| CallbackFailure {
        error,
        login_hint: login.map(|l| l.login_hint.clone()).unwrap_or_default(),
        next: login.map(|l| l.next.clone()).unwrap_or_default(),
    };
    let state = params
        .state
        .filter(|state| !state.is_empty() && state.len() <= 512)
        .ok_or_else(|| fail(CallbackError::MissingState, None))?;
    let login = store
        .take_oidc_login(&hash(&state), now())
        .await
        .map_err(|err| fail(err.into(), None))?
        .ok_or_else(|| fail(CallbackError::UnknownState, None))?;
    let login = &login;
    let same_browser = binding_of(headers, secure).is_some_and(|binding| {
        bool::from(
            hash(binding)
                .as_bytes()
                .ct_eq(login.browser_hash.as_bytes()),
        )
    });
    if !same_browser {
        // Nothing of the login (not even the email typed) is shown in a foreign browser.
        return Err(fail(CallbackError::OtherBrowser, None));
    }
    // RFC 9207 (mix-up defence): `iss`, when sent or promised, must name our provider.
    match params.iss {
        Some(iss) if iss != idp.settings().issuer => {
            return Err(fail(CallbackError::WrongIssuer(iss), Some(login)));
        }
        None if idp.requires_iss() => {
            return Err(fail(CallbackError::WrongIssuer(String::new()), Some(login)));
        }
        _ => {}
    }
    if let Some(error) = params.error {
        return Err(fail(
            CallbackError::Provider {
                error,
                description: params.error_description,
            },
            Some(login),
        ));
    }
    let code = params
        .code
        .filter(|code| !code.is_empty())
        .ok_or_else(|| fail(CallbackError::MissingCode, Some(login)))?;
    let verified = idp
        .verify_login(&code, &login.pkce_verifier, &login.nonce)
        .await
        .map_err(|err| fail(err.into(), Some(login)))?;
    Ok(RedirectLogin {
        identity: verified.identity,
        provider_session: Some(ProviderSession {
            id_token: verified.id_token,
            sid: verified.sid,
        }),
        next: login.next.clone(),
        clear_cookie: BINDING_COOKIE.clear(secure),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::{HeaderValue, COOKIE};

    #[test]
    fn only_a_well_formed_binding_cookie_counts() {
        let mut headers = HeaderMap::new();
        let good = crate::random::token(BINDING_BYTES);
        headers.insert(
            COOKIE,
            HeaderValue::from_str(&format!("latchkey_oidc={good}")).unwrap(),
        );
        assert_eq!(binding_of(&headers, false), Some(good.as_str()));
        // The https name is a different cookie.
        assert_eq!(binding_of(&headers, true), None);
        for bad in ["short", "a b", &"x".repeat(44)] {
            headers.insert(
                COOKIE,
                HeaderValue::from_str(&format!("latchkey_oidc={bad}")).unwrap(),
            );
            assert_eq!(binding_of(&headers, false), None, "{bad}");
        }
    }

    #[test]
    fn the_binding_cookie_is_host_only_http_only_and_lax() {
        let cookie = BINDING_COOKIE.set(true, "v", LOGIN_LIFETIME);
        let text = cookie.to_str().unwrap();
        assert!(text.starts_with("__Host-latchkey_oidc=v;"), "{text}");
        for flag in [
            "Path=/",
            "HttpOnly",
            "SameSite=Lax",
            "Secure",
            "Max-Age=600",
        ] {
            assert!(text.contains(flag), "{text} lacks {flag}");
        }
    }

    #[test]
    fn statuses_and_messages_never_leak_internals() {
        let unavailable = CallbackError::Idp(IdpError::Unavailable("10.0.0.7 refused".into()));
        assert_eq!(unavailable.status(), 503);
        assert!(!unavailable.message("Acme").contains("10.0.0.7"));
        assert!(unavailable.message("Acme").contains("passkey"));
        let denied = CallbackError::Provider {
            error: "access_denied".into(),
            description: None,
        };
        assert_eq!(denied.status(), 400);
        assert_eq!(denied.message("Acme"), "Signing in at Acme was cancelled.");
        assert_eq!(CallbackError::UnknownState.status(), 400);
        assert_eq!(
            CallbackError::Idp(IdpError::Rejected("nonce".into())).status(),
            400
        );
    }
}
