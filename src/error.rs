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

            /// The variant a wire body names; a variant's field is rebuilt from the body.
            fn from_body(body: ErrorBody) -> Option<Self> {
                let _ = &body;
                match body.error.as_str() {
                    $( $code => Some(app_errors!(@make $variant $(($field))?, body)), )*
                    _ => None,
                }
            }
        }
    };
    (@make $variant:ident, $body:expr) => { Self::$variant };
    (@make $variant:ident ($field:ty), $body:expr) => {
        Self::$variant(<$field as FromErrorBody>::from_body($body))
    };
}

/// How a variant's field is rebuilt from the wire body in the browser.
trait FromErrorBody {
    fn from_body(body: ErrorBody) -> Self;
}

impl FromErrorBody for String {
    fn from_body(body: ErrorBody) -> Self {
        body.message
    }
}

/// How long a rate-limited client must wait; shown in words, sent as `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryAfter {
    pub seconds: u64,
}

impl RetryAfter {
    pub fn from_duration(wait: std::time::Duration) -> Self {
        // Whole seconds, rounded up: a client that waits this long is let in.
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        Self {
            seconds: seconds.max(1),
        }
    }
}

impl std::fmt::Display for RetryAfter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let minutes = self.seconds.div_ceil(60);
        let unit = if minutes == 1 { "minute" } else { "minutes" };
        write!(
            f,
            "Too many attempts. Try again in {minutes} {unit}, or sign in with a passkey."
        )
    }
}

impl FromErrorBody for RetryAfter {
    fn from_body(body: ErrorBody) -> Self {
        Self {
            seconds: body.retry_after.unwrap_or(60),
        }
    }
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
    /// Sensitive actions (adding or deleting a passkey outside the step after a login) need a
    /// login, or a confirmation, within the re-authentication window.
    ReauthRequired = 403, "reauth_required",
        "For your security, confirm it's you first.";
    /// Also what everyone but an operator gets for the console: it does not exist for them.
    NotFound = 404, "not_found", "There is nothing at this address.";
    ForeignOrigin = 403, "foreign_origin", "This request came from another site and was refused.";
    /// Over a rate limit; the message says how long to wait (and that passkeys still work).
    RateLimited(RetryAfter) = 429, "rate_limited", "{0}";
    /// The server sheds load (a full queue); try again in a few seconds.
    Busy = 503, "busy", "The server is busy. Please try again in a few seconds.";
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
    /// Seconds to wait, for `rate_limited` (also sent as `Retry-After`).
    #[serde(
        default,
        rename = "retryAfter",
        skip_serializing_if = "Option::is_none"
    )]
    retry_after: Option<u64>,
}

impl AppError {
    /// Seconds the client should wait before trying again, when that is known.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::RateLimited(wait) => Some(wait.seconds),
            Self::Busy => Some(5),
            _ => None,
        }
    }
}

impl From<AppError> for ErrorBody {
    fn from(err: AppError) -> Self {
        Self {
            error: err.code().to_string(),
            message: err.to_string(),
            retry_after: err.retry_after(),
        }
    }
}

impl TryFrom<ErrorBody> for AppError {
    type Error = String;

    fn try_from(body: ErrorBody) -> Result<Self, Self::Error> {
        let code = body.error.clone();
        Self::from_body(body).ok_or_else(|| format!("unknown error code {code:?}"))
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
            let retry_after = self.retry_after();
            let mut response = (status, axum::Json(self)).into_response();
            if let Some(seconds) = retry_after {
                response.headers_mut().insert(
                    axum::http::header::RETRY_AFTER,
                    axum::http::HeaderValue::from(seconds),
                );
            }
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{AppError, RetryAfter};

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
    fn rate_limits_say_how_long_to_wait_in_minutes() {
        let wait = |secs| AppError::RateLimited(RetryAfter { seconds: secs }).to_string();
        assert_eq!(
            wait(30),
            "Too many attempts. Try again in 1 minute, or sign in with a passkey."
        );
        assert_eq!(
            wait(61),
            "Too many attempts. Try again in 2 minutes, or sign in with a passkey."
        );
        assert_eq!(
            RetryAfter::from_duration(std::time::Duration::from_millis(1500)).seconds,
            2
        );
        assert_eq!(
            RetryAfter::from_duration(std::time::Duration::ZERO).seconds,
            1
        );
        let json =
            serde_json::to_string(&AppError::RateLimited(RetryAfter { seconds: 42 })).unwrap();
        assert!(json.contains(r#""retryAfter":42"#), "{json}");
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
            AppError::RateLimited(RetryAfter { seconds: 90 }),
            AppError::Busy,
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
