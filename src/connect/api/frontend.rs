//! The frontend API's bodies (browser to service): login, append and manage ceremonies as
//! init → start → finish, processes, and browser events.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::backend::{AaguidDetails, Credential};

// ---------------------------------------------------------------------------------------------
// Frontend API: shared objects

/// What the browser tells about itself; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClientInformation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bluetooth_available: Option<bool>,
    /// The opaque handle the service issued earlier (`newClientEnvHandle`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_env_handle: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visitor_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub can_use_passkeys: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_user_verifying_platform_authenticator_available: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_conditional_mediation_available: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_capabilities: Option<BTreeMap<String, bool>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub java_script_high_entropy: Option<JavaScriptHighEntropy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_native: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webdriver: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_mode: Option<bool>,
    /// Latchkey's addition: how many accounts the login page offers one-tap for (the
    /// remembered accounts of this browser), so passkey intelligence can say why it chose
    /// one-tap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remembered_accounts: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct JavaScriptHighEntropy {
    pub platform: String,
    pub platform_version: String,
    pub mobile: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FallbackError {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FallbackOperationError {
    pub init_fallback: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<FallbackError>,
}

/// What the browser keeps as "the last login" (it enables one-tap).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasskeyOperation {
    /// `append` or `verify`.
    pub operation_type: String,
    /// The user's display name (what authenticators show, e.g. the email).
    pub identifier_value: String,
    /// `email`, `phone` or `username`.
    pub identifier_type: String,
    /// `local`, `cda` (another device, hybrid) or `security-key`.
    pub ceremony_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aaguid_details: Option<AaguidDetails>,
}

// ---------------------------------------------------------------------------------------------
// Frontend API: login

