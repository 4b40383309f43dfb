//! What an event says: its type (a stable dotted name), its outcome, a reason code, and who
//! and what it is about. One model for the app and the passkey service; docs/events.md lists
//! every type with its reasons, and a test keeps that page and this file in step.
//!
//! Nothing secret goes in: no password, no token, no cookie, no challenge. Accounts and
//! credentials are named by their ids, clients by IP and by browser and OS names.

/// Every event type. Corbado's names where it has one (`passkey.created`, `passkey.deleted`,
/// `passkey-login.completed`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    strum::AsRefStr,
    strum::EnumString,
    strum::VariantArray,
    strum::Display,
)]
pub enum EventType {
    #[strum(serialize = "account.created")]
    AccountCreated,
    #[strum(serialize = "account.disabled")]
    AccountDisabled,
    #[strum(serialize = "account.enabled")]
    AccountEnabled,
    /// An operator stopped passkey login and append for the account (until a time, or until
    /// unblocked).
    #[strum(serialize = "account.passkeys-blocked")]
    PasskeysBlocked,
    #[strum(serialize = "account.passkeys-unblocked")]
    PasskeysUnblocked,
    #[strum(serialize = "password-login.succeeded")]
    PasswordLoginSucceeded,
    #[strum(serialize = "password-login.failed")]
    PasswordLoginFailed,
    #[strum(serialize = "oidc-login.succeeded")]
    OidcLoginSucceeded,
    #[strum(serialize = "oidc-login.failed")]
    OidcLoginFailed,
    #[strum(serialize = "session.signed-out")]
    SignedOut,
    #[strum(serialize = "session.ended")]
    SessionEnded,
    #[strum(serialize = "append.offered")]
    AppendOffered,
    #[strum(serialize = "append.skipped")]
    AppendSkipped,
    #[strum(serialize = "passkey.created")]
    PasskeyCreated,
    #[strum(serialize = "passkey.creation-failed")]
    PasskeyCreationFailed,
    #[strum(serialize = "passkey.deleted")]
    PasskeyDeleted,
    /// Its owner gave a passkey a name.
    #[strum(serialize = "passkey.renamed")]
    PasskeyRenamed,
    /// Passkey intelligence decided whether (and how) to offer passkeys; the reason says why.
    #[strum(serialize = "passkey.decision")]
    PasskeyDecision,
    #[strum(serialize = "passkey-login.started")]
    PasskeyLoginStarted,
    #[strum(serialize = "passkey-login.completed")]
    PasskeyLoginCompleted,
    #[strum(serialize = "passkey-login.failed")]
    PasskeyLoginFailed,
    #[strum(serialize = "passkey-login.fell-back")]
    PasskeyLoginFellBack,
    #[strum(serialize = "token.refused")]
    TokenRefused,
    #[strum(serialize = "rate-limit.hit")]
    RateLimitHit,
    #[strum(serialize = "settings.changed")]
    SettingsChanged,
    #[strum(serialize = "audit.pruned")]
    AuditPruned,
    /// A browser's report on the frontend API that names no event of its own (its Corbado
    /// name is the reason).
    #[strum(serialize = "client.reported")]
    ClientReported,
}

/// Whether what the event records went through.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::AsRefStr, strum::EnumString, strum::VariantArray,
)]
#[strum(serialize_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
    /// Neither: something was offered, started, skipped or changed.
    Info,
}

/// Why (or how) it happened. One list for all types: docs/events.md says which reasons each
/// type uses; a passkey login's `started` event carries its source here.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, strum::AsRefStr, strum::EnumString, strum::VariantArray,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Reason {
    // Password and provider logins.
    WrongCredentials,
    Disabled,
    RateLimited,
    ProviderUnreachable,
    CallbackRefused,
    // Sessions.
    Expired,
    Revoked,
    BackchannelLogout,
    // The append step.
    UserSkipped,
    OptedOut,
    /// An operator blocked passkeys for the account.
    Blocked,
    /// The kill switch is off: passkeys are offered to nobody.
    PasskeysOff,
    Snoozed,
    RolloutDenied,
    NoPlatformAuthenticator,
    PasskeyOnThisDevice,
    ServiceError,
    /// Offered: a device that can make a passkey, and none of the account's on it.
    Eligible,
    /// Offered as "Create a passkey on this device" after a login with a phone's passkey.
    AfterHybrid,
    /// Offered because the person pressed "Create passkey".
    PersonAsked,
    /// Made without a dialog by the password manager after a password login (conditional
    /// create: the automatic upgrade).
    Automatic,
    // Passkey intelligence: the login page and a login for an account.
    /// Neither a platform authenticator nor a phone (hybrid): no passkey UI.
    NoAuthenticator,
    /// Passkey login paused on this browser after repeated failures.
    PausedAfterFailures,
    /// The account's passkey should be on this browser's own authenticator.
    ExpectedHere,
    /// The account's passkeys are on other devices (or nothing says where).
    ExpectedElsewhere,
    // Creating a passkey.
    Cancelled,
    ExistsOnAuthenticator,
    /// The authenticator policy: an allow list without the passkey's provider.
    ProviderNotAllowed,
    /// The authenticator policy: the provider is refused.
    ProviderRefused,
    /// The authenticator policy keeps only synced passkeys.
    DeviceBoundRefused,
    /// The authenticator policy keeps only device-bound passkeys.
    SyncedRefused,
    // Where a passkey login started.
    Button,
    OneTap,
    Identifier,
    ConditionalUi,
    // Why a passkey login failed or fell back.
    UnknownCredential,
    DeletedPasskey,
    Replay,
    CounterRegression,
    UserMismatch,
    NoPasskey,
    ProviderReverification,
    // Refused tokens and signed data.
    Consumed,
    WrongType,
    Invalid,
    BadSignature,
    // Settings.
    Startup,
}

