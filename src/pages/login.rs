//! `/login`: passkey login first (ConnectLogin), the IdP's password login as the fallback.
//! Works as a plain form without JavaScript (email, then password).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::connect::components::login::ConnectLogin;
use crate::server_fns::account::fetch_login_page;

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
    // `?account=other` is "Use another account" without JavaScript: the email step, the
    // remembered accounts kept for next time.
    let other_account = move || query.read_untracked().get("account").as_deref() == Some("other");
    let info = Resource::new(|| (), |_| fetch_login_page());

    view! {
        <Title text="Sign in" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                info.get()
                    .map(|info| match info {
                        Ok(info) => {
                            view! {
                                <ConnectLogin
                                    next=next()
                                    remembered=if other_account() {
                                        Vec::new()
                                    } else {
                                        info.remembered
                                    }
                                    email=email()
                                    classic=info.classic
                                />
                            }
                                .into_any()
                        }
                        Err(err) => {
                            view! { <p class="alert" role="alert">{err.to_string()}</p> }.into_any()
                        }
                    })
            }}
        </Suspense>
    }
}
