//! The one error type that crosses the server-function boundary.
//!
//! Its messages are what a person sees, so they never carry internals: anything unexpected is
//! logged on the server and reaches the browser as [`AppError::Internal`].

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// Declares [`AppError`] from one table: per variant its HTTP status, its stable code and the
/// sentence a person reads, so a new error is one row.
macro_rules! app_errors {
    ($( $(#[$doc:meta])* $variant:ident $(($field:ty))? = $status:literal, $code:literal, $message:literal; )*) => {
        /// On the wire an error is `{"error": "<code>", "message": "<what the person sees>"}`,
        /// so any HTTP client gets a readable answer, and the browser rebuilds the same variant.
        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
        #[serde(into = "ErrorBody", try_from = "ErrorBody")]
        pub enum AppError {
            $( $(#[$doc])* #[error($message)] $variant $(($field))?, )*
        }

        impl AppError {
            /// The HTTP status this error is answered with.
            pub fn status(&self) -> u16 {
                match self { $( Self::$variant { .. } => $status, )* }
            }

            /// A stable machine-readable code.
            pub fn code(&self) -> &'static str {
                match self { $( Self::$variant { .. } => $code, )* }
            }

            /// The variant of `code`; variants that carry their message get `message`.
            fn from_code(code: &str, message: String) -> Option<Self> {
                let _ = &message;
                match code {
                    $( $code => Some(app_errors!(@make $variant $(($field))?, message)), )*
                    _ => None,
                }
            }
        }
    };
    (@make $variant:ident, $message:expr) => { Self::$variant };
    (@make $variant:ident ($field:ty), $message:expr) => { Self::$variant($message) };
}

app_errors! {
    /// Same message for an unknown email and a wrong password (no account enumeration).
    InvalidCredentials = 401, "invalid_credentials", "The email or password is wrong.";
    EmailTaken = 409, "email_taken", "An account with this email already exists. Sign in instead.";
    /// Bad input; the message says what to fix.
    Invalid(String) = 400, "invalid", "{0}";
    Unauthenticated = 401, "unauthenticated", "Please sign in to continue.";
    AppendPending = 403, "append_pending", "Please finish the passkey step first.";
    /// A passkey login the passkey service did not confirm (expired, replayed, wrong user).
    PasskeyRejected = 401, "passkey_rejected",
        "Signing in with this passkey did not work. Use your password instead.";
    /// Sensitive actions (deleting a passkey) need a login within the re-authentication window.
    ReauthRequired = 403, "reauth_required",
        "For your security, sign in again before deleting a passkey.";
    ForeignOrigin = 403, "foreign_origin", "This request came from another site and was refused.";
    RateLimited = 429, "rate_limited", "Too many attempts. Please wait a moment and try again.";
    Unavailable = 503, "unavailable",
        "The sign-in service is not available right now. Please try again later.";
    /// The external identity provider cannot be reached; passkeys still work. The message
    /// names the provider (see [`AppError::idp_unreachable`]).
    IdpUnreachable(String) = 503, "idp_unreachable", "{0}";
    Internal = 500, "internal", "Something went wrong on our side. Please try again.";
    /// Transport-level failures of the server-function machinery itself (network down, bad
    /// encoding); the browser side produces these, never the server.
    Transport = 500, "transport",
        "The request could not be completed. Check your connection and try again.";
}

impl AppError {
    pub fn idp_unreachable(provider: &str) -> Self {
        Self::IdpUnreachable(format!(
            "We can't reach {provider} right now. Try again in a few minutes, or sign in with a passkey."
        ))
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
        Self::from_code(&body.error, body.message)
            .ok_or_else(|| format!("unknown error code {:?}", body.error))
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

    #[test]
    fn every_code_maps_back_to_its_variant() {
        let all = [
            AppError::InvalidCredentials,
            AppError::EmailTaken,
            AppError::Invalid("x".into()),
            AppError::Unauthenticated,
            AppError::AppendPending,
            AppError::PasskeyRejected,
            AppError::ReauthRequired,
            AppError::ForeignOrigin,
            AppError::RateLimited,
            AppError::Unavailable,
            AppError::IdpUnreachable("y".into()),
            AppError::Internal,
            AppError::Transport,
        ];
        for err in all {
            let json = serde_json::to_string(&err).unwrap();
            assert_eq!(serde_json::from_str::<AppError>(&json).unwrap(), err);
            assert!((400..600).contains(&err.status()), "{err:?}");
        }
    }
}