impl Reason {
    /// The reason as support reads it on the console.
    pub fn in_words(self) -> &'static str {
        use Reason::*;
        match self {
            WrongCredentials => "wrong email or password",
            Disabled => "the account is disabled",
            RateLimited => "too many attempts (rate limit)",
            ProviderUnreachable => "the identity provider could not be reached",
            CallbackRefused => "the identity provider's answer was refused",
            Expired => "expired",
            Revoked => "ended by an operator or the account being disabled",
            BackchannelLogout => "the identity provider signed the person out",
            UserSkipped => "the person chose Skip",
            OptedOut => "the person chose Don't ask again",
            Blocked => "an operator blocked this account's passkeys",
            PasskeysOff => "passkeys are switched off for everyone",
            Snoozed => "snoozed after an earlier Skip",
            RolloutDenied => "not in the rollout share",
            NoPlatformAuthenticator => "this device cannot make a passkey",
            PasskeyOnThisDevice => "a passkey for this account is already on this device",
            Eligible => "this device can make a passkey and holds none of the account's",
            AfterHybrid => "the last login here used a passkey from another device (hybrid)",
            PersonAsked => "the person asked for a passkey",
            Automatic => "made without a dialog after a password login (automatic upgrade)",
            NoAuthenticator => "no platform authenticator and no phone (hybrid) on this browser",
            PausedAfterFailures => "passkey login paused on this browser after repeated failures",
            ExpectedHere => "a passkey of the account was made or last used on this browser",
            ExpectedElsewhere => "the account's passkeys are on other devices",
            ServiceError => "the passkey service failed",
            Cancelled => "the person cancelled the passkey prompt",
            ExistsOnAuthenticator => "the authenticator already holds a passkey for this account",
            ProviderNotAllowed => "the passkey's provider is not on the allow list",
            ProviderRefused => "the passkey's provider is refused",
            DeviceBoundRefused => "only synced passkeys are accepted",
            SyncedRefused => "only device-bound passkeys are accepted",
            Button => "the passkey button",
            OneTap => "one-tap (the remembered account)",
            Identifier => "a typed email",
            ConditionalUi => "passkey autofill",
            UnknownCredential => "a passkey the service does not know",
            DeletedPasskey => "a deleted passkey",
            Replay => "a replayed or expired challenge",
            CounterRegression => "the signature counter went back (a cloned authenticator?)",
            UserMismatch => "the passkey belongs to another account",
            NoPasskey => "no passkey for this account",
            ProviderReverification => "the identity provider must see the person again",
            Consumed => "already used",
            WrongType => "the wrong kind of token",
            Invalid => "invalid",
            BadSignature => "a bad signature",
            Startup => "the server started with other settings",
        }
    }
}

/// The client an event came from: its IP, and its browser and OS by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Client {
    pub ip: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
}

impl Client {
    /// The browser behind a request: its address (as the server decided it) and its browser
    /// and OS by name, from `User-Agent`.
    pub fn from_request(headers: &http::HeaderMap, ip: crate::serving::ClientIp) -> Self {
        let user_agent = headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let (browser, os) = crate::connect::service::user_agent::describe(user_agent, None);
        Self {
            ip: (ip != crate::serving::ClientIp::UNKNOWN).then(|| ip.0.to_string()),
            browser: Some(browser),
            os: Some(os),
        }
    }
}

/// Free text beyond this is cut (a browser's message, a settings summary).
pub const MAX_DETAIL_LEN: usize = 512;

/// One event, before it is stored. Built with [`Event::new`] and the `with_…` methods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub event_type: EventType,
    pub outcome: Outcome,
    pub reason: Option<Reason>,
    /// The account it is about: the app's account id, which is also the passkey service's
    /// user identifier.
    pub account: Option<String>,
    pub credential: Option<String>,
    pub client: Client,
    /// The ceremony or process it belongs to (the passkey service's process id hash, a
    /// session's id hash): events of one attempt share it.
    pub process: Option<String>,
    /// Short non-secret context, at most [`MAX_DETAIL_LEN`] characters. An operator's change
    /// says what changed from what to what (`status: Active → Disabled`).
    pub detail: Option<String>,
    /// Who did it when it was not the person themselves: the operator's account id.
    pub actor: Option<String>,
}

