//! Passkey intelligence: the one place that decides whether to offer a passkey and whether
//! and how to start a passkey login, each decision with its reason code.
//!
//! Pure functions of facts, so one table test covers every rule. The callers gather the
//! facts and record the decision: the app knows the account (its block, "Don't ask again", a
//! snoozed offer); the passkey service knows the browser (what it can do, the passkeys made
//! on it, its last passkey login, its recent failures) and the account's passkeys. Which
//! rule wins when several apply is the order of the checks below; docs/intelligence.md is
//! the same table in words.

use crate::events::Reason;

/// Failed or cancelled passkey logins in a row, with the same provider, on one browser that
/// pause passkey login there.
pub const FAILURES_BEFORE_PAUSE: u32 = 2;

/// What a browser said about itself when a component started (`None`: it did not say).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Browser {
    /// A user-verifying platform authenticator (Touch ID, Windows Hello, Android, …).
    pub platform_authenticator: Option<bool>,
    /// A phone's passkey over hybrid transport (the QR code).
    pub hybrid: Option<bool>,
    /// Passkeys in the Email field's autofill (conditional mediation).
    pub conditional_mediation: Option<bool>,
    /// A passkey made without a dialog after a password login (conditional create).
    pub conditional_create: Option<bool>,
}

impl Browser {
    /// Neither its own authenticator nor a phone: no passkey can be used here.
    fn has_no_authenticator(self) -> bool {
        self.platform_authenticator == Some(false) && self.hybrid == Some(false)
    }
}

/// What the last passkey login on this browser was, as far as one account is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastLoginHere {
    /// This account, with a passkey of this browser's own authenticator.
    ThisAccountOnThisDevice,
    /// This account, with a passkey from another device (hybrid, the QR code).
    ThisAccountFromAnotherDevice,
    /// Someone else, or nobody yet.
    Other,
}

/// How the login page uses passkeys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::AsRefStr)]
#[strum(serialize_all = "kebab-case")]
pub enum LoginMode {
    /// "Continue as …": the remembered account, one click.
    OneTap,
    /// An email first, then its passkey (and "Sign in with a passkey").
    Identifier,
    /// No passkey UI: email and password only.
    None,
}

/// The facts for the login page (login init).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginPageFacts {
    pub passkeys_enabled: bool,
    /// The browser is in the login rollout share.
    pub in_rollout: bool,
    pub browser: Browser,
    /// Passkey login is paused on this browser after repeated failures.
    pub paused: bool,
    /// Accounts the page offers one-tap for.
    pub remembered_accounts: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginPageDecision {
    pub mode: LoginMode,
    /// Also offer passkeys in the Email field's autofill.
    pub conditional_ui: bool,
    pub reason: Reason,
}

impl LoginPageDecision {
    fn none(reason: Reason) -> Self {
        Self {
            mode: LoginMode::None,
            conditional_ui: false,
            reason,
        }
    }

    /// The decision as the event's detail says it.
    pub fn describe(&self) -> String {
        let autofill = if self.conditional_ui {
            " + autofill"
        } else {
            ""
        };
        format!("login page: {}{autofill}", self.mode.as_ref())
    }
}

/// Whether and how the login page offers passkeys.
pub fn login_page(facts: &LoginPageFacts) -> LoginPageDecision {
    if !facts.passkeys_enabled {
        return LoginPageDecision::none(Reason::PasskeysOff);
    }
    if !facts.in_rollout {
        return LoginPageDecision::none(Reason::RolloutDenied);
    }
    if facts.browser.has_no_authenticator() {
        return LoginPageDecision::none(Reason::NoAuthenticator);
    }
    if facts.paused {
        return LoginPageDecision::none(Reason::PausedAfterFailures);
    }
    let conditional_ui = facts.browser.conditional_mediation != Some(false);
    let (mode, reason) = match (facts.remembered_accounts, conditional_ui) {
        (1.., _) => (LoginMode::OneTap, Reason::OneTap),
        (0, true) => (LoginMode::Identifier, Reason::ConditionalUi),
        (0, false) => (LoginMode::Identifier, Reason::Identifier),
    };
    LoginPageDecision {
        mode,
        conditional_ui,
        reason,
    }
}

