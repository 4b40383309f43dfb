//! The operator console's server functions (docs/console.md). All live under `/api/admin/`:
//! the request guard answers anyone but an operator there with the 404 page, and each
//! function checks again with [`crate::console::access::require_operator`]. Actions answer a
//! plain form post with a redirect back to the page, so the console works without
//! JavaScript.

use leptos::prelude::*;

use crate::console::model::{
    AccountDetail, AccountLink, EventList, OverviewPage, PasskeyPolicy, SettingsForm, SettingsSaved,
};
use crate::error::AppError;

#[server(prefix = "/api/admin", endpoint = "overview")]
pub async fn admin_overview(days: u32) -> Result<OverviewPage, AppError> {
    use crate::console::{access::require_operator, charts, overview};
    let op = require_operator()?;
    if !overview::PERIODS.contains(&days) {
        return Err(AppError::Invalid("Choose 7, 30 or 90 days.".into()));
    }
    let figures = overview::overview(
        &op.app.store,
        &op.app.config.connect_service.providers,
        days,
        crate::store::now(),
    )
    .await
    .map_err(|err| AppError::internal("reading the overview", err))?;
    let in_words = |counts: &[(String, i64)]| {
        counts
            .iter()
            .map(|(code, n)| {
                let words = code
                    .parse::<crate::events::Reason>()
                    .map(|r| r.in_words().to_string())
                    .unwrap_or_else(|_| code.clone());
                (words, *n)
            })
            .collect()
    };
    Ok(OverviewPage {
        period_days: days,
        logins_chart: charts::logins_per_day(&figures.days),
        providers_chart: charts::providers(&figures.providers),
        skipped_in_words: in_words(&figures.append_skipped),
        fell_back_in_words: in_words(&figures.passkey_fell_back),
        overview: figures,
    })
}

#[server(prefix = "/api/admin", endpoint = "search_accounts")]
pub async fn admin_search_accounts(query: String) -> Result<Vec<AccountLink>, AppError> {
    use crate::console::{access::require_operator, accounts};
    let op = require_operator()?;
    accounts::search(&op, &query).await
}

#[server(prefix = "/api/admin", endpoint = "account")]
pub async fn admin_account(id: String) -> Result<AccountDetail, AppError> {
    use crate::console::{access::require_operator, accounts};
    let op = require_operator()?;
    accounts::detail(&op, &id).await
}

/// Back to the account page (a form post without JavaScript follows it).
#[cfg(feature = "ssr")]
fn back_to_account(account_id: &str) {
    leptos_axum::redirect(&crate::routes::Page::admin_account(account_id));
}

#[server(prefix = "/api/admin", endpoint = "delete_passkey")]
pub async fn admin_delete_passkey(account_id: String, passkey_id: String) -> Result<(), AppError> {
    use crate::console::{access::require_operator, accounts};
    let op = require_operator()?;
    accounts::delete_passkey(&op, &account_id, &passkey_id).await?;
    back_to_account(&account_id);
    Ok(())
}

#[server(prefix = "/api/admin", endpoint = "sign_out_everywhere")]
pub async fn admin_sign_out_everywhere(account_id: String) -> Result<(), AppError> {
    use crate::console::{access::require_operator, accounts};
    let op = require_operator()?;
    accounts::sign_out_everywhere(&op, &account_id).await?;
    back_to_account(&account_id);
    Ok(())
}

/// `disabled`: "true" disables, anything else enables (a form's hidden field).
#[server(prefix = "/api/admin", endpoint = "set_account_disabled")]
pub async fn admin_set_account_disabled(
    account_id: String,
    disabled: String,
) -> Result<(), AppError> {
    use crate::console::{access::require_operator, accounts};
    let op = require_operator()?;
    accounts::set_disabled(&op, &account_id, disabled == "true").await?;
    back_to_account(&account_id);
    Ok(())
}

/// `days`: empty blocks until an operator unblocks.
#[server(prefix = "/api/admin", endpoint = "block_passkeys")]
pub async fn admin_block_passkeys(account_id: String, days: String) -> Result<(), AppError> {
    use crate::console::{access::require_operator, accounts};
    let op = require_operator()?;
    let days = match days.trim() {
        "" => None,
        typed => Some(typed.parse::<u32>().map_err(|_| {
            AppError::Invalid("Enter a whole number of days, or leave it empty.".into())
        })?),
    };
    accounts::block_passkeys(&op, &account_id, days).await?;
    back_to_account(&account_id);
    Ok(())
}