impl Event {
    /// An event of this type with its usual outcome.
    pub fn new(event_type: EventType) -> Self {
        Self {
            event_type,
            outcome: event_type.usual_outcome(),
            reason: None,
            account: None,
            credential: None,
            client: Client::default(),
            process: None,
            detail: None,
            actor: None,
        }
    }

    /// `rate-limit.hit`, naming the rule.
    pub fn rate_limit_hit(rule: crate::limits::Rule) -> Self {
        Self::new(EventType::RateLimitHit)
            .with_reason(Reason::RateLimited)
            .with_detail(rule.as_ref())
    }

    pub fn with_reason(mut self, reason: Reason) -> Self {
        self.reason = Some(reason);
        self
    }

    pub fn with_account(mut self, account: impl Into<String>) -> Self {
        self.account = Some(account.into());
        self
    }

    pub fn with_credential(mut self, credential: impl Into<String>) -> Self {
        self.credential = Some(credential.into());
        self
    }

    pub fn with_client(mut self, client: Client) -> Self {
        self.client = client;
        self
    }

    pub fn with_process(mut self, process: impl Into<String>) -> Self {
        self.process = Some(process.into());
        self
    }

    /// Done by this operator (their account id), not by the person the event is about.
    pub fn with_actor(mut self, actor: impl Into<String>) -> Self {
        self.actor = Some(actor.into());
        self
    }

    /// Control characters are dropped: a detail is one line of text (PostgreSQL refuses a
    /// NUL byte outright, which would lose the event; a newline would split a log line).
    pub fn with_detail(mut self, detail: &str) -> Self {
        self.detail = Some(
            detail
                .chars()
                .filter(|c| !c.is_control())
                .take(MAX_DETAIL_LEN)
                .collect(),
        );
        self
    }
}

impl EventType {
    /// The outcome events of this type have.
    pub fn usual_outcome(self) -> Outcome {
        use EventType::*;
        match self {
            AccountCreated
            | AccountDisabled
            | AccountEnabled
            | PasskeysBlocked
            | PasskeysUnblocked
            | PasswordLoginSucceeded
            | OidcLoginSucceeded
            | SignedOut
            | PasskeyCreated
            | PasskeyDeleted
            | PasskeyRenamed
            | PasskeyLoginCompleted => Outcome::Success,
            PasswordLoginFailed
            | OidcLoginFailed
            | PasskeyCreationFailed
            | PasskeyLoginFailed
            | TokenRefused
            | RateLimitHit => Outcome::Failure,
            SessionEnded | AppendOffered | AppendSkipped | PasskeyDecision
            | PasskeyLoginStarted | PasskeyLoginFellBack | SettingsChanged | AuditPruned
            | ClientReported => Outcome::Info,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::VariantArray;

    #[test]
    fn a_detail_is_one_line_of_text() {
        let event = Event::new(EventType::PasskeyLoginStarted).with_detail("a\0b\nc\td\u{7f}e");
        assert_eq!(event.detail.as_deref(), Some("abcde"));
        let long = "x".repeat(MAX_DETAIL_LEN + 10);
        let event = Event::new(EventType::PasskeyLoginStarted).with_detail(&long);
        assert_eq!(
            event.detail.map(|d| d.chars().count()),
            Some(MAX_DETAIL_LEN)
        );
    }

    #[test]
    fn type_names_are_dotted_and_round_trip() {
        for ty in EventType::VARIANTS {
            let name = ty.as_ref();
            assert!(name.contains('.'), "{name}");
            assert_eq!(name.parse::<EventType>().unwrap(), *ty);
        }
        assert_eq!(EventType::PasskeyCreated.as_ref(), "passkey.created");
        assert_eq!(
            EventType::PasskeyLoginCompleted.as_ref(),
            "passkey-login.completed"
        );
    }

    #[test]
    fn reasons_are_kebab_case_and_round_trip() {
        for reason in Reason::VARIANTS {
            let name = reason.as_ref();
            assert!(name.chars().all(|c| c.is_ascii_lowercase() || c == '-'));
            assert_eq!(name.parse::<Reason>().unwrap(), *reason);
        }
        assert_eq!(
            Reason::NoPlatformAuthenticator.as_ref(),
            "no-platform-authenticator"
        );
    }

    /// docs/events.md is the operators' reference: every type has its row, every reason is
    /// named there.
    #[test]
    fn the_events_page_lists_every_type_and_reason() {
        let page = include_str!("../../docs/events.md");
        for ty in EventType::VARIANTS {
            let row = format!("| `{}` | {} |", ty.as_ref(), ty.usual_outcome().as_ref());
            assert!(page.contains(&row), "docs/events.md has no row {row}");
        }
        for reason in Reason::VARIANTS {
            let name = format!("`{}`", reason.as_ref());
            assert!(page.contains(&name), "docs/events.md never names {name}");
        }
    }

    #[test]
    fn details_are_bounded() {
        let event = Event::new(EventType::ClientReported).with_detail(&"x".repeat(2000));
        assert_eq!(event.detail.unwrap().len(), MAX_DETAIL_LEN);
    }
}
