//! An account as support sees it (status, passkeys, sessions, timeline), and what an operator
//! may do to it. Every action is an audit event with the operator as actor and, where a
//! value changed, `old → new` in its detail.

use super::access::OperatorRequest;
use super::events::{minute_in_words, rows};
use super::model::{AccountDetail, AccountLink, DecisionRow, PasskeyRow, SessionRow};
use crate::connect::backend_client::BackendError;
use crate::error::AppError;
use crate::events::{Event, EventFilter, EventType, Reason};
use crate::idp::Identity;
use crate::server::context::{record, request_client};
use crate::store::accounts::{Account, PasskeysBlock};
use crate::store::now;

/// Events on an account page.
const TIMELINE_LENGTH: u32 = 100;
/// Passkey decisions on an account page.
const DECISIONS_LENGTH: u32 = 10;
/// The longest block an operator can give a number of days for (else: until unblocked).
pub const MAX_BLOCK_DAYS: u32 = 3650;

pub async fn search(op: &OperatorRequest, prefix: &str) -> Result<Vec<AccountLink>, AppError> {
    let found = op
        .app
        .store
        .search_accounts(prefix)
        .await
        .map_err(|err| AppError::internal("searching accounts", err))?;
    Ok(found
        .into_iter()
        .map(|account| AccountLink {
            id: account.id,
            email: account.email,
        })
        .collect())
}

/// The account, or not found.
pub async fn find(op: &OperatorRequest, id: &str) -> Result<Account, AppError> {
    op.app
        .store
        .find_account(id)
        .await
        .map_err(|err| AppError::internal("finding the account", err))?
        .ok_or(AppError::NotFound)
}

fn identity(account: &Account) -> Identity {
    Identity {
        issuer: account.idp.clone(),
        subject: account.subject.clone(),
        email: account.email.clone(),
    }
}

/// Everything the account page shows.
pub async fn detail(op: &OperatorRequest, id: &str) -> Result<AccountDetail, AppError> {
    let app = &op.app;
    let account = find(op, id).await?;
    let active = app.idp.is_active(&identity(&account)).await.unwrap_or(true);
    let block = current_block(op, &account.id, now()).await?;
    // The passkey service may be down: the page still shows the rest and says so.
    let passkeys = passkeys_of(op, &account.id).await.ok();
    let sessions = app
        .sessions
        .of_account(&account.id)
        .await
        .map_err(|err| AppError::internal("reading sessions", err))?
        .into_iter()
        .map(|row| SessionRow {
            browser: row.browser.unwrap_or_else(|| "Unknown browser".into()),
            os: row.os.unwrap_or_else(|| "unknown OS".into()),
            ip: row.client_ip.unwrap_or_else(|| "unknown".into()),
            method: row.auth_method,
            started: minute_in_words(row.created_at),
            last_seen: minute_in_words(row.last_seen_at),
        })
        .collect();
    let filter = EventFilter {
        account: Some(account.id.clone()),
        ..Default::default()
    };
    let timeline = app
        .events
        .list(&filter, None, TIMELINE_LENGTH)
        .await
        .map_err(|err| AppError::internal("reading the timeline", err))?;
    let decisions = app
        .events
        .list(
            &EventFilter {
                account: Some(account.id.clone()),
                types: DECISION_TYPES.to_vec(),
                ..Default::default()
            },
            None,
            DECISIONS_LENGTH,
        )
        .await
        .map_err(|err| AppError::internal("reading the passkey decisions", err))?;
    Ok(AccountDetail {
        id: account.id.clone(),
        email: account.email.clone(),
        idp: account.idp.clone(),
        disabled: !active,
        can_disable: app.idp.can_disable(),
        passkeys_blocked: block.map(|block| block_in_words(&block)),
        passkeys,
        sessions,
        decisions: decisions.events.iter().map(decision_row).collect(),
        timeline: rows(&app.store, &timeline.events).await,
    })
}

/// The events that record a decision about offering passkeys (docs/intelligence.md).
const DECISION_TYPES: [EventType; 4] = [
    EventType::PasskeyDecision,
    EventType::AppendOffered,
    EventType::AppendSkipped,
    EventType::PasskeyLoginFellBack,
];

fn decision_row(stored: &crate::events::StoredEvent) -> DecisionRow {
    let event = &stored.event;
    let decision = match event.event_type {
        EventType::PasskeyDecision => event.detail.clone().unwrap_or_default(),
        EventType::AppendOffered => "append: offer a passkey".to_string(),
        EventType::AppendSkipped => "append: no offer".to_string(),
        _ => "login: go to the password".to_string(),
    };
    DecisionRow {
        time: super::events::time_in_words(stored.occurred_at),
        decision,
        reason: event
            .reason
            .map(|reason| reason.in_words().to_string())
            .unwrap_or_else(|| "no reason recorded".to_string()),
        reason_code: event
            .reason
            .map(|reason| reason.as_ref().to_string())
            .unwrap_or_default(),
    }
}

/// The account's passkey block, if one holds at `now`.
async fn current_block(
    op: &OperatorRequest,
    account_id: &str,
    now: i64,
) -> Result<Option<PasskeysBlock>, AppError> {
    Ok(op
        .app
        .store
        .passkeys_block(account_id)
        .await
        .map_err(|err| AppError::internal("reading the passkey block", err))?
        .filter(|block| block.holds_at(now)))
}

fn block_in_words(block: &PasskeysBlock) -> String {
    match block.until {
        Some(until) => format!("until {}", minute_in_words(until)),
        None => "until unblocked".into(),
    }
}

/// The service's user id for the account (None: it has never made a passkey).
async fn service_user(
    op: &OperatorRequest,
    account_id: &str,
) -> Result<Option<String>, BackendError> {
    op.app.connect.find_user_id(account_id).await
}

