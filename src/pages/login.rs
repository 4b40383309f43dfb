//! `/login`: passkey login first (ConnectLogin), the IdP's password login as the fallback.
//! Works as a plain form without JavaScript (email, then password).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::account::fetch_login_hint;
use crate::connect::components::login::ConnectLogin;

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || query.read_untracked().get("next").unwrap_or_default();
    // `?email=` is the password step with the email carried over (the no-JavaScript path).
    let email = move || {
        query
            .read_untracked()
            .get("email")
            .filter(|email| !email.is_empty())
    };
    let hint = Resource::new(|| (), |_| fetch_login_hint());

    view! {
        <Title text="Sign in" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                hint.get()
                    .map(|hint| {
                        view! {
                            <ConnectLogin next=next() hint=hint.ok().flatten() email=email() />
                        }
                    })
            }}
        </Suspense>
    }
}
