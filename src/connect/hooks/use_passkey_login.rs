//! `use_passkey_login`: passkey login first, the IdP's classic login as the fallback.
//!
//! Three ways in: identifier-first (Email → Continue) with conditional UI armed on the Email
//! field, any discoverable passkey ("Sign in with a passkey"), and one-tap ("Continue as
//! <email>") for whoever last signed in on this browser. Options are fetched before the
//! click, so every WebAuthn call starts inside the click itself.
//!
//! Anything that makes passkeys unusable (no passkey for this email, an unsupported browser,
//! rollout, a service error) leads to the password step with the email kept; a cancelled
//! ceremony is a soft error that can be retried with a fresh challenge. The decisions are
//! pure functions below (`plan_click`, `plan_failure`, …) with their own tests; the hook
//! wires them to signals and tasks.
//!
//! Before hydration the page is plain HTML: an email typed then is read from the field when
//! the hook starts (never overwritten), and a click on one of the card's buttons is kept by
//! the page's early-click script (`app::EARLY_CLICKS`) and replayed here.
//!
//! SSR: the hook returns its initial state ([`Availability::Checking`]) and runs nothing;
//! after hydration it starts a login process with the passkey service.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::Notice;
use crate::connect::api::{EventCreateReq, LoginFinishReq, LoginSource, LoginStartReq};
use crate::connect::browser::environment::{
    after_hydration, credential_id_of, field_value, go_to, init_request, now_ms,
    remember_client_handle, rp_id_of, take_early_clicks, EarlyClick,
};
use crate::connect::browser::frontend_api::{ApiError, FrontendApi};
use crate::connect::browser::webauthn::{self, Mediation, WebAuthnError};
use crate::server_fns::passkeys::{complete_passkey_login, passkey_login_token};

/// Which part of the sign-in card is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Email → Continue.
    Identifier,
    /// "Continue as <email>" for each remembered account (the latest first), "Remove from this
    /// device", "Use another account".
    OneTap(Vec<String>),
    /// The IdP's classic login, email carried over.
    Password,
}

/// Whether passkey login can be tried in this browser right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    /// Not hydrated yet, or the service has not answered.
    Checking,
    Ready,
    /// This browser has no WebAuthn: the page shows no passkey option.
    NotSupported,
    /// The passkey service did not answer: the passkey option is shown disabled, saying so.
    ServiceDown,
    /// The service offers passkey login to nobody on this browser (an operator's kill
    /// switch, or the rollout): the page shows no passkey option at all.
    SwitchedOff,
}

/// What the "Sign in with a passkey" option looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasskeyOption {
    Hidden,
    /// Shown and clickable (a click before the service answered waits for it).
    Offered,
    /// Shown disabled, with this reason beside it.
    Unavailable(&'static str),
}

impl Availability {
    pub fn option(self) -> PasskeyOption {
        match self {
            Self::Checking | Self::Ready => PasskeyOption::Offered,
            Self::ServiceDown => PasskeyOption::Unavailable(MSG_SERVICE_DOWN),
            Self::NotSupported | Self::SwitchedOff => PasskeyOption::Hidden,
        }
    }
}

/// What a busy card is waiting for (said next to a spinner).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waiting {
    /// A click came before the passkey service answered.
    Preparing,
    /// The browser's passkey prompt is open.
    Prompt,
    /// The passkey was accepted; the session is being made.
    SigningIn,
}

impl Waiting {
    pub fn in_words(self) -> &'static str {
        match self {
            Self::Preparing => "Getting passkey sign-in ready…",
            Self::Prompt => "Waiting for your passkey…",
            Self::SigningIn => "Signing you in…",
        }
    }
}

/// Whom a passkey request is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// Any discoverable passkey of this site ("Sign in with a passkey").
    Discoverable,
    /// The passkeys of the account behind this email (Continue, one-tap).
    Identifier { email: String, one_tap: bool },
}

impl Intent {
    fn email(&self) -> Option<&str> {
        match self {
            Self::Discoverable => None,
            Self::Identifier { email, .. } => Some(email),
        }
    }
}

/// What login start answered for an intent, fetched ahead of the click.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prepared {
    Options {
        intent: Intent,
        options: String,
        /// The service expects a passkey for this on this browser (one was made or used
        /// here): a prompt that ends without one was cancelled, not empty.
        expected_here: bool,
    },
    /// No passkey to try: go to the password step, saying this (if anything).
    Fallback {
        intent: Intent,
        message: Option<String>,
    },
}

impl Prepared {
    fn intent(&self) -> &Intent {
        match self {
            Self::Options { intent, .. } | Self::Fallback { intent, .. } => intent,
        }
    }
}

pub const MSG_SERVICE_DOWN: &str = "Passkeys are unavailable right now — use your password.";
pub const MSG_FAILED: &str = "Passkey sign-in did not work this time — use your password.";
pub const MSG_CANCELLED: &str = "Passkey sign-in was cancelled. Try again, or use your password.";
pub const MSG_THREE_FAILURES: &str =
    "Signing in with a passkey did not work three times in a row, so here is your password step.";
