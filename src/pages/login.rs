//! `/login`: the classic (IdP) sign-in form. Works as a plain form without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::FormError;
use crate::account::SignIn;
use crate::journey::{with_next, SIGNUP_PATH};

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let signup_href = move || with_next(SIGNUP_PATH, Some(&next()));
    let sign_in = ServerAction::<SignIn>::new();
    let pending = sign_in.pending();

    view! {
        <Title text="Sign in" />
        <section class="card">
            <h1>"Sign in"</h1>
            <ActionForm action=sign_in attr:class="stack">
                <input type="hidden" name="next" prop:value=next />
                <label for="login-email">"Email"</label>
                <input
                    id="login-email"
                    name="email"
                    type="email"
                    autocomplete="username webauthn"
                    required
                />
                <label for="login-password">"Password"</label>
                <input
                    id="login-password"
                    name="password"
                    type="password"
                    autocomplete="current-password"
                    required
                />
                <FormError result=sign_in.value().into() />
                <button type="submit" class="primary" disabled=pending>
                    "Sign in"
                </button>
            </ActionForm>
            <p class="muted">"New here? " <a href=signup_href>"Create an account"</a></p>
        </section>
    }
}
