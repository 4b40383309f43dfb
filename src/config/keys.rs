//! Every setting Latchkey reads, once: its key, its default, its range and what it means.
//!
//! The reader ([`super::source`]) takes defaults and ranges from these rows and refuses any
//! other key in `Leptos.toml`; tests check that README.md's tables and `Leptos.toml` show
//! every row. A new setting is one row here, one line in each of those two files, and the
//! code that uses it.

/// What a key holds, with its default and the values it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Free text (a URL, an address, a name), checked where it is used.
    Text(DefaultValue),
    /// A whole number from `min` to `max`.
    Number { default: u64, min: u64, max: u64 },
    /// `true`/`false` (or `1`/`0`).
    Flag(bool),
    /// Only from the environment (`LATCHKEY_X`) or a file it names (`LATCHKEY_X_FILE`); never
    /// from `Leptos.toml`. `file_only`: the value is the file itself (a PEM key).
    /// `generated`: a local http site makes one when it is missing (else it is optional).
    Secret { file_only: bool, generated: bool },
}

/// The default of a text setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultValue {
    Value(&'static str),
    /// Unset unless configured.
    Unset,
    /// Computed from other settings; the text says from what.
    Derived(&'static str),
}

/// One setting: `key` in `Leptos.toml`'s `[latchkey]` table, `LATCHKEY_<KEY>` in the
/// environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    pub key: &'static str,
    pub kind: Kind,
    /// What it means, as README.md's table says it.
    pub doc: &'static str,
}

impl Setting {
    /// `rp-id` → `LATCHKEY_RP_ID`.
    pub fn env_name(&self) -> String {
        env_name(self.key)
    }

    pub fn is_secret(&self) -> bool {
        matches!(self.kind, Kind::Secret { .. })
    }

    /// The default as README.md's table shows it.
    pub fn default_for_docs(&self) -> String {
        match self.kind {
            Kind::Text(DefaultValue::Value(value)) => format!("`{value}`"),
            Kind::Text(DefaultValue::Unset) => "unset".into(),
            Kind::Text(DefaultValue::Derived(from)) => from.into(),
            Kind::Number { default, .. } => default.to_string(),
            Kind::Flag(true) => "on".into(),
            Kind::Flag(false) => "off".into(),
            Kind::Secret {
                generated: true, ..
            } => "generated locally (http only)".into(),
            Kind::Secret { .. } => "unset".into(),
        }
    }

    /// The row README.md's table has for this setting.
    pub fn readme_row(&self) -> String {
        let name = match self.kind {
            Kind::Secret {
                file_only: true, ..
            } => format!("{}_FILE", self.env_name()),
            _ => self.env_name(),
        };
        let range = match self.kind {
            Kind::Number { min, max, .. } => format!(" ({min}–{max})"),
            _ => String::new(),
        };
        format!(
            "| `{name}` | {}{range} | {} |",
            self.doc,
            self.default_for_docs()
        )
    }
}

/// `rp-id` → `LATCHKEY_RP_ID`.
pub fn env_name(key: &str) -> String {
    format!("LATCHKEY_{}", key.replace('-', "_").to_ascii_uppercase())
}

/// The row for `key`, if there is one.
pub fn find(key: &str) -> Option<&'static Setting> {
    ALL.iter().copied().find(|setting| setting.key == key)
}

