//! `ConnectPasskeyList`: the signed-in person's passkeys on `/passkeys`: list, create,
//! rename, delete (the logic is [`use_passkey_list`]).
//!
//! Focus follows the person: into the confirmation after "Delete", into "Passkey name" after
//! "Rename", back to the button after "Cancel", to the message after a deletion or a rename.
//! Without JavaScript the list cannot be loaded; the page says so instead of "Loading…"
//! forever.

use leptos::html;
use leptos::prelude::*;

use super::step_up::ConfirmItsYou;
use super::{NoticeView, ProviderIcon};
use crate::connect::api::{PasskeyItem, MAX_PASSKEY_NAME_CHARS};
use crate::connect::browser::environment::{format_date, when_in_words};
use crate::connect::hooks::{use_passkey_list, Listing, UsePasskeyListReturn};
use crate::routes::Page;

const NOTICE_ID: &str = "passkeys-notice";

#[component]
pub fn ConnectPasskeyList() -> impl IntoView {
    let manager = use_passkey_list();
    let notice = manager.notice;
    // A message that follows a deletion or a rename takes the focus (the row and its buttons
    // are gone or redrawn).
    let finished = manager.finished;
    Effect::new(move |_| {
        if finished.get() > 0 {
            request_animation_frame(|| focus_by_id(NOTICE_ID));
        }
    });
    let list = {
        let manager = manager.clone();
        move || match manager.listing.get() {
            Listing::Loading => view! {
                <p class="muted needs-js" role="status">"Loading your passkeys…"</p>
                <p class="muted no-js">
                    "Your passkeys can be shown and changed with JavaScript turned on."
                </p>
            }
            .into_any(),
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
        <NoticeView notice id=NOTICE_ID />
        <ConfirmItsYou step_up back=Page::Passkeys.path() />
        {list}
        <Show when=move || !asking.get()>
            <button
                type="button"
                class="primary needs-js"
                disabled=move || !can_create.get()
                on:click=create.clone()
            >
                "Create passkey"
            </button>
        </Show>
    }
}

/// Moves the focus to the element with this id (a message made focusable with
/// `tabindex="-1"`), once it is in the document.
fn focus_by_id(id: &str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(element) = web_sys::window()
            .and_then(|window| window.document())
            .and_then(|document| document.get_element_by_id(id))
            .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = element.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}

#[component]
fn PasskeyRow(manager: UsePasskeyListReturn, item: PasskeyItem) -> impl IntoView {
    let credential = item.credential;
    let name = credential.display_name();
    let current_name = name.clone();
    let icon_light = credential.aaguid_details.icon_light.clone();
    let icon_dark = credential.aaguid_details.icon_dark.clone();
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
            when_in_words(credential.last_used_ms, &credential.last_used)
        )
    };
    let synced = credential.backup_state;
    let this_device = item.created_on_this_client;
    let label = format!("Passkey: {name}");
    let delete_button = NodeRef::<html::Button>::new();
    let rename_button = NodeRef::<html::Button>::new();
    let confirm_button = NodeRef::<html::Button>::new();
    let name_field = NodeRef::<html::Input>::new();
    // "Delete" opens the confirmation with the focus on its first button, "Rename" the form
    // with the focus in the name; Cancel returns it.
    Effect::new(move |_| {
        if let Some(button) = confirm_button.get() {
            let _ = button.focus();
        }
    });
    Effect::new(move |_| {
        if let Some(field) = name_field.get() {
            let _ = field.focus();
            field.select();
        }
    });
    let back_to = move |button: NodeRef<html::Button>| {
        request_animation_frame(move || {
            if let Some(button) = button.get_untracked() {
                let _ = button.focus();
            }
        });
    };

    let actions = move || {
        let busy = manager.busy;
        if manager.renaming.get().as_deref() == Some(id.as_str()) {
            let field_id = format!("passkey-name-{id}");
            let error_id = format!("{field_id}-error");
            let error = manager.name_error;
            let save = {
                let (manager, id) = (manager.clone(), id.clone());
                move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    let typed = name_field
                        .get_untracked()
                        .map(|field| field.value())
                        .unwrap_or_default();
                    manager.rename(id.clone(), typed);
                }
            };
            let cancel = {
                let renaming = manager.renaming.clone();
                move |_| {
                    renaming.set(None);
                    back_to(rename_button);
                }
            };
            return view! {
                <form class="rename stack" on:submit=save>
                    <div class="field">
                        <label for=field_id.clone()>"Passkey name"</label>
                        <input
                            id=field_id
                            node_ref=name_field
                            type="text"
                            maxlength=MAX_PASSKEY_NAME_CHARS
                            autocomplete="off"
                            value=current_name.clone()
                            aria-invalid=move || error.get().is_some().to_string()
                            aria-describedby=error_id.clone()
                        />
                        <p class="field-error" id=error_id>{move || error.get()}</p>
                    </div>
                    <div class="actions">
                        <button type="submit" class="primary" disabled=move || busy.get()>
                            "Save"
                        </button>
                        <button type="button" class="secondary" on:click=cancel>
                            "Cancel"
                        </button>
                    </div>
                </form>
            }
            .into_any();
        }
        if manager.confirming.get().as_deref() == Some(id.as_str()) {
            let confirm = {
                let (manager, id) = (manager.clone(), id.clone());
                move |_| manager.delete(id.clone())
            };
            let cancel = {
                let confirming = manager.confirming.clone();
                move |_| {
                    confirming.set(None);
                    // Back to the row's "Delete", once it is shown again.
                    back_to(delete_button);
                }
            };
            view! {
                <div class="confirm" role="group" aria-label="Confirm deletion">
                    <p>"Delete this passkey? You will no longer be able to sign in with it."</p>
                    <button
                        type="button"
                        class="danger"
                        node_ref=confirm_button
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
            let rename = {
                let (manager, id) = (manager.clone(), id.clone());
                move |_| manager.ask_rename(id.clone())
            };
            view! {
                <div class="actions">
                    <button
                        type="button"
                        class="secondary"
                        node_ref=rename_button
                        disabled=move || busy.get()
                        on:click=rename
                    >
                        "Rename"
                    </button>
                    <button
                        type="button"
                        class="secondary"
                        node_ref=delete_button
                        disabled=move || busy.get()
                        on:click=open
                    >
                        "Delete"
                    </button>
                </div>
            }
            .into_any()
        }
    };

    view! {
        <li class="passkey" aria-label=label>
            <ProviderIcon light=icon_light dark=icon_dark />
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
