//! The one error type that crosses the server-function boundary.
//!
//! Its messages are what a person sees, so they never carry internals: anything unexpected is
//! logged on the server and reaches the browser as [`AppError::Internal`].

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// On the wire an error is `{"error": "<code>", "message": "<what the person sees>"}`, so any
/// HTTP client gets a readable answer, and the browser rebuilds the same variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(into = "ErrorBody", try_from = "ErrorBody")]
pub enum AppError {
    /// Same message for an unknown email and a wrong password (no account enumeration).
    #[error("The email or password is wrong.")]
    InvalidCredentials,
    #[error("An account with this email already exists. Sign in instead.")]
    EmailTaken,
    /// Bad input; the message says what to fix.
    #[error("{0}")]
    Invalid(String),
    #[error("Please sign in to continue.")]
    Unauthenticated,
    #[error("Please finish the passkey step first.")]
    AppendPending,
    /// A passkey login the passkey service did not confirm (expired, replayed, wrong user).
    #[error("Signing in with this passkey did not work. Use your password instead.")]
    PasskeyRejected,
    /// Sensitive actions (deleting a passkey) need a login within the re-authentication window.
    #[error("For your security, sign in again before deleting a passkey.")]
    ReauthRequired,
    #[error("This request came from another site and was refused.")]
    ForeignOrigin,
    #[error("Too many attempts. Please wait a moment and try again.")]
    RateLimited,
    #[error("The sign-in service is not available right now. Please try again later.")]
    Unavailable,
    /// The external identity provider cannot be reached; passkeys still work. The message
    /// names the provider (see [`AppError::idp_unreachable`]).
    #[error("{0}")]
    IdpUnreachable(String),
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    /// Transport-level failures of the server-function machinery itself (network down, bad
    /// encoding); the browser side produces these, never the server.
    #[error("The request could not be completed. Check your connection and try again.")]
    Transport,
}

impl AppError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidCredentials | Self::Unauthenticated | Self::PasskeyRejected => 401,
            Self::AppendPending | Self::ForeignOrigin | Self::ReauthRequired => 403,
            Self::EmailTaken => 409,
            Self::Invalid(_) => 400,
            Self::RateLimited => 429,
            Self::Unavailable | Self::IdpUnreachable(_) => 503,
            Self::Internal | Self::Transport => 500,
        }
    }
}

impl AppError {
    pub fn idp_unreachable(provider: &str) -> Self {
        Self::IdpUnreachable(format!(
            "We can't reach {provider} right now. Try again in a few minutes, or sign in with a passkey."
        ))
    }

    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidCredentials => "invalid_credentials",
            Self::EmailTaken => "email_taken",
            Self::Invalid(_) => "invalid",
            Self::Unauthenticated => "unauthenticated",
            Self::AppendPending => "append_pending",
            Self::PasskeyRejected => "passkey_rejected",
            Self::ReauthRequired => "reauth_required",
            Self::ForeignOrigin => "foreign_origin",
            Self::RateLimited => "rate_limited",
            Self::Unavailable => "unavailable",
            Self::IdpUnreachable(_) => "idp_unreachable",
            Self::Internal => "internal",
            Self::Transport => "transport",
        }
    }
}

#[derive(Serialize, Deserialize)]
struct ErrorBody {
    error: String,
    message: String,
}

impl From<AppError> for ErrorBody {
    fn from(err: AppError) -> Self {
        Self {
            error: err.code().to_string(),
            message: err.to_string(),
        }
    }
}

impl TryFrom<ErrorBody> for AppError {
    type Error = String;

    fn try_from(body: ErrorBody) -> Result<Self, Self::Error> {
        Ok(match body.error.as_str() {
            "invalid_credentials" => Self::InvalidCredentials,
            "email_taken" => Self::EmailTaken,
            "invalid" => Self::Invalid(body.message),
            "unauthenticated" => Self::Unauthenticated,
            "append_pending" => Self::AppendPending,
            "passkey_rejected" => Self::PasskeyRejected,
            "reauth_required" => Self::ReauthRequired,
            "foreign_origin" => Self::ForeignOrigin,
            "rate_limited" => Self::RateLimited,
            "unavailable" => Self::Unavailable,
            "idp_unreachable" => Self::IdpUnreachable(body.message),
            "internal" => Self::Internal,
            "transport" => Self::Transport,
            other => return Err(format!("unknown error code {other:?}")),
        })
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Arguments that fail to decode are bad input, not a server fault.
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::Deserialization(_) => {
                Self::Invalid("The form was incomplete or malformed.".into())
            }
            _ => Self::Transport,
        }
    }
}

#[cfg(feature = "ssr")]
mod server {
    use super::AppError;

    impl AppError {
        /// Logs an unexpected server-side failure and hides it behind [`AppError::Internal`].
        pub fn internal(context: &str, err: impl std::fmt::Display) -> Self {
            tracing::error!(%err, "{context}");
            Self::Internal
        }
    }

    impl axum::response::IntoResponse for AppError {
        fn into_response(self) -> axum::response::Response {
            let status = axum::http::StatusCode::from_u16(self.status())
                .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
            (status, axum::Json(self)).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AppError;

    #[test]
    fn errors_round_trip_with_a_readable_message() {
        for err in [
            AppError::InvalidCredentials,
            AppError::Invalid("Enter a valid email address.".into()),
            AppError::Internal,
        ] {
            let json = serde_json::to_string(&err).unwrap();
            assert!(json.contains(&err.to_string()), "{json}");
            assert_eq!(serde_json::from_str::<AppError>(&json).unwrap(), err);
        }
        assert!(serde_json::from_str::<AppError>(r#"{"error":"nope","message":""}"#).is_err());
    }
}
