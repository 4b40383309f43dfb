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
//! SSR: the hook returns its initial state ([`Availability::Checking`]) and runs nothing;
//! after hydration it starts a login process with the passkey service.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::connect::api::{LoginFinishReq, LoginSource, LoginStartReq};
use crate::connect::browser::environment::{
    after_hydration, credential_id_of, go_to, init_request, now_ms, remember_client_handle,
    rp_id_of,
};
use crate::connect::browser::frontend_api::{ApiError, FrontendApi};
use crate::connect::browser::webauthn::{self, Mediation, WebAuthnError};
use crate::server_fns::passkeys::{complete_passkey_login, passkey_login_token};

/// Which part of the sign-in card is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Email → Continue.
    Identifier,
    /// "Continue as <email>" / "Use another account".
    OneTap(String),
    /// The IdP's classic login, email carried over.
    Password,
}

/// Whether passkey login can be tried in this browser right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    /// Not hydrated yet, or the service has not answered.
    Checking,
    Ready,
    /// The reason, when telling it helps the person.
    Unavailable(Option<String>),
    /// The service offers passkey login to nobody on this browser (an operator's kill
    /// switch, or the rollout): the page shows no passkey option at all.
    SwitchedOff,
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

pub const MSG_UNAVAILABLE: &str =
    "Passkey sign-in is not available right now. Sign in with your password.";
pub const MSG_CANCELLED: &str =
    "Passkey sign-in was cancelled or timed out. Try again, or use your password.";
pub const MSG_NOT_SUPPORTED: &str =
    "This browser cannot use passkeys here. Sign in with your password.";
pub const MSG_REMOVED: &str =
    "This passkey was removed from your account. Sign in with your password instead.";
pub const MSG_NO_EMAIL: &str = "Enter your email address.";

// ------------------------------------------------------------------------------ decisions

/// The first step shown: the password step when an email was carried over (`?email=`),
/// one-tap for a remembered account, else the email field.
pub fn initial_step(carried_email: Option<&str>, hint: Option<String>) -> Step {
    match (carried_email, hint) {
        (Some(_), _) => Step::Password,
        (None, Some(hint)) => Step::OneTap(hint),
        (None, None) => Step::Identifier,
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

fn plan_click(
    availability: &Availability,
    prepared: Option<&Prepared>,
    intent: &Intent,
) -> ClickPlan {
    match availability {
        Availability::Checking => ClickPlan::Queue,
        // Only Continue can get here (there is no passkey button): on to the password.
        Availability::SwitchedOff => ClickPlan::FallBack(None),
        Availability::Unavailable(reason) => ClickPlan::FallBack(match (intent, reason) {
            (_, Some(reason)) => Some(reason.clone()),
            // Someone who asked for "any passkey" needs to hear why nothing happens; someone
            // who typed an email just continues with the password.
            (Intent::Discoverable, None) => Some(MSG_NOT_SUPPORTED.to_string()),
            _ => None,
        }),
        Availability::Ready => match prepared {
            Some(prepared) if prepared.intent() == intent => ClickPlan::Run(prepared.clone()),
            _ => ClickPlan::PrepareThenRun,
        },
    }
}

/// What login start's answer means for an intent.
fn prepared_from(intent: Intent, answer: Result<String, String>) -> Prepared {
    match answer {
        Ok(options) if !options.is_empty() => Prepared::Options { intent, options },
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
                message: Some(MSG_UNAVAILABLE.to_string()),
            }
        }
    }
}

/// What happens after the browser produced no credential.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FailurePlan {
    /// A soft error: say so, keep the passkey actions for a retry with a fresh challenge, and
    /// open the password step for someone who named their account.
    Retry { open_password: bool },
    /// The password step, with this message.
    FallBack(String),
}

fn plan_failure(intent: &Intent, err: &WebAuthnError) -> FailurePlan {
    match err {
        WebAuthnError::Cancelled | WebAuthnError::Aborted => FailurePlan::Retry {
            open_password: intent.email().is_some(),
        },
        WebAuthnError::NotSupported => FailurePlan::FallBack(MSG_NOT_SUPPORTED.to_string()),
        other => {
            leptos::logging::warn!("passkey login failed: {other}");
            FailurePlan::FallBack(MSG_UNAVAILABLE.to_string())
        }
    }
}

