//! `/dashboard`: the default target after login.

use leptos::prelude::*;
use leptos_meta::Title;

use super::FormError;
use crate::app::Guarded;
use crate::routes::Page;
use crate::server_fns::account::SignOut;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    let pending = sign_out.pending();

    view! {
        <Title text="Dashboard" />
        <Guarded view=move |info| {
            view! {
                <section class="card">
                    <h1>"Dashboard"</h1>
                    <p>"Signed in as " <strong class="email">{info.email}</strong></p>
                    <nav class="settings" aria-label="Settings">
                        <a href=Page::Passkeys.path()>"Passkeys"</a>
                        {info.operator.then(|| view! {
                            " · " <a href=Page::AdminOverview.path()>"Console"</a>
                        })}
                    </nav>
                    <ActionForm action=sign_out>
                        <FormError result=sign_out.value().into() />
                        <button type="submit" class="secondary" disabled=pending>
                            "Sign out"
                        </button>
                    </ActionForm>
                </section>
            }
        } />
    }
}
