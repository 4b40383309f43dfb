//! The passkey service's endpoint paths, once: the service's router, the browser's client of
//! the frontend API, the app's client of the backend API and the tests all read them here.
//! Parameters are written `{name}` (axum's syntax); [`fill`] puts values in.

/// Browser to service (`Origin` checked; the process id travels in [`PROCESS_HEADER`]).
pub mod frontend {
    pub const LOGIN_INIT: &str = "/v2/connect/login/init";
    pub const LOGIN_START: &str = "/v2/connect/login/start";
    pub const LOGIN_FINISH: &str = "/v2/connect/login/finish";
    pub const APPEND_INIT: &str = "/v2/connect/append/init";
    pub const APPEND_START: &str = "/v2/connect/append/start";
    pub const APPEND_FINISH: &str = "/v2/connect/append/finish";
    pub const MANAGE_INIT: &str = "/v2/connect/manage/init";
    pub const MANAGE_LIST: &str = "/v2/connect/manage/list";
    pub const MANAGE_DELETE: &str = "/v2/connect/manage/delete";
    /// A Latchkey extension: rename one of the user's passkeys.
    pub const MANAGE_RENAME: &str = "/v2/connect/manage/rename";
    pub const PROCESS_CLEAR: &str = "/v2/connect/process/clear";
    pub const EVENTS: &str = "/v2/connect/events";
    /// The frontend API's common prefix.
    pub const PREFIX: &str = "/v2/connect/";
}

/// Server to service (HTTP Basic: project id and API secret).
pub mod backend {
    pub const CONNECT_TOKENS: &str = "/v2/connectTokens";
    pub const CONNECT_TOKEN: &str = "/v2/connectTokens/{id}";
    pub const VERIFY_SIGNED_DATA: &str = "/v2/passkey/verifySignedData";
    /// The same endpoint under the plural name some Corbado documents use.
    pub const VERIFY_SIGNED_DATA_PLURAL: &str = "/v2/passkeys/verifySignedData";
    pub const IDENTIFIERS: &str = "/v2/identifiers";
    pub const USER_CREDENTIALS: &str = "/v2/users/{user_id}/credentials";
    pub const USER_CREDENTIAL: &str = "/v2/users/{user_id}/credentials/{credential_id}";
    /// Latchkey's extension on `DELETE USER_CREDENTIAL`: the operator (account id) who asked.
    pub const ACTOR_HEADER: &str = "x-latchkey-actor";
    /// The audit log, filtered and paged (a Latchkey extension).
    pub const EVENTS: &str = "/v2/events";
}

/// The public key that verifies signed passkey data.
pub const JWKS: &str = "/.well-known/jwks.json";
/// The related origins of this RP ID (`{"origins": [...]}`).
pub const RELATED_ORIGINS: &str = "/.well-known/webauthn";

/// The header that carries a frontend-API process id (Corbado's name).
pub const PROCESS_HEADER: &str = "x-corbado-process-id";
/// The header a browser SDK may send with the project id.
pub const PROJECT_ID_HEADER: &str = "x-corbado-projectid";

/// `template` with each `{name}` replaced by its value, percent-encoded as one path segment.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut path = template.to_string();
    for (name, value) in values {
        path = path.replace(&format!("{{{name}}}"), &encode_segment(value));
    }
    path
}

fn encode_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_filled_as_one_segment() {
        assert_eq!(
            fill(
                backend::USER_CREDENTIAL,
                &[("user_id", "usr 1"), ("credential_id", "a/b")]
            ),
            "/v2/users/usr%201/credentials/a%2Fb"
        );
        assert_eq!(fill(backend::CONNECT_TOKENS, &[]), "/v2/connectTokens");
    }
}