async fn passkeys_of(
    op: &OperatorRequest,
    account_id: &str,
) -> Result<Vec<PasskeyRow>, BackendError> {
    let Some(user) = service_user(op, account_id).await? else {
        return Ok(Vec::new());
    };
    let credentials = op.app.connect.list_credentials(&user).await?;
    Ok(credentials
        .into_iter()
        .map(|c| PasskeyRow {
            provider: c.display_name(),
            icon_light: c.aaguid_details.icon_light.clone(),
            icon_dark: c.aaguid_details.icon_dark.clone(),
            created: format!(
                "{} on {}, {}",
                c.source_browser,
                c.source_os,
                minute_in_words(c.created_ms / 1000)
            ),
            last_used: if c.last_used_ms > 0 {
                minute_in_words(c.last_used_ms / 1000)
            } else {
                "never".into()
            },
            synced: c.backup_state,
            id: c.id,
        })
        .collect())
}

/// Deletes one of the account's passkeys (the service records `passkey.deleted` with the
/// operator as actor).
pub async fn delete_passkey(
    op: &OperatorRequest,
    account_id: &str,
    passkey_id: &str,
) -> Result<(), AppError> {
    let account = find(op, account_id).await?;
    let user = service_user(op, &account.id)
        .await
        .map_err(|_| AppError::Unavailable)?
        .ok_or(AppError::NotFound)?;
    op.app
        .connect
        .delete_credential(&user, passkey_id, Some(op.actor()))
        .await
        .map_err(|err| {
            if err.is_not_found() {
                AppError::NotFound
            } else {
                AppError::Unavailable
            }
        })
}

/// Ends every session of the account; the person's next request is signed out.
pub async fn sign_out_everywhere(op: &OperatorRequest, account_id: &str) -> Result<u64, AppError> {
    let account = find(op, account_id).await?;
    let ended = op
        .app
        .store
        .delete_sessions_of_account(&account.id)
        .await
        .map_err(|err| AppError::internal("ending sessions", err))?;
    let event = Event::new(EventType::SessionEnded)
        .with_reason(Reason::Revoked)
        .with_account(&account.id)
        .with_actor(op.actor())
        .with_detail(&format!("{ended} session(s)"));
    record(&op.app, event).await;
    Ok(ended)
}

/// Disables or enables the account at the IdP; disabling also ends its sessions.
pub async fn set_disabled(
    op: &OperatorRequest,
    account_id: &str,
    disabled: bool,
) -> Result<(), AppError> {
    let app = &op.app;
    let account = find(op, account_id).await?;
    let identity = identity(&account);
    let was_active = app.idp.is_active(&identity).await?;
    if was_active != disabled {
        return Ok(()); // Already so (a second click, another operator): nothing changes.
    }
    app.idp.set_active(&identity, !disabled).await?;
    let (event_type, change) = if disabled {
        (EventType::AccountDisabled, "status: Active → Disabled")
    } else {
        (EventType::AccountEnabled, "status: Disabled → Active")
    };
    let event = Event::new(event_type)
        .with_account(&account.id)
        .with_actor(op.actor())
        .with_detail(change);
    record(app, event).await;
    if disabled {
        let ended = app
            .store
            .delete_sessions_of_account(&account.id)
            .await
            .map_err(|err| AppError::internal("ending sessions", err))?;
        if ended > 0 {
            let event = Event::new(EventType::SessionEnded)
                .with_reason(Reason::Revoked)
                .with_account(&account.id)
                .with_actor(op.actor())
                .with_detail(&format!("{ended} session(s)"));
            record(app, event).await;
        }
    }
    Ok(())
}

/// Blocks passkey login and append for the account, for `days` or until unblocked.
pub async fn block_passkeys(
    op: &OperatorRequest,
    account_id: &str,
    days: Option<u32>,
) -> Result<(), AppError> {
    if let Some(days) = days {
        if days == 0 || days > MAX_BLOCK_DAYS {
            return Err(AppError::Invalid(format!(
                "Block for 1 to {MAX_BLOCK_DAYS} days, or leave the field empty to block until unblocked."
            )));
        }
    }
    let account = find(op, account_id).await?;
    let now = now();
    let old = current_block(op, &account.id, now).await?;
    let block = PasskeysBlock {
        since: now,
        until: days.map(|days| now + i64::from(days) * 86_400),
    };
    change_block(op, &account, old, Some(block), EventType::PasskeysBlocked).await
}

pub async fn unblock_passkeys(op: &OperatorRequest, account_id: &str) -> Result<(), AppError> {
    let account = find(op, account_id).await?;
    let old = current_block(op, &account.id, now()).await?;
    if old.is_none() {
        return Ok(());
    }
    change_block(op, &account, old, None, EventType::PasskeysUnblocked).await
}

async fn change_block(
    op: &OperatorRequest,
    account: &Account,
    old: Option<PasskeysBlock>,
    new: Option<PasskeysBlock>,
    event_type: EventType,
) -> Result<(), AppError> {
    op.app
        .store
        .set_passkeys_block(&account.id, new)
        .await
        .map_err(|err| AppError::internal("saving the passkey block", err))?;
    let words = |block: Option<PasskeysBlock>| match block {
        Some(block) => format!("blocked {}", block_in_words(&block)),
        None => "not blocked".to_string(),
    };
    let event = Event::new(event_type)
        .with_account(&account.id)
        .with_actor(op.actor())
        .with_detail(&format!("passkeys: {} → {}", words(old), words(new)))
        .with_client(request_client());
    op.app.events.record(event).await;
    Ok(())
}
