//! `use_passkey_create`: the create-passkey ceremony, written once. A `passkey-append` connect
//! token from the app, append start at the passkey service (options fetched before the
//! click), `navigator.credentials.create()` inside the click, append finish. The append step
//! and `/passkeys` both use it and differ only in what they do with the outcome.
//!
//! SSR: the state stays [`CreateState::Checking`] and nothing runs; the browser starts the
//! frontend-API process after hydration.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::connect::api::{
    AppendFinishReq, AppendStartReq, AppendStartRsp, AppendVariant, COMPLETION_CONDITIONAL,
};
use crate::connect::browser::environment::{
    after_hydration, init_request, now_ms, remember_client_handle,
};
use crate::connect::browser::frontend_api::FrontendApi;
use crate::connect::browser::webauthn::{self, WebAuthnError};
use crate::error::AppError;
use crate::server_fns::passkeys::passkey_append_token;

/// The decline reason when the person must confirm it is them first.
pub const REAUTH_REQUIRED: &str = "reauth-required";

/// Where the ceremony stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateState {
    /// Before hydration, or while getting fresh options.
    Checking,
    /// Options are ready: a click can create a passkey now.
    Ready,
    /// `create()` or the service is working.
    Working,
    /// Nothing to offer here; the reason code says why (`rollout-denied`, …).
    Declined(String),
    /// The attempt ended (created, or this authenticator already has one); call
    /// [`UsePasskeyCreateReturn::prepare`] for another.
    Done,
}

/// How one attempt (or the preparation) ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOutcome {
    Created,
    /// Nothing will be offered here: the reason code (`browser-not-capable`,
    /// `rollout-denied`, `service-unavailable`, or the service's own reason).
    Declined(String),
    /// `excludeCredentials` matched: this authenticator already holds a passkey for the
    /// account.
    AlreadyRegistered,
    /// The person dismissed the dialog; fresh options are being fetched for a retry.
    Cancelled,
    /// The browser refused for another reason; fresh options are being fetched.
    Failed,
    /// The passkey was made but the service did not save it; fresh options are being fetched.
    NotSaved,
    /// The service's authenticator policy refused the passkey (the sentence says why);
    /// fresh options are being fetched, so another authenticator can be tried.
    Refused(String),
}

/// What the component does with an outcome. (A plain `Arc`, not a reactive callback: it may
/// run after the element that started the attempt is gone.)
pub type OnOutcome = Arc<dyn Fn(CreateOutcome) + Send + Sync>;

/// Options of [`use_passkey_create`].
#[derive(Clone)]
pub struct UsePasskeyCreateOptions {
    /// Ask for options even where the service would not offer a passkey unasked (the person
    /// asked, on `/passkeys`). Default `false`: the service decides (the append step).
    pub force: bool,
    /// The automatic upgrade: where the browser can and the service agrees, first let the
    /// password manager make the passkey without a dialog (conditional create), while the
    /// offer is shown. Default `false`.
    pub automatic_upgrade: bool,
    /// Called with every outcome, after the state has changed. Default: does nothing.
    pub on_outcome: OnOutcome,
}

impl Default for UsePasskeyCreateOptions {
    fn default() -> Self {
        Self {
            force: false,
            automatic_upgrade: false,
            on_outcome: Arc::new(|_| {}),
        }
    }
}

impl UsePasskeyCreateOptions {
    pub fn force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }

    pub fn automatic_upgrade(mut self, automatic_upgrade: bool) -> Self {
        self.automatic_upgrade = automatic_upgrade;
        self
    }

    pub fn on_outcome(
        mut self,
        on_outcome: impl Fn(CreateOutcome) + Send + Sync + 'static,
    ) -> Self {
        self.on_outcome = Arc::new(on_outcome);
        self
    }
}

/// What [`use_passkey_create`] gives the component: state to render, and the two actions.
#[derive(Clone)]
pub struct UsePasskeyCreateReturn {
    pub state: Signal<CreateState>,
    /// The person just signed in with a phone's passkey (hybrid): offer one on this device.
    pub after_hybrid: Signal<bool>,
    ceremony: Ceremony,
}