/// `POST /v2/connect/login/init` (also the body of append and manage init).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitReq {
    pub client_information: ClientInformation,
    #[serde(default)]
    pub flags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub situation: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginInitRsp {
    /// The process id.
    pub token: String,
    pub expires_at: i64,
    pub frontend_api_url: String,
    pub login_allowed: bool,
    pub flags: BTreeMap<String, String>,
    /// Assertion options for conditional UI; empty when conditional UI is not offered.
    #[serde(rename = "conditionalUIChallenge")]
    pub conditional_ui_challenge: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_client_env_handle: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoginSource {
    OneTap,
    TextField,
    ErrorSoft,
    ErrorHard,
}

/// `POST /v2/connect/login/start`. An empty `identifier` (and no token) asks for an
/// identifier-less login with a discoverable credential (a Latchkey extension).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginStartReq {
    pub identifier: String,
    pub source: LoginSource,
    pub loaded_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_connect_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier_hint_available: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_tap_meta: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginStartRsp {
    /// Assertion options (`{"publicKey":{…}}`); empty means: do not run WebAuthn, fall back.
    pub assertion_options: String,
    #[serde(rename = "isCDA")]
    pub is_cda: bool,
    pub fallback_operation_error: FallbackOperationError,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefer_immediately_available: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginFinishReq {
    /// The `PublicKeyCredential` as JSON (webauthn-json / `toJSON()` form).
    pub assertion_response: String,
    #[serde(rename = "isConditionalUI")]
    pub is_conditional_ui: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loaded_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginFinishRsp {
    pub signed_passkey_data: String,
    /// Always empty: Latchkey runs no post-login action; the app makes its own session.
    pub session: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passkey_operation: Option<PasskeyOperation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_operation_error: Option<FallbackOperationError>,
    /// For the Signal API after the login (a Latchkey extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal_details: Option<SignalDetails>,
}

/// What the browser's Signal API needs to keep a password manager in step with the service
/// after a login (a Latchkey extension): the user's passkeys the site accepts and the
/// account's name. Given only to the user the login (or the append token) is for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignalDetails {
    pub rp_id: String,
    /// The WebAuthn user handle, base64url.
    pub user_id: String,
    /// Every WebAuthn credential id (base64url) of the user the service keeps.
    pub all_accepted_credential_ids: Vec<String>,
    /// The account's name as authenticators show it.
    pub name: String,
}

// ---------------------------------------------------------------------------------------------
// Frontend API: append

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppendInitRsp {
    #[serde(rename = "processID")]
    pub process_id: String,
    pub expires_at: i64,
    pub frontend_api_url: String,
    pub append_allowed: bool,
    pub flags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_client_env_handle: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppendStartReq {
    pub append_token_value: String,
    pub loaded_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_passkey_append: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub situation: Option<String>,
}

/// Why append start offers no passkey (a Latchkey extension: Corbado only answers empty
/// options).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppendSkipReason {
    /// The kill switch is off or the rollout does not include this client.
    RolloutDenied,
    /// The user already has a passkey created on this client.
    PasskeyOnThisClient,
    /// The client reported no user-verifying platform authenticator.
    NoPlatformAuthenticator,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppendVariant {
    Default,
    AfterHybrid,
    AfterError,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppendStartRsp {
    /// Creation options (`{"publicKey":{…}}`); empty means: do not offer a passkey.
    pub attestation_options: String,
    pub variant: AppendVariant,
    pub is_restricted_browser: bool,
    pub auto_append: bool,
    pub conditional_append: bool,
    pub expires_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_data: Option<BTreeMap<String, String>>,
    /// Set when `attestationOptions` is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<AppendSkipReason>,
    /// For the Signal API when the user already has passkeys (a Latchkey extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal_details: Option<SignalDetails>,
    /// With `conditionalAppend`: the options of the silent conditional create, a ceremony of
    /// its own beside `attestationOptions` (a Latchkey extension; finish it with
    /// `completionType` `conditional`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub conditional_attestation_options: String,
}

impl AppendStartRsp {
    /// The answer that offers no passkey, saying why.
    pub fn without_offer(reason: Option<AppendSkipReason>) -> Self {
        Self {
            attestation_options: String::new(),
            variant: AppendVariant::Default,
            is_restricted_browser: false,
            auto_append: false,
            conditional_append: false,
            expires_ms: 0,
            custom_data: None,
            reason,
            signal_details: None,
            conditional_attestation_options: String::new(),
        }
    }
}

/// `completionType` of a passkey the automatic upgrade made (conditional create).
pub const COMPLETION_CONDITIONAL: &str = "conditional";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppendFinishReq {
    /// The `PublicKeyCredential` from `create()` as JSON.
    pub attestation_response: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_data: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppendFinishRsp {
    pub passkey_operation: PasskeyOperation,
}

// ---------------------------------------------------------------------------------------------
// Frontend API: manage

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManageInitRsp {
    #[serde(rename = "processID")]
    pub process_id: String,
    pub expires_at: i64,
    pub frontend_api_url: String,
    pub manage_allowed: bool,
    pub flags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_client_env_handle: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManageListReq {
    pub connect_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
}

/// A passkey in the manage list: the backend's credential plus tags (`synced`, `hybrid`) and
/// whether it was created on the client asking (a Latchkey extension).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasskeyItem {
    #[serde(flatten)]
    pub credential: Credential,
    pub tags: Vec<String>,
    #[serde(default)]
    pub created_on_this_client: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManageListRsp {
    pub passkeys: Vec<PasskeyItem>,
    #[serde(rename = "rpID")]
    pub rp_id: String,
    #[serde(rename = "userID")]
    pub user_id: String,
    /// The WebAuthn user handle (base64url), as the Signal API wants it (a Latchkey
    /// extension; empty when the user has no passkeys yet).
    #[serde(rename = "webauthnUserID", default)]
    pub webauthn_user_id: String,
    /// The account's name as authenticators show it (a Latchkey extension, for the Signal
    /// API's `signalCurrentUserDetails`; empty when the user has no passkeys yet).
    #[serde(rename = "webauthnUserName", default)]
    pub webauthn_user_name: String,
    pub signal_all_accepted_credentials: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManageDeleteReq {
    pub connect_token: String,
    /// The passkey's `id` (`cre-…`) or its WebAuthn `credentialID`.
    #[serde(rename = "credentialID")]
    pub credential_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManageDeleteRsp {
    #[serde(rename = "credentialID")]
    pub credential_id: String,
}

/// `manage/rename` (a Latchkey extension): gives one of the user's passkeys a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManageRenameReq {
    /// A `passkey-rename` connect token.
    pub connect_token: String,
    /// The passkey's `id` (`cre-…`) or its WebAuthn `credentialID`.
    #[serde(rename = "credentialID")]
    pub credential_id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManageRenameRsp {
    #[serde(rename = "credentialID")]
    pub credential_id: String,
    /// The name as stored (trimmed).
    pub name: String,
}

/// The most characters a passkey name may have.
pub const MAX_PASSKEY_NAME_CHARS: usize = 64;

/// A passkey name as typed → the name to store (trimmed), or what is wrong with it. The same
/// rule runs in the browser (to say so at the field) and in the service (which decides).
pub fn passkey_name(typed: &str) -> Result<String, &'static str> {
    let name = typed.trim();
    if name.is_empty() {
        return Err("Enter a name for the passkey.");
    }
    if name.chars().count() > MAX_PASSKEY_NAME_CHARS {
        return Err("Use at most 64 characters.");
    }
    if name.chars().any(char::is_control) {
        return Err("Use letters, digits, spaces and punctuation only.");
    }
    Ok(name.to_string())
}

// ---------------------------------------------------------------------------------------------
// Frontend API: process and events

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessClearReq {
    pub process_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessClearRsp {
    pub process_id: String,
}

/// Event types the browser may report (`passkeyEventType`).
pub const EVENT_TYPES: &[&str] = &[
    "login-explicit-abort",
    "login-error",
    "login-error-untyped",
    "login-error-unexpected",
    "login-one-tap-switch",
    "login-no-credentials",
    "user-append-after-cross-platform-blacklisted",
    "user-append-after-login-error-blacklisted",
    "append-credential-exists",
    "append-explicit-abort",
    "append-error",
    "append-error-unexpected",
    "append-learn-more",
    "manage-error-unexpected",
    "manage-error",
    "manage-learn-more",
    "manage-credential-exists",
    "local-unlock",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventCreateReq {
    pub event_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
}
