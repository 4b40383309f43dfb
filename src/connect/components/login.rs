//! `ConnectLogin`: passkey login first, the IdP's password login as the fallback.
//!
//! Three ways in (design.md §5): identifier-first (Email → Continue) with conditional UI
//! armed on the Email field, the "Sign in with a passkey" button (any discoverable passkey),
//! and one-tap ("Continue as <email>") for whoever last signed in on this browser. Options
//! are fetched before the click, so every WebAuthn call starts inside the click itself.
//!
//! Anything that makes passkeys unusable (no passkey for this email, an unsupported browser,
//! rollout, a service error) leads to the password step with the email filled in; a cancelled
//! ceremony is a soft error that can be retried with a fresh challenge.
//!
//! Without JavaScript the same markup is a plain form: Continue posts the email and the
//! server answers with the password step.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos::task::spawn_local;

use super::client::{
    after_hydration, credential_id_of, go_to, init_request, now_ms, remember_client_handle,
    rp_id_of,
};
use super::frontend_api::{ApiError, FrontendApi};
use super::webauthn::{self, Mediation, WebAuthnError};
use crate::connect::api::{LoginFinishReq, LoginSource, LoginStartReq};
use crate::journey::with_next;
use crate::pages::FormError;
use crate::routes::Page;
use crate::server_fns::account::{ClassicLogin, ForgetLoginHint, SignIn};
use crate::server_fns::passkeys::{complete_passkey_login, passkey_login_token};

/// Which part of the form is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// Email → Continue.
    Identifier,
    /// "Continue as <email>" / "Use another account".
    OneTap(String),
    /// The IdP's password login, email carried over.
    Password,
}

/// Whether passkey login can be tried in this browser right now.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Availability {
    /// Not hydrated yet, or the service has not answered.
    Checking,
    Ready,
    /// The reason, when telling it helps the person.
    Unavailable(Option<String>),
}

/// Whom a passkey request is for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Intent {
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
enum Prepared {
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

const MSG_UNAVAILABLE: &str =
    "Passkey sign-in is not available right now. Sign in with your password.";
const MSG_CANCELLED: &str =
    "Passkey sign-in was cancelled or timed out. Try again, or use your password.";
const MSG_NOT_SUPPORTED: &str =
    "This browser cannot use passkeys here. Sign in with your password.";
const MSG_REMOVED: &str =
    "This passkey was removed from your account. Sign in with your password instead.";
const MSG_NO_EMAIL: &str = "Enter your email address.";

/// The state of one login page, shared by its event handlers and tasks. Reference-counted
/// (not owned by the component), so a task that outlives the page never touches freed state.
#[derive(Clone)]
struct Flow {
    next: String,
    /// The IdP's classic login: a password here, or a redirect to an OpenID provider.
    classic: ClassicLogin,
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
            self.passkeys.set(Availability::Unavailable(None));
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
        let Ok(result) = webauthn::get(&options, Mediation::Conditional) else {
            return;
        };
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
        let prepared = match self.login_start(&intent).await {
            Ok(options) if !options.is_empty() => Prepared::Options { intent, options },
            // The service has no passkey for this person (or does not offer passkeys to
            // this browser): the password step, without a message that reveals which.
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
        };
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