impl UsePasskeyCreateReturn {
    /// "Create passkey": starts `create()` inside the click (Safari insists).
    pub fn create(&self) {
        self.ceremony.create();
    }

    /// Fetches fresh options (after [`CreateState::Done`]).
    pub fn prepare(&self) {
        let ceremony = self.ceremony.clone();
        spawn_local(async move { ceremony.prepare().await });
    }

    /// Fetches fresh options and creates at once (after the person confirmed it is them: the
    /// click that asked is long gone, and browsers other than Safari do not need one).
    pub fn prepare_and_create(&self) {
        let ceremony = self.ceremony.clone();
        spawn_local(async move {
            ceremony.prepare().await;
            if ceremony.state.get_untracked() == CreateState::Ready {
                ceremony.create();
            }
        });
    }
}

/// Starts a frontend-API append process after hydration and prepares the first options.
pub fn use_passkey_create(options: UsePasskeyCreateOptions) -> UsePasskeyCreateReturn {
    let ceremony = Ceremony {
        force: options.force,
        automatic_upgrade: ArcStoredValue::new(options.automatic_upgrade),
        on_outcome: options.on_outcome,
        state: ArcRwSignal::new(CreateState::Checking),
        after_hybrid: ArcRwSignal::new(false),
        options: ArcStoredValue::new(None),
        api: ArcStoredValue::new(FrontendApi::new("")),
        loaded_ms: ArcStoredValue::new(0),
    };
    after_hydration(ceremony.clone().start());
    UsePasskeyCreateReturn {
        state: ceremony.state.clone().into(),
        after_hybrid: ceremony.after_hybrid.clone().into(),
        ceremony,
    }
}

/// The ceremony's state, shared by its tasks; reference-counted, so a task that outlives the
/// page (it navigated away) never touches freed state.
#[derive(Clone)]
struct Ceremony {
    force: bool,
    /// Still to try the automatic upgrade (once per page, and only if the browser can).
    automatic_upgrade: ArcStoredValue<bool>,
    on_outcome: OnOutcome,
    state: ArcRwSignal<CreateState>,
    after_hybrid: ArcRwSignal<bool>,
    /// Creation options for the next click (each is good for one attempt).
    options: ArcStoredValue<Option<String>>,
    api: ArcStoredValue<FrontendApi>,
    loaded_ms: ArcStoredValue<i64>,
}

impl Ceremony {
    async fn start(self) {
        self.loaded_ms.set_value(now_ms());
        let capabilities = webauthn::capabilities().await;
        if !capabilities.webauthn {
            return self.decline("browser-not-capable");
        }
        if !capabilities.conditional_create {
            self.automatic_upgrade.set_value(false);
        }
        let mut api = self.api.get_value();
        let init = api.append_init(&init_request(capabilities)).await;
        self.api.set_value(api);
        match init {
            Ok(init) => {
                remember_client_handle(init.new_client_env_handle.as_deref());
                if !init.append_allowed && !self.force {
                    return self.decline("rollout-denied");
                }
            }
            Err(err) => {
                leptos::logging::warn!("passkey append unavailable: {err}");
                return self.decline("service-unavailable");
            }
        }
        self.prepare().await;
    }

    /// A fresh connect token and fresh options.
    async fn prepare(&self) {
        self.options.set_value(None);
        self.state.set(CreateState::Checking);
        let token = match passkey_append_token().await {
            Ok(token) => token,
            // Outside the step after a login, the login is too old: the page asks first.
            Err(AppError::ReauthRequired) => return self.decline(REAUTH_REQUIRED),
            Err(err) => {
                leptos::logging::warn!("no append token: {err}");
                return self.decline("service-unavailable");
            }
        };
        let req = AppendStartReq {
            append_token_value: token,
            loaded_ms: self.loaded_ms.get_value(),
            force_passkey_append: self.force.then_some(true),
            situation: None,
        };
        // (Without a request for it the service still says whether it would; the browser's
        // capability and the kind of login decide whether it is tried.)
        match self.api.get_value().append_start(&req).await {
            Ok(start) => {
                // The step after a login (not `/passkeys`, which signals after its own
                // changes): the password manager learns which passkeys the site accepts.
                if let (false, Some(details)) = (self.force, &start.signal_details) {
                    webauthn::signal_user_passkeys(details);
                }
                match declined_reason(&start) {
                    Some(reason) => self.decline(&reason),
                    None => {
                        self.after_hybrid
                            .set(start.variant == AppendVariant::AfterHybrid);
                        self.options.set_value(Some(start.attestation_options));
                        self.state.set(CreateState::Ready);
                        if start.conditional_append
                            && !start.conditional_attestation_options.is_empty()
                            && self.automatic_upgrade.get_value()
                        {
                            self.automatic_upgrade.set_value(false);
                            self.try_automatic(start.conditional_attestation_options);
                        }
                    }
                }
            }
            Err(err) => {
                leptos::logging::warn!("passkey append start failed: {err}");
                self.decline("service-unavailable")
            }
        }
    }

