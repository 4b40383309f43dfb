//! `use_passkey_list`: the signed-in person's passkeys: list, create, rename, delete.
//!
//! Each action uses its own connect token from the app (`passkey-list` per load,
//! `passkey-append` per creation through [`use_passkey_create`], `passkey-rename` per rename,
//! `passkey-delete` per deletion). Creating and deleting need a login within the
//! re-authentication window: when it has passed, [`use_step_up`] asks the person to confirm
//! it is them, in place, and the action then goes on. After a rename or a deletion the
//! browser's Signal API, where it exists, learns which passkeys the site still accepts and
//! the account's current name.
//!
//! SSR: the listing stays [`Listing::Loading`] and nothing runs before hydration.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::use_passkey_create::{
    use_passkey_create, CreateOutcome, CreateState, UsePasskeyCreateOptions,
    UsePasskeyCreateReturn, REAUTH_REQUIRED,
};
use super::use_step_up::{use_step_up, UseStepUpReturn};
use super::Notice;
use crate::connect::api::{
    passkey_name, ManageDeleteReq, ManageListReq, ManageRenameReq, PasskeyItem, SignalDetails,
};
use crate::connect::browser::environment::{after_hydration, init_request, remember_client_handle};
use crate::connect::browser::frontend_api::FrontendApi;
use crate::connect::browser::webauthn;
use crate::error::AppError;
use crate::server_fns::passkeys::{passkey_delete_token, passkey_list_token, passkey_rename_token};

pub const MSG_UNAVAILABLE: &str =
    "Your passkeys cannot be shown right now. Please try again later.";
pub const MSG_EXISTS: &str =
    "This device already has a passkey for your account. You can use it to sign in.";
pub const MSG_CANCELLED: &str = "Passkey creation was cancelled.";
pub const MSG_CREATE_FAILED: &str = "The passkey could not be created. Please try again.";
pub const MSG_DELETE_FAILED: &str = "The passkey could not be deleted. Please try again.";
pub const MSG_CREATED: &str = "Passkey created.";
pub const MSG_DELETED: &str = "Passkey deleted.";
pub const MSG_RENAMED: &str = "Passkey renamed.";
pub const MSG_RENAME_FAILED: &str = "The passkey could not be renamed. Please try again.";

/// What the list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listing {
    Loading,
    Loaded(Vec<PasskeyItem>),
    Unavailable,
}

/// What [`use_passkey_list`] gives the component.
#[derive(Clone)]
pub struct UsePasskeyListReturn {
    pub listing: Signal<Listing>,
    pub notice: Signal<Option<Notice>>,
    /// A creation or deletion runs.
    pub busy: Signal<bool>,
    /// The passkey whose delete confirmation is open (`cre-…`).
    pub confirming: ArcRwSignal<Option<String>>,
    /// Counts finished deletions and renames (the page moves the focus to their message).
    pub finished: Signal<u32>,
    /// The passkey whose rename form is open (`cre-…`).
    pub renaming: ArcRwSignal<Option<String>>,
    /// What is wrong with the name typed in the open rename form.
    pub name_error: Signal<Option<String>>,
    /// "Create passkey" can be pressed.
    pub can_create: Signal<bool>,
    /// "Confirm it's you", when an action needs it.
    pub step_up: UseStepUpReturn,
    manager: Manager,
    create: UsePasskeyCreateReturn,
}

impl UsePasskeyListReturn {
    /// "Create passkey": inside the click when the options are ready and the login is
    /// recent; else after the confirmation.
    pub fn create(&self) {
        self.manager.notice.set(None);
        let create = self.create.clone();
        let busy = self.manager.busy.clone();
        let ready = create.state.get_untracked() == CreateState::Ready;
        self.step_up.require(move || {
            busy.set(true);
            if ready {
                create.create();
            } else {
                create.prepare_and_create();
            }
        });
    }

    /// "Delete": opens the deletion's confirmation (after confirming it is you, if needed).
    pub fn ask_delete(&self, id: String) {
        let confirming = self.confirming.clone();
        self.manager.notice.set(None);
        self.step_up
            .require(move || confirming.set(Some(id.clone())));
    }

    /// "Rename": opens the rename form of `id` (closing any confirmation).
    pub fn ask_rename(&self, id: String) {
        self.manager.notice.set(None);
        self.manager.name_error.set(None);
        self.confirming.set(None);
        self.renaming.set(Some(id));
    }

    /// "Save" in the rename form of `id`, with the name as typed.
    pub fn rename(&self, id: String, typed: String) {
        self.manager.rename(id, typed);
    }

    /// "Delete passkey" in the confirmation of `id`.
    pub fn delete(&self, id: String) {
        self.manager.delete(id, self.step_up.clone());
    }
}

