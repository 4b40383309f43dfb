//! `/`: only forwards (the server answers it with a redirect; this covers client navigation).

use leptos::prelude::*;

use crate::app::Guarded;

#[component]
pub fn RootPage() -> impl IntoView {
    view! { <Guarded view=|_| () /> }
}
