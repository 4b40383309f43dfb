//! What both API surfaces share: response envelopes, Corbado's error body and error types,
//! paging.

use serde::{Deserialize, Serialize};

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

/// Corbado's error types (`error.type` of an error body), with the HTTP status each is
/// answered with.
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
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
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
    /// Latchkey's own: the authenticator policy refused a new passkey (nothing was stored).
    PolicyRefused,
}

impl ErrorType {
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
            Self::PolicyRefused => 422,
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

#[cfg(test)]
mod tests {
    use super::*;
    use strum::VariantArray;

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
            let parsed: ErrorType = name.parse().unwrap();
            assert_eq!(parsed.as_ref(), name);
            assert_eq!(parsed.status(), status);
        }
        assert!("nope".parse::<ErrorType>().is_err());
    }

    /// The string form in the database and in JSON is one and the same.
    #[test]
    fn string_forms_agree_with_json() {
        for error_type in ErrorType::VARIANTS {
            let json = serde_json::to_string(error_type).unwrap();
            assert_eq!(json, format!("\"{}\"", error_type.as_ref()));
        }
    }
}