pub fn use_passkey_list() -> UsePasskeyListReturn {
    let manager = Manager {
        listing: ArcRwSignal::new(Listing::Loading),
        notice: ArcRwSignal::new(None),
        busy: ArcRwSignal::new(false),
        confirming: ArcRwSignal::new(None),
        finished: ArcRwSignal::new(0),
        renaming: ArcRwSignal::new(None),
        name_error: ArcRwSignal::new(None),
        api: ArcStoredValue::new(FrontendApi::new("")),
        rp_id: ArcStoredValue::new(String::new()),
        webauthn_user_id: ArcStoredValue::new(String::new()),
        webauthn_user_name: ArcStoredValue::new(String::new()),
        signal_api: ArcStoredValue::new(false),
    };
    let step_up = use_step_up();
    // The create hook, for the outcome handler that may have to retry after a confirmation.
    let ceremony: ArcStoredValue<Option<UsePasskeyCreateReturn>> = ArcStoredValue::new(None);
    let on_outcome = {
        let (manager, step_up, ceremony) = (manager.clone(), step_up.clone(), ceremony.clone());
        move |outcome: CreateOutcome| {
            // The window passed between the page's check and the click: ask, then go on.
            if outcome == CreateOutcome::Declined(REAUTH_REQUIRED.into())
                && manager.busy.get_untracked()
            {
                manager.busy.set(false);
                if let Some(create) = ceremony.get_value() {
                    step_up.expired(move || create.prepare_and_create());
                }
                return;
            }
            let Some(notice) = notice_of(&outcome) else {
                return;
            };
            let manager = manager.clone();
            spawn_local(async move {
                manager.load().await;
                manager.notice.set(Some(notice));
                manager.busy.set(false);
            });
        }
    };
    let create = use_passkey_create(
        UsePasskeyCreateOptions::default()
            .force(true)
            .on_outcome(on_outcome),
    );
    ceremony.set_value(Some(create.clone()));
    // After a passkey was made (or this device had one), get options for the next one.
    let again = create.clone();
    Effect::new(move |_| {
        if again.state.get() == CreateState::Done {
            again.prepare();
        }
    });
    after_hydration(manager.clone().start());
    let can_create = {
        let (busy, state) = (manager.busy.clone(), create.state);
        Signal::derive(move || {
            !busy.get()
                && match state.get() {
                    CreateState::Ready => true,
                    CreateState::Declined(reason) => reason == REAUTH_REQUIRED,
                    _ => false,
                }
        })
    };
    UsePasskeyListReturn {
        listing: manager.listing.clone().into(),
        notice: manager.notice.clone().into(),
        busy: manager.busy.clone().into(),
        confirming: manager.confirming.clone(),
        finished: manager.finished.clone().into(),
        renaming: manager.renaming.clone(),
        name_error: manager.name_error.clone().into(),
        can_create,
        step_up,
        manager,
        create,
    }
}

/// What the person reads after a creation attempt (nothing for a decline: the button just
/// stays disabled).
fn notice_of(outcome: &CreateOutcome) -> Option<Notice> {
    Some(match outcome {
        CreateOutcome::Created => Notice::Info(MSG_CREATED.into()),
        CreateOutcome::AlreadyRegistered => Notice::Error(MSG_EXISTS.into()),
        CreateOutcome::Cancelled => Notice::Error(MSG_CANCELLED.into()),
        CreateOutcome::Failed | CreateOutcome::NotSaved => Notice::Error(MSG_CREATE_FAILED.into()),
        CreateOutcome::Refused(sentence) => Notice::Error(sentence.clone()),
        CreateOutcome::Declined(_) => return None,
    })
}

/// The list's state, shared by its handlers and tasks (reference-counted: a task that
/// outlives the page never touches freed state).
#[derive(Clone)]
struct Manager {
    listing: ArcRwSignal<Listing>,
    notice: ArcRwSignal<Option<Notice>>,
    busy: ArcRwSignal<bool>,
    confirming: ArcRwSignal<Option<String>>,
    finished: ArcRwSignal<u32>,
    renaming: ArcRwSignal<Option<String>>,
    name_error: ArcRwSignal<Option<String>>,
    /// The frontend-API process for listing and deleting (creating has its own).
    api: ArcStoredValue<FrontendApi>,
    rp_id: ArcStoredValue<String>,
    webauthn_user_id: ArcStoredValue<String>,
    webauthn_user_name: ArcStoredValue<String>,
    signal_api: ArcStoredValue<bool>,
}