/// Failed or cancelled passkey prompts in a row, on one page, before the password step opens
/// by itself.
pub const FAILURES_BEFORE_PASSWORD: u32 = 3;
pub const MSG_NOT_ON_DEVICE: &str =
    "No passkey for this account was found on this device. Use your password, or try again \
     with the phone or security key that has your passkey.";
pub const MSG_NONE_ON_DEVICE: &str =
    "No passkey was used. If this device has none for this site, use your password, or try \
     again with the phone or security key that has one.";
pub const MSG_REMOVED: &str =
    "This passkey was removed from your account. Sign in with your password instead.";
pub const MSG_NO_EMAIL: &str = "Enter your email address.";

// ------------------------------------------------------------------------------ decisions

/// The first step shown: the password step when an email was carried over (`?email=`),
/// one-tap for the remembered accounts, else the email field.
pub fn initial_step(carried_email: Option<&str>, remembered: Vec<String>) -> Step {
    match carried_email {
        Some(_) => Step::Password,
        None if !remembered.is_empty() => Step::OneTap(remembered),
        None => Step::Identifier,
    }
}

/// The email as typed, if it can name an account.
fn typed_email(raw: &str) -> Result<String, &'static str> {
    let email = raw.trim().to_lowercase();
    if email.is_empty() || !email.contains('@') {
        Err(MSG_NO_EMAIL)
    } else {
        Ok(email)
    }
}

/// What a click on a passkey action does now.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ClickPlan {
    /// The service has not answered yet: run this click as soon as it has.
    Queue,
    /// Passkeys cannot be used: the password step, with this message.
    FallBack(Option<String>),
    /// Options for exactly this intent are ready: start the ceremony inside the click.
    Run(Prepared),
    /// Fetch options for this intent first (the click came before they were ready).
    PrepareThenRun,
}

/// `start_in_flight`: a login start is on its way to the service (the Email field changed
/// just before this click, say). It replaces the process's challenge, so options prepared
/// earlier are stale: this click waits for it and starts afresh.
fn plan_click(
    availability: &Availability,
    prepared: Option<&Prepared>,
    intent: &Intent,
    start_in_flight: bool,
) -> ClickPlan {
    match availability {
        Availability::Checking => ClickPlan::Queue,
        // Only Continue can get here (there is no passkey button): on to the password.
        Availability::SwitchedOff | Availability::NotSupported => ClickPlan::FallBack(None),
        Availability::ServiceDown => ClickPlan::FallBack(Some(MSG_SERVICE_DOWN.to_string())),
        Availability::Ready => match prepared {
            Some(prepared) if prepared.intent() == intent && !start_in_flight => {
                ClickPlan::Run(prepared.clone())
            }
            _ => ClickPlan::PrepareThenRun,
        },
    }
}

/// What login start's answer means for an intent.
fn prepared_from(intent: Intent, answer: Result<(String, bool), String>) -> Prepared {
    match answer {
        Ok((options, expected_here)) if !options.is_empty() => Prepared::Options {
            intent,
            options,
            expected_here,
        },
        // The service has no passkey for this person (or does not offer passkeys to this
        // browser): the password step, without a message that reveals which.
        Ok(_) => Prepared::Fallback {
            intent,
            message: None,
        },
        Err(err) => {
            leptos::logging::warn!("passkey login start failed: {err}");
            Prepared::Fallback {
                intent,
                message: Some(MSG_SERVICE_DOWN.to_string()),
            }
        }
    }
}

/// What happens after the browser produced no credential.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FailurePlan {
    /// A cancelled prompt: a soft error offering "Try again" (the same request, with a fresh
    /// challenge) and "Use password instead".
    Offer(&'static str),
    /// No passkey for this on this device: say so, keep the passkey button for another
    /// device's passkey, and open the password step for someone who named their account.
    Retry {
        message: &'static str,
        open_password: bool,
    },
    /// The password step, with this message.
    FallBack(&'static str),
}

/// `expected_here`: the service expected a passkey on this browser. WebAuthn reports "the
/// person cancelled" and "this device has no such passkey" with the same error; this is
/// what tells them apart. `failures`: failed or cancelled prompts in a row on this page,
/// this one included; at [`FAILURES_BEFORE_PASSWORD`] the password step opens by itself.
fn plan_failure(
    intent: &Intent,
    err: &WebAuthnError,
    expected_here: bool,
    failures: u32,
) -> FailurePlan {
    if failures >= FAILURES_BEFORE_PASSWORD {
        return FailurePlan::FallBack(MSG_THREE_FAILURES);
    }
    match err {
        WebAuthnError::Cancelled | WebAuthnError::Aborted if expected_here => {
            FailurePlan::Offer(MSG_CANCELLED)
        }
        WebAuthnError::Cancelled | WebAuthnError::Aborted => FailurePlan::Retry {
            message: match intent {
                Intent::Identifier { .. } => MSG_NOT_ON_DEVICE,
                Intent::Discoverable => MSG_NONE_ON_DEVICE,
            },
            open_password: intent.email().is_some(),
        },
        other => {
            leptos::logging::warn!("passkey login failed: {other}");
            FailurePlan::FallBack(MSG_FAILED)
        }
    }
}

/// The frontend-API event a failed prompt is reported as; `None` when the browser cannot do
/// passkeys at all (nothing failed).
fn failure_event(err: &WebAuthnError) -> Option<&'static str> {
    match err {
        WebAuthnError::Cancelled | WebAuthnError::Aborted => Some("login-explicit-abort"),
        WebAuthnError::NotSupported => None,
        WebAuthnError::AlreadyRegistered | WebAuthnError::Invalid(_) | WebAuthnError::Other(_) => {
            Some("login-error")
        }
    }
}

