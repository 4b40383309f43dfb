//! `ConnectLogin`: the sign-in card. Passkey login first, the IdP's classic login as the
//! fallback; the decisions are [`use_passkey_login`]'s, this is the markup.
//!
//! Without JavaScript the same markup is a plain form: Continue and "Continue as <email>"
//! post the email and the server answers with the password step; "Remove from this device"
//! posts too, and "Use another account" asks for `/login?account=other`; the passkey button,
//! which cannot work there, is hidden (`needs-js`). Before hydration the buttons are live too:
//! the page's early-click script keeps a click for the hook to replay.

use leptos::html;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use super::{NoticeView, WaitingStatus};
use crate::connect::browser::environment::EarlyClick;
use crate::connect::hooks::use_passkey_login::EMAIL_FIELD_ID;
use crate::connect::hooks::{
    use_passkey_login, PasskeyOption, Step, UsePasskeyLoginOptions, UsePasskeyLoginReturn,
};
use crate::journey::with_next;
use crate::pages::FieldError;
use crate::routes::Page;
use crate::server_fns::account::{ClassicLogin, ForgetRememberedAccount, SignIn};

const EMAIL_ERROR_ID: &str = "login-email-error";
const PASSWORD_ERROR_ID: &str = "login-password-error";
const PASSKEY_UNAVAILABLE_ID: &str = "passkey-unavailable";

/// The sign-in card. `remembered` are the one-tap accounts, the latest first (see
/// `crate::login_hint`); `email` the address carried over to the password step
/// (`/login?email=…`); `classic` how the IdP's own login works.
#[component]
pub fn ConnectLogin(
    next: String,
    remembered: Vec<String>,
    email: Option<String>,
    classic: ClassicLogin,
) -> impl IntoView {
    let signup_href = with_next(Page::Signup.path(), Some(&next));
    let login = use_passkey_login(UsePasskeyLoginOptions {
        next: next.clone(),
        remembered,
        email,
    });
    let sign_in = ServerAction::<SignIn>::new();
    let forget = ServerAction::<ForgetRememberedAccount>::new();

    let step = login.step;
    let one_tap = {
        let (login, next) = (login.clone(), next.clone());
        move || match step.get() {
            Step::OneTap(accounts) => {
                Some(view! { <OneTap login=login.clone() next=next.clone() accounts forget /> })
            }
            _ => None,
        }
    };
    let form = {
        let (login, next, classic) = (login.clone(), next.clone(), classic.clone());
        move || {
            (!matches!(step.get(), Step::OneTap(_))).then(|| {
                view! { <EmailForm login=login.clone() next=next.clone() classic=classic.clone() sign_in /> }
            })
        }
    };
    let (notice, waiting, busy) = (login.notice, login.waiting, login.busy);
    // After a cancelled prompt: the same request again, or the password.
    let retry = {
        let login = login.clone();
        move || {
            let (again, password) = (login.clone(), login.clone());
            login.retry_offered.get().then(|| {
                view! {
                    <div class="actions retry" role="group" aria-label="After a cancelled passkey prompt">
                        <button
                            type="button"
                            class="primary"
                            disabled=move || busy.get()
                            on:click=move |_| again.try_again()
                        >
                            "Try again"
                        </button>
                        <button
                            type="button"
                            class="secondary"
                            on:click=move |_| password.use_password_instead()
                        >
                            "Use password instead"
                        </button>
                    </div>
                }
            })
        }
    };
    let passkey_option = login.passkey_option;
    let passkey_button = {
        let login = login.clone();
        move || {
            let login = login.clone();
            let option = passkey_option.get();
            (option != PasskeyOption::Hidden).then(|| {
                let unavailable = match option {
                    PasskeyOption::Unavailable(reason) => Some(reason),
                    _ => None,
                };
                view! {
                    <div class="needs-js">
                        <div class="divider" aria-hidden="true"><span>"or"</span></div>
                        <button
                            type="button"
                            class="secondary passkey"
                            data-early=EarlyClick::Passkey.name()
                            disabled=move || busy.get() || unavailable.is_some() || sign_in.pending().get()
                            aria-describedby=unavailable.map(|_| PASSKEY_UNAVAILABLE_ID)
                            on:click=move |_| login.sign_in_with_passkey()
                        >
                            "Sign in with a passkey"
                        </button>
                        {unavailable.map(|reason| view! {
                            <p class="hint" id=PASSKEY_UNAVAILABLE_ID>{reason}</p>
                        })}
                    </div>
                }
            })
        }
    };

    view! {
        <section class="card">
            <h1>"Sign in"</h1>
            // Why the card looks as it does now (the password step after a fallback, say):
            // read before the fields.
            <NoticeView notice />
            {retry}
            {one_tap}
            {form}
            <WaitingStatus waiting=Signal::derive(move || waiting.get().map(|w| w.in_words())) />
            {passkey_button}
            <p class="muted">"New here? " <a href=signup_href>"Create an account"</a></p>
        </section>
    }
}