#[server(prefix = "/api/admin", endpoint = "unblock_passkeys")]
pub async fn admin_unblock_passkeys(account_id: String) -> Result<(), AppError> {
    use crate::console::{access::require_operator, accounts};
    let op = require_operator()?;
    accounts::unblock_passkeys(&op, &account_id).await?;
    back_to_account(&account_id);
    Ok(())
}

#[server(prefix = "/api/admin", endpoint = "settings")]
pub async fn admin_settings() -> Result<SettingsForm, AppError> {
    use crate::console::{access::require_operator, settings};
    let op = require_operator()?;
    Ok(settings::form_of(&op.app.live.current()))
}

/// The passkey policy this instance was configured with.
#[server(prefix = "/api/admin", endpoint = "passkey_policy")]
pub async fn admin_passkey_policy() -> Result<PasskeyPolicy, AppError> {
    use crate::console::access::require_operator;
    let op = require_operator()?;
    let service = &op.app.config.connect_service;
    let mut rules = service.authenticator_policy.describe(&service.providers);
    rules.push(
        if service.require_user_verification {
            "User verification required (PIN or biometrics) when a passkey is made and at every login"
        } else {
            "User verification preferred: a touch is enough, unless the passkey verified the person when it was made"
        }
        .to_string(),
    );
    rules.push(
        if service.automatic_upgrade {
            "Automatic upgrade on: after a password login, browsers that can make a passkey without a dialog"
        } else {
            "Automatic upgrade off"
        }
        .to_string(),
    );
    Ok(PasskeyPolicy {
        rules,
        related_origins: service
            .related_origins
            .iter()
            .map(|origin| origin.origin().ascii_serialization())
            .collect(),
    })
}

/// The Settings form; a checkbox sends `passkeys_enabled` only when ticked.
#[server(prefix = "/api/admin", endpoint = "save_settings")]
pub async fn admin_save_settings(
    passkeys_enabled: Option<String>,
    login_rollout_percent: String,
    append_rollout_percent: String,
    append_snooze_hours: String,
    offer_again_after_days: String,
) -> Result<SettingsSaved, AppError> {
    use crate::console::{access::require_operator, settings};
    let op = require_operator()?;
    let form = SettingsForm {
        passkeys_enabled: passkeys_enabled.is_some(),
        login_rollout_percent,
        append_rollout_percent,
        append_snooze_hours,
        offer_again_after_days,
    };
    settings::save(&op, &form).await
}

/// The Events page's filters, each optional (see `EventQuery`).
#[server(prefix = "/api/admin", endpoint = "events")]
pub async fn admin_events(
    event_type: Option<String>,
    result: Option<String>,
    account: Option<String>,
    days: Option<u32>,
    before: Option<i64>,
) -> Result<EventList, AppError> {
    use crate::console::access::require_operator;
    use crate::console::model::EventQuery;
    use crate::events::{EventFilter, EventType, Outcome};
    use strum::VariantArray;
    let op = require_operator()?;
    let query = EventQuery {
        event_type,
        result,
        account,
        days,
        before,
    };
    let invalid = |what: &str| AppError::Invalid(format!("Unknown {what}."));
    let types = match query.event_type.as_deref().filter(|t| !t.is_empty()) {
        Some(name) => vec![name
            .parse::<EventType>()
            .map_err(|_| invalid("event type"))?],
        None => Vec::new(),
    };
    let outcome = match query.result.as_deref().filter(|r| !r.is_empty()) {
        Some(result) => Some(result.parse::<Outcome>().map_err(|_| invalid("result"))?),
        None => None,
    };
    // An account by id, or by the email of one.
    let account = match query
        .account
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        Some(wanted) if wanted.contains('@') => Some(
            op.app
                .store
                .find_account_by_email(op.app.idp.issuer(), &wanted.to_lowercase())
                .await
                .map_err(|err| AppError::internal("finding the account", err))?
                .map_or_else(|| wanted.to_string(), |account| account.id),
        ),
        Some(id) => Some(id.to_string()),
        None => None,
    };
    let since = query
        .days
        .filter(|days| *days > 0)
        .map(|days| crate::store::now() - i64::from(days.min(3650)) * 86_400);
    let filter = EventFilter {
        account,
        types,
        outcome,
        since,
        until: None,
    };
    let page = op
        .app
        .events
        .list(&filter, query.before, 50)
        .await
        .map_err(|err| AppError::internal("reading events", err))?;
    Ok(EventList {
        events: crate::console::events::rows(&op.app.store, &page.events).await,
        older: page.next_cursor,
        types: EventType::VARIANTS
            .iter()
            .map(|t| t.as_ref().to_string())
            .collect(),
    })
}
