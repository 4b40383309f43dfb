//! What the console's pages show, as the server functions hand it to them (both builds).
//! Plain data: ids, names, counts and times already in words, nothing secret.

use serde::{Deserialize, Serialize};

/// One day of the CSV and the chart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyRow {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    pub passkey_logins: i64,
    pub password_logins: i64,
    pub oidc_logins: i64,
    pub passkeys_created: i64,
    pub append_skipped: i64,
    pub passkey_fallbacks: i64,
}

/// Everything the Overview shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub days: Vec<DailyRow>,
    /// Append step: offered, passkeys created, and skips by reason (code, count).
    pub append_offered: i64,
    pub append_created: i64,
    pub append_skipped: Vec<(String, i64)>,
    /// Passkey logins: started, completed, failed, and fallbacks by reason.
    pub passkey_started: i64,
    pub passkey_completed: i64,
    pub passkey_failed: i64,
    pub passkey_fell_back: Vec<(String, i64)>,
    /// Accounts that signed in during the period, and how many of them have a passkey
    /// (`None` when the passkey service keeps its own database).
    pub active_accounts: i64,
    pub active_with_passkey: Option<i64>,
    /// Passkeys by provider name (from their AAGUID), most first.
    pub providers: Vec<(String, i64)>,
}

/// The Overview page: the figures, their charts (SVG drawn on the server) and the reasons
/// in words.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverviewPage {
    pub period_days: u32,
    pub overview: Overview,
    pub logins_chart: String,
    pub providers_chart: String,
    /// (reason in words, count) for the skips and the fallbacks.
    pub skipped_in_words: Vec<(String, i64)>,
    pub fell_back_in_words: Vec<(String, i64)>,
}

/// An account in a search result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountLink {
    pub id: String,
    pub email: String,
}

/// One passkey on an account page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyRow {
    /// The passkey service's id (`cre-…`), what "Delete" names.
    pub id: String,
    pub provider: String,
    /// The provider's icons (data URIs; empty when unknown).
    pub icon_light: String,
    pub icon_dark: String,
    /// "Chrome on macOS, 2026-11-02 10:14 UTC".
    pub created: String,
    pub last_used: String,
    pub synced: bool,
}

/// One live session on an account page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRow {
    pub browser: String,
    pub os: String,
    pub ip: String,
    pub method: String,
    pub started: String,
    pub last_seen: String,
}

/// One event of a timeline or of the Events page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRow {
    pub id: String,
    pub seq: i64,
    /// `YYYY-MM-DD HH:MM:SS UTC`.
    pub time: String,
    pub event_type: String,
    pub outcome: String,
    /// The reason code, and the same in words.
    pub reason: Option<String>,
    pub reason_in_words: Option<String>,
    pub account: Option<String>,
    /// The operator who did it, by email when known.
    pub actor: Option<String>,
    pub detail: Option<String>,
    /// The event as the security log writes it (OCSF), pretty-printed.
    pub ocsf_json: String,
}

/// The account page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountDetail {
    pub id: String,
    pub email: String,
    /// Where the person signs in: "builtin" or the provider's issuer.
    pub idp: String,
    pub disabled: bool,
    /// Whether this IdP lets the console disable accounts (the builtin one does).
    pub can_disable: bool,
    /// The block on passkeys in words ("until 2026-12-09 10:00 UTC", "until unblocked").
    pub passkeys_blocked: Option<String>,
    /// None when the passkey service could not be reached (the page says so).
    pub passkeys: Option<Vec<PasskeyRow>>,
    pub sessions: Vec<SessionRow>,
    /// What passkey intelligence decided for this account lately, newest first.
    pub decisions: Vec<DecisionRow>,
    pub timeline: Vec<EventRow>,
}

/// One decision about offering passkeys to an account, explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRow {
    /// `YYYY-MM-DD HH:MM:SS UTC`.
    pub time: String,
    /// What was decided ("append: offer a passkey", "login: go to the password", …).
    pub decision: String,
    /// Why, in words, and its code.
    pub reason: String,
    pub reason_code: String,
}

/// The Settings form: the values as typed (so a refused one is shown as it was).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsForm {
    pub passkeys_enabled: bool,
    pub login_rollout_percent: String,
    pub append_rollout_percent: String,
    pub append_snooze_hours: String,
    pub offer_again_after_days: String,
}

/// The passkey rules set in the configuration (not changeable from the console): which new
/// passkeys are kept, and which other sites share the RP ID.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyPolicy {
    /// The authenticator policy, a rule per line.
    pub rules: Vec<String>,
    /// `related-origins`, as served at `/.well-known/webauthn`.
    pub related_origins: Vec<String>,
}

/// What "Save settings" did: the refusals by field, or the changes made.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsSaved {
    /// (field, message); nothing was saved when this is not empty.
    pub problems: Vec<(String, String)>,
    /// `field: old → new` for each change.
    pub changes: Vec<String>,
}

/// The Events page's filters (all optional) and paging cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventQuery {
    pub event_type: Option<String>,
    /// `success`, `failure` or `info`.
    pub result: Option<String>,
    /// An account id or email.
    pub account: Option<String>,
    /// The last this many days.
    pub days: Option<u32>,
    /// Events older than this sequence number (the next page).
    pub before: Option<i64>,
}

/// One page of the Events list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventList {
    pub events: Vec<EventRow>,
    /// The cursor of the next (older) page.
    pub older: Option<i64>,
    /// The event types to filter by.
    pub types: Vec<String>,
}
