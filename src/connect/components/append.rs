//! `ConnectAppend`: the passkey offer every login passes through (design.md §1).
//!
//! The app has already said it may offer (no "Don't ask again", no snooze). This component
//! asks the passkey service whether to offer on this browser (rollout, a passkey already made
//! here, a platform authenticator) and, when it does, shows the explainer with "Create
//! passkey", "Skip" and "Don't ask again". When it does not, it forwards to the target at
//! once, recording why. Options are fetched before the click, so `create()` starts inside it.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::client::{after_hydration, init_request, now_ms, remember_client_handle};
use super::frontend_api::FrontendApi;
use super::webauthn::{self, WebAuthnError};
use crate::connect::api::{AppendFinishReq, AppendStartReq, AppendVariant};
use crate::pages::FormError;
use crate::server_fns::append::{finish_append, AppendOutcome, FinishAppend};
use crate::server_fns::passkeys::passkey_append_token;

/// Where the offer stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// Before hydration, or while asking the service.
    Checking,
    /// Options are ready for the click.
    Ready { options: String },
    /// `create()` or the service is working.
    Working,
    /// Leaving for the target.
    Leaving,
}

const MSG_CANCELLED: &str = "Passkey creation was cancelled. You can try again, or skip for now.";
const MSG_FAILED: &str = "The passkey could not be created. You can try again, or skip for now.";
const MSG_NOT_SAVED: &str = "The passkey could not be saved. You can try again, or skip for now.";

/// The step's state, shared by its handlers and tasks; reference-counted so a task that
/// outlives the page (it navigates away) never touches freed state.
#[derive(Clone)]
struct Offer {
    next: String,
    phase: ArcRwSignal<Phase>,
    after_hybrid: ArcRwSignal<bool>,
    notice: ArcRwSignal<Option<String>>,
    api: ArcStoredValue<FrontendApi>,
    loaded_ms: ArcStoredValue<i64>,
}

impl Offer {
    async fn start(self) {
        self.loaded_ms.set_value(now_ms());
        let capabilities = webauthn::capabilities().await;
        if !capabilities.webauthn {
            return self.leave(AppendOutcome::NotOffered, "browser-not-capable");
        }
        let mut api = self.api.get_value();
        let init = api.append_init(&init_request(capabilities)).await;
        self.api.set_value(api);
        match init {
            Ok(init) => {
                remember_client_handle(init.new_client_env_handle.as_deref());
                if !init.append_allowed {
                    return self.leave(AppendOutcome::NotOffered, "rollout-denied");
                }
            }
            Err(err) => {
                leptos::logging::warn!("passkey append unavailable: {err}");
                return self.leave(AppendOutcome::NotOffered, "service-unavailable");
            }
        }
        self.prepare().await;
    }

    /// A fresh connect token and fresh options (each is good for one attempt).
    async fn prepare(&self) {
        self.phase.set(Phase::Checking);
        let token = match passkey_append_token().await {
            Ok(token) => token,
            Err(err) => {
                leptos::logging::warn!("no append token: {err}");
                return self.leave(AppendOutcome::NotOffered, "service-unavailable");
            }
        };
        let req = AppendStartReq {
            append_token_value: token,
            loaded_ms: self.loaded_ms.get_value(),
            force_passkey_append: None,
            situation: None,
        };
        match self.api.get_value().append_start(&req).await {
            Ok(start) if start.attestation_options.is_empty() => {
                let reason = start
                    .reason
                    .and_then(|r| serde_json::to_value(r).ok())
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_else(|| "not-offered".to_string());
                self.leave(AppendOutcome::NotOffered, &reason)
            }
            Ok(start) => {
                self.after_hybrid
                    .set(start.variant == AppendVariant::AfterHybrid);
                self.phase.set(Phase::Ready {
                    options: start.attestation_options,
                });
            }
            Err(err) => {
                leptos::logging::warn!("passkey append start failed: {err}");
                self.leave(AppendOutcome::NotOffered, "service-unavailable")
            }
        }
    }