    fn create(&self) {
        let Some(options) = self.options.get_value() else {
            return;
        };
        self.options.set_value(None);
        let credential = webauthn::create(&options);
        self.state.set(CreateState::Working);
        let this = self.clone();
        spawn_local(async move {
            let outcome = match credential.await {
                Ok(credential) => this.finish(&options, credential).await,
                Err(err) => outcome_of_browser_error(&err),
            };
            this.report(outcome).await;
        });
    }

    /// The automatic upgrade: a conditional create in the background while the offer is
    /// shown. A passkey made this way finishes the step like a click would; anything else
    /// (the browser declines, the person clicks "Create passkey" first) leaves the offer as it
    /// is, without a word.
    fn try_automatic(&self, options: String) {
        let credential = webauthn::create_conditional(&options);
        let this = self.clone();
        spawn_local(async move {
            let credential = match credential.await {
                Ok(credential) => credential,
                Err(err) => {
                    leptos::logging::log!("no automatic passkey: {err}");
                    return;
                }
            };
            this.options.set_value(None);
            this.state.set(CreateState::Working);
            let outcome = this
                .finish_as(&options, credential, Some(COMPLETION_CONDITIONAL))
                .await;
            this.report(outcome).await;
        });
    }

    async fn finish(&self, options: &str, credential: String) -> CreateOutcome {
        self.finish_as(options, credential, None).await
    }

    async fn finish_as(
        &self,
        options: &str,
        credential: String,
        completion_type: Option<&str>,
    ) -> CreateOutcome {
        let made = made_credential(options, &credential);
        let req = AppendFinishReq {
            attestation_response: credential,
            completion_type: completion_type.map(str::to_string),
            custom_data: None,
        };
        match self.api.get_value().append_finish(&req).await {
            Ok(_) => CreateOutcome::Created,
            Err(err) if err.error_type() == Some(POLICY_REFUSED) => {
                // Nothing was stored: when no account holds the credential either, the
                // password manager may drop the passkey it just saved.
                if let (Some((rp_id, id)), true) = (made, err.data_flag("unknownCredential")) {
                    webauthn::signal_unknown_credential(&rp_id, &id);
                }
                CreateOutcome::Refused(err.message().unwrap_or_default())
            }
            Err(err) => {
                leptos::logging::warn!("passkey append finish failed: {err}");
                CreateOutcome::NotSaved
            }
        }
    }

    /// Sets the state an outcome leaves behind, tells the component, and gets fresh options
    /// when the person may simply try again.
    async fn report(&self, outcome: CreateOutcome) {
        let retry = retries(&outcome);
        if !retry {
            self.state.set(CreateState::Done);
        }
        (self.on_outcome)(outcome);
        if retry {
            self.prepare().await;
        }
    }

    fn decline(&self, reason: &str) {
        self.state.set(CreateState::Declined(reason.to_string()));
        (self.on_outcome)(CreateOutcome::Declined(reason.to_string()));
    }
}

/// The service's error type for a passkey its authenticator policy refused.
const POLICY_REFUSED: &str = "policy_refused";

