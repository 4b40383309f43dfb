//! `ConnectLogin`: the sign-in card. Passkey login first, the IdP's classic login as the
//! fallback; the decisions are [`use_passkey_login`]'s, this is the markup.
//!
//! Without JavaScript the same markup is a plain form: Continue posts the email and the
//! server answers with the password step.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::connect::hooks::{
    use_passkey_login, Step, UsePasskeyLoginOptions, UsePasskeyLoginReturn,
};
use crate::journey::with_next;
use crate::pages::FormError;
use crate::routes::Page;
use crate::server_fns::account::{ClassicLogin, ForgetLoginHint, SignIn};

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
    let signup_href = with_next(Page::Signup.path(), Some(&next));
    let login = use_passkey_login(UsePasskeyLoginOptions {
        next: next.clone(),
        hint,
        email,
    });
    let sign_in = ServerAction::<SignIn>::new();
    let forget = ServerAction::<ForgetLoginHint>::new();

    let step = login.step;
    let one_tap = {
        let (login, next) = (login.clone(), next.clone());
        move || match step.get() {
            Step::OneTap(hint) => {
                Some(view! { <OneTap login=login.clone() next=next.clone() hint forget /> })
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
    let notice = login.notice;
    let waiting = login.waiting;
    let offered = login.offered;
    let passkey_option = {
        let login = login.clone();
        move || {
            let login = login.clone();
            offered.get().then(|| {
                view! {
                    <div class="divider" aria-hidden="true"><span>"or"</span></div>
                    <button
                        type="button"
                        class="secondary passkey"
                        disabled=move || waiting.get() || sign_in.pending().get()
                        on:click=move |_| login.sign_in_with_passkey()
                    >
                        "Sign in with a passkey"
                    </button>
                }
            })
        }
    };

    view! {
        <section class="card">
            <h1>"Sign in"</h1>
            {one_tap}
            {form}
            {move || notice.get().map(|message| view! { <p class="alert" role="alert">{message}</p> })}
            <FormError result=sign_in.value().into() />
            {passkey_option}
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
    // for what the hook sets later.
    let initial_email = login.email.get_untracked();
    let email_value = login.email.clone();
    let on_input = {
        let email = login.email.clone();
        move |ev| email.set(event_target_value(&ev))
    };
    let on_change = {
        let login = login.clone();
        move |_| login.email_changed()
    };
    let step = login.step;
    let buttons = move || {
        if step.get() != Step::Password {
            let login = login.clone();
            return view! {
                <button
                    type="submit"
                    class="primary"
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
                />
            }
            .into_any(),
        };
        view! {
            {credential}
            <button type="submit" class="primary" disabled=busy>
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
fn OneTap(
    login: UsePasskeyLoginReturn,
    next: String,
    hint: String,
    forget: ServerAction<ForgetLoginHint>,
) -> impl IntoView {
    let label = format!("Continue as {hint}");
    let sign_in_url = SignIn::url();
    let waiting = login.waiting;
    let continue_as = {
        let (login, hint) = (login.clone(), hint.clone());
        move |ev: leptos::ev::MouseEvent| {
            ev.prevent_default();
            login.continue_as(&hint);
        }
    };
    let other_account = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        forget.dispatch(ForgetLoginHint {});
        login.use_another_account();
    };
    view! {
        // Without JavaScript: posts the email, and the server answers with the password step.
        <form method="post" action=sign_in_url class="stack">
            <input type="hidden" name="next" value=next />
            <input type="hidden" name="email" value=hint />
            <button
                type="submit"
                class="primary"
                disabled=move || waiting.get()
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
