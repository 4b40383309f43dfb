//! The passkey service's wire format: Corbado Connect's backend and frontend API shapes
//! (`shared/reference/connect-api.md`), as plain serde structs shared by the service, the
//! HTTP client of the backend API and the browser components.
//!
//! Field names follow Corbado exactly (`camelCase`, `processID`, `credentialID`, ...). Where
//! we add something Corbado does not document, the field is optional and says so.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------------------------
// Shared bodies

/// Corbado's `requestData`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestData {
    #[serde(rename = "requestID")]
    pub request_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// Corbado's `genericRsp`: the body of a success that has nothing else to say.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenericRsp {
    pub http_status_code: u16,
    pub message: String,
    pub request_data: RequestData,
    pub runtime: f64,
}

/// Corbado's `errorRsp`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorRsp {
    pub http_status_code: u16,
    pub message: String,
    pub request_data: RequestData,
    pub runtime: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
    pub error: ErrorDetails,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetails {
    /// `validation_error`, `login_error`, `not_found`, ... (see [`ErrorType`]).
    #[serde(rename = "type")]
    pub error_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<Vec<ValidationItem>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationItem {
    pub field: String,
    pub message: String,
}

/// Corbado's error types, with the HTTP status each is answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    InternalError,
    NotFound,
    MethodNotAllowed,
    ValidationError,
    ProjectIdMismatch,
    LoginError,
    InvalidJson,
    RateLimited,
    InvalidOrigin,
    AlreadyExists,
}

impl ErrorType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InternalError => "internal_error",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::ValidationError => "validation_error",
            Self::ProjectIdMismatch => "project_id_mismatch",
            Self::LoginError => "login_error",
            Self::InvalidJson => "invalid_json",
            Self::RateLimited => "rate_limited",
            Self::InvalidOrigin => "invalid_origin",
            Self::AlreadyExists => "already_exists",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "internal_error" => Self::InternalError,
            "not_found" => Self::NotFound,
            "method_not_allowed" => Self::MethodNotAllowed,
            "validation_error" => Self::ValidationError,
            "project_id_mismatch" => Self::ProjectIdMismatch,
            "login_error" => Self::LoginError,
            "invalid_json" => Self::InvalidJson,
            "rate_limited" => Self::RateLimited,
            "invalid_origin" => Self::InvalidOrigin,
            "already_exists" => Self::AlreadyExists,
            _ => return None,
        })
    }

    pub fn status(self) -> u16 {
        match self {
            Self::InternalError => 500,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::ValidationError | Self::ProjectIdMismatch | Self::InvalidJson => 400,
            Self::LoginError => 401,
            Self::RateLimited => 429,
            Self::InvalidOrigin => 403,
            Self::AlreadyExists => 409,
        }
    }
}

/// List paging (`page` starts at 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Paging {
    pub page: u32,
    pub total_pages: u32,
    pub total_items: u32,
}

// ---------------------------------------------------------------------------------------------
// Backend API: connect tokens

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConnectTokenType {
    #[serde(rename = "passkey-append")]
    PasskeyAppend,
    #[serde(rename = "passkey-delete")]
    PasskeyDelete,
    #[serde(rename = "passkey-list")]
    PasskeyList,
    #[serde(rename = "passkey-login")]
    PasskeyLogin,
}

impl ConnectTokenType {
    pub const ALL: [Self; 4] = [
        Self::PasskeyAppend,
        Self::PasskeyDelete,
        Self::PasskeyList,
        Self::PasskeyLogin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasskeyAppend => "passkey-append",
            Self::PasskeyDelete => "passkey-delete",
            Self::PasskeyList => "passkey-list",
            Self::PasskeyLogin => "passkey-login",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == value)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectTokenStatus {
    Initial,
    Consumed,
}

impl ConnectTokenStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initial => "initial",
            Self::Consumed => "consumed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "initial" => Some(Self::Initial),
            "consumed" => Some(Self::Consumed),
            _ => None,
        }
    }
}

/// `data` of a connect token: `displayName` is required for `passkey-append` only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectTokenData {
    pub identifier: String,
    #[serde(
        rename = "displayName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub display_name: Option<String>,
}

/// `POST /v2/connectTokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectTokenCreateReq {
    #[serde(rename = "type")]
    pub token_type: ConnectTokenType,
    pub data: ConnectTokenData,
    #[serde(
        rename = "maxLifetimeInSeconds",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub max_lifetime_in_seconds: Option<i64>,
}

/// A connect token. `secret` is only present in the answer that created it: the service
/// keeps nothing but its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectToken {
    pub id: String,
    pub token_type: ConnectTokenType,
    pub data: ConnectTokenData,
    pub connect_token_status: ConnectTokenStatus,
    /// Unix seconds.
    pub expires: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectTokenList {
    pub connect_tokens: Vec<ConnectToken>,
    pub paging: Paging,
}

