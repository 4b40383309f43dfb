//! `/append`: the step every login passes through before reaching its target.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::FormError;
use crate::account::FinishAppend;
use crate::app::Guarded;

#[component]
pub fn AppendPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let finish = ServerAction::<FinishAppend>::new();
    let pending = finish.pending();

    view! {
        <Title text="Add a passkey" />
        <Guarded view=move |_| {
            view! {
                <section class="card">
                    <h1>"Sign in faster with a passkey"</h1>
                    <p>
                        "A passkey lets you sign in with your fingerprint, face or screen lock "
                        "instead of a password. It cannot be phished or leaked."
                    </p>
                    <ActionForm action=finish attr:class="stack">
                        <input type="hidden" name="next" prop:value=next />
                        <FormError result=finish.value().into() />
                        <button type="submit" class="secondary" disabled=pending>
                            "Skip"
                        </button>
                    </ActionForm>
                </section>
            }
        } />
    }
}