macro_rules! settings {
    ($( $(#[$meta:meta])* $name:ident = $key:literal, $kind:expr, $doc:literal; )*) => {
        $( $(#[$meta])* pub const $name: Setting = Setting { key: $key, kind: $kind, doc: $doc }; )*
        /// Every setting, in the order README.md lists them.
        pub const ALL: &[&Setting] = &[ $( &$name, )* ];
    };
}

use DefaultValue::{Derived, Unset, Value};
use Kind::{Flag, Number, Secret, Text};

settings! {
    // ---- the site
    SITE_ADDR = "site-addr", Text(Value("127.0.0.1:3000")),
        "listen address (Leptos' own `LEPTOS_SITE_ADDR` takes precedence)";
    PUBLIC_ORIGIN = "public-origin", Text(Value("http://localhost:3000")),
        "the origin browsers use, and the WebAuthn origin (https, or http://localhost)";
    RP_ID = "rp-id", Text(Derived("host of the public origin")),
        "WebAuthn RP ID: the host or a registrable suffix of it";
    RP_NAME = "rp-name", Text(Value("Latchkey")), "the name authenticators show";
    DATABASE_URL = "database-url", Text(Derived("`sqlite://<data-dir>/latchkey.db`")),
        "`sqlite://…` or `postgres://…`";
    DATA_DIR = "data-dir", Text(Value("data")),
        "the SQLite file and, for a local http site only, generated secrets";
    // ---- sessions and the journey
    SESSION_IDLE_MINUTES = "session-idle-minutes", Number { default: 30, min: 1, max: 24 * 60 },
        "a session ends after this long without a request";
    SESSION_ABSOLUTE_HOURS = "session-absolute-hours", Number { default: 12, min: 1, max: 24 * 90 },
        "a session ends this long after its login";
    REAUTH_WINDOW_MINUTES = "reauth-window-minutes", Number { default: 5, min: 1, max: 60 },
        "how recent a login must be to delete a passkey";
    APPEND_SNOOZE_HOURS = "append-snooze-hours", Number { default: 0, min: 0, max: 24 * 365 },
        "after Skip, no passkey offer for this long; 0 offers at every login";
    APPEND_OFFER_AGAIN_DAYS = "append-offer-again-days",
        Number { default: 0, min: 0, max: 3650 },
        "after Don't ask again, offer a passkey again after this long; 0 never does";
    // ---- the operator console
    ADMIN_EMAILS = "admin-emails", Text(Unset),
        "comma-separated emails of the operators who may open the console at `/admin`";
    // ---- abuse protection
    TRUSTED_PROXIES = "trusted-proxies", Text(Unset),
        "comma-separated CIDRs of proxies whose `Forwarded` / `X-Forwarded-For` is believed";
    RATE_LIMIT_SIGN_IN_IP = "rate-limit-sign-in-ip", Text(Value("30/10m")),
        "password sign-ins from one IP";
    RATE_LIMIT_SIGN_IN_ACCOUNT_IP = "rate-limit-sign-in-account-ip", Text(Value("10/15m")),
        "password sign-ins for one account from one IP";
    RATE_LIMIT_SIGN_IN_ACCOUNT = "rate-limit-sign-in-account", Text(Value("50/1h")),
        "password sign-ins for one account from anywhere";
    RATE_LIMIT_SIGN_UP_IP = "rate-limit-sign-up-ip", Text(Value("10/1h")),
        "sign-ups from one IP";
    RATE_LIMIT_PASSKEY_LOGIN_IP = "rate-limit-passkey-login-ip", Text(Value("60/1m")),
        "passkey login starts (login tokens) from one IP";
    RATE_LIMIT_PASSKEY_LOGIN_ACCOUNT_IP = "rate-limit-passkey-login-account-ip",
        Text(Value("20/1m")), "passkey login starts for one account from one IP";
    RATE_LIMIT_FRONTEND_API_IP = "rate-limit-frontend-api-ip", Text(Value("300/1m")),
        "passkey-service frontend API calls from one IP";
    RATE_LIMIT_BACKEND_API_IP = "rate-limit-backend-api-ip", Text(Value("6000/1m")),
        "passkey-service backend API calls from one IP";
    RATE_LIMIT_OIDC_IP = "rate-limit-oidc-ip", Text(Value("30/1m")),
        "logins sent to or returning from the OpenID provider, from one IP";
    MAX_CONNECTIONS = "max-connections", Number { default: 1024, min: 1, max: 100_000 },
        "open connections; one more is answered 503";
    MAX_IN_FLIGHT_REQUESTS = "max-in-flight-requests", Number { default: 256, min: 1, max: 100_000 },
        "requests handled at once; one more is answered 503 with Retry-After";
    HEADER_READ_TIMEOUT_SECONDS = "header-read-timeout-seconds",
        Number { default: 10, min: 1, max: 300 },
        "a request's headers must arrive within this time";
    BODY_READ_TIMEOUT_SECONDS = "body-read-timeout-seconds",
        Number { default: 10, min: 1, max: 300 },
        "a request's body must arrive within this time (408)";
    REQUEST_TIMEOUT_SECONDS = "request-timeout-seconds", Number { default: 30, min: 1, max: 600 },
        "a request must be answered within this time (503)";
    SHUTDOWN_DRAIN_SECONDS = "shutdown-drain-seconds", Number { default: 0, min: 0, max: 300 },
        "on SIGTERM, keep serving this long while /readyz answers 503 (set it above the load balancer's health-check time)";
    SHUTDOWN_GRACE_SECONDS = "shutdown-grace-seconds", Number { default: 10, min: 0, max: 300 },
        "on SIGTERM, requests in flight get this long to finish";
    PASSWORD_HASH_QUEUE = "password-hash-queue", Number { default: 64, min: 1, max: 100_000 },
        "password checks waiting for a core; one more is answered 503";
    // ---- the identity provider
    IDP = "idp", Text(Value("builtin")), "`builtin` or `oidc`";
    IDP_ISSUER = "idp-issuer", Text(Unset),
        "(oidc) the issuer URL, exactly as in the provider's discovery document; required";
    IDP_CLIENT_ID = "idp-client-id", Text(Unset),
        "(oidc) the client registered at the provider; required";
    IDP_SCOPES = "idp-scopes", Text(Value("openid email profile")),
        "(oidc) scopes to ask for; `openid` is always added";
    IDP_NAME = "idp-name", Text(Derived("the issuer's host")),
        "(oidc) what the pages call the provider";
    IDP_REGISTRATION_URL = "idp-registration-url", Text(Unset),
        "(oidc) the provider's sign-up page, linked from `/signup`";
    IDP_REVERIFY_DAYS = "idp-reverify-days", Number { default: 0, min: 0, max: 3650 },
        "(oidc) a passkey login goes on to the provider when the last login there is older (0: never)";
    // ---- the passkey service
    CONNECT_URL = "connect-url", Text(Unset),
        "base URL of a separate passkey service; unset: in process";
    CONNECT_PROJECT_ID = "connect-project-id", Text(Derived("generated locally (http only)")),
        "the passkey service's project id (backend API user name)";
    CONNECT_ENABLED = "connect-enabled", Flag(true),
        "kill switch: off offers passkeys to nobody";
    CONNECT_LOGIN_ROLLOUT_PERCENT = "connect-login-rollout-percent",
        Number { default: 100, min: 0, max: 100 },
        "share of browsers offered passkey login";
    CONNECT_APPEND_ROLLOUT_PERCENT = "connect-append-rollout-percent",
        Number { default: 100, min: 0, max: 100 },
        "share of browsers offered passkey creation";
    CONNECT_REQUIRE_LOGIN_TOKEN = "connect-require-login-token", Flag(true),
        "login start needs a `passkey-login` connect token from the backend";
    CONNECT_TOKEN_LIFETIME_SECONDS = "connect-token-lifetime-seconds",
        Number { default: 300, min: 30, max: 86_400 },
        "lifetime of a connect token the backend gives none";
    CONNECT_TOKEN_MAX_LIFETIME_SECONDS = "connect-token-max-lifetime-seconds",
        Number { default: 3600, min: 30, max: 86_400 },
        "upper bound of `maxLifetimeInSeconds`";
    CONNECT_PROCESS_LIFETIME_MINUTES = "connect-process-lifetime-minutes",
        Number { default: 30, min: 1, max: 24 * 60 },
        "lifetime of a frontend-API process";
    CONNECT_FRONTEND_URL = "connect-frontend-url", Text(Derived("the public origin")),
        "the frontend API's base URL as browsers reach it";
    CONNECT_SERVICE_ADDR = "connect-service-addr", Text(Value("127.0.0.1:3100")),
        "where `latchkey connect-service` listens";
    PASSKEY_PROVIDERS_FILE = "passkey-providers-file", Text(Unset),
        "a JSON file in the community AAGUID list's format: more provider names and icons (they win over the shipped list)";
    PASSKEY_PROVIDERS_ALLOWED = "passkey-providers-allowed", Text(Unset),
        "comma-separated AAGUIDs: new passkeys only from these providers; unset: any";
    PASSKEY_PROVIDERS_REFUSED = "passkey-providers-refused", Text(Unset),
        "comma-separated AAGUIDs whose new passkeys are refused";
    PASSKEY_STORAGE = "passkey-storage", Text(Value("any")),
        "`any`, `synced` (device-bound passkeys refused) or `device-bound` (synced ones refused)";
    RELATED_ORIGINS = "related-origins", Text(Unset),
        "comma-separated https origins of other sites that may use this RP ID (served at `/.well-known/webauthn`; at most 5 sites)";
    PASSKEY_FAILURE_PAUSE_MINUTES = "passkey-failure-pause-minutes",
        Number { default: 30, min: 0, max: 7 * 24 * 60 },
        "after two failed or cancelled passkey logins in a row with one provider, a browser goes straight to the password for this long; 0 never pauses";
    AUTOMATIC_UPGRADE = "automatic-upgrade", Flag(true),
        "after a password login, browsers that can (conditional create) make a passkey without a dialog";
    REQUIRE_USER_VERIFICATION = "require-user-verification", Flag(true),
        "passkeys must verify the person (PIN, biometrics); off: presence (a touch) is enough";
    ENUMERATION_PROTECTION = "enumeration-protection", Text(Value("usability")),
        "`usability`, or `strict`: every email gets passkey options of one shape (decoys)";
    // ---- events
    SECURITY_LOG = "security-log", Text(Unset),
        "`stdout` or a file path: every event also as one OCSF JSON line, for a SIEM";
    AUDIT_RETENTION_DAYS = "audit-retention-days", Number { default: 0, min: 0, max: 36_500 },
        "audit log rows older than this are removed behind a checkpoint (0: kept forever)";
    WEBHOOK_URL = "webhook-url", Text(Unset),
        "one or more (comma-separated) URLs that get every event as a Standard Webhook";
    WEBHOOK_EVENTS = "webhook-events", Text(Unset),
        "comma-separated event types the webhooks get; unset: all";
    SMTP_URL = "smtp-url", Text(Unset),
        "`smtp://host:port` or `smtps://host:port`: mail the owner when a passkey is added or removed";
    SMTP_USERNAME = "smtp-username", Text(Unset),
        "the SMTP user (with `LATCHKEY_SMTP_PASSWORD`)";
    MAIL_FROM = "mail-from", Text(Unset),
        "the notifications' sender, such as `Example <no-reply@example.com>`";
    // ---- operations
    METRICS_ADDR = "metrics-addr", Text(Unset),
        "serve `/metrics` on this address only (a port the load balancer does not expose); unset: on the site's port";
    LOG_FORMAT = "log-format", Text(Value("text")),
        "`text`, or `json`: one JSON object per log line";
    // ---- secrets (environment or file only)
    SESSION_SECRET = "session-secret", Secret { file_only: false, generated: true },
        "keys the hash under which session ids are stored (at least 32 characters)";
    CONNECT_API_SECRET = "connect-api-secret", Secret { file_only: false, generated: true },
        "the passkey service's backend API secret";
    SIGNING_KEY = "signing-key", Secret { file_only: true, generated: true },
        "PEM file of the key that signs passkey login results";
    IDP_CLIENT_SECRET = "idp-client-secret", Secret { file_only: false, generated: false },
        "(oidc) the client's secret; unset for a public client";
    WEBHOOK_SECRET = "webhook-secret", Secret { file_only: false, generated: false },
        "`whsec_…`: the key that signs webhooks (required with `LATCHKEY_WEBHOOK_URL`)";
    SMTP_PASSWORD = "smtp-password", Secret { file_only: false, generated: false },
        "the SMTP password";
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repository_file(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
    }

    #[test]
    fn keys_are_unique_and_kebab_case() {
        for (i, setting) in ALL.iter().enumerate() {
            assert!(
                setting
                    .key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{}",
                setting.key
            );
            assert!(
                ALL[..i].iter().all(|other| other.key != setting.key),
                "{} twice",
                setting.key
            );
            if let Kind::Number { default, min, max } = setting.kind {
                assert!((min..=max).contains(&default), "{}", setting.key);
            }
        }
        assert_eq!(find("rp-id"), Some(&RP_ID));
        assert_eq!(find("nope"), None);
    }

    /// README.md documents every setting with exactly its meaning and default.
    #[test]
    fn readme_has_a_row_for_every_setting() {
        let readme = repository_file("README.md");
        let missing: Vec<String> = ALL
            .iter()
            .map(|setting| setting.readme_row())
            .filter(|row| !readme.lines().any(|line| line == row))
            .collect();
        assert!(
            missing.is_empty(),
            "README.md lacks these rows (or has them worded differently):\n{}",
            missing.join("\n")
        );
    }

    /// Leptos.toml shows every non-secret key, set or as a commented default.
    #[test]
    fn leptos_toml_shows_every_setting() {
        let file = repository_file("Leptos.toml");
        for setting in ALL.iter().filter(|s| !s.is_secret()) {
            let shown = file.lines().any(|line| {
                let line = line.trim_start_matches(['#', ' ']);
                line.strip_prefix(setting.key)
                    .is_some_and(|rest| rest.trim_start().starts_with('='))
            });
            assert!(shown, "Leptos.toml does not mention {}", setting.key);
        }
    }
}