/// The service refused the assertion: what the person reads, and whether the passkey is gone
/// on our side (so the authenticator may forget it).
fn plan_finish_failure(err: &ApiError) -> (&'static str, bool) {
    match err {
        ApiError::Service { status: 404, .. } => (MSG_REMOVED, true),
        ApiError::Network(_) | ApiError::Unavailable => (MSG_SERVICE_DOWN, false),
        ApiError::Service { status, .. } if *status >= 500 => (MSG_SERVICE_DOWN, false),
        _ => (MSG_FAILED, false),
    }
}

// ---------------------------------------------------------------------------------- hook

/// Options of [`use_passkey_login`].
#[derive(Debug, Clone, Default)]
pub struct UsePasskeyLoginOptions {
    /// Where the browser goes after the login (through the append step). Default: nowhere in
    /// particular (the dashboard).
    pub next: String,
    /// The one-tap accounts: the last ones signed in on this browser, the latest first.
    /// Default: none.
    pub remembered: Vec<String>,
    /// An email carried over to the password step (`/login?email=…`). Default: none.
    pub email: Option<String>,
}

/// What [`use_passkey_login`] gives the sign-in card.
#[derive(Clone)]
pub struct UsePasskeyLoginReturn {
    pub step: Signal<Step>,
    /// The Email field's value (the card binds it both ways).
    pub email: ArcRwSignal<String>,
    /// What is wrong with the Email field (shown next to it).
    pub email_error: Signal<Option<String>>,
    /// A message for the person: information (a status) or an error (an alert).
    pub notice: Signal<Option<Notice>>,
    /// What a busy card waits for; `None` when idle.
    pub waiting: Signal<Option<Waiting>>,
    /// A ceremony or a request runs: the card's buttons wait.
    pub busy: Signal<bool>,
    /// The "Sign in with a passkey" option: hidden, offered, or disabled with a reason.
    pub passkey_option: Signal<PasskeyOption>,
    /// After a cancelled prompt: offer "Try again" and "Use password instead".
    pub retry_offered: Signal<bool>,
    flow: Flow,
}

impl UsePasskeyLoginReturn {
    /// "Sign in with a passkey": any discoverable passkey of this site.
    pub fn sign_in_with_passkey(&self) {
        self.flow.attempt(Intent::Discoverable);
    }

    /// Continue: a passkey for the typed email, or the password step.
    pub fn continue_with_email(&self) {
        match typed_email(&self.flow.email.get_untracked()) {
            Ok(email) => self.flow.attempt(Intent::Identifier {
                email,
                one_tap: false,
            }),
            Err(message) => self.flow.email_error.set(Some(message.to_string())),
        }
    }

    /// "Continue as <email>".
    pub fn continue_as(&self, email: &str) {
        self.flow.attempt(Intent::Identifier {
            email: email.to_string(),
            one_tap: true,
        });
    }

    /// Typing in the Email field: keeps the value, and takes back an error about it at once
    /// (not on `change`, which fires as the next click starts: the layout would shift under
    /// that click).
    pub fn email_typed(&self, value: String) {
        self.flow.email.set(value);
        self.flow.email_error.set(None);
    }

    /// The email field changed (typed, autofilled): prepare its passkey request.
    pub fn email_changed(&self) {
        self.flow.email_changed();
    }

    /// "Try again" after a cancelled prompt: the same request, with a fresh challenge.
    pub fn try_again(&self) {
        if let Some(intent) = self.flow.offered_retry.get_untracked() {
            self.flow.attempt(intent);
        }
    }

    /// "Use password instead" after a cancelled prompt: the password step, the email kept.
    pub fn use_password_instead(&self) {
        let intent = self.flow.offered_retry.get_untracked();
        let email = intent.as_ref().and_then(Intent::email).map(str::to_string);
        self.flow.fall_back(email.as_deref(), None);
    }

    /// "Use another account": back to the email field, with conditional UI armed again.
    /// "Remove from this device" for one remembered account (the server forgets it too): the
    /// others stay; without any, the email step.
    pub fn forget_account(&self, email: &str) {
        let Step::OneTap(mut accounts) = self.flow.step.get_untracked() else {
            return;
        };
        accounts.retain(|account| account != email);
        let Some(first) = accounts.first().cloned() else {
            return self.use_another_account();
        };
        self.flow.step.set(Step::OneTap(accounts));
        let intent = Intent::Identifier {
            email: first,
            one_tap: true,
        };
        if self
            .flow
            .prepared
            .with_value(|p| p.as_ref().map(Prepared::intent) == Some(&intent))
        {
            return;
        }
        let flow = self.flow.clone();
        spawn_local(async move {
            flow.prepare(intent).await;
        });
    }

    /// "Use another account": the email step. The remembered accounts stay for next time.
    pub fn use_another_account(&self) {
        let flow = self.flow.clone();
        webauthn::abort_conditional();
        flow.prepared.set_value(None);
        flow.notice.set(None);
        flow.email.set(String::new());
        flow.step.set(Step::Identifier);
        spawn_local(async move {
            flow.prepare(Intent::Discoverable).await;
            flow.arm_conditional();
        });
    }
}