/// The service refused the assertion: what the person reads, and whether the passkey is gone
/// on our side (so the authenticator may forget it).
fn plan_finish_failure(err: &ApiError) -> (&'static str, bool) {
    match err {
        ApiError::Service { status: 404, .. } => (MSG_REMOVED, true),
        _ => (MSG_UNAVAILABLE, false),
    }
}

// ---------------------------------------------------------------------------------- hook

/// Options of [`use_passkey_login`].
#[derive(Debug, Clone, Default)]
pub struct UsePasskeyLoginOptions {
    /// Where the browser goes after the login (through the append step). Default: nowhere in
    /// particular (the dashboard).
    pub next: String,
    /// The one-tap email: whoever last signed in on this browser. Default: none.
    pub hint: Option<String>,
    /// An email carried over to the password step (`/login?email=…`). Default: none.
    pub email: Option<String>,
}

/// What [`use_passkey_login`] gives the sign-in card.
#[derive(Clone)]
pub struct UsePasskeyLoginReturn {
    pub step: Signal<Step>,
    /// The Email field's value (the card binds it both ways).
    pub email: ArcRwSignal<String>,
    /// A message for the person (an alert).
    pub notice: Signal<Option<String>>,
    /// A ceremony runs, or the page has not yet heard from the service: passkey actions
    /// wait (a click on the server-rendered button could otherwise do nothing).
    pub waiting: Signal<bool>,
    /// A ceremony or a request runs.
    pub busy: Signal<bool>,
    /// Whether the page offers passkeys at all (not when an operator switched them off).
    pub offered: Signal<bool>,
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
            Err(message) => self.flow.notice.set(Some(message.to_string())),
        }
    }

    /// "Continue as <email>".
    pub fn continue_as(&self, email: &str) {
        self.flow.attempt(Intent::Identifier {
            email: email.to_string(),
            one_tap: true,
        });
    }

    /// The email field changed (typed, autofilled): prepare its passkey request.
    pub fn email_changed(&self) {
        self.flow.email_changed();
    }

    /// "Use another account": back to the email field, with conditional UI armed again.
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

/// Starts a login process after hydration, arms conditional UI and prepares the first
/// intent; leaving the page stops the autofill request.
pub fn use_passkey_login(options: UsePasskeyLoginOptions) -> UsePasskeyLoginReturn {
    let flow = Flow {
        next: options.next,
        step: ArcRwSignal::new(initial_step(options.email.as_deref(), options.hint)),
        email: ArcRwSignal::new(options.email.unwrap_or_default()),
        notice: ArcRwSignal::new(None),
        busy: ArcRwSignal::new(false),
        passkeys: ArcRwSignal::new(Availability::Checking),
        api: ArcStoredValue::new(FrontendApi::new("")),
        prepared: ArcStoredValue::new(None),
        generation: ArcStoredValue::new(0),
        starting: Arc::new(futures::lock::Mutex::new(())),
        conditional_options: ArcStoredValue::new(None),
        queued: ArcStoredValue::new(None),
        loaded_ms: ArcStoredValue::new(0),
    };
    after_hydration(flow.clone().start());
    on_cleanup(webauthn::abort_conditional);
    let waiting = {
        let (busy, passkeys) = (flow.busy.clone(), flow.passkeys.clone());
        Signal::derive(move || busy.get() || passkeys.get() == Availability::Checking)
    };
    UsePasskeyLoginReturn {
        step: flow.step.clone().into(),
        email: flow.email.clone(),
        notice: flow.notice.clone().into(),
        waiting,
        busy: flow.busy.clone().into(),
        offered: {
            let passkeys = flow.passkeys.clone();
            Signal::derive(move || passkeys.get() != Availability::SwitchedOff)
        },
        flow,
    }
}

/// The state of one login page, shared by its handlers and tasks. Reference-counted (not
/// owned by the component), so a task that outlives the page never touches freed state.
#[derive(Clone)]
struct Flow {
    next: String,
    step: ArcRwSignal<Step>,
    email: ArcRwSignal<String>,
    notice: ArcRwSignal<Option<String>>,
    busy: ArcRwSignal<bool>,
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
}

