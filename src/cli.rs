//! The binary's administrative subcommands, run with the server's own configuration:
//!
//! - `latchkey account disable EMAIL`: the builtin IdP refuses the account's password and
//!   its passkeys, and every session of it ends at once;
//! - `latchkey account enable EMAIL`: lets it in again.

use crate::config::{Config, IdpSettings};
use crate::idp::builtin::BuiltinIdp;
use crate::store::Store;

/// Why a subcommand failed; printed as one line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("accounts are managed by the OpenID provider; disable the person there (and let it send a back-channel logout)")]
    NotBuiltin,
    #[error("no account with the email {0}")]
    UnknownAccount(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("{0}")]
    Idp(#[from] crate::idp::IdpError),
}

/// `account disable|enable EMAIL`: changes the account's state and says what happened.
pub async fn set_account_disabled(
    config: &Config,
    email: &str,
    disabled: bool,
) -> Result<String, CliError> {
    if !matches!(config.idp, IdpSettings::Builtin) {
        return Err(CliError::NotBuiltin);
    }
    let store = Store::open(&config.database_url).await?;
    let idp = BuiltinIdp::new(store.clone())?;
    let subject = idp
        .set_disabled(email, disabled)
        .await?
        .ok_or_else(|| CliError::UnknownAccount(email.to_string()))?;
    let message = if disabled {
        let ended = store
            .delete_sessions_of_subject(crate::idp::builtin::ISSUER, &subject)
            .await?;
        format!("disabled {email}; ended {ended} session(s)")
    } else {
        format!("enabled {email}")
    };
    store.close().await;
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn accounts_of_an_openid_provider_are_not_ours_to_disable() {
        let dir = tempfile::tempdir().unwrap();
        let env = [
            ("LATCHKEY_IDP", "oidc"),
            ("LATCHKEY_IDP_ISSUER", "https://login.example.com"),
            ("LATCHKEY_IDP_CLIENT_ID", "latchkey"),
            ("LATCHKEY_DATA_DIR", &dir.path().display().to_string()),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let config = Config::from_sources("", env).unwrap();
        let err = set_account_disabled(&config, "a@example.com", true)
            .await
            .unwrap_err();
        assert!(matches!(err, CliError::NotBuiltin), "{err}");
    }
}