/// The facts for a passkey login for one account (login start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountLoginFacts {
    pub account_passkeys: usize,
    /// One of the account's passkeys was made on this browser.
    pub passkey_made_here: bool,
    pub last_login_here: LastLoginHere,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountLogin {
    /// Ask for one of the account's passkeys. `expected_here`: the browser should find it
    /// on its own authenticator (else a failed prompt reads as "not on this device");
    /// `cross_device`: it is on another device, so the browser may go straight to the QR code.
    Start {
        expected_here: bool,
        cross_device: bool,
        reason: Reason,
    },
    /// No passkey prompt: the password.
    FallBack(Reason),
}

impl AccountLogin {
    pub fn reason(&self) -> Reason {
        match self {
            Self::Start { reason, .. } | Self::FallBack(reason) => *reason,
        }
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Self::Start { .. } => "login: ask for a passkey",
            Self::FallBack(_) => "login: go to the password",
        }
    }
}

/// Whether to ask for one of an account's passkeys, and where the browser should look.
/// (Only asked when the login page's decision allowed passkey login at all.)
pub fn account_login(facts: &AccountLoginFacts) -> AccountLogin {
    if facts.account_passkeys == 0 {
        return AccountLogin::FallBack(Reason::NoPasskey);
    }
    let (expected_here, cross_device) = match facts.last_login_here {
        _ if facts.passkey_made_here => (true, false),
        LastLoginHere::ThisAccountOnThisDevice => (true, false),
        LastLoginHere::ThisAccountFromAnotherDevice => (false, true),
        LastLoginHere::Other => (false, false),
    };
    AccountLogin::Start {
        expected_here,
        cross_device,
        reason: if expected_here {
            Reason::ExpectedHere
        } else {
            Reason::ExpectedElsewhere
        },
    }
}

/// The offer of a passkey on the append step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendDecision {
    /// Offer one. `after_hybrid`: word it as "Create a passkey on this device"; `automatic`:
    /// first let the password manager make one without a dialog (conditional create).
    Offer {
        after_hybrid: bool,
        automatic: bool,
        reason: Reason,
    },
    Skip(Reason),
}

impl AppendDecision {
    #[cfg(test)]
    const ELIGIBLE: Self = Self::eligible(false);

    /// An offer, with the automatic upgrade first when `automatic`.
    const fn eligible(automatic: bool) -> Self {
        Self::Offer {
            after_hybrid: false,
            automatic,
            reason: Reason::Eligible,
        }
    }

    pub fn reason(&self) -> Reason {
        match self {
            Self::Offer { reason, .. } | Self::Skip(reason) => *reason,
        }
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Self::Offer {
                after_hybrid: true, ..
            } => "append: offer a passkey on this device",
            Self::Offer {
                automatic: true, ..
            } => "append: offer a passkey, made without a dialog where the browser can",
            Self::Offer { .. } => "append: offer a passkey",
            Self::Skip(_) => "append: no offer",
        }
    }
}

/// The app's facts about the account, for the append step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountAppendFacts {
    pub passkeys_enabled: bool,
    /// An operator blocked the account's passkeys.
    pub blocked: bool,
    /// The person chose "Don't ask again", and the offer is not due again yet.
    pub opted_out: bool,
    /// The person chose "Skip" recently.
    pub snoozed: bool,
    /// The `automatic-upgrade` setting.
    pub automatic_upgrade: bool,
    /// This login was a password typed on our own page (the builtin IdP): the browser's
    /// password manager just filled it, so it may make a passkey without a dialog.
    pub password_login: bool,
}

/// The app's half of the append decision (before the page is shown).
pub fn append_for_account(facts: &AccountAppendFacts) -> AppendDecision {
    if !facts.passkeys_enabled {
        AppendDecision::Skip(Reason::PasskeysOff)
    } else if facts.blocked {
        AppendDecision::Skip(Reason::Blocked)
    } else if facts.opted_out {
        AppendDecision::Skip(Reason::OptedOut)
    } else if facts.snoozed {
        AppendDecision::Skip(Reason::Snoozed)
    } else {
        AppendDecision::eligible(facts.automatic_upgrade && facts.password_login)
    }
}

