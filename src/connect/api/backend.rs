//! The backend API's bodies (server to server): connect tokens, signed passkey data, users,
//! identifiers and credentials.

use serde::{Deserialize, Serialize};

use super::common::Paging;

// ---------------------------------------------------------------------------------------------
// Backend API: connect tokens

/// What a connect token lets the browser do (one action, for one user).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::AsRefStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum ConnectTokenType {
    PasskeyAppend,
    PasskeyDelete,
    PasskeyList,
    PasskeyLogin,
    /// Renaming one of the user's passkeys (a Latchkey extension).
    PasskeyRename,
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::AsRefStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum ConnectTokenStatus {
    Initial,
    Consumed,
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
    /// Latchkey's extension: whether the passkey came from another device (hybrid, a
    /// security key). `Some(false)` tells the app the passkey lives on this browser's own
    /// authenticator, so its append step has nothing to offer. Absent from other services'
    /// data (then the app lets the browser's append step find out).
    #[serde(
        rename = "crossDevice",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub cross_device: Option<bool>,
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

/// `GET /v2/events` (a Latchkey extension): one page of the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventList {
    pub events: Vec<AuditEvent>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// One audit log event as the backend API shows it (docs/events.md describes the fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    pub id: String,
    pub sequence: i64,
    /// Unix seconds.
    pub occurred_at: i64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub outcome: String,
    pub reason: Option<String>,
    pub identifier: Option<String>,
    pub credential_id: Option<String>,
    pub client_ip: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
    pub process_id: Option<String>,
    pub detail: Option<String>,
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
    /// The name its owner gave it (a Latchkey extension; empty: none).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
}

impl Credential {
    /// The name people see: the one its owner gave it, else see
    /// [`crate::connect::aaguid::display_name`].
    pub fn display_name(&self) -> String {
        if !self.name.is_empty() {
            return self.name.clone();
        }
        crate::connect::aaguid::display_name(
            &self.aaguid_details.name,
            &self.source_browser,
            &self.source_os,
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialList {
    pub credentials: Vec<Credential>,
    pub paging: Paging,
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::VariantArray;

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

    /// The string form in the database and in JSON is one and the same.
    #[test]
    fn string_forms_agree_with_json() {
        for token_type in ConnectTokenType::VARIANTS {
            let json = serde_json::to_string(token_type).unwrap();
            assert_eq!(json, format!("\"{}\"", token_type.as_ref()));
            assert_eq!(
                token_type.as_ref().parse::<ConnectTokenType>().ok(),
                Some(*token_type)
            );
        }
        for status in ConnectTokenStatus::VARIANTS {
            let json = serde_json::to_string(status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_ref()));
        }
    }

    #[test]
    fn verification_results_are_snake_case() {
        let json = serde_json::to_string(&VerificationResult::UserMismatch).unwrap();
        assert_eq!(json, r#""user_mismatch""#);
    }
}
