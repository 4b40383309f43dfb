//! The Connect components: `ConnectLogin`, `ConnectAppend` and `ConnectPasskeyList`, the
//! markup around the passkey hooks ([`crate::connect::hooks`]).

pub mod append;
pub mod login;
pub mod passkey_list;
pub mod step_up;

use leptos::prelude::*;

use crate::connect::hooks::Notice;

/// A hook's message: information as a status (announced politely, styled calm), an error as
/// an alert. `id` lets a page move the focus to it (after a deletion, say).
#[component]
pub fn NoticeView(
    notice: Signal<Option<Notice>>,
    #[prop(optional)] id: Option<&'static str>,
) -> impl IntoView {
    move || {
        notice.get().map(|notice| match notice {
            Notice::Error(message) => {
                view! { <p class="alert" role="alert" id=id tabindex="-1">{message}</p> }.into_any()
            }
            Notice::Info(message) => {
                view! { <p class="status" role="status" id=id tabindex="-1">{message}</p> }
                    .into_any()
            }
        })
    }
}

/// What a busy component waits for, beside a spinner ("Waiting for your passkey…").
#[component]
pub fn WaitingStatus(waiting: Signal<Option<&'static str>>) -> impl IntoView {
    move || {
        waiting.get().map(|words| {
            view! {
                <p class="waiting" role="status">
                    <span class="spinner" aria-hidden="true"></span>
                    {words}
                </p>
            }
        })
    }
}

/// A passkey provider's icon (the community list's data URIs, the dark one in dark mode), or
/// a neutral key when the provider is unknown. Decorative: the provider's name is next to it.
#[component]
pub fn ProviderIcon(light: String, dark: String) -> impl IntoView {
    if light.is_empty() {
        return view! {
            <svg class="provider-icon neutral" viewBox="0 0 24 24" width="24" height="24" aria-hidden="true">
                <circle cx="8" cy="12" r="4" fill="none" stroke="currentColor" stroke-width="2" />
                <path d="M12 12h9m-3 0v3m-3-3v2" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
            </svg>
        }
        .into_any();
    }
    let dark = if dark.is_empty() { light.clone() } else { dark };
    view! {
        <picture class="provider-icon">
            <source srcset=dark media="(prefers-color-scheme: dark)" />
            <img src=light alt="" width="24" height="24" />
        </picture>
    }
    .into_any()
}