/// Id of the sign-in card's Email field (read before hydration, labelled by the card).
pub const EMAIL_FIELD_ID: &str = "login-email";

/// Starts a login process after hydration, arms conditional UI and prepares the first
/// intent; leaving the page stops the autofill request.
pub fn use_passkey_login(options: UsePasskeyLoginOptions) -> UsePasskeyLoginReturn {
    let step = initial_step(options.email.as_deref(), options.remembered);
    // What the person typed (or the browser autofilled) before the app was interactive wins
    // over the empty field of the server's page.
    let email = options
        .email
        .or_else(|| field_value(EMAIL_FIELD_ID).filter(|typed| !typed.is_empty()))
        .unwrap_or_default();
    // Browser-only (a local value: the server renders on any thread and never navigates).
    #[cfg(feature = "hydrate")]
    let navigate: Option<Navigate> = {
        let navigate = leptos_router::hooks::use_navigate();
        Some(StoredValue::new_local(Arc::new(move |path: &str| {
            navigate(path, Default::default())
        })))
    };
    #[cfg(not(feature = "hydrate"))]
    let navigate: Option<Navigate> = None;
    let flow = Flow {
        next: options.next,
        step: ArcRwSignal::new(step),
        email: ArcRwSignal::new(email),
        email_error: ArcRwSignal::new(None),
        notice: ArcRwSignal::new(None),
        waiting: ArcRwSignal::new(None),
        navigate,
        passkeys: ArcRwSignal::new(Availability::Checking),
        api: ArcStoredValue::new(FrontendApi::new("")),
        prepared: ArcStoredValue::new(None),
        generation: ArcStoredValue::new(0),
        starting: Arc::new(futures::lock::Mutex::new(())),
        conditional_options: ArcStoredValue::new(None),
        queued: ArcStoredValue::new(None),
        loaded_ms: ArcStoredValue::new(0),
        failures: ArcStoredValue::new(0),
        offered_retry: ArcRwSignal::new(None),
    };
    after_hydration(flow.clone().start());
    on_cleanup(webauthn::abort_conditional);
    let busy = {
        let waiting = flow.waiting.clone();
        Signal::derive(move || waiting.with(Option::is_some))
    };
    let passkey_option = {
        let passkeys = flow.passkeys.clone();
        Signal::derive(move || passkeys.get().option())
    };
    UsePasskeyLoginReturn {
        step: flow.step.clone().into(),
        email: flow.email.clone(),
        email_error: flow.email_error.clone().into(),
        notice: flow.notice.clone().into(),
        waiting: flow.waiting.clone().into(),
        busy,
        passkey_option,
        retry_offered: {
            let offered = flow.offered_retry.clone();
            Signal::derive(move || offered.with(Option::is_some))
        },
        flow,
    }
}

/// A client-side navigation within the app (no second download of it).
type Navigate = StoredValue<Arc<dyn Fn(&str)>, LocalStorage>;

/// The state of one login page, shared by its handlers and tasks. Reference-counted (not
/// owned by the component), so a task that outlives the page never touches freed state.
#[derive(Clone)]
struct Flow {
    next: String,
    step: ArcRwSignal<Step>,
    email: ArcRwSignal<String>,
    email_error: ArcRwSignal<Option<String>>,
    notice: ArcRwSignal<Option<Notice>>,
    waiting: ArcRwSignal<Option<Waiting>>,
    /// Owned by the page: gone once it is left (then a full load goes on instead).
    navigate: Option<Navigate>,
    passkeys: ArcRwSignal<Availability>,
    api: ArcStoredValue<FrontendApi>,
    prepared: ArcStoredValue<Option<Prepared>>,
    /// Bumped by every prepare; a slower, older answer is dropped.
    generation: ArcStoredValue<u64>,
    /// One login start at a time: each replaces the process's pending challenge, so the
    /// options kept must come from the start the service saw last.
    starting: Arc<futures::lock::Mutex<()>>,
    conditional_options: ArcStoredValue<Option<String>>,
    /// A click that came before the service answered `init`.
    queued: ArcStoredValue<Option<Intent>>,
    loaded_ms: ArcStoredValue<i64>,
    /// Failed or cancelled prompts in a row on this page.
    failures: ArcStoredValue<u32>,
    /// The request "Try again" repeats, while that is offered.
    offered_retry: ArcRwSignal<Option<Intent>>,
}

impl Flow {
    /// Runs after hydration: starts a process, arms conditional UI, prepares the first intent.
    async fn start(self) {
        // Clicks that came before the app was interactive wait for the service's answer.
        for click in take_early_clicks() {
            self.replay(click);
        }
        if self.connect().await {
            if self.conditional_options.with_value(Option::is_some) {
                self.arm_conditional();
            }
            // Prepare what the page shows first, unless a click already asked for more.
            if self.queued.with_value(Option::is_none) {
                let intent = match (
                    self.step.get_untracked(),
                    typed_email(&self.email.get_untracked()),
                ) {
                    (Step::OneTap(accounts), _) if !accounts.is_empty() => Intent::Identifier {
                        email: accounts[0].clone(),
                        one_tap: true,
                    },
                    // An email typed before hydration: its passkeys are what Continue asks.
                    (Step::Identifier, Ok(email)) => Intent::Identifier {
                        email,
                        one_tap: false,
                    },
                    _ => Intent::Discoverable,
                };
                self.prepare(intent).await;
            }
        }
        // A click that came while the page was still asking the service.
        if let Some(intent) = self.queued.get_value() {
            self.queued.set_value(None);
            self.waiting.set(None);
            self.attempt(intent);
        }
    }

