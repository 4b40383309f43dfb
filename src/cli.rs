//! The binary's administrative subcommands, run with the server's own configuration:
//!
//! - `latchkey account disable EMAIL`: the builtin IdP refuses the account's password and
//!   its passkeys, and every session of it ends at once;
//! - `latchkey account enable EMAIL`: lets it in again;
//! - `latchkey audit verify`: walks the audit log's hash chain and fails naming the first row
//!   that was changed, deleted or inserted.
//!
//! Each change is recorded in the audit log like any other event.

use crate::config::{Config, IdpSettings};
use crate::events::{Event, EventType, Events, Reason};
use crate::idp::builtin::BuiltinIdp;
use crate::store::{now, Store};

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
    #[error("{0}")]
    Audit(#[from] crate::events::AuditError),
    #[error("security log (LATCHKEY_SECURITY_LOG): {0}")]
    SecurityLog(#[from] std::io::Error),
    /// The chain is broken: the first row that does not check out.
    #[error("the audit log was tampered with: {0}")]
    Tampered(#[from] crate::events::audit::ChainBreak),
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
    // Its events go where the server's go (the running server's worker delivers them).
    let events = Events::open(store.clone(), config.event_sinks()?).await?;
    let idp = BuiltinIdp::new(store.clone())?;
    let subject = idp
        .set_disabled(email, disabled)
        .await?
        .ok_or_else(|| CliError::UnknownAccount(email.to_string()))?;
    let account = store
        .find_account_by_subject(crate::idp::builtin::ISSUER, &subject)
        .await?
        .map(|account| account.id);
    let named = |event: Event| match &account {
        Some(id) => event.with_account(id),
        None => event,
    };
    let message = if disabled {
        let ended = store
            .delete_sessions_of_subject(crate::idp::builtin::ISSUER, &subject)
            .await?;
        events
            .try_record_at(now(), named(Event::new(EventType::AccountDisabled)))
            .await?;
        if ended > 0 {
            let ended_event = Event::new(EventType::SessionEnded)
                .with_reason(Reason::Revoked)
                .with_detail(&format!("{ended} session(s)"));
            events.try_record_at(now(), named(ended_event)).await?;
        }
        format!("disabled {email}; ended {ended} session(s)")
    } else {
        events
            .try_record_at(now(), named(Event::new(EventType::AccountEnabled)))
            .await?;
        format!("enabled {email}")
    };
    store.close().await;
    Ok(message)
}

/// `audit verify`: what was checked, or the first broken row (as the error).
pub async fn verify_audit_log(config: &Config) -> Result<String, CliError> {
    let store = Store::open(&config.database_url).await?;
    store.migrate(crate::events::migrations()).await?;
    let verified = crate::events::audit::verify(&store).await?;
    store.close().await;
    let verified = verified?;
    let start = if verified.starts_after == 0 {
        "from the first row".to_string()
    } else {
        format!("after the checkpoint at row {}", verified.starts_after)
    };
    Ok(format!(
        "audit log intact: {} row(s) checked {start}, up to row {} ({})",
        verified.rows, verified.head_seq, verified.head_hash
    ))
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