/// The passkey service's facts about the browser and the account, for the append step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrowserAppendFacts {
    pub passkeys_enabled: bool,
    pub in_rollout: bool,
    /// The person pressed "Create passkey" after an earlier answer offered nothing.
    pub person_asked: bool,
    pub browser: Browser,
    /// One of the account's passkeys was made on this browser.
    pub passkey_made_here: bool,
    pub last_login_here: LastLoginHere,
    pub account_passkeys: usize,
    /// The `automatic-upgrade` setting.
    pub automatic_upgrade: bool,
}

/// The first rules of [`append_on_browser`], which need nothing about the account: `Some`
/// when they decide already (so a browser outside the rollout costs no account lookups).
pub fn append_without_account(
    passkeys_enabled: bool,
    in_rollout: bool,
    person_asked: bool,
) -> Option<AppendDecision> {
    if !passkeys_enabled {
        Some(AppendDecision::Skip(Reason::PasskeysOff))
    } else if person_asked {
        Some(AppendDecision::Offer {
            after_hybrid: false,
            automatic: false,
            reason: Reason::PersonAsked,
        })
    } else if !in_rollout {
        Some(AppendDecision::Skip(Reason::RolloutDenied))
    } else {
        None
    }
}

/// The service's half of the append decision (when the step starts in the browser).
pub fn append_on_browser(facts: &BrowserAppendFacts) -> AppendDecision {
    if let Some(decided) =
        append_without_account(facts.passkeys_enabled, facts.in_rollout, facts.person_asked)
    {
        return decided;
    }
    if facts.passkey_made_here || facts.last_login_here == LastLoginHere::ThisAccountOnThisDevice {
        return AppendDecision::Skip(Reason::PasskeyOnThisDevice);
    }
    if facts.browser.platform_authenticator == Some(false) {
        return AppendDecision::Skip(Reason::NoPlatformAuthenticator);
    }
    if facts.account_passkeys > 0
        && facts.last_login_here == LastLoginHere::ThisAccountFromAnotherDevice
    {
        return AppendDecision::Offer {
            after_hybrid: true,
            automatic: false,
            reason: Reason::AfterHybrid,
        };
    }
    AppendDecision::eligible(
        facts.automatic_upgrade && facts.browser.conditional_create == Some(true),
    )
}

/// Failed or cancelled passkey logins in a row on one browser.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailureStreak {
    pub count: u32,
    /// The provider (AAGUID) of the passkeys that failed; empty when unknown.
    pub provider: String,
    /// Unix seconds until which passkey login is paused here (0: not paused).
    pub paused_until: i64,
}

impl FailureStreak {
    pub fn paused_at(&self, now: i64) -> bool {
        self.paused_until > now
    }

