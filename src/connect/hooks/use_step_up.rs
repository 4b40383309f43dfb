//! `use_step_up`: "Confirm it's you" before a sensitive action, in place.
//!
//! Adding or deleting a passkey outside the step after a login needs a login within the
//! re-authentication window. This hook knows whether the window has passed, and when it has,
//! [`UseStepUpReturn::require`] opens the confirmation instead of running the action: with one
//! of the person's passkeys (options prepared before the click) or with the password. Once
//! confirmed, the action runs, as if the person had not been interrupted.
//!
//! SSR: nothing is needed and nothing runs; the browser asks the server after hydration.

use std::sync::{Arc, Mutex};

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::connect::api::{LoginFinishReq, LoginSource, LoginStartReq};
use crate::connect::browser::environment::{after_hydration, init_request, now_ms};
use crate::connect::browser::frontend_api::FrontendApi;
use crate::connect::browser::webauthn::{self, Mediation, WebAuthnError};
use crate::error::AppError;
use crate::server_fns::reauth::{
    reauth_needed, reauth_passkey_token, reauth_with_passkey, reauth_with_password,
};

pub const MSG_PASSKEY_FAILED: &str =
    "That did not confirm it's you. Try again, or use your password.";
pub const MSG_CANCELLED: &str =
    "The passkey request was cancelled. Try again, or use your password.";

/// What [`use_step_up`] gives the page.
#[derive(Clone)]
pub struct UseStepUpReturn {
    /// The confirmation is open.
    pub asking: Signal<bool>,
    /// A confirmation is being checked.
    pub busy: Signal<bool>,
    /// What went wrong with the last attempt.
    pub error: Signal<Option<String>>,
    /// "Use passkey" can start at once (options are ready).
    pub passkey_ready: Signal<bool>,
    inner: StepUp,
}

impl UseStepUpReturn {
    /// Runs `action` now if the login is recent enough, else asks first and runs it after.
    pub fn require(&self, action: impl Fn() + Send + Sync + 'static) {
        if self.inner.needed.get_untracked() {
            self.inner.ask(Arc::new(action));
        } else {
            action();
        }
    }

    /// The server refused an action because the window had passed meanwhile: ask now, and
    /// run `action` after.
    pub fn expired(&self, action: impl Fn() + Send + Sync + 'static) {
        self.inner.needed.set(true);
        self.inner.ask(Arc::new(action));
    }

    /// "Use passkey" (inside the click: the request starts there).
    pub fn confirm_with_passkey(&self) {
        self.inner.with_passkey();
    }

    /// "Confirm" with the typed password.
    pub fn confirm_with_password(&self, password: String) {
        self.inner.with_password(password);
    }

    /// "Cancel": closes the confirmation; the action does not run.
    pub fn cancel(&self) {
        self.inner.asking.set(false);
        self.inner.error.set(None);
        if let Ok(mut pending) = self.inner.pending.lock() {
            *pending = None;
        }
    }
}

pub fn use_step_up() -> UseStepUpReturn {
    let inner = StepUp {
        needed: ArcRwSignal::new(false),
        asking: ArcRwSignal::new(false),
        busy: ArcRwSignal::new(false),
        error: ArcRwSignal::new(None),
        options: ArcRwSignal::new(None),
        pending: Arc::new(Mutex::new(None)),
        api: ArcStoredValue::new(FrontendApi::new("")),
    };
    after_hydration(inner.clone().start());
    let passkey_ready = {
        let options = inner.options.clone();
        Signal::derive(move || options.with(Option::is_some))
    };
    UseStepUpReturn {
        asking: inner.asking.clone().into(),
        busy: inner.busy.clone().into(),
        error: inner.error.clone().into(),
        passkey_ready,
        inner,
    }
}

type Action = Arc<dyn Fn() + Send + Sync>;

#[derive(Clone)]
struct StepUp {
    /// The re-authentication window has passed.
    needed: ArcRwSignal<bool>,
    asking: ArcRwSignal<bool>,
    busy: ArcRwSignal<bool>,
    error: ArcRwSignal<Option<String>>,
    /// Passkey request options for this account, ready for the click.
    options: ArcRwSignal<Option<String>>,
    /// What runs once the person is confirmed. (A plain `Arc`, not a reactive callback: the
    /// button that asked may be gone by then, and its reactive owner with it.)
    pending: Arc<Mutex<Option<Action>>>,
    api: ArcStoredValue<FrontendApi>,
}