    /// A click the page's early-click script kept from before hydration.
    fn replay(&self, click: EarlyClick) {
        match (click, self.step.get_untracked()) {
            (EarlyClick::OneTap(position), Step::OneTap(accounts)) => {
                if let Some(email) = accounts.get(position) {
                    self.attempt(Intent::Identifier {
                        email: email.clone(),
                        one_tap: true,
                    })
                }
            }
            (EarlyClick::Passkey, _) => self.attempt(Intent::Discoverable),
            (EarlyClick::Continue, Step::Identifier) => {
                match typed_email(&self.email.get_untracked()) {
                    Ok(email) => self.attempt(Intent::Identifier {
                        email,
                        one_tap: false,
                    }),
                    Err(message) => self.email_error.set(Some(message.to_string())),
                }
            }
            _ => {}
        }
    }

    /// Starts a login process; decides whether passkeys can be tried here.
    async fn connect(&self) -> bool {
        let capabilities = webauthn::capabilities().await;
        if !capabilities.webauthn {
            self.passkeys.set(Availability::NotSupported);
            return false;
        }
        self.loaded_ms.set_value(now_ms());
        let mut api = self.api.get_value();
        let mut req = init_request(capabilities);
        req.client_information.remembered_accounts = Some(u32::from(matches!(
            self.step.get_untracked(),
            Step::OneTap(_)
        )));
        let init = api.login_init(&req).await;
        self.api.set_value(api);
        let init = match init {
            Ok(init) => init,
            Err(err) => {
                leptos::logging::warn!("passkey login unavailable: {err}");
                self.passkeys.set(Availability::ServiceDown);
                return false;
            }
        };
        remember_client_handle(init.new_client_env_handle.as_deref());
        if !init.login_allowed {
            self.passkeys.set(Availability::SwitchedOff);
            return false;
        }
        if capabilities.conditional_mediation && !init.conditional_ui_challenge.is_empty() {
            self.conditional_options
                .set_value(Some(init.conditional_ui_challenge));
        }
        self.passkeys.set(Availability::Ready);
        true
    }

    /// Offers passkeys in the Email field's autofill until the person picks one or a modal
    /// request replaces it.
    fn arm_conditional(&self) {
        let Some(options) = self.conditional_options.get_value() else {
            return;
        };
        let result = webauthn::get(&options, Mediation::Conditional);
        let flow = self.clone();
        spawn_local(async move {
            // An error means a modal request replaced it, or it was dismissed: nothing to say.
            if let Ok(credential) = result.await {
                // One challenge per init: a second pick needs a new page.
                flow.conditional_options.set_value(None);
                flow.finish(credential, None, true).await;
            }
        });
    }

    /// Fetches login options (or the reason there are none) for `intent`.
    async fn prepare(&self, intent: Intent) -> Prepared {
        let generation = self.generation.get_value() + 1;
        self.generation.set_value(generation);
        let _one_at_a_time = self.starting.lock().await;
        let answer = self.login_start(&intent).await;
        let prepared = prepared_from(intent, answer);
        if self.generation.get_value() == generation {
            self.prepared.set_value(Some(prepared.clone()));
        }
        prepared
    }

    /// The options (empty: none) and whether the service expects the passkey here.
    async fn login_start(&self, intent: &Intent) -> Result<(String, bool), String> {
        let (identifier, source, token) = match intent {
            Intent::Discoverable => (String::new(), LoginSource::TextField, None),
            Intent::Identifier { email, one_tap } => {
                let token = passkey_login_token(email.clone())
                    .await
                    .map_err(|err| err.to_string())?;
                let source = if *one_tap {
                    LoginSource::OneTap
                } else {
                    LoginSource::TextField
                };
                (email.clone(), source, Some(token))
            }
        };
        let req = LoginStartReq {
            identifier,
            source,
            loaded_ms: self.loaded_ms.get_value(),
            login_connect_token: token,
            identifier_hint_available: None,
            one_tap_meta: None,
        };
        let api = self.api.get_value();
        api.login_start(&req)
            .await
            .map(|rsp| {
                // Without the hint (another service), assume the passkey is here: a failed
                // prompt then reads as cancelled, as it always did.
                let expected_here = rsp.prefer_immediately_available.unwrap_or(true);
                (rsp.assertion_options, expected_here)
            })
            .map_err(|err| err.to_string())
    }

