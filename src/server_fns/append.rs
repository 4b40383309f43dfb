//! The append step's server functions: the app's half of the decision to offer a passkey,
//! and leaving the step for the target the login was for.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Whether `/append` offers a passkey, as far as the app knows. The passkey service may
/// still decline (rollout, a passkey already on this browser, no platform authenticator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppendOffer {
    /// Offer a passkey. `automatic_upgrade`: this login was a password our page took, so
    /// where the browser can, its password manager may make the passkey without a dialog
    /// first (conditional create).
    Offer { automatic_upgrade: bool },
    /// The person chose "Don't ask again".
    OptedOut,
    /// The person skipped recently (`append-snooze-hours`).
    Snoozed,
    /// An operator blocked this account's passkeys.
    Blocked,
    /// The kill switch is off: passkeys are offered to nobody.
    PasskeysOff,
}

/// Decides the app's half of the append step. When the answer is not `Offer` the step is
/// finished here and the response redirects to the target: the server answers `/append`
/// with a redirect before anything is shown.
#[server(prefix = "/api", endpoint = "append_decision")]
pub async fn append_decision(next: String) -> Result<AppendOffer, AppError> {
    use crate::connect::decisions::{append_for_account, AccountAppendFacts, AppendDecision};
    use crate::events::{Event, EventType, Reason};
    use crate::server::context::{app, leave_append, record, require, Need};
    let app = app()?;
    let session = require(Need::SignedIn)?;
    if !session.append_pending() {
        return Ok(AppendOffer::Offer {
            automatic_upgrade: false,
        });
    }
    let preferences = app
        .store
        .append_preferences(session.account_id())
        .await
        .map_err(|err| AppError::internal("reading append preferences", err))?;
    let live = app.live.current();
    let now = crate::store::now();
    let blocked = app
        .store
        .passkeys_blocked(session.account_id(), now)
        .await
        .map_err(|err| AppError::internal("reading the passkey block", err))?;
    let decision = append_for_account(&AccountAppendFacts {
        passkeys_enabled: live.passkeys_enabled,
        blocked,
        opted_out: preferences.opt_out
            && !offer_again_due(preferences.opted_out_at, live.offer_again_after_days, now),
        snoozed: preferences.snoozed_until > now,
        automatic_upgrade: app.config.connect_service.automatic_upgrade,
        password_login: session.auth_method() == crate::session::AuthMethod::Password.as_ref(),
    });
    let reason = match decision {
        AppendDecision::Offer {
            reason, automatic, ..
        } => {
            record(
                &app,
                Event::new(EventType::AppendOffered)
                    .with_account(session.account_id())
                    .with_reason(reason),
            )
            .await;
            return Ok(AppendOffer::Offer {
                automatic_upgrade: automatic,
            });
        }
        AppendDecision::Skip(reason) => reason,
    };
    let decision = match reason {
        Reason::Blocked => AppendOffer::Blocked,
        Reason::OptedOut => AppendOffer::OptedOut,
        Reason::PasskeysOff => AppendOffer::PasskeysOff,
        _ => AppendOffer::Snoozed,
    };
    tracing::info!(account = %session.account_id(), ?decision, "append step skipped itself");
    record(
        &app,
        Event::new(EventType::AppendSkipped)
            .with_account(session.account_id())
            .with_reason(reason),
    )
    .await;
    leave_append(&app, &session, &next).await?;
    Ok(decision)
}

/// How the person left the append step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppendOutcome {
    /// A passkey was created.
    Created,
    /// The person pressed "Skip" (snoozes the offer when configured).
    Skipped,
    /// The step decided not to offer one (the reason is logged).
    NotOffered,
}

/// Leaves the append step for `next`. `dont_ask_again` is the checkbox of the Skip form
/// (present, any value, when ticked); `reason` says why nothing was offered.
#[server(prefix = "/api", endpoint = "finish_append")]
pub async fn finish_append(
    next: String,
    outcome: AppendOutcome,
    dont_ask_again: Option<String>,
    reason: Option<String>,
) -> Result<(), AppError> {
    use crate::events::{Event, EventType, Reason};
    use crate::server::context::{app, leave_append, record, require, Need};
    let app = app()?;
    let session = require(Need::SignedIn)?;
    // Client-supplied: kept as a short tag only.
    let reason: String = reason.unwrap_or_default().chars().take(40).collect();
    if outcome != AppendOutcome::Created {
        let why = match outcome {
            AppendOutcome::Skipped if dont_ask_again.is_some() => Some(Reason::OptedOut),
            AppendOutcome::Skipped => Some(Reason::UserSkipped),
            _ => not_offered_reason(&reason),
        };
        let mut event = Event::new(EventType::AppendSkipped).with_account(session.account_id());
        if let Some(why) = why {
            event = event.with_reason(why);
        }
        if !reason.is_empty() {
            event = event.with_detail(&reason);
        }
        record(&app, event).await;
    }
    if outcome == AppendOutcome::Skipped {
        let snooze = i64::from(app.live.current().append_snooze_hours) * 3600;
        let snoozed_until = (snooze > 0).then(|| crate::store::now().saturating_add(snooze));
        app.store
            .record_append_skip(
                session.account_id(),
                dont_ask_again.is_some(),
                snoozed_until,
            )
            .await
            .map_err(|err| AppError::internal("saving append preferences", err))?;
    }
    tracing::info!(
        account = %session.account_id(),
        ?outcome,
        dont_ask_again = dont_ask_again.is_some(),
        reason = %reason,
        "append step finished"
    );
    leave_append(&app, &session, &next).await
}

/// Whether "Don't ask again", chosen at `opted_out_at`, has lapsed: operators can have the
/// offer come back after `days` (0: never). A choice of unknown date stays.
#[cfg(feature = "ssr")]
pub fn offer_again_due(opted_out_at: Option<i64>, days: u32, now: i64) -> bool {
    match opted_out_at {
        Some(at) if days > 0 => now - at >= i64::from(days) * 86_400,
        _ => false,
    }
}

/// The event reason for a browser's "nothing was offered" tag.
#[cfg(feature = "ssr")]
fn not_offered_reason(tag: &str) -> Option<crate::events::Reason> {
    use crate::events::Reason;
    match tag {
        "rollout-denied" => Some(Reason::RolloutDenied),
        "passkey-on-this-client" => Some(Reason::PasskeyOnThisDevice),
        "no-platform-authenticator" | "browser-not-capable" => {
            Some(Reason::NoPlatformAuthenticator)
        }
        "service-unavailable" => Some(Reason::ServiceError),
        _ => None,
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::offer_again_due;

    #[test]
    fn dont_ask_again_lapses_only_when_operators_say_so() {
        const DAY: i64 = 86_400;
        assert!(!offer_again_due(Some(0), 0, 1000 * DAY), "0 days: never");
        assert!(
            !offer_again_due(None, 30, 1000 * DAY),
            "an undated choice stays"
        );
        assert!(!offer_again_due(Some(0), 30, 30 * DAY - 1));
        assert!(offer_again_due(Some(0), 30, 30 * DAY));
    }
}