    /// The streak after one more failure with `provider`. A different provider starts a new
    /// streak; the second failure in a row pauses passkey login for `pause_secs` (0: never)
    /// and starts counting again.
    pub fn after_failure(&self, provider: &str, now: i64, pause_secs: i64) -> Self {
        let count = if self.provider == provider {
            self.count + 1
        } else {
            1
        };
        if count >= FAILURES_BEFORE_PAUSE && pause_secs > 0 {
            return Self {
                count: 0,
                provider: provider.to_string(),
                paused_until: now + pause_secs,
            };
        }
        Self {
            count,
            provider: provider.to_string(),
            paused_until: self.paused_until,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Reason::*;

    const CAN_DO_ALL: Browser = Browser {
        platform_authenticator: Some(true),
        hybrid: Some(true),
        conditional_mediation: Some(true),
        conditional_create: Some(true),
    };
    const SAID_NOTHING: Browser = Browser {
        platform_authenticator: None,
        hybrid: None,
        conditional_mediation: None,
        conditional_create: None,
    };
    const PHONE_ONLY: Browser = Browser {
        platform_authenticator: Some(false),
        hybrid: Some(true),
        conditional_mediation: Some(false),
        conditional_create: Some(false),
    };
    const NOTHING: Browser = Browser {
        platform_authenticator: Some(false),
        hybrid: Some(false),
        conditional_mediation: Some(true),
        conditional_create: Some(false),
    };

    fn page(browser: Browser) -> LoginPageFacts {
        LoginPageFacts {
            passkeys_enabled: true,
            in_rollout: true,
            browser,
            paused: false,
            remembered_accounts: 0,
        }
    }

    /// Every login page rule: facts → mode, autofill, reason.
    #[test]
    fn the_login_page() {
        use LoginMode::{Identifier, OneTap};
        let off = LoginPageFacts {
            passkeys_enabled: false,
            ..page(CAN_DO_ALL)
        };
        let outside = LoginPageFacts {
            in_rollout: false,
            ..page(CAN_DO_ALL)
        };
        let paused = LoginPageFacts {
            paused: true,
            ..page(CAN_DO_ALL)
        };
        let remembered = LoginPageFacts {
            remembered_accounts: 2,
            ..page(CAN_DO_ALL)
        };
        let remembered_phone_only = LoginPageFacts {
            remembered_accounts: 1,
            ..page(PHONE_ONLY)
        };
        let cases = [
            (off, LoginMode::None, false, PasskeysOff),
            (outside, LoginMode::None, false, RolloutDenied),
            (page(NOTHING), LoginMode::None, false, NoAuthenticator),
            (paused, LoginMode::None, false, PausedAfterFailures),
            (remembered, OneTap, true, Reason::OneTap),
            (remembered_phone_only, OneTap, false, Reason::OneTap),
            (page(CAN_DO_ALL), Identifier, true, ConditionalUi),
            (page(PHONE_ONLY), Identifier, false, Reason::Identifier),
            // A browser that says nothing is not refused: the prompt will tell.
            (page(SAID_NOTHING), Identifier, true, ConditionalUi),
        ];
        for (facts, mode, conditional_ui, reason) in cases {
            let expected = LoginPageDecision {
                mode,
                conditional_ui,
                reason,
            };
            assert_eq!(login_page(&facts), expected, "{facts:?}");
        }
    }

    /// Every rule for one account's passkey login: facts → start or fall back, and why.
    #[test]
    fn a_login_for_an_account() {
        let facts = |account_passkeys, passkey_made_here, last_login_here| AccountLoginFacts {
            account_passkeys,
            passkey_made_here,
            last_login_here,
        };
        let start = |expected_here, cross_device, reason| AccountLogin::Start {
            expected_here,
            cross_device,
            reason,
        };
        use LastLoginHere::*;
        let cases = [
            (facts(0, false, Other), AccountLogin::FallBack(NoPasskey)),
            // A passkey made here, then deleted: none to ask for.
            (
                facts(0, true, ThisAccountOnThisDevice),
                AccountLogin::FallBack(NoPasskey),
            ),
            (facts(1, true, Other), start(true, false, ExpectedHere)),
            (
                facts(1, false, ThisAccountOnThisDevice),
                start(true, false, ExpectedHere),
            ),
            (
                facts(1, false, ThisAccountFromAnotherDevice),
                start(false, true, ExpectedElsewhere),
            ),
            // Made here wins over an older login from a phone.
            (
                facts(2, true, ThisAccountFromAnotherDevice),
                start(true, false, ExpectedHere),
            ),
            (
                facts(1, false, Other),
                start(false, false, ExpectedElsewhere),
            ),
        ];
        for (facts, expected) in cases {
            assert_eq!(account_login(&facts), expected, "{facts:?}");
        }
    }

    /// Every append rule, the app's half then the service's: facts → offer or not, and why.
    #[test]
    fn the_append_offer() {
        let account = |passkeys_enabled, blocked, opted_out, snoozed| AccountAppendFacts {
            passkeys_enabled,
            blocked,
            opted_out,
            snoozed,
            automatic_upgrade: true,
            password_login: true,
        };
        let fresh_account = account(true, false, false, false);
        let account_cases = [
            (
                account(false, true, true, true),
                AppendDecision::Skip(PasskeysOff),
            ),
            (
                account(true, true, true, true),
                AppendDecision::Skip(Blocked),
            ),
            (
                account(true, false, true, true),
                AppendDecision::Skip(OptedOut),
            ),
            (
                account(true, false, false, true),
                AppendDecision::Skip(Snoozed),
            ),
            (fresh_account, AppendDecision::eligible(true)),
            // After a passkey or provider login, or with the setting off: no automatic try.
            (
                AccountAppendFacts {
                    password_login: false,
                    ..fresh_account
                },
                AppendDecision::ELIGIBLE,
            ),
            (
                AccountAppendFacts {
                    automatic_upgrade: false,
                    ..fresh_account
                },
                AppendDecision::ELIGIBLE,
            ),
        ];
        for (facts, expected) in account_cases {
            assert_eq!(append_for_account(&facts), expected, "{facts:?}");
        }

        use LastLoginHere::*;
        let fresh = BrowserAppendFacts {
            passkeys_enabled: true,
            in_rollout: true,
            person_asked: false,
            browser: CAN_DO_ALL,
            passkey_made_here: false,
            last_login_here: Other,
            account_passkeys: 0,
            automatic_upgrade: true,
        };
        let after_hybrid = AppendDecision::Offer {
            after_hybrid: true,
            automatic: false,
            reason: AfterHybrid,
        };
        let asked = AppendDecision::Offer {
            after_hybrid: false,
            automatic: false,
            reason: PersonAsked,
        };
        let browser_cases = [
            (
                BrowserAppendFacts {
                    passkeys_enabled: false,
                    person_asked: true,
                    ..fresh
                },
                AppendDecision::Skip(PasskeysOff),
            ),
            (
                BrowserAppendFacts {
                    person_asked: true,
                    in_rollout: false,
                    passkey_made_here: true,
                    browser: NOTHING,
                    ..fresh
                },
                asked,
            ),
            (
                BrowserAppendFacts {
                    in_rollout: false,
                    ..fresh
                },
                AppendDecision::Skip(RolloutDenied),
            ),
            (
                BrowserAppendFacts {
                    passkey_made_here: true,
                    account_passkeys: 1,
                    ..fresh
                },
                AppendDecision::Skip(PasskeyOnThisDevice),
            ),
            (
                BrowserAppendFacts {
                    last_login_here: ThisAccountOnThisDevice,
                    account_passkeys: 1,
                    ..fresh
                },
                AppendDecision::Skip(PasskeyOnThisDevice),
            ),
            (
                BrowserAppendFacts {
                    browser: PHONE_ONLY,
                    ..fresh
                },
                AppendDecision::Skip(NoPlatformAuthenticator),
            ),
            (
                BrowserAppendFacts {
                    last_login_here: ThisAccountFromAnotherDevice,
                    account_passkeys: 1,
                    ..fresh
                },
                after_hybrid,
            ),
            // Passkeys deleted since that login: a plain offer.
            (
                BrowserAppendFacts {
                    last_login_here: ThisAccountFromAnotherDevice,
                    ..fresh
                },
                AppendDecision::eligible(true),
            ),
            (fresh, AppendDecision::eligible(true)),
            // No conditional create said, or the setting off: the offer alone.
            (
                BrowserAppendFacts {
                    browser: SAID_NOTHING,
                    ..fresh
                },
                AppendDecision::ELIGIBLE,
            ),
            (
                BrowserAppendFacts {
                    automatic_upgrade: false,
                    ..fresh
                },
                AppendDecision::ELIGIBLE,
            ),
        ];
        for (facts, expected) in browser_cases {
            assert_eq!(append_on_browser(&facts), expected, "{facts:?}");
        }
    }

    #[test]
    fn two_failures_with_one_provider_pause_passkey_login() {
        let icloud = "fbfc3007-154e-4ecc-8c0b-6e020557d7bd";
        let google = "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4";
        let (now, pause) = (1_000, 600);
        let first = FailureStreak::default().after_failure(icloud, now, pause);
        assert_eq!((first.count, first.paused_at(now)), (1, false));
        // Another provider starts again.
        let other = first.after_failure(google, now, pause);
        assert_eq!((other.count, other.paused_at(now)), (1, false));
        let second = first.after_failure(icloud, now + 5, pause);
        assert!(second.paused_at(now + 5));
        assert_eq!(second.paused_until, now + 5 + pause);
        assert!(!second.paused_at(now + 5 + pause));
        // Counting starts again after a pause.
        assert_eq!(second.count, 0);
        // A pause of 0 never pauses.
        let never = first.after_failure(icloud, now, 0);
        assert_eq!((never.count, never.paused_at(now)), (2, false));
    }
}