    /// A click that asks for a passkey for `intent`.
    fn attempt(&self, intent: Intent) {
        self.notice.set(None);
        self.email_error.set(None);
        self.offered_retry.set(None);
        let start_in_flight = self.starting.try_lock().is_none();
        let plan = self.prepared.with_value(|p| {
            plan_click(
                &self.passkeys.get_untracked(),
                p.as_ref(),
                &intent,
                start_in_flight,
            )
        });
        match plan {
            ClickPlan::Queue => {
                self.waiting.set(Some(Waiting::Preparing));
                self.queued.set_value(Some(intent));
            }
            ClickPlan::FallBack(message) => {
                self.fall_back(intent.email(), message.map(Notice::Info))
            }
            ClickPlan::Run(prepared) => self.run(prepared),
            ClickPlan::PrepareThenRun => {
                self.waiting.set(Some(Waiting::Preparing));
                let flow = self.clone();
                spawn_local(async move {
                    let prepared = flow.prepare(intent).await;
                    flow.waiting.set(None);
                    flow.run(prepared);
                });
            }
        }
    }

    fn run(&self, prepared: Prepared) {
        self.prepared.set_value(None);
        let (intent, options, expected_here) = match prepared {
            Prepared::Fallback { intent, message } => {
                return self.fall_back(intent.email(), message.map(Notice::Info));
            }
            Prepared::Options {
                intent,
                options,
                expected_here,
            } => (intent, options, expected_here),
        };
        if let Some(email) = intent.email() {
            // Carried over to the password step should this attempt fall back.
            self.email.set(email.to_string());
        }
        // (`get` first stops the autofill request: one WebAuthn request at a time.)
        let result = webauthn::get(&options, Mediation::Modal);
        self.waiting.set(Some(Waiting::Prompt));
        let flow = self.clone();
        spawn_local(async move {
            match result.await {
                Ok(credential) => flow.finish(credential, Some(&options), false).await,
                Err(err) => {
                    flow.waiting.set(None);
                    flow.ceremony_failed(intent, err, expected_here);
                }
            }
        });
    }

    /// The browser did not produce a credential.
    fn ceremony_failed(&self, intent: Intent, err: WebAuthnError, expected_here: bool) {
        let failures = self.failures.get_value() + 1;
        self.failures.set_value(failures);
        // The report goes before a fresh start replaces the pending challenge: the service
        // reads from it which passkeys (which provider) the failed prompt was for.
        let report = failure_event(&err);
        match plan_failure(&intent, &err, expected_here, failures) {
            FailurePlan::Offer(message) => {
                self.notice.set(Some(Notice::Info(message.to_string())));
                self.offered_retry.set(Some(intent.clone()));
                // A fresh challenge for "Try again", ready before the click (Safari needs
                // the prompt inside it).
                let flow = self.clone();
                spawn_local(async move {
                    flow.report(report).await;
                    flow.prepare(intent).await;
                });
            }
            FailurePlan::Retry {
                message,
                open_password,
            } => {
                self.notice.set(Some(Notice::Info(message.to_string())));
                if open_password {
                    self.step.set(Step::Password);
                }
                self.arm_conditional();
                // A fresh challenge for the retry, ready before the next click.
                let flow = self.clone();
                spawn_local(async move {
                    flow.report(report).await;
                    flow.prepare(Intent::Discoverable).await;
                });
            }
            FailurePlan::FallBack(message) => {
                let flow = self.clone();
                spawn_local(async move { flow.report(report).await });
                self.fall_back(intent.email(), Some(Notice::Info(message.to_string())))
            }
        }
    }

    /// Tells the service about a failed prompt (best effort: nothing waits on it).
    async fn report(&self, event_type: Option<&'static str>) {
        let Some(event_type) = event_type else { return };
        let req = EventCreateReq {
            event_type: event_type.to_string(),
            message: None,
            challenge: None,
        };
        if let Err(err) = self.api.get_value().report_event(&req).await {
            leptos::logging::warn!("reporting {event_type}: {err}");
        }
    }

    /// Sends the assertion to the service, then the signed result to our server, which
    /// makes the session; the browser then goes where the server says (`/append`).
    async fn finish(&self, credential: String, options: Option<&str>, conditional: bool) {
        self.waiting.set(Some(Waiting::SigningIn));
        let api = self.api.get_value();
        let req = LoginFinishReq {
            assertion_response: credential.clone(),
            is_conditional_ui: conditional,
            loaded_ms: Some(self.loaded_ms.get_value()),
        };
        let finished = match api.login_finish(&req).await {
            Ok(finished) => finished,
            Err(err) => {
                leptos::logging::warn!("passkey login finish failed: {err}");
                let (message, gone) = plan_finish_failure(&err);
                if gone {
                    // The passkey is gone on our side: tell the authenticator to forget it.
                    let rp_id = options.and_then(rp_id_of).or_else(|| {
                        self.conditional_options
                            .get_value()
                            .as_deref()
                            .and_then(rp_id_of)
                    });
                    if let (Some(rp_id), Some(id)) = (rp_id, credential_id_of(&credential)) {
                        webauthn::signal_unknown_credential(&rp_id, &id);
                    }
                }
                let email = self.email.get_untracked();
                return self.fall_back(Some(&email), Some(Notice::Info(message.to_string())));
            }
        };
        match complete_passkey_login(finished.signed_passkey_data, self.next.clone()).await {
            Ok(target) => {
                // Signed in: the password manager learns which passkeys the site accepts.
                if let Some(details) = &finished.signal_details {
                    webauthn::signal_user_passkeys(details);
                }
                self.leave_for(&target)
            }
            Err(err) => {
                let email = self.email.get_untracked();
                self.fall_back(Some(&email), Some(Notice::Error(err.to_string())));
            }
        }
    }

