//! `/signup`: the IdP's classic registration. Passkeys do not change it. With an OpenID
//! provider, registration is the provider's own page: this one links there.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::FormError;
use crate::journey::with_next;
use crate::routes::Page;
use crate::server_fns::account::{fetch_login_page, ClassicLogin, SignUp};

#[component]
pub fn SignupPage() -> impl IntoView {
    let info = Resource::new(|| (), |_| fetch_login_page());
    view! {
        <Title text="Create an account" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                info.get()
                    .map(|info| match info.map(|info| info.classic) {
                        Ok(ClassicLogin::Provider { name, registration_url }) => {
                            view! { <ProviderSignup name registration_url /> }.into_any()
                        }
                        _ => view! { <PasswordSignup /> }.into_any(),
                    })
            }}
        </Suspense>
    }
}

/// The provider's own sign-up, then back here to sign in.
#[component]
fn ProviderSignup(name: String, registration_url: Option<String>) -> impl IntoView {
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let login_href = move || with_next(Page::Login.path(), Some(&next()));
    let how = match registration_url {
        Some(url) => view! {
            <p>"Accounts are created at " {name.clone()} "."</p>
            <a class="button primary" href=url>
                "Create an account at " {name}
            </a>
        }
        .into_any(),
        None => view! {
            <p>
                "Accounts are managed by " {name}
                ". Sign in and follow its sign-up link, or ask your administrator."
            </p>
        }
        .into_any(),
    };
    view! {
        <section class="card">
            <h1>"Create an account"</h1>
            {how}
            <p class="muted">"Already have an account? " <a href=login_href>"Sign in"</a></p>
        </section>
    }
}

/// Email + password with the builtin IdP.
#[component]
fn PasswordSignup() -> impl IntoView {
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let login_href = move || with_next(Page::Login.path(), Some(&next()));
    let sign_up = ServerAction::<SignUp>::new();
    let pending = sign_up.pending();

    view! {
        <section class="card">
            <h1>"Create an account"</h1>
            <ActionForm action=sign_up attr:class="stack">
                <input type="hidden" name="next" prop:value=next />
                <label for="signup-email">"Email"</label>
                <input id="signup-email" name="email" type="email" autocomplete="email" required />
                <label for="signup-password">"Password"</label>
                <input
                    id="signup-password"
                    name="password"
                    type="password"
                    autocomplete="new-password"
                    minlength="8"
                    aria-describedby="signup-password-hint"
                    required
                />
                <p id="signup-password-hint" class="hint">"At least 8 characters."</p>
                <FormError result=sign_up.value().into() />
                <button type="submit" class="primary" disabled=pending>
                    "Create account"
                </button>
            </ActionForm>
            <p class="muted">"Already have an account? " <a href=login_href>"Sign in"</a></p>
        </section>
    }
}
