//! `ConnectPasskeyList`: the signed-in user's passkeys on `/passkeys`: list, create, delete.
//!
//! Each action uses its own connect token from the app's server (`passkey-list` per load,
//! `passkey-append` per creation, `passkey-delete` per deletion, the last only within the
//! re-authentication window). After a deletion the browser's Signal API, where it exists,
//! learns which passkeys the site still accepts.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::client::{after_hydration, format_date, init_request, now_ms, remember_client_handle};
use super::frontend_api::FrontendApi;
use super::webauthn::{self, WebAuthnError};
use crate::connect::api::{
    AppendFinishReq, AppendStartReq, ManageDeleteReq, ManageListReq, PasskeyItem,
};
use crate::error::AppError;
use crate::journey::with_next;
use crate::routes::Page;
use crate::server_fns::passkeys::{passkey_append_token, passkey_delete_token, passkey_list_token};

const MSG_UNAVAILABLE: &str = "Your passkeys cannot be shown right now. Please try again later.";
const MSG_EXISTS: &str =
    "This device already has a passkey for your account. You can use it to sign in.";
const MSG_CANCELLED: &str = "Passkey creation was cancelled.";
const MSG_CREATE_FAILED: &str = "The passkey could not be created. Please try again.";
const MSG_DELETE_FAILED: &str = "The passkey could not be deleted. Please try again.";
const MSG_CREATED: &str = "Passkey created.";
const MSG_DELETED: &str = "Passkey deleted.";

/// What the list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Listing {
    Loading,
    Loaded(Vec<PasskeyItem>),
    Unavailable,
}

/// A message above the list: an error (`role="alert"`) or a confirmation (`role="status"`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Notice {
    Error(String),
    Info(String),
    /// The delete needs a fresh login.
    Reauth(String),
}

/// The list's state, shared by its handlers and tasks (reference-counted: a task that
/// outlives the page never touches freed state).
#[derive(Clone)]
struct Manager {
    listing: ArcRwSignal<Listing>,
    notice: ArcRwSignal<Option<Notice>>,
    busy: ArcRwSignal<bool>,
    /// The item whose delete confirmation is open (`cre-…`).
    confirming: ArcRwSignal<Option<String>>,
    /// Options for "Create passkey", fetched before the click.
    create_options: ArcRwSignal<Option<String>>,
    /// One frontend-API process for listing and deleting, another for creating.
    manage_api: ArcStoredValue<FrontendApi>,
    append_api: ArcStoredValue<FrontendApi>,
    rp_id: ArcStoredValue<String>,
    webauthn_user_id: ArcStoredValue<String>,
    signal_api: ArcStoredValue<bool>,
    loaded_ms: ArcStoredValue<i64>,
}

impl Manager {
    async fn start(self) {
        self.loaded_ms.set_value(now_ms());
        let capabilities = webauthn::capabilities().await;
        self.signal_api.set_value(capabilities.signal_api);
        let req = init_request(capabilities);
        let mut api = self.manage_api.get_value();
        let init = api.manage_init(&req).await;
        self.manage_api.set_value(api);
        match init {
            Ok(init) if init.manage_allowed => {
                remember_client_handle(init.new_client_env_handle.as_deref());
            }
            Ok(_) => return self.unavailable("not offered to this browser"),
            Err(err) => return self.unavailable(&err.to_string()),
        }
        self.load().await;
        if capabilities.webauthn {
            let mut api = self.append_api.get_value();
            let init = api.append_init(&req).await;
            self.append_api.set_value(api);
            if init.is_ok() {
                self.prepare_create().await;
            }
        }
    }

    async fn load(&self) {
        let token = match passkey_list_token().await {
            Ok(token) => token,
            Err(err) => return self.unavailable(&err.to_string()),
        };
        let req = ManageListReq {
            connect_token: token,
            mode: None,
        };
        match self.manage_api.get_value().manage_list(&req).await {
            Ok(list) => {
                self.rp_id.set_value(list.rp_id);
                self.webauthn_user_id.set_value(list.webauthn_user_id);
                self.listing.set(Listing::Loaded(list.passkeys));
            }
            Err(err) => self.unavailable(&err.to_string()),
        }
    }

    fn unavailable(&self, reason: &str) {
        leptos::logging::warn!("passkey list failed: {reason}");
        self.listing.set(Listing::Unavailable);
        self.notice
            .set(Some(Notice::Error(MSG_UNAVAILABLE.to_string())));
    }

    /// Options for the next "Create passkey" click (forced: the person asked for it).
    async fn prepare_create(&self) {
        self.create_options.set(None);
        let Ok(token) = passkey_append_token().await else {
            return;
        };
        let req = AppendStartReq {
            append_token_value: token,
            loaded_ms: self.loaded_ms.get_value(),
            force_passkey_append: Some(true),
            situation: None,
        };
        match self.append_api.get_value().append_start(&req).await {
            Ok(start) if !start.attestation_options.is_empty() => {
                self.create_options.set(Some(start.attestation_options));
            }
            Ok(_) => {}
            Err(err) => leptos::logging::warn!("passkey create start failed: {err}"),
        }
    }