impl Flow {
    /// Runs after hydration: starts a process, arms conditional UI, prepares the first intent.
    async fn start(self) {
        if self.connect().await {
            if self.conditional_options.with_value(Option::is_some) {
                self.arm_conditional();
            }
            // Prepare what the page shows first, unless a click already asked for more.
            if self.queued.with_value(Option::is_none) {
                let intent = match self.step.get_untracked() {
                    Step::OneTap(email) => Intent::Identifier {
                        email,
                        one_tap: true,
                    },
                    _ => Intent::Discoverable,
                };
                self.prepare(intent).await;
            }
        }
        // A click that came while the page was still asking the service.
        if let Some(intent) = self.queued.get_value() {
            self.queued.set_value(None);
            self.busy.set(false);
            self.attempt(intent);
        }
    }

    /// Starts a login process; decides whether passkeys can be tried here.
    async fn connect(&self) -> bool {
        let capabilities = webauthn::capabilities().await;
        if !capabilities.webauthn {
            self.passkeys.set(Availability::Unavailable(None));
            return false;
        }
        self.loaded_ms.set_value(now_ms());
        let mut api = self.api.get_value();
        let init = api.login_init(&init_request(capabilities)).await;
        self.api.set_value(api);
        let init = match init {
            Ok(init) => init,
            Err(err) => {
                leptos::logging::warn!("passkey login unavailable: {err}");
                self.passkeys.set(Availability::Unavailable(None));
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

    async fn login_start(&self, intent: &Intent) -> Result<String, String> {
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
            .map(|rsp| rsp.assertion_options)
            .map_err(|err| err.to_string())
    }

    /// A click that asks for a passkey for `intent`.
    fn attempt(&self, intent: Intent) {
        self.notice.set(None);
        let plan = self
            .prepared
            .with_value(|p| plan_click(&self.passkeys.get_untracked(), p.as_ref(), &intent));
        match plan {
            ClickPlan::Queue => {
                self.busy.set(true);
                self.queued.set_value(Some(intent));
            }
            ClickPlan::FallBack(message) => self.fall_back(intent.email(), message),
            ClickPlan::Run(prepared) => self.run(prepared),
            ClickPlan::PrepareThenRun => {
                self.busy.set(true);
                let flow = self.clone();
                spawn_local(async move {
                    let prepared = flow.prepare(intent).await;
                    flow.busy.set(false);
                    flow.run(prepared);
                });
            }
        }
    }

    fn run(&self, prepared: Prepared) {
        self.prepared.set_value(None);
        let (intent, options) = match prepared {
            Prepared::Fallback { intent, message } => {
                return self.fall_back(intent.email(), message);
            }
            Prepared::Options { intent, options } => (intent, options),
        };
        if let Some(email) = intent.email() {
            // Carried over to the password step should this attempt fall back.
            self.email.set(email.to_string());
        }
        // (`get` first stops the autofill request: one WebAuthn request at a time.)
        let result = webauthn::get(&options, Mediation::Modal);
        self.busy.set(true);
        let flow = self.clone();
        spawn_local(async move {
            match result.await {
                Ok(credential) => flow.finish(credential, Some(&options), false).await,
                Err(err) => {
                    flow.busy.set(false);
                    flow.ceremony_failed(intent, err);
                }
            }
        });
    }

    /// The browser did not produce a credential.
    fn ceremony_failed(&self, intent: Intent, err: WebAuthnError) {
        match plan_failure(&intent, &err) {
            FailurePlan::Retry { open_password } => {
                self.notice.set(Some(MSG_CANCELLED.to_string()));
                if open_password {
                    self.step.set(Step::Password);
                }
                self.arm_conditional();
                // A fresh challenge for the retry, ready before the next click.
                let flow = self.clone();
                spawn_local(async move {
                    flow.prepare(Intent::Discoverable).await;
                });
            }
            FailurePlan::FallBack(message) => self.fall_back(intent.email(), Some(message)),
        }
    }

    /// Sends the assertion to the service, then the signed result to our server, which
    /// makes the session; the browser then goes where the server says (`/append`).
    async fn finish(&self, credential: String, options: Option<&str>, conditional: bool) {
        self.busy.set(true);
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
                return self.fall_back(Some(&email), Some(message.to_string()));
            }
        };
        match complete_passkey_login(finished.signed_passkey_data, self.next.clone()).await {
            Ok(target) => go_to(&target),
            Err(err) => {
                let email = self.email.get_untracked();
                self.fall_back(Some(&email), Some(err.to_string()));
            }
        }
    }

    /// The password step, the email carried over.
    fn fall_back(&self, email: Option<&str>, message: Option<String>) {
        webauthn::abort_conditional();
        if let Some(email) = email.filter(|e| !e.is_empty()) {
            self.email.set(email.to_string());
        }
        self.notice.set(message);
        self.busy.set(false);
        self.step.set(Step::Password);
    }

    fn email_changed(&self) {
        let Ok(email) = typed_email(&self.email.get_untracked()) else {
            return;
        };
        // Not while a ceremony runs: a new start would replace the challenge it answers.
        if self.passkeys.get_untracked() != Availability::Ready || self.busy.get_untracked() {
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
        }
    }

    #[test]
    fn the_first_step_follows_what_the_page_knows() {
        assert_eq!(
            initial_step(Some("a@b.c"), Some("x@y.z".into())),
            Step::Password
        );
        assert_eq!(
            initial_step(None, Some("x@y.z".into())),
            Step::OneTap("x@y.z".into())
        );
        assert_eq!(initial_step(None, None), Step::Identifier);
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
                Availability::Unavailable(None),
                None,
                Intent::Discoverable,
                ClickPlan::FallBack(Some(MSG_NOT_SUPPORTED.into())),
            ),
            (
                Availability::Unavailable(None),
                None,
                ada.clone(),
                ClickPlan::FallBack(None),
            ),
            (
                Availability::Unavailable(Some("why".into())),
                None,
                ada.clone(),
                ClickPlan::FallBack(Some("why".into())),
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
                plan_click(&availability, prepared.as_ref(), &intent),
                plan,
                "{availability:?} {prepared:?} {intent:?}"
            );
        }
    }

    #[test]
    fn login_start_answers_become_options_or_a_quiet_fallback() {
        let ada = for_email("ada@example.com");
        assert_eq!(
            prepared_from(ada.clone(), Ok("{}".into())),
            options(ada.clone())
        );
        // No passkey (or not offered here): the password step without a telling message.
        assert_eq!(
            prepared_from(ada.clone(), Ok(String::new())),
            Prepared::Fallback {
                intent: ada.clone(),
                message: None
            }
        );
        assert_eq!(
            prepared_from(ada.clone(), Err("down".into())),
            Prepared::Fallback {
                intent: ada,
                message: Some(MSG_UNAVAILABLE.into())
            }
        );
    }

    #[test]
    fn failure_table() {
        let ada = for_email("ada@example.com");
        let cases = [
            (
                Intent::Discoverable,
                WebAuthnError::Cancelled,
                FailurePlan::Retry {
                    open_password: false,
                },
            ),
            (
                ada.clone(),
                WebAuthnError::Cancelled,
                FailurePlan::Retry {
                    open_password: true,
                },
            ),
            (
                ada.clone(),
                WebAuthnError::Aborted,
                FailurePlan::Retry {
                    open_password: true,
                },
            ),
            (
                ada.clone(),
                WebAuthnError::NotSupported,
                FailurePlan::FallBack(MSG_NOT_SUPPORTED.into()),
            ),
            (
                ada.clone(),
                WebAuthnError::Invalid("rp".into()),
                FailurePlan::FallBack(MSG_UNAVAILABLE.into()),
            ),
            (
                Intent::Discoverable,
                WebAuthnError::Other("?".into()),
                FailurePlan::FallBack(MSG_UNAVAILABLE.into()),
            ),
        ];
        for (intent, err, plan) in cases {
            assert_eq!(plan_failure(&intent, &err), plan, "{intent:?} {err:?}");
        }
    }

    #[test]
    fn a_passkey_unknown_to_the_service_is_reported_gone() {
        let gone = ApiError::Service {
            status: 404,
            error: None,
        };
        assert_eq!(plan_finish_failure(&gone), (MSG_REMOVED, true));
        for other in [
            ApiError::Service {
                status: 400,
                error: None,
            },
            ApiError::Network("down".into()),
            ApiError::Unavailable,
        ] {
            assert_eq!(plan_finish_failure(&other), (MSG_UNAVAILABLE, false));
        }
    }
}