/// `PATCH /v2/connectTokens/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectTokenUpdateReq {
    pub status: ConnectTokenStatus,
}

/// Query of `GET /v2/connectTokens` (and the other lists): Corbado's `sort`, `filter[]`,
/// `page` and `pageSize`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub sort: Option<String>,
    pub filters: Vec<String>,
    pub page: Option<u32>,
    pub page_size: Option<u32>,
}

impl ListQuery {
    /// The query string (`sort=…&filter[]=…&page=…&pageSize=…`), percent-encoded.
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        if let Some(sort) = &self.sort {
            pairs.push(("sort".to_string(), sort.clone()));
        }
        for filter in &self.filters {
            pairs.push(("filter[]".to_string(), filter.clone()));
        }
        if let Some(page) = self.page {
            pairs.push(("page".to_string(), page.to_string()));
        }
        if let Some(size) = self.page_size {
            pairs.push(("pageSize".to_string(), size.to_string()));
        }
        pairs
    }
}

// ---------------------------------------------------------------------------------------------
// Backend API: signed passkey data

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifySignedDataReq {
    pub signed_passkey_data: String,
    pub username: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationResult {
    Success,
    InvalidSignature,
    InvalidChallenge,
    UserMismatch,
    GenericError,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifySignedDataRsp {
    pub verification_result: VerificationResult,
}

/// The claims of signed passkey data (a JWT). `webauthnId` and `username` carry the
/// backend's identifier of the user who logged in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedPasskeyClaims {
    pub iss: String,
    pub sub: String,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub jti: String,
    pub process_id: String,
    pub username: String,
    pub credential: String,
    pub challenge_id: String,
    pub webauthn_id: String,
    #[serde(rename = "isCUI")]
    pub is_cui: bool,
}

// ---------------------------------------------------------------------------------------------
// Backend API: users, identifiers, credentials

/// An identifier of a user (`GET /v2/identifiers?filter[]=identifierValue:eq:…`). The
/// service's identifiers are the backend's user ids, so their type is `username`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identifier {
    #[serde(rename = "identifierID")]
    pub identifier_id: String,
    #[serde(rename = "type")]
    pub identifier_type: String,
    pub value: String,
    pub status: String,
    #[serde(rename = "userID")]
    pub user_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentifierList {
    pub identifiers: Vec<Identifier>,
    pub paging: Paging,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AaguidDetails {
    pub name: String,
    pub icon_light: String,
    pub icon_dark: String,
}

/// A stored passkey as the backend API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Credential {
    /// `cre-…`
    pub id: String,
    /// The WebAuthn credential id, base64url.
    #[serde(rename = "credentialID")]
    pub credential_id: String,
    pub attestation_type: String,
    pub transport: Vec<String>,
    pub backup_eligible: bool,
    pub backup_state: bool,
    #[serde(rename = "authenticatorAAGUID")]
    pub authenticator_aaguid: String,
    pub aaguid_details: AaguidDetails,
    #[serde(rename = "sourceOS")]
    pub source_os: String,
    pub source_browser: String,
    /// RFC 3339, empty when never used.
    pub last_used: String,
    pub last_used_ms: i64,
    /// RFC 3339.
    pub created: String,
    pub created_ms: i64,
    /// `active` (a stored passkey is always active).
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialList {
    pub credentials: Vec<Credential>,
    pub paging: Paging,
}

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
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_token_request_uses_corbado_names() {
        let req: ConnectTokenCreateReq = serde_json::from_str(
            r#"{"type":"passkey-append","data":{"identifier":"acc_1","displayName":"a@b.c"},"maxLifetimeInSeconds":60}"#,
        )
        .unwrap();
        assert_eq!(req.token_type, ConnectTokenType::PasskeyAppend);
        assert_eq!(req.data.display_name.as_deref(), Some("a@b.c"));
        assert_eq!(req.max_lifetime_in_seconds, Some(60));
        assert!(serde_json::from_str::<ConnectTokenCreateReq>(
            r#"{"type":"passkey-everything","data":{"identifier":"x"}}"#
        )
        .is_err());
    }

    #[test]
    fn error_types_round_trip_and_map_to_statuses() {
        for (name, status) in [
            ("validation_error", 400),
            ("invalid_json", 400),
            ("login_error", 401),
            ("not_found", 404),
            ("already_exists", 409),
            ("internal_error", 500),
        ] {
            let parsed = ErrorType::parse(name).unwrap();
            assert_eq!(parsed.as_str(), name);
            assert_eq!(parsed.status(), status);
        }
        assert_eq!(ErrorType::parse("nope"), None);
    }

    #[test]
    fn verification_results_are_snake_case() {
        let json = serde_json::to_string(&VerificationResult::UserMismatch).unwrap();
        assert_eq!(json, r#""user_mismatch""#);
    }
}