    fn create(&self) {
        let Some(options) = self.create_options.get_untracked() else {
            return;
        };
        self.notice.set(None);
        self.create_options.set(None);
        let result = webauthn::create(&options);
        self.busy.set(true);
        let this = self.clone();
        spawn_local(async move {
            let outcome = match result {
                Ok(result) => result.await,
                Err(err) => Err(err),
            };
            let notice = match outcome {
                Ok(credential) => {
                    let req = AppendFinishReq {
                        attestation_response: credential,
                        completion_type: None,
                        custom_data: None,
                    };
                    match this.append_api.get_value().append_finish(&req).await {
                        Ok(_) => Notice::Info(MSG_CREATED.to_string()),
                        Err(err) => {
                            leptos::logging::warn!("passkey create finish failed: {err}");
                            Notice::Error(MSG_CREATE_FAILED.to_string())
                        }
                    }
                }
                Err(WebAuthnError::AlreadyRegistered) => Notice::Error(MSG_EXISTS.to_string()),
                Err(WebAuthnError::Cancelled | WebAuthnError::Aborted) => {
                    Notice::Error(MSG_CANCELLED.to_string())
                }
                Err(err) => {
                    leptos::logging::warn!("passkey creation failed: {err}");
                    Notice::Error(MSG_CREATE_FAILED.to_string())
                }
            };
            this.load().await;
            this.notice.set(Some(notice));
            this.prepare_create().await;
            this.busy.set(false);
        });
    }

    fn delete(&self, id: String) {
        self.notice.set(None);
        self.busy.set(true);
        let this = self.clone();
        spawn_local(async move {
            let notice = this.delete_now(&id).await;
            this.confirming.set(None);
            // The message appears with the list it describes.
            this.load().await;
            this.notice.set(Some(notice));
            this.busy.set(false);
            this.signal_accepted();
        });
    }

    async fn delete_now(&self, id: &str) -> Notice {
        let token = match passkey_delete_token().await {
            Ok(token) => token,
            Err(err @ AppError::ReauthRequired) => return Notice::Reauth(err.to_string()),
            Err(err) => {
                leptos::logging::warn!("no delete token: {err}");
                return Notice::Error(MSG_DELETE_FAILED.to_string());
            }
        };
        let req = ManageDeleteReq {
            connect_token: token,
            credential_id: id.to_string(),
        };
        match self.manage_api.get_value().manage_delete(&req).await {
            Ok(_) => Notice::Info(MSG_DELETED.to_string()),
            Err(err) => {
                leptos::logging::warn!("passkey delete failed: {err}");
                Notice::Error(MSG_DELETE_FAILED.to_string())
            }
        }
    }

    /// Tells the authenticator which of this user's passkeys the site still accepts, so a
    /// deleted one disappears from the browser's passkey UI too.
    fn signal_accepted(&self) {
        if !self.signal_api.get_value() {
            return;
        }
        let Listing::Loaded(items) = self.listing.get_untracked() else {
            return;
        };
        let user = self.webauthn_user_id.get_value();
        if user.is_empty() {
            return;
        }
        let ids: Vec<String> = items
            .iter()
            .map(|item| item.credential.credential_id.clone())
            .collect();
        webauthn::signal_all_accepted_credentials(&self.rp_id.get_value(), &user, &ids);
    }
}

#[component]
pub fn ConnectPasskeyList() -> impl IntoView {
    let manager = Manager {
        listing: ArcRwSignal::new(Listing::Loading),
        notice: ArcRwSignal::new(None),
        busy: ArcRwSignal::new(false),
        confirming: ArcRwSignal::new(None),
        create_options: ArcRwSignal::new(None),
        manage_api: ArcStoredValue::new(FrontendApi::new("")),
        append_api: ArcStoredValue::new(FrontendApi::new("")),
        rp_id: ArcStoredValue::new(String::new()),
        webauthn_user_id: ArcStoredValue::new(String::new()),
        signal_api: ArcStoredValue::new(false),
        loaded_ms: ArcStoredValue::new(0),
    };
    after_hydration(manager.clone().start());

    let notice = {
        let notice = manager.notice.clone();
        move || {
            notice.get().map(|notice| match notice {
                Notice::Error(message) => {
                    view! { <p class="alert" role="alert">{message}</p> }.into_any()
                }
                Notice::Info(message) => {
                    view! { <p class="status" role="status">{message}</p> }.into_any()
                }
                Notice::Reauth(message) => {
                    let href = with_next(Page::Login.path(), Some(Page::Passkeys.path()));
                    view! {
                        <p class="alert" role="alert">
                            {message} " " <a href=href>"Sign in again"</a>
                        </p>
                    }
                    .into_any()
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
    let create_disabled = {
        let (busy, options) = (manager.busy.clone(), manager.create_options.clone());
        move || busy.get() || options.with(Option::is_none)
    };
    let create = move |_| manager.create();

    view! {
        {notice}
        {list}
        <button type="button" class="primary" disabled=create_disabled on:click=create>
            "Create passkey"
        </button>
    }
}

#[component]
fn PasskeyRow(manager: Manager, item: PasskeyItem) -> impl IntoView {
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
        let busy = manager.busy.clone();
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
                let (confirming, id) = (manager.confirming.clone(), id.clone());
                move |_| confirming.set(Some(id.clone()))
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
