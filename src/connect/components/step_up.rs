//! `ConfirmItsYou`: the in-place step-up (the logic is [`use_step_up`]). With one of the
//! person's passkeys, or with the password; with an OpenID provider, a fresh sign-in there.

use leptos::prelude::*;

use crate::connect::hooks::UseStepUpReturn;
use crate::journey::with_next;
use crate::routes::Page;
use crate::server_fns::account::{fetch_login_page, ClassicLogin};

/// Shown while `step_up` asks; `back` is the page to return to after a provider sign-in.
#[component]
pub fn ConfirmItsYou(step_up: UseStepUpReturn, back: &'static str) -> impl IntoView {
    let login_page = Resource::new(|| (), |_| fetch_login_page());
    let asking = step_up.asking;
    let panel = move || {
        asking.get().then(|| {
            let step_up = step_up.clone();
            view! { <Panel step_up back login_page /> }
        })
    };
    view! { {panel} }
}

#[component]
fn Panel(
    step_up: UseStepUpReturn,
    back: &'static str,
    login_page: Resource<Result<crate::server_fns::account::LoginPageInfo, crate::error::AppError>>,
) -> impl IntoView {
    let (busy, error, passkey_ready) = (step_up.busy, step_up.error, step_up.passkey_ready);
    let password = RwSignal::new(String::new());
    let use_passkey = {
        let step_up = step_up.clone();
        move |_| step_up.confirm_with_passkey()
    };
    let confirm = {
        let step_up = step_up.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            step_up.confirm_with_password(password.get_untracked());
            password.set(String::new());
        }
    };
    let cancel = move |_| step_up.cancel();
    let classic = move || {
        login_page
            .get()
            .and_then(Result::ok)
            .map(|info| info.classic)
            .unwrap_or(ClassicLogin::Password)
    };
    let with_password = move || match classic() {
        ClassicLogin::Password => view! {
            <form class="stack" on:submit=confirm.clone()>
                <label for="step-up-password">"Password"</label>
                <input
                    id="step-up-password"
                    type="password"
                    autocomplete="current-password"
                    required
                    prop:value=move || password.get()
                    on:input=move |ev| password.set(event_target_value(&ev))
                    aria-describedby="step-up-error"
                    aria-invalid=move || error.with(Option::is_some).to_string()
                />
                <button type="submit" class="primary" disabled=move || busy.get()>
                    "Confirm"
                </button>
            </form>
        }
        .into_any(),
        ClassicLogin::Provider { name, .. } => {
            let href = with_next(Page::Login.path(), Some(back));
            view! {
                <p>
                    <a href=href>"Sign in again at " {name}</a>
                </p>
            }
            .into_any()
        }
    };
    view! {
        <section class="confirm step-up" role="group" aria-labelledby="step-up-heading">
            <h2 id="step-up-heading">"Confirm it's you"</h2>
            <p>"For your security, confirm it's you before changing your passkeys."</p>
            {move || {
                error
                    .get()
                    .map(|message| {
                        view! {
                            <p class="alert" role="alert" id="step-up-error">
                                {message}
                            </p>
                        }
                    })
            }}
            // Only when this account has a passkey to ask for (options ready for the click).
            {move || {
                passkey_ready
                    .get()
                    .then(|| {
                        let use_passkey = use_passkey.clone();
                        view! {
                            <button
                                type="button"
                                class="secondary passkey"
                                disabled=move || busy.get()
                                on:click=use_passkey
                            >
                                "Use passkey"
                            </button>
                        }
                    })
            }}
            {with_password}
            <button type="button" class="link" on:click=cancel>
                "Cancel"
            </button>
        </section>
    }
}
