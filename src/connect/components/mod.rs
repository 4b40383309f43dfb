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