impl StepUp {
    async fn start(self) {
        match reauth_needed().await {
            Ok(needed) => self.needed.set(needed),
            Err(err) => leptos::logging::warn!("cannot tell whether to confirm: {err}"),
        }
    }

    fn ask(&self, action: Action) {
        if let Ok(mut pending) = self.pending.lock() {
            *pending = Some(action);
        }
        self.error.set(None);
        self.asking.set(true);
        if self.options.with_untracked(Option::is_none) {
            let this = self.clone();
            spawn_local(async move { this.prepare_passkey().await });
        }
    }

    /// A login process and options for this account's passkeys (no passkey, no options: the
    /// password remains).
    async fn prepare_passkey(&self) {
        let capabilities = webauthn::capabilities().await;
        if !capabilities.webauthn {
            return;
        }
        let mut api = self.api.get_value();
        if api.process_id().is_none() {
            if let Err(err) = api.login_init(&init_request(capabilities)).await {
                leptos::logging::warn!("no passkey confirmation: {err}");
                return;
            }
            self.api.set_value(api);
        }
        let token = match reauth_passkey_token().await {
            Ok(token) => token,
            Err(err) => return leptos::logging::warn!("no passkey confirmation: {err}"),
        };
        let req = LoginStartReq {
            // The token names the account; the typed identifier is only for messages.
            identifier: String::new(),
            source: LoginSource::TextField,
            loaded_ms: now_ms(),
            login_connect_token: Some(token),
            identifier_hint_available: None,
            one_tap_meta: None,
        };
        match self.api.get_value().login_start(&req).await {
            Ok(start) if !start.assertion_options.is_empty() => {
                self.options.set(Some(start.assertion_options));
            }
            Ok(_) => {}
            Err(err) => leptos::logging::warn!("no passkey confirmation: {err}"),
        }
    }

    fn with_passkey(&self) {
        let Some(options) = self.options.get_untracked() else {
            return;
        };
        self.options.set(None);
        self.error.set(None);
        let credential = webauthn::get(&options, Mediation::Modal);
        self.busy.set(true);
        let this = self.clone();
        spawn_local(async move {
            let outcome = match credential.await {
                Ok(credential) => this.finish_passkey(credential).await,
                Err(WebAuthnError::Cancelled | WebAuthnError::Aborted) => Err(MSG_CANCELLED.into()),
                Err(err) => {
                    leptos::logging::warn!("passkey confirmation failed: {err}");
                    Err(MSG_PASSKEY_FAILED.into())
                }
            };
            this.settle(outcome).await;
        });
    }

    async fn finish_passkey(&self, credential: String) -> Result<(), String> {
        let req = LoginFinishReq {
            assertion_response: credential,
            is_conditional_ui: false,
            loaded_ms: Some(now_ms()),
        };
        let finished = self
            .api
            .get_value()
            .login_finish(&req)
            .await
            .map_err(|err| {
                leptos::logging::warn!("passkey confirmation refused: {err}");
                MSG_PASSKEY_FAILED.to_string()
            })?;
        reauth_with_passkey(finished.signed_passkey_data)
            .await
            .map_err(|err| message_of(&err))
    }

    fn with_password(&self, password: String) {
        self.error.set(None);
        self.busy.set(true);
        let this = self.clone();
        spawn_local(async move {
            let outcome = reauth_with_password(password)
                .await
                .map_err(|err| message_of(&err));
            this.settle(outcome).await;
        });
    }

    /// Confirmed: close and run the action. Not: say why and get fresh passkey options.
    async fn settle(&self, outcome: Result<(), String>) {
        self.busy.set(false);
        match outcome {
            Ok(()) => {
                self.needed.set(false);
                self.asking.set(false);
                let action = self.pending.lock().ok().and_then(|mut p| p.take());
                if let Some(action) = action {
                    action();
                }
            }
            Err(message) => {
                self.error.set(Some(message));
                self.prepare_passkey().await;
            }
        }
    }
}

/// The sentence for a refused confirmation: the server's own (wrong password, too many
/// attempts), never internals.
fn message_of(err: &AppError) -> String {
    match err {
        AppError::PasskeyRejected => MSG_PASSKEY_FAILED.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::RetryAfter;

    #[test]
    fn refusals_are_said_in_words() {
        assert_eq!(message_of(&AppError::PasskeyRejected), MSG_PASSKEY_FAILED);
        assert_eq!(
            message_of(&AppError::InvalidCredentials),
            "The email or password is wrong."
        );
        assert!(
            message_of(&AppError::RateLimited(RetryAfter { seconds: 60 }))
                .starts_with("Too many attempts.")
        );
    }
}
