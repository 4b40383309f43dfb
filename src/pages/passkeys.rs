//! `/passkeys`: the signed-in user's passkeys (ConnectPasskeyList), linked from the dashboard.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::app::Guarded;
use crate::connect::components::passkey_list::ConnectPasskeyList;
use crate::routes::Page;

#[component]
pub fn PasskeysPage() -> impl IntoView {
    view! {
        <Title text="Passkeys" />
        <Guarded view=move |_| {
            view! {
                <section class="card">
                    <p class="muted"><a href=Page::Dashboard.path()>"← Dashboard"</a></p>
                    <h1>"Passkeys"</h1>
                    <p>
                        "Passkeys let you sign in with your fingerprint, face or screen lock. "
                        "Your password keeps working."
                    </p>
                    <ConnectPasskeyList />
                </section>
            }
        } />
    }
}