    /// A click that asks for a passkey for `intent`. Uses the prepared options when they are
    /// for this intent, so the request starts inside the click.
    fn attempt(&self, intent: Intent) {
        self.notice.set(None);
        match self.passkeys.get_untracked() {
            Availability::Ready => {}
            // Still asking the service: this click runs as soon as it has answered.
            Availability::Checking => {
                self.busy.set(true);
                return self.queued.set_value(Some(intent));
            }
            Availability::Unavailable(reason) => {
                let message = match (&intent, reason) {
                    (_, Some(reason)) => Some(reason),
                    (Intent::Discoverable, None) => Some(MSG_NOT_SUPPORTED.to_string()),
                    _ => None,
                };
                return self.fall_back(intent.email(), message);
            }
        }
        match self.prepared.get_value() {
            Some(prepared) if *prepared.intent() == intent => self.run(prepared),
            _ => {
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
        let result = match webauthn::get(&options, Mediation::Modal) {
            Ok(result) => result,
            Err(err) => return self.ceremony_failed(intent, err),
        };
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
        match err {
            WebAuthnError::Cancelled | WebAuthnError::Aborted => {
                self.notice.set(Some(MSG_CANCELLED.to_string()));
                // Someone who named their account (its email is already in the field) may
                // rather type the password now; the passkey button stays for the retry.
                if intent.email().is_some() {
                    self.step.set(Step::Password);
                }
                self.arm_conditional();
                // A fresh challenge for the retry, ready before the next click.
                let flow = self.clone();
                spawn_local(async move {
                    flow.prepare(Intent::Discoverable).await;
                });
            }
            WebAuthnError::NotSupported => {
                self.fall_back(intent.email(), Some(MSG_NOT_SUPPORTED.to_string()))
            }
            other => {
                leptos::logging::warn!("passkey login failed: {other}");
                self.fall_back(intent.email(), Some(MSG_UNAVAILABLE.to_string()));
            }
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
                let email = self.email.get_untracked();
                if let ApiError::Service { status: 404, .. } = err {
                    // The passkey is gone on our side: tell the authenticator to forget it.
                    if let (Some(rp_id), Some(id)) = (
                        options
                            .and_then(rp_id_of)
                            .or_else(|| self.conditional_rp_id()),
                        credential_id_of(&credential),
                    ) {
                        webauthn::signal_unknown_credential(&rp_id, &id);
                    }
                    return self.fall_back(Some(&email), Some(MSG_REMOVED.to_string()));
                }
                leptos::logging::warn!("passkey login finish failed: {err}");
                return self.fall_back(Some(&email), Some(MSG_UNAVAILABLE.to_string()));
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

    fn conditional_rp_id(&self) -> Option<String> {
        self.conditional_options
            .get_value()
            .as_deref()
            .and_then(rp_id_of)
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

    /// Whether passkey actions must wait: a ceremony runs, or the page has not yet hydrated
    /// and asked the service (a click on the server-rendered button could do nothing).
    fn waiting(&self) -> impl Fn() -> bool + Clone + Send + Sync + 'static {
        let (busy, passkeys) = (self.busy.clone(), self.passkeys.clone());
        move || busy.get() || passkeys.get() == Availability::Checking
    }

    /// Continue: passkey for the typed email, or the password step.
    fn continue_with_email(&self) {
        let email = self.email.get_untracked().trim().to_lowercase();
        if email.is_empty() || !email.contains('@') {
            self.notice.set(Some(MSG_NO_EMAIL.to_string()));
            return;
        }
        self.attempt(Intent::Identifier {
            email,
            one_tap: false,
        });
    }

    /// The email field changed (typed, autofilled): prepare its passkey request.
    fn email_changed(&self) {
        let email = self.email.get_untracked().trim().to_lowercase();
        // Not while a ceremony runs: a new start would replace the challenge it answers.
        if self.passkeys.get_untracked() != Availability::Ready
            || self.busy.get_untracked()
            || !email.contains('@')
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

/// The sign-in card. `hint` is the one-tap email (see `crate::login_hint`); `email` the
/// address carried over to the password step (`/login?email=…`); `classic` how the IdP's
/// own login works.
#[component]
pub fn ConnectLogin(
    next: String,
    hint: Option<String>,
    email: Option<String>,
    classic: ClassicLogin,
) -> impl IntoView {
    let initial_step = match (&email, hint) {
        (Some(_), _) => Step::Password,
        (None, Some(hint)) => Step::OneTap(hint),
        (None, None) => Step::Identifier,
    };
    let signup_href = with_next(Page::Signup.path(), Some(&next));
    let flow = Flow {
        next,
        classic,
        step: ArcRwSignal::new(initial_step),
        email: ArcRwSignal::new(email.unwrap_or_default()),
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
    // Leaving the page stops the autofill request.
    on_cleanup(webauthn::abort_conditional);

    let sign_in = ServerAction::<SignIn>::new();
    let forget = ServerAction::<ForgetLoginHint>::new();

    let one_tap = {
        let flow = flow.clone();
        move || match flow.step.get() {
            Step::OneTap(hint) => Some(view! { <OneTap flow=flow.clone() hint forget /> }),
            _ => None,
        }
    };
    let form = {
        let flow = flow.clone();
        move || {
            (!matches!(flow.step.get(), Step::OneTap(_)))
                .then(|| view! { <EmailForm flow=flow.clone() sign_in /> })
        }
    };
    let notice = {
        let notice = flow.notice.clone();
        move || {
            notice
                .get()
                .map(|message| view! { <p class="alert" role="alert">{message}</p> })
        }
    };
    let passkey_button = {
        let flow = flow.clone();
        move |_| flow.attempt(Intent::Discoverable)
    };
    let passkey_busy = {
        let waiting = flow.waiting();
        move || waiting() || sign_in.pending().get()
    };

    view! {
        <section class="card">
            <h1>"Sign in"</h1>
            {one_tap}
            {form}
            {notice}
            <FormError result=sign_in.value().into() />
            <div class="divider" aria-hidden="true"><span>"or"</span></div>
            <button
                type="button"
                class="secondary passkey"
                disabled=passkey_busy
                on:click=passkey_button
            >
                "Sign in with a passkey"
            </button>
            <p class="muted">"New here? " <a href=signup_href>"Create an account"</a></p>
        </section>
    }
}

/// Email (→ Continue), or Email + Password (→ Sign in) after the fallback.
#[component]
fn EmailForm(flow: Flow, sign_in: ServerAction<SignIn>) -> impl IntoView {
    let busy = {
        let busy = flow.busy.clone();
        move || busy.get() || sign_in.pending().get()
    };
    let next = flow.next.clone();
    // `value` for the server-rendered page (the no-JavaScript password step), `prop:value`
    // for what the flow sets later.
    let initial_email = flow.email.get_untracked();
    let email_value = flow.email.clone();
    let on_input = {
        let email = flow.email.clone();
        move |ev| email.set(event_target_value(&ev))
    };
    let on_change = {
        let flow = flow.clone();
        move |_| flow.email_changed()
    };
    let step = flow.step.clone();
    let classic = flow.classic.clone();
    let buttons = move || {
        if step.get() != Step::Password {
            let flow = flow.clone();
            return view! {
                <button
                    type="submit"
                    class="primary"
                    disabled=busy.clone()
                    on:click=move |ev| {
                        ev.prevent_default();
                        flow.continue_with_email();
                    }
                >
                    "Continue"
                </button>
            }
            .into_any();
        }
        let credential = match &classic {
            // The password is typed at the provider: "Sign in" posts the email, and the
            // server sends the browser there with it as the login hint.
            ClassicLogin::Provider { name, .. } => view! {
                <p class="hint">"You'll enter your password at " {name.clone()} "."</p>
            }
            .into_any(),
            ClassicLogin::Password => view! {
                <label for="login-password">"Password"</label>
                <input
                    id="login-password"
                    name="password"
                    type="password"
                    autocomplete="current-password"
                    required
                    autofocus
                />
            }
            .into_any(),
        };
        view! {
            {credential}
            <button type="submit" class="primary" disabled=busy.clone()>
                "Sign in"
            </button>
        }
        .into_any()
    };
    view! {
        <ActionForm action=sign_in attr:class="stack">
            <input type="hidden" name="next" value=next />
            <label for="login-email">"Email"</label>
            <input
                id="login-email"
                name="email"
                type="email"
                autocomplete="username webauthn"
                required
                value=initial_email
                prop:value=move || email_value.get()
                on:input=on_input
                on:change=on_change
            />
            {buttons}
        </ActionForm>
    }
}

/// "Continue as <email>" for whoever signed in last on this browser.
#[component]
fn OneTap(flow: Flow, hint: String, forget: ServerAction<ForgetLoginHint>) -> impl IntoView {
    let label = format!("Continue as {hint}");
    let sign_in_url = SignIn::url();
    let next = flow.next.clone();
    let busy = flow.waiting();
    let continue_as = {
        let flow = flow.clone();
        let hint = hint.clone();
        move |ev: leptos::ev::MouseEvent| {
            ev.prevent_default();
            flow.attempt(Intent::Identifier {
                email: hint.clone(),
                one_tap: true,
            });
        }
    };
    let other_account = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        forget.dispatch(ForgetLoginHint {});
        webauthn::abort_conditional();
        flow.prepared.set_value(None);
        flow.notice.set(None);
        flow.email.set(String::new());
        flow.step.set(Step::Identifier);
        let flow = flow.clone();
        spawn_local(async move {
            flow.prepare(Intent::Discoverable).await;
            flow.arm_conditional();
        });
    };
    view! {
        // Without JavaScript: posts the email, and the server answers with the password step.
        <form method="post" action=sign_in_url class="stack">
            <input type="hidden" name="next" value=next />
            <input type="hidden" name="email" value=hint />
            <button
                type="submit"
                class="primary"
                disabled=busy
                on:click=continue_as
            >
                {label}
            </button>
        </form>
        <ActionForm action=forget attr:class="stack">
            <button type="submit" class="link" on:click=other_account>
                "Use another account"
            </button>
        </ActionForm>
    }
}