/// The RP ID of the creation options and the new credential's id, for the Signal API.
fn made_credential(options: &str, credential: &str) -> Option<(String, String)> {
    let options: serde_json::Value = serde_json::from_str(options).ok()?;
    let options = options.get("publicKey").unwrap_or(&options);
    let rp_id = options.pointer("/rp/id")?.as_str()?.to_string();
    let credential: serde_json::Value = serde_json::from_str(credential).ok()?;
    let id = credential.get("id")?.as_str()?.to_string();
    Some((rp_id, id))
}

/// Why append start offered nothing, if it did not.
fn declined_reason(start: &AppendStartRsp) -> Option<String> {
    if !start.attestation_options.is_empty() {
        return None;
    }
    Some(
        start
            .reason
            .and_then(|reason| serde_json::to_value(reason).ok())
            .and_then(|value| value.as_str().map(str::to_string))
            .unwrap_or_else(|| "not-offered".to_string()),
    )
}

/// What a browser error means for the person.
fn outcome_of_browser_error(err: &WebAuthnError) -> CreateOutcome {
    match err {
        WebAuthnError::AlreadyRegistered => CreateOutcome::AlreadyRegistered,
        WebAuthnError::Cancelled | WebAuthnError::Aborted => CreateOutcome::Cancelled,
        other => {
            leptos::logging::warn!("passkey creation failed: {other}");
            CreateOutcome::Failed
        }
    }
}

/// Whether the outcome leaves the person able to simply try again (fresh options follow).
fn retries(outcome: &CreateOutcome) -> bool {
    matches!(
        outcome,
        CreateOutcome::Cancelled
            | CreateOutcome::Failed
            | CreateOutcome::NotSaved
            | CreateOutcome::Refused(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::api::AppendSkipReason;

    fn start(options: &str, reason: Option<AppendSkipReason>) -> AppendStartRsp {
        AppendStartRsp {
            attestation_options: options.to_string(),
            ..AppendStartRsp::without_offer(reason)
        }
    }

    #[test]
    fn empty_options_are_a_decline_with_the_service_reason() {
        assert_eq!(declined_reason(&start("{\"publicKey\":{}}", None)), None);
        assert_eq!(
            declined_reason(&start("", Some(AppendSkipReason::PasskeyOnThisClient))).as_deref(),
            Some("passkey-on-this-client")
        );
        assert_eq!(
            declined_reason(&start("", None)).as_deref(),
            Some("not-offered")
        );
    }

    #[test]
    fn a_refused_credential_is_named_by_its_rp_id_and_id() {
        let options = r#"{"publicKey":{"rp":{"id":"example.com","name":"Ex"},"challenge":"x"}}"#;
        let credential = r#"{"id":"AbC-_","rawId":"AbC-_","type":"public-key","response":{}}"#;
        assert_eq!(
            made_credential(options, credential),
            Some(("example.com".into(), "AbC-_".into()))
        );
        assert_eq!(made_credential(options, "{}"), None);
        assert_eq!(made_credential("not json", credential), None);
    }

    #[test]
    fn browser_errors_become_outcomes() {
        let table = [
            (
                WebAuthnError::AlreadyRegistered,
                CreateOutcome::AlreadyRegistered,
            ),
            (WebAuthnError::Cancelled, CreateOutcome::Cancelled),
            (WebAuthnError::Aborted, CreateOutcome::Cancelled),
            (WebAuthnError::NotSupported, CreateOutcome::Failed),
            (WebAuthnError::Invalid("rp".into()), CreateOutcome::Failed),
            (WebAuthnError::Other("x".into()), CreateOutcome::Failed),
        ];
        for (err, outcome) in table {
            assert_eq!(outcome_of_browser_error(&err), outcome, "{err:?}");
        }
    }

    #[test]
    fn only_soft_failures_prepare_a_retry() {
        for (outcome, retry) in [
            (CreateOutcome::Created, false),
            (CreateOutcome::AlreadyRegistered, false),
            (CreateOutcome::Declined("rollout-denied".into()), false),
            (CreateOutcome::Cancelled, true),
            (CreateOutcome::Failed, true),
            (CreateOutcome::NotSaved, true),
            (CreateOutcome::Refused("Not this one.".into()), true),
        ] {
            assert_eq!(retries(&outcome), retry, "{outcome:?}");
        }
    }
}
