//! The one error type that crosses the server-function boundary.
//!
//! Its messages are what a person sees, so they never carry internals: anything unexpected is
//! logged on the server and reaches the browser as [`AppError::Internal`].

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
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
    #[error("This request came from another site and was refused.")]
    ForeignOrigin,
    #[error("Too many attempts. Please wait a moment and try again.")]
    RateLimited,
    #[error("The sign-in service is not available right now. Please try again later.")]
    Unavailable,
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
            Self::InvalidCredentials | Self::Unauthenticated => 401,
            Self::AppendPending | Self::ForeignOrigin => 403,
            Self::EmailTaken => 409,
            Self::Invalid(_) => 400,
            Self::RateLimited => 429,
            Self::Unavailable => 503,
            Self::Internal | Self::Transport => 500,
        }
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
            (status, self.to_string()).into_response()
        }
    }
}
