//! `ConnectPasskeyList`: the signed-in person's passkeys on `/passkeys`: list, create,
//! delete (the logic is [`use_passkey_list`]).

use leptos::prelude::*;

use super::step_up::ConfirmItsYou;
use crate::connect::api::PasskeyItem;
use crate::connect::browser::environment::format_date;
use crate::connect::hooks::{use_passkey_list, Listing, Notice, UsePasskeyListReturn};
use crate::routes::Page;

#[component]
pub fn ConnectPasskeyList() -> impl IntoView {
    let manager = use_passkey_list();
    let notice = {
        let notice = manager.notice;
        move || {
            notice.get().map(|notice| match notice {
                Notice::Error(message) => {
                    view! { <p class="alert" role="alert">{message}</p> }.into_any()
                }
                Notice::Info(message) => {
                    view! { <p class="status" role="status">{message}</p> }.into_any()
                }
            })
        }
    };
    let list = {
        let manager = manager.clone();
        move || match manager.listing.get() {
            Listing::Loading => view! { <p class="muted">"Loading your passkeys…"</p> }.into_any(),
            Listing::Unavailable => ().into_any(),
            Listing::Loaded(items) if items.is_empty() => {
                view! { <p class="muted">"You have no passkeys yet."</p> }.into_any()
            }
            Listing::Loaded(items) => view! {
                <ul class="passkeys" aria-label="Your passkeys">
                    {items
                        .into_iter()
                        .map(|item| view! { <PasskeyRow manager=manager.clone() item /> })
                        .collect_view()}
                </ul>
            }
            .into_any(),
        }
    };
    let can_create = manager.can_create;
    let step_up = manager.step_up.clone();
    let asking = manager.step_up.asking;
    let create = move |_| manager.create();

    view! {
        {notice}
        <ConfirmItsYou step_up back=Page::Passkeys.path() />
        {list}
        <Show when=move || !asking.get()>
            <button
                type="button"
                class="primary"
                disabled=move || !can_create.get()
                on:click=create.clone()
            >
                "Create passkey"
            </button>
        </Show>
    }
}

#[component]
fn PasskeyRow(manager: UsePasskeyListReturn, item: PasskeyItem) -> impl IntoView {
    let credential = item.credential;
    let id = credential.id.clone();
    let created = format_date(credential.created_ms, &credential.created);
    let source = match (
        credential.source_browser.as_str(),
        credential.source_os.as_str(),
    ) {
        ("", "") => String::new(),
        (browser, "") => format!(" with {browser}"),
        ("", os) => format!(" on {os}"),
        (browser, os) => format!(" with {browser} on {os}"),
    };
    let last_used = if credential.last_used.is_empty() {
        "Never used".to_string()
    } else {
        format!(
            "Last used {}",
            format_date(credential.last_used_ms, &credential.last_used)
        )
    };
    let synced = credential.backup_state;
    let this_device = item.created_on_this_client;
    let name = credential.aaguid_details.name;
    let label = format!("Passkey: {name}");

    let actions = move || {
        let busy = manager.busy;
        if manager.confirming.get().as_deref() == Some(id.as_str()) {
            let confirm = {
                let (manager, id) = (manager.clone(), id.clone());
                move |_| manager.delete(id.clone())
            };
            let cancel = {
                let confirming = manager.confirming.clone();
                move |_| confirming.set(None)
            };
            view! {
                <div class="confirm" role="group" aria-label="Confirm deletion">
                    <p>"Delete this passkey? You will no longer be able to sign in with it."</p>
                    <button
                        type="button"
                        class="danger"
                        disabled=move || busy.get()
                        on:click=confirm
                    >
                        "Delete passkey"
                    </button>
                    <button type="button" class="secondary" on:click=cancel>
                        "Cancel"
                    </button>
                </div>
            }
            .into_any()
        } else {
            let open = {
                let (manager, id) = (manager.clone(), id.clone());
                move |_| manager.ask_delete(id.clone())
            };
            view! {
                <button
                    type="button"
                    class="secondary"
                    disabled=move || busy.get()
                    on:click=open
                >
                    "Delete"
                </button>
            }
            .into_any()
        }
    };

    view! {
        <li class="passkey" aria-label=label>
            <div class="passkey-info">
                <strong class="provider">{name}</strong>
                {synced.then(|| view! { <span class="badge">"Synced"</span> })}
                {this_device.then(|| view! { <span class="badge">"This device"</span> })}
                <p class="muted">{format!("Created {created}{source}")}</p>
                <p class="muted">{last_used}</p>
            </div>
            {actions}
        </li>
    }
}