    /// "Create passkey": `create()` starts here, inside the click.
    fn create(&self) {
        let Phase::Ready { options } = self.phase.get_untracked() else {
            return;
        };
        self.notice.set(None);
        let result = match webauthn::create(&options) {
            Ok(result) => result,
            Err(err) => return self.failed(err),
        };
        self.phase.set(Phase::Working);
        let offer = self.clone();
        spawn_local(async move {
            let credential = match result.await {
                Ok(credential) => credential,
                Err(err) => return offer.failed(err),
            };
            let req = AppendFinishReq {
                attestation_response: credential,
                completion_type: None,
                custom_data: None,
            };
            match offer.api.get_value().append_finish(&req).await {
                Ok(_) => offer.leave(AppendOutcome::Created, "created"),
                Err(err) => {
                    leptos::logging::warn!("passkey append finish failed: {err}");
                    offer.notice.set(Some(MSG_NOT_SAVED.to_string()));
                    offer.prepare().await;
                }
            }
        });
    }

    fn failed(&self, err: WebAuthnError) {
        let message = match err {
            // `excludeCredentials` matched: this authenticator already holds a passkey for
            // this account, so there is nothing to offer here.
            WebAuthnError::AlreadyRegistered => {
                return self.leave(AppendOutcome::NotOffered, "passkey-exists")
            }
            WebAuthnError::Cancelled | WebAuthnError::Aborted => MSG_CANCELLED,
            other => {
                leptos::logging::warn!("passkey creation failed: {other}");
                MSG_FAILED
            }
        };
        self.notice.set(Some(message.to_string()));
        let offer = self.clone();
        spawn_local(async move { offer.prepare().await });
    }

    /// Leaves the step; the server finishes it and redirects to the target.
    fn leave(&self, outcome: AppendOutcome, reason: &str) {
        self.phase.set(Phase::Leaving);
        let next = self.next.clone();
        let reason = Some(reason.to_string());
        let offer = self.clone();
        spawn_local(async move {
            if let Err(err) = finish_append(next, outcome, None, reason).await {
                offer.notice.set(Some(err.to_string()));
                offer.phase.set(Phase::Checking);
            }
        });
    }
}

#[component]
pub fn ConnectAppend(next: String) -> impl IntoView {
    let offer = Offer {
        next: next.clone(),
        phase: ArcRwSignal::new(Phase::Checking),
        after_hybrid: ArcRwSignal::new(false),
        notice: ArcRwSignal::new(None),
        api: ArcStoredValue::new(FrontendApi::new("")),
        loaded_ms: ArcStoredValue::new(0),
    };
    after_hydration(offer.clone().start());

    let skip = ServerAction::<FinishAppend>::new();
    let ready = {
        let phase = offer.phase.clone();
        move || matches!(phase.get(), Phase::Ready { .. })
    };
    let leaving = {
        let phase = offer.phase.clone();
        move || skip.pending().get() || phase.get() == Phase::Leaving
    };
    let heading = {
        let after_hybrid = offer.after_hybrid.clone();
        move || {
            if after_hybrid.get() {
                "Create a passkey on this device"
            } else {
                "Sign in faster with a passkey"
            }
        }
    };
    let notice = {
        let notice = offer.notice.clone();
        move || {
            notice
                .get()
                .map(|message| view! { <p class="alert" role="alert">{message}</p> })
        }
    };
    let create = move |_| offer.create();

    view! {
        <section class="card">
            <h1>{heading}</h1>
            <p>
                "A passkey lets you sign in with your fingerprint, face or screen lock "
                "instead of a password. It cannot be phished or leaked, and your password "
                "keeps working."
            </p>
            {notice}
            <button type="button" class="primary" disabled=move || !ready() on:click=create>
                "Create passkey"
            </button>
            <ActionForm action=skip attr:class="stack">
                <input type="hidden" name="next" value=next />
                <input type="hidden" name="outcome" value="skipped" />
                <label class="check">
                    <input type="checkbox" name="dont_ask_again" value="on" />
                    "Don't ask again"
                </label>
                <FormError result=skip.value().into() />
                <button type="submit" class="secondary" disabled=leaving>
                    "Skip"
                </button>
            </ActionForm>
        </section>
    }
}
