//! `/append`: the step every login passes through before reaching its target.
//!
//! The server decides the app's half first (the person said "Don't ask again", or skipped
//! recently): then `/append` answers with a redirect to the target and shows nothing. Else
//! ConnectAppend asks the passkey service and offers a passkey, or forwards by itself.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::app::Guarded;
use crate::connect::components::append::ConnectAppend;
use crate::server_fns::append::{append_decision, AppendOffer};

#[component]
pub fn AppendPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || query.read_untracked().get("next").unwrap_or_default();
    let decision = Resource::new(next, append_decision);

    view! {
        <Title text="Add a passkey" />
        <Guarded view=move |_| {
            view! {
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || {
                        decision
                            .get()
                            .map(|decision| match decision {
                                Ok(AppendOffer::Offer { automatic_upgrade }) => {
                                    view! { <ConnectAppend next=next() automatic_upgrade /> }.into_any()
                                }
                                Ok(_) => view! { <p class="muted">"Continuing…"</p> }.into_any(),
                                Err(err) => view! { <p class="alert" role="alert">{err.to_string()}</p> }.into_any(),
                            })
                    }}
                </Suspense>
            }
        } />
    }
}
