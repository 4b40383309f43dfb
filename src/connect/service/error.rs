//! The passkey service's errors, each answered with Corbado's `errorRsp` body and the status
//! of its error type. Messages are safe to show; internals are logged and never sent.

use axum::http::header::{HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::connect::api::{ErrorDetails, ErrorRsp, ErrorType, ValidationItem};
use crate::store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// Bad input; `field` names the request field when there is one.
    #[error("{message}")]
    Validation {
        field: Option<String>,
        message: String,
    },
    /// The body is not JSON at all.
    #[error("the request body is not valid JSON: {0}")]
    InvalidJson(String),
    /// Wrong or missing backend API credentials.
    #[error("wrong or missing API credentials")]
    Login,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    /// The authenticator policy refused a new passkey; the message is the sentence the person
    /// reads. `unknown_credential`: no account holds the credential, so the browser may tell
    /// its password manager to drop it.
    #[error("{message}")]
    PolicyRefused {
        message: String,
        unknown_credential: bool,
    },
    #[error("requests from this origin are not allowed")]
    InvalidOrigin,
    #[error("the project id does not match this service")]
    ProjectIdMismatch,
    #[error("method not allowed")]
    MethodNotAllowed,
    /// Over a rate limit: try again after this many seconds (also sent as `Retry-After`).
    #[error("too many requests; try again in {0} seconds")]
    RateLimited(u64),
    /// Something failed on our side; the text is logged, the client sees a generic message.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ConnectError {
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        Self::Validation {
            field: Some(field.to_string()),
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(message.into())
    }

    /// Logs `err` with its context and returns [`ConnectError::Internal`].
    pub fn internal(context: &str, err: impl std::fmt::Display) -> Self {
        tracing::error!(%err, "passkey service: {context}");
        Self::Internal(format!("{context}: {err}"))
    }

    pub fn error_type(&self) -> ErrorType {
        match self {
            Self::Validation { .. } => ErrorType::ValidationError,
            Self::InvalidJson(_) => ErrorType::InvalidJson,
            Self::Login => ErrorType::LoginError,
            Self::NotFound(_) => ErrorType::NotFound,
            Self::AlreadyExists(_) => ErrorType::AlreadyExists,
            Self::PolicyRefused { .. } => ErrorType::PolicyRefused,
            Self::InvalidOrigin => ErrorType::InvalidOrigin,
            Self::ProjectIdMismatch => ErrorType::ProjectIdMismatch,
            Self::MethodNotAllowed => ErrorType::MethodNotAllowed,
            Self::RateLimited(_) => ErrorType::RateLimited,
            Self::Internal(_) => ErrorType::InternalError,
        }
    }

    /// What the client is told.
    pub fn public_message(&self) -> String {
        match self {
            Self::Internal(_) => "internal error".to_string(),
            other => other.to_string(),
        }
    }

    pub fn to_body(&self) -> ErrorRsp {
        let error_type = self.error_type();
        let (request_data, runtime) = super::http::request_meta();
        let validation = match self {
            Self::Validation {
                field: Some(field),
                message,
            } => Some(vec![ValidationItem {
                field: field.clone(),
                message: message.clone(),
            }]),
            _ => None,
        };
        let data = match self {
            Self::PolicyRefused {
                unknown_credential, ..
            } => Some(serde_json::json!({ "unknownCredential": unknown_credential })),
            _ => None,
        };
        ErrorRsp {
            http_status_code: error_type.status(),
            message: self.public_message(),
            request_data,
            runtime,
            data,
            error: ErrorDetails {
                error_type: error_type.as_ref().to_string(),
                details: Some(self.public_message()),
                validation,
                links: None,
            },
        }
    }
}

impl From<StoreError> for ConnectError {
    fn from(err: StoreError) -> Self {
        Self::internal("store", err)
    }
}

impl From<sqlx::Error> for ConnectError {
    fn from(err: sqlx::Error) -> Self {
        Self::internal("store", err)
    }
}

impl IntoResponse for ConnectError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.error_type().status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(self.to_body())).into_response();
        match self {
            Self::Login => {
                response.headers_mut().insert(
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"latchkey\""),
                );
            }
            Self::RateLimited(seconds) => {
                response
                    .headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(seconds));
            }
            _ => {}
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_details_never_reach_the_body() {
        let err = ConnectError::Internal("connection refused to db:5432 password=x".into());
        let body = serde_json::to_string(&err.to_body()).unwrap();
        assert!(!body.contains("password"), "{body}");
        assert!(body.contains("internal_error"));
    }

    #[test]
    fn validation_errors_name_their_field() {
        let body = ConnectError::validation("identifier", "must not be empty").to_body();
        assert_eq!(body.http_status_code, 400);
        assert_eq!(body.error.error_type, "validation_error");
        let items = body.error.validation.unwrap();
        assert_eq!(items[0].field, "identifier");
        assert!(body.request_data.request_id.starts_with("req-"));
    }
}