/// Email (→ Continue), or Email + Password (→ Sign in) after the fallback.
#[component]
fn EmailForm(
    login: UsePasskeyLoginReturn,
    next: String,
    classic: ClassicLogin,
    sign_in: ServerAction<SignIn>,
) -> impl IntoView {
    let busy_signal = login.busy;
    let busy = move || busy_signal.get() || sign_in.pending().get();
    // `value` for the server-rendered page (the no-JavaScript password step), `prop:value`
    // for what the hook sets later (it starts from what was typed before hydration).
    let initial_email = login.email.get_untracked();
    let email_value = login.email.clone();
    let on_input = {
        let login = login.clone();
        move |ev| login.email_typed(event_target_value(&ev))
    };
    let on_change = {
        let login = login.clone();
        move |_| login.email_changed()
    };
    let email_error = login.email_error;
    let password_error = Signal::derive(move || {
        sign_in.value().with(|result| match result {
            Some(Err(err)) => Some(err.to_string()),
            _ => None,
        })
    });
    let step = login.step;
    let password_field = NodeRef::<html::Input>::new();
    // The password step opened after Continue (or a fallback): the cursor goes there.
    Effect::new(move |_| {
        if let Some(field) = password_field.get() {
            let _ = field.focus();
        }
    });
    // A refused password is cleared, and the field focused for the next try.
    Effect::new(move |_| {
        if password_error.with(Option::is_some) {
            if let Some(field) = password_field.get_untracked() {
                field.set_value("");
                let _ = field.focus();
            }
        }
    });
    let buttons = move || {
        if step.get() != Step::Password {
            let login = login.clone();
            return view! {
                // A sign-in refused before the password step was shown (a form posted
                // without JavaScript from elsewhere): said above the button.
                {move || password_error.get().map(|message| view! {
                    <p class="alert" role="alert">{message}</p>
                })}
                <button
                    type="submit"
                    class="primary"
                    data-early=EarlyClick::Continue.name()
                    disabled=busy
                    on:click=move |ev| {
                        ev.prevent_default();
                        login.continue_with_email();
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
                    node_ref=password_field
                    aria-invalid=move || password_error.with(Option::is_some).to_string()
                    aria-describedby=move || password_error.with(Option::is_some).then_some(PASSWORD_ERROR_ID)
                />
                <FieldError id=PASSWORD_ERROR_ID message=password_error />
            }
            .into_any(),
        };
        let provider_error = matches!(classic, ClassicLogin::Provider { .. }).then(|| {
            view! { <FieldError id=PASSWORD_ERROR_ID message=password_error /> }
        });
        view! {
            {credential}
            {provider_error}
            <button type="submit" class="primary" disabled=busy>
                "Sign in"
            </button>
        }
        .into_any()
    };
    // The first field of the page takes the cursor (not when the password step is shown).
    let email_autofocus = step.get_untracked() == Step::Identifier;
    view! {
        <ActionForm action=sign_in attr:class="stack">
            <input type="hidden" name="next" value=next />
            <label for=EMAIL_FIELD_ID>"Email"</label>
            <input
                id=EMAIL_FIELD_ID
                name="email"
                type="email"
                autocomplete="username webauthn"
                required
                autofocus=email_autofocus
                value=initial_email
                prop:value=move || email_value.get()
                on:input=on_input
                on:change=on_change
                aria-invalid=move || email_error.with(Option::is_some).to_string()
                aria-describedby=move || email_error.with(Option::is_some).then_some(EMAIL_ERROR_ID)
            />
            <FieldError id=EMAIL_ERROR_ID message=email_error />
            {buttons}
        </ActionForm>
    }
}

/// "Continue as <email>" for each account remembered on this browser, the latest first, each
/// with "Remove from this device"; then "Use another account". Real forms: without
/// JavaScript (or before hydration, should the app never load) "Continue as" posts the email
/// and the server answers with the password step.
#[component]
fn OneTap(
    login: UsePasskeyLoginReturn,
    next: String,
    accounts: Vec<String>,
    forget: ServerAction<ForgetRememberedAccount>,
) -> impl IntoView {
    let sign_in_url = SignIn::url();
    let busy = login.busy;
    let items = accounts
        .into_iter()
        .enumerate()
        .map(|(position, email)| {
            let continue_as = {
                let (login, email) = (login.clone(), email.clone());
                move |ev: leptos::ev::MouseEvent| {
                    ev.prevent_default();
                    login.continue_as(&email);
                }
            };
            let remove = {
                let (login, email) = (login.clone(), email.clone());
                move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    forget.dispatch(ForgetRememberedAccount {
                        email: email.clone(),
                    });
                    login.forget_account(&email);
                }
            };
            view! {
                <li aria-label=email.clone()>
                    <form method="post" action=sign_in_url class="stack">
                        <input type="hidden" name="next" value=next.clone() />
                        <input type="hidden" name="email" value=email.clone() />
                        <button
                            type="submit"
                            class=if position == 0 { "primary" } else { "secondary" }
                            data-early=EarlyClick::OneTap(position).name()
                            disabled=move || busy.get()
                            on:click=continue_as
                        >
                            {format!("Continue as {email}")}
                        </button>
                    </form>
                    <form method="post" action=ForgetRememberedAccount::url() on:submit=remove>
                        <input type="hidden" name="email" value=email.clone() />
                        <button type="submit" class="link">
                            "Remove from this device"
                        </button>
                    </form>
                </li>
            }
        })
        .collect_view();
    let other_account = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        login.use_another_account();
    };
    view! {
        <ul class="remembered-accounts" aria-label="Accounts on this device">
            {items}
        </ul>
        <form method="get" action=Page::Login.path() on:submit=other_account>
            <input type="hidden" name="account" value="other" />
            <input type="hidden" name="next" value=next />
            <button type="submit" class="link">
                "Use another account"
            </button>
        </form>
    }
}