    /// Goes where the server said: a page of this app by client-side navigation (the wasm is
    /// not downloaded again), anything else (an OpenID provider) by a full load.
    fn leave_for(&self, target: &str) {
        let navigate = crate::journey::is_app_page(target)
            .then(|| self.navigate.and_then(|navigate| navigate.try_get_value()))
            .flatten();
        match navigate {
            Some(navigate) => navigate(target),
            None => go_to(target),
        }
    }

    /// The password step, the email carried over.
    fn fall_back(&self, email: Option<&str>, notice: Option<Notice>) {
        webauthn::abort_conditional();
        self.offered_retry.set(None);
        if let Some(email) = email.filter(|e| !e.is_empty()) {
            self.email.set(email.to_string());
        }
        self.notice.set(notice);
        self.waiting.set(None);
        self.step.set(Step::Password);
    }

    fn email_changed(&self) {
        let Ok(email) = typed_email(&self.email.get_untracked()) else {
            return;
        };
        // Not while a ceremony runs: a new start would replace the challenge it answers.
        if self.passkeys.get_untracked() != Availability::Ready
            || self.waiting.with_untracked(Option::is_some)
        {
            return;
        }
        let intent = Intent::Identifier {
            email,
            one_tap: false,
        };
        if self
            .prepared
            .with_value(|p| p.as_ref().map(Prepared::intent) == Some(&intent))
        {
            return;
        }
        let flow = self.clone();
        spawn_local(async move {
            flow.prepare(intent).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn for_email(email: &str) -> Intent {
        Intent::Identifier {
            email: email.into(),
            one_tap: false,
        }
    }

    fn options(intent: Intent) -> Prepared {
        Prepared::Options {
            intent,
            options: "{}".into(),
            expected_here: true,
        }
    }

    #[test]
    fn the_first_step_follows_what_the_page_knows() {
        let two = vec!["x@y.z".to_string(), "v@w.x".to_string()];
        assert_eq!(initial_step(Some("a@b.c"), two.clone()), Step::Password);
        assert_eq!(initial_step(None, two.clone()), Step::OneTap(two));
        assert_eq!(initial_step(None, Vec::new()), Step::Identifier);
    }

    #[test]
    fn continue_needs_something_like_an_email() {
        assert_eq!(
            typed_email("  Ada@Example.com "),
            Ok("ada@example.com".into())
        );
        assert_eq!(typed_email(""), Err(MSG_NO_EMAIL));
        assert_eq!(typed_email("ada"), Err(MSG_NO_EMAIL));
    }

    #[test]
    fn the_passkey_option_is_hidden_only_where_it_can_never_work() {
        assert_eq!(Availability::Checking.option(), PasskeyOption::Offered);
        assert_eq!(Availability::Ready.option(), PasskeyOption::Offered);
        assert_eq!(
            Availability::ServiceDown.option(),
            PasskeyOption::Unavailable(MSG_SERVICE_DOWN)
        );
        assert_eq!(Availability::NotSupported.option(), PasskeyOption::Hidden);
        assert_eq!(Availability::SwitchedOff.option(), PasskeyOption::Hidden);
    }

    /// Every availability × prepared options × intent.
    #[test]
    fn click_table() {
        let ada = for_email("ada@example.com");
        let bob = for_email("bob@example.com");
        let cases: Vec<(Availability, Option<Prepared>, Intent, ClickPlan)> = vec![
            (Availability::Checking, None, ada.clone(), ClickPlan::Queue),
            (
                Availability::Checking,
                Some(options(ada.clone())),
                ada.clone(),
                ClickPlan::Queue,
            ),
            (
                Availability::ServiceDown,
                None,
                Intent::Discoverable,
                ClickPlan::FallBack(Some(MSG_SERVICE_DOWN.into())),
            ),
            (
                Availability::ServiceDown,
                None,
                ada.clone(),
                ClickPlan::FallBack(Some(MSG_SERVICE_DOWN.into())),
            ),
            (
                Availability::NotSupported,
                None,
                ada.clone(),
                ClickPlan::FallBack(None),
            ),
            (
                Availability::SwitchedOff,
                None,
                ada.clone(),
                ClickPlan::FallBack(None),
            ),
            (
                Availability::Ready,
                Some(options(ada.clone())),
                ada.clone(),
                ClickPlan::Run(options(ada.clone())),
            ),
            (
                Availability::Ready,
                Some(options(ada.clone())),
                bob.clone(),
                ClickPlan::PrepareThenRun,
            ),
            (
                Availability::Ready,
                None,
                Intent::Discoverable,
                ClickPlan::PrepareThenRun,
            ),
            (
                Availability::Ready,
                Some(Prepared::Fallback {
                    intent: bob.clone(),
                    message: None,
                }),
                bob.clone(),
                ClickPlan::Run(Prepared::Fallback {
                    intent: bob.clone(),
                    message: None,
                }),
            ),
        ];
        for (availability, prepared, intent, plan) in cases {
            assert_eq!(
                plan_click(&availability, prepared.as_ref(), &intent, false),
                plan,
                "{availability:?} {prepared:?} {intent:?}"
            );
        }
        // A start on its way (the Email field changed as this click began) replaces the
        // challenge: options prepared before are stale, so the click starts afresh.
        assert_eq!(
            plan_click(
                &Availability::Ready,
                Some(&options(ada.clone())),
                &ada,
                true
            ),
            ClickPlan::PrepareThenRun
        );
    }

    #[test]
    fn login_start_answers_become_options_or_a_quiet_fallback() {
        let ada = for_email("ada@example.com");
        assert_eq!(
            prepared_from(ada.clone(), Ok(("{}".into(), false))),
            Prepared::Options {
                intent: ada.clone(),
                options: "{}".into(),
                expected_here: false
            }
        );
        // No passkey (or not offered here): the password step without a telling message.
        assert_eq!(
            prepared_from(ada.clone(), Ok((String::new(), true))),
            Prepared::Fallback {
                intent: ada.clone(),
                message: None
            }
        );
        assert_eq!(
            prepared_from(ada.clone(), Err("down".into())),
            Prepared::Fallback {
                intent: ada,
                message: Some(MSG_SERVICE_DOWN.into())
            }
        );
    }

    /// Every intent × browser error × whether the service expected the passkey here × how
    /// many prompts failed in a row.
    #[test]
    fn failure_table() {
        let ada = for_email("ada@example.com");
        let retry = |message, open_password| FailurePlan::Retry {
            message,
            open_password,
        };
        let offer = FailurePlan::Offer(MSG_CANCELLED);
        let three = FailurePlan::FallBack(MSG_THREE_FAILURES);
        let cases = [
            (
                Intent::Discoverable,
                WebAuthnError::Cancelled,
                true,
                1,
                offer.clone(),
            ),
            (
                Intent::Discoverable,
                WebAuthnError::Cancelled,
                false,
                1,
                retry(MSG_NONE_ON_DEVICE, false),
            ),
            (
                ada.clone(),
                WebAuthnError::Cancelled,
                true,
                1,
                offer.clone(),
            ),
            (
                ada.clone(),
                WebAuthnError::Cancelled,
                true,
                2,
                offer.clone(),
            ),
            (
                ada.clone(),
                WebAuthnError::Cancelled,
                false,
                1,
                retry(MSG_NOT_ON_DEVICE, true),
            ),
            (ada.clone(), WebAuthnError::Aborted, true, 1, offer.clone()),
            (
                ada.clone(),
                WebAuthnError::NotSupported,
                true,
                1,
                FailurePlan::FallBack(MSG_FAILED),
            ),
            (
                ada.clone(),
                WebAuthnError::Invalid("rp".into()),
                false,
                2,
                FailurePlan::FallBack(MSG_FAILED),
            ),
            (
                Intent::Discoverable,
                WebAuthnError::Other("?".into()),
                true,
                1,
                FailurePlan::FallBack(MSG_FAILED),
            ),
            // The third failure in a row opens the password step, whatever it was.
            (
                ada.clone(),
                WebAuthnError::Cancelled,
                true,
                3,
                three.clone(),
            ),
            (
                ada.clone(),
                WebAuthnError::Cancelled,
                false,
                3,
                three.clone(),
            ),
            (
                Intent::Discoverable,
                WebAuthnError::Cancelled,
                true,
                4,
                three.clone(),
            ),
            (
                ada.clone(),
                WebAuthnError::Other("?".into()),
                true,
                3,
                three,
            ),
        ];
        for (intent, err, expected_here, failures, plan) in cases {
            assert_eq!(
                plan_failure(&intent, &err, expected_here, failures),
                plan,
                "{intent:?} {err:?} {expected_here} {failures}"
            );
        }
    }

    #[test]
    fn failed_prompts_are_reported_as_corbado_names_them() {
        assert_eq!(
            failure_event(&WebAuthnError::Cancelled),
            Some("login-explicit-abort")
        );
        assert_eq!(
            failure_event(&WebAuthnError::Aborted),
            Some("login-explicit-abort")
        );
        assert_eq!(
            failure_event(&WebAuthnError::Other("x".into())),
            Some("login-error")
        );
        assert_eq!(failure_event(&WebAuthnError::NotSupported), None);
        // Every name is one the service accepts.
        for err in [WebAuthnError::Cancelled, WebAuthnError::Invalid("x".into())] {
            let name = failure_event(&err).unwrap();
            assert!(crate::connect::api::EVENT_TYPES.contains(&name), "{name}");
        }
    }

    #[test]
    fn finish_failures_tell_a_removed_passkey_and_an_outage_apart() {
        let gone = ApiError::Service {
            status: 404,
            error: None,
        };
        assert_eq!(plan_finish_failure(&gone), (MSG_REMOVED, true));
        let outage = ApiError::Service {
            status: 503,
            error: None,
        };
        for down in [
            ApiError::Network("down".into()),
            ApiError::Unavailable,
            outage,
        ] {
            assert_eq!(plan_finish_failure(&down), (MSG_SERVICE_DOWN, false));
        }
        let refused = ApiError::Service {
            status: 400,
            error: None,
        };
        assert_eq!(plan_finish_failure(&refused), (MSG_FAILED, false));
    }
}