impl Manager {
    async fn start(self) {
        let capabilities = webauthn::capabilities().await;
        self.signal_api.set_value(capabilities.signal_api);
        let mut api = self.api.get_value();
        let init = api.manage_init(&init_request(capabilities)).await;
        self.api.set_value(api);
        match init {
            Ok(init) if init.manage_allowed => {
                remember_client_handle(init.new_client_env_handle.as_deref());
            }
            Ok(_) => return self.unavailable("not offered to this browser"),
            Err(err) => return self.unavailable(&err.to_string()),
        }
        self.load().await;
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
        match self.api.get_value().manage_list(&req).await {
            Ok(list) => {
                self.rp_id.set_value(list.rp_id);
                self.webauthn_user_id.set_value(list.webauthn_user_id);
                self.webauthn_user_name.set_value(list.webauthn_user_name);
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

    fn delete(&self, id: String, step_up: UseStepUpReturn) {
        self.notice.set(None);
        self.busy.set(true);
        let this = self.clone();
        spawn_local(async move {
            let notice = match this.delete_now(&id).await {
                Some(notice) => notice,
                // The window passed while the confirmation was open: ask, then delete.
                None => {
                    this.busy.set(false);
                    let (again, asked) = (this.clone(), step_up.clone());
                    step_up.expired(move || again.delete(id.clone(), asked.clone()));
                    return;
                }
            };
            this.confirming.set(None);
            // The message appears with the list it describes.
            this.load().await;
            this.notice.set(Some(notice));
            this.busy.set(false);
            this.finished.update(|n| *n += 1);
            this.signal_accepted();
        });
    }

    fn rename(&self, id: String, typed: String) {
        let name = match passkey_name(&typed) {
            Ok(name) => name,
            Err(problem) => return self.name_error.set(Some(problem.to_string())),
        };
        self.name_error.set(None);
        self.notice.set(None);
        self.busy.set(true);
        let this = self.clone();
        spawn_local(async move {
            match this.rename_now(&id, &name).await {
                Ok(()) => {
                    this.renaming.set(None);
                    this.load().await;
                    this.notice.set(Some(Notice::Info(MSG_RENAMED.to_string())));
                    this.finished.update(|n| *n += 1);
                    this.signal_accepted();
                }
                Err(RenameRefused::Name(problem)) => this.name_error.set(Some(problem)),
                Err(RenameRefused::Failed) => this
                    .notice
                    .set(Some(Notice::Error(MSG_RENAME_FAILED.to_string()))),
            }
            this.busy.set(false);
        });
    }

    async fn rename_now(&self, id: &str, name: &str) -> Result<(), RenameRefused> {
        let token = passkey_rename_token().await.map_err(|err| {
            leptos::logging::warn!("no rename token: {err}");
            RenameRefused::Failed
        })?;
        let req = ManageRenameReq {
            connect_token: token,
            credential_id: id.to_string(),
            name: name.to_string(),
        };
        match self.api.get_value().manage_rename(&req).await {
            Ok(_) => Ok(()),
            // The service's rule is the browser's, so this is rare (an older page).
            Err(err) if err.error_type() == Some("validation_error") => Err(RenameRefused::Name(
                err.message()
                    .unwrap_or_else(|| MSG_RENAME_FAILED.to_string()),
            )),
            Err(err) => {
                leptos::logging::warn!("passkey rename failed: {err}");
                Err(RenameRefused::Failed)
            }
        }
    }

    /// The outcome in words; `None` when the person must confirm it is them first.
    async fn delete_now(&self, id: &str) -> Option<Notice> {
        let token = match passkey_delete_token().await {
            Ok(token) => token,
            Err(AppError::ReauthRequired) => return None,
            Err(err) => {
                leptos::logging::warn!("no delete token: {err}");
                return Some(Notice::Error(MSG_DELETE_FAILED.to_string()));
            }
        };
        let req = ManageDeleteReq {
            connect_token: token,
            credential_id: id.to_string(),
        };
        Some(match self.api.get_value().manage_delete(&req).await {
            Ok(_) => Notice::Info(MSG_DELETED.to_string()),
            Err(err) => {
                leptos::logging::warn!("passkey delete failed: {err}");
                Notice::Error(MSG_DELETE_FAILED.to_string())
            }
        })
    }

    /// Tells the authenticator which of this user's passkeys the site still accepts, so a
    /// deleted one disappears from the browser's passkey UI too, and the account's current
    /// name.
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
        webauthn::signal_user_passkeys(&SignalDetails {
            rp_id: self.rp_id.get_value(),
            user_id: user,
            all_accepted_credential_ids: items
                .iter()
                .map(|item| item.credential.credential_id.clone())
                .collect(),
            name: self.webauthn_user_name.get_value(),
        });
    }
}

/// Why a rename did not happen.
enum RenameRefused {
    /// The name: what to say at the field.
    Name(String),
    /// Anything else: the page says to try again.
    Failed,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creation_outcomes_become_notices() {
        assert_eq!(
            notice_of(&CreateOutcome::Created),
            Some(Notice::Info(MSG_CREATED.into()))
        );
        assert_eq!(
            notice_of(&CreateOutcome::AlreadyRegistered),
            Some(Notice::Error(MSG_EXISTS.into()))
        );
        assert_eq!(
            notice_of(&CreateOutcome::Cancelled),
            Some(Notice::Error(MSG_CANCELLED.into()))
        );
        for failed in [CreateOutcome::Failed, CreateOutcome::NotSaved] {
            assert_eq!(
                notice_of(&failed),
                Some(Notice::Error(MSG_CREATE_FAILED.into()))
            );
        }
        assert_eq!(
            notice_of(&CreateOutcome::Refused("Only synced passkeys.".into())),
            Some(Notice::Error("Only synced passkeys.".into()))
        );
        assert_eq!(notice_of(&CreateOutcome::Declined("x".into())), None);
    }
}
