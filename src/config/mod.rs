//! Settings from `Leptos.toml` (`[latchkey]` table) with `LATCHKEY_…` environment overrides.
//!
//! - [`keys`]: the table of every setting (key, default, range, meaning);
//! - `source`: reading the file and the environment by that table;
//! - [`secrets`]: secrets (environment or a file it names; generated once for a local site);
//! - `validate`: URLs, addresses, the RP ID, the database URL;
//! - `idp`: the identity provider's settings, one arm per kind.
//!
//! Validation happens here, at start-up, and a failure names the one key to fix.

mod idp;
pub mod keys;
pub mod secrets;
mod source;
mod validate;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;
use webauthn_rs::prelude::Uuid;

use crate::connect::providers::ProviderDirectory;
use crate::connect::service::policy::{AuthenticatorPolicy, PasskeyStorage};

pub use idp::{IdpSettings, OidcSettings};
use keys::*;
pub use secrets::{Secret, Secrets};
use source::Source;
use validate::{http_url, UrlRules};
pub use validate::{redact_url, DatabaseKind};

/// A configuration problem, printed as one line naming the setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

impl ConfigError {
    fn new(key: &str, message: impl Into<String>) -> Self {
        Self {
            key: keys::env_name(key),
            message: message.into(),
        }
    }
}

/// Where the passkey service runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectMode {
    /// Mounted inside this process (the default).
    InProcess,
    /// A separate Latchkey passkey service (or a Corbado-compatible one) at this base URL.
    Remote(Url),
}

#[derive(Debug, Clone)]
pub struct SessionSettings {
    pub idle_timeout: Duration,
    pub absolute_timeout: Duration,
    /// How recent a login must be for sensitive actions such as deleting a passkey.
    pub reauth_window: Duration,
    /// After a plain "Skip" at the append step, no passkey offer for this long (zero: offer
    /// at every login, which is what the journey asks by default).
    pub append_snooze: Duration,
    /// After "Don't ask again", offer again after this long (zero: never).
    pub append_offer_again: Duration,
}

/// The passkey service's own settings (`connect-…` keys), used when it runs in this process
/// or alone (`latchkey connect-service`).
#[derive(Debug, Clone)]
pub struct ConnectServiceSettings {
    /// Kill switch: when false every init answers "not allowed" and no ceremony starts.
    pub enabled: bool,
    /// Share of clients (0–100, by a stable hash of the client) offered passkey login.
    pub login_rollout_percent: u8,
    /// Share of clients (0–100) offered passkey creation after a login.
    pub append_rollout_percent: u8,
    /// Login start needs a `passkey-login` connect token from the backend (Corbado's
    /// `requireConnectLoginToken`); the typed identifier alone is not enough.
    pub require_login_token: bool,
    /// Lifetime of a connect token when the backend asks for none.
    pub token_lifetime: Duration,
    /// Upper bound for `maxLifetimeInSeconds`.
    pub token_max_lifetime: Duration,
    /// Lifetime of a frontend-API process.
    pub process_lifetime: Duration,
    /// The base URL browsers use for the frontend API (`frontendApiUrl`).
    pub frontend_url: Url,
    /// Where `latchkey connect-service` listens.
    pub service_addr: SocketAddr,
    /// How login start answers an identifier without passkeys.
    pub enumeration_protection: EnumerationProtection,
    /// Other sites that may use this RP ID (`related-origins`): listed at
    /// `/.well-known/webauthn`, and accepted as WebAuthn and frontend-API origins.
    pub related_origins: Vec<Url>,
    /// How long passkey login stays paused on a browser after repeated failures (0: never).
    pub failure_pause: Duration,
    /// After a password login, make a passkey with conditional create where the browser can.
    pub automatic_upgrade: bool,
    /// Passkeys must verify the person (`userVerification: required`), not only their presence.
    pub require_user_verification: bool,
    /// Which new passkeys are kept (`passkey-providers-…`, `passkey-storage`).
    pub authenticator_policy: crate::connect::service::policy::AuthenticatorPolicy,
    /// Provider names and icons by AAGUID: the shipped list and `passkey-providers-file`.
    pub providers: std::sync::Arc<crate::connect::providers::ProviderDirectory>,
}

/// How much login start may tell about an account (`enumeration-protection`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnumerationProtection {
    /// An identifier without passkeys gets "no passkey" at once and goes to the password
    /// (the person sees no prompt that cannot succeed); accounts with passkeys are told apart.
    Usability,
    /// Every identifier gets request options of the same shape, with decoy credential ids
    /// where there are no passkeys; a person without passkeys goes to the password after
    /// the browser finds none.
    Strict,
}

/// Abuse protection: who the client is, how fast it may go, how much the server takes on.
#[derive(Debug, Clone)]
pub struct ProtectionSettings {
    pub trusted_proxies: crate::serving::TrustedProxies,
    pub rate_limits: crate::limits::RateLimitSettings,
    pub serve: crate::serving::ServeLimits,
    /// Password checks that may wait for a core before more are refused.
    pub password_hash_queue: usize,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub site_addr: SocketAddr,
    /// The origin browsers use (scheme, host, port; no path).
    pub public_origin: Url,
    /// [`Config::public_origin`] as browsers send it in `Origin` (no trailing slash).
    pub origin: String,
    pub rp_id: String,
    pub rp_name: String,
    pub database_url: String,
    pub database_kind: DatabaseKind,
    pub data_dir: PathBuf,
    pub idp: IdpSettings,
    pub connect: ConnectMode,
    pub session: SessionSettings,
    pub connect_service: ConnectServiceSettings,
    pub protection: ProtectionSettings,
    pub events: EventSettings,
    pub operations: OperationsSettings,
    pub secrets: Secrets,
    /// The operators: who may open the console (lower-cased emails).
    pub admin_emails: Vec<String>,
}

/// What operators' tooling reads besides the site: metrics and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationsSettings {
    /// `/metrics` only here; `None`: on the site's own port.
    pub metrics_addr: Option<SocketAddr>,
    pub log_format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// For people: one line per event with its fields.
    #[default]
    Text,
    /// For log pipelines: one JSON object per line.
    Json,
}

impl OperationsSettings {
    fn read(source: &Source) -> Result<Self, ConfigError> {
        let metrics_addr = match source.optional(&METRICS_ADDR) {
            Some(_) => Some(addr(source, &METRICS_ADDR)?),
            None => None,
        };
        let log_format = match source.text(&LOG_FORMAT).as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            _ => return Err(ConfigError::new(LOG_FORMAT.key, "must be `text` or `json`")),
        };
        Ok(Self {
            metrics_addr,
            log_format,
        })
    }
}

/// Where events go besides the audit log, and how long the log keeps them.
#[derive(Debug, Clone)]
pub struct EventSettings {
    pub security_log: Option<crate::events::security_log::SecurityLogTarget>,
    /// Zero: forever.
    pub audit_retention_days: u64,
    pub webhooks: Option<WebhookSettings>,
    pub mail: Option<MailSettings>,
}

/// Standard Webhooks receivers.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    pub urls: Vec<Url>,
    pub secret: Secret,
    /// Only these types (all when `None`).
    pub events: Option<Vec<crate::events::EventType>>,
}

/// Notifications by email.
#[derive(Debug, Clone)]
pub struct MailSettings {
    pub smtp_url: Url,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub from: String,
}

impl Config {
    /// Whether the account with this email is an operator (may open the console).
    pub fn is_operator(&self, email: &str) -> bool {
        let email = email.trim();
        self.admin_emails
            .iter()
            .any(|admin| admin.eq_ignore_ascii_case(email))
    }

    pub fn is_https(&self) -> bool {
        self.public_origin.scheme() == "https"
    }

    /// The defaults of the settings operators change at run time (see
    /// [`crate::live_settings`]).
    pub fn live_defaults(&self) -> crate::live_settings::LiveValues {
        let hours = |d: Duration| u32::try_from(d.as_secs() / 3600).unwrap_or(u32::MAX);
        crate::live_settings::LiveValues {
            passkeys_enabled: self.connect_service.enabled,
            login_rollout_percent: self.connect_service.login_rollout_percent,
            append_rollout_percent: self.connect_service.append_rollout_percent,
            append_snooze_hours: hours(self.session.append_snooze),
            offer_again_after_days: hours(self.session.append_offer_again) / 24,
        }
    }

    /// Where events go besides the audit log: the security log (opened; a file is created
    /// if need be) and the outbox routes.
    pub fn event_sinks(&self) -> std::io::Result<crate::events::Sinks> {
        let security_log = self
            .events
            .security_log
            .as_ref()
            .map(crate::events::SecurityLog::open)
            .transpose()?;
        let webhooks = self.events.webhooks.as_ref();
        Ok(crate::events::Sinks {
            security_log,
            routes: crate::events::Routes {
                webhook_urls: webhooks
                    .map(|w| w.urls.iter().map(|u| u.to_string()).collect())
                    .unwrap_or_default(),
                webhook_events: webhooks.and_then(|w| w.events.clone()),
                mail: self.events.mail.is_some(),
            },
        })
    }

    /// Loads from `LATCHKEY_CONFIG` (or `./Leptos.toml` if present) and the process environment.
    pub fn load() -> Result<Self, ConfigError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        let (path, required) = match env.get("LATCHKEY_CONFIG") {
            Some(path) => (PathBuf::from(path), true),
            None => (PathBuf::from("Leptos.toml"), false),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if !required && err.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(err) => {
                return Err(ConfigError {
                    key: "LATCHKEY_CONFIG".into(),
                    message: format!("cannot read {}: {err}", path.display()),
                })
            }
        };
        Self::from_sources(&text, env)
    }

    /// Builds and validates a configuration from file text and an environment map.
    /// Secrets missing in a local (http) setup are generated under the data directory.
    pub fn from_sources(
        file_text: &str,
        env: HashMap<String, String>,
    ) -> Result<Self, ConfigError> {
        let source = Source::new(file_text, env)?;
        let site_addr = match source.env("LEPTOS_SITE_ADDR") {
            Some(value) => {
                validate::socket_addr("LEPTOS_SITE_ADDR", value).map_err(|message| ConfigError {
                    key: "LEPTOS_SITE_ADDR".into(),
                    message,
                })?
            }
            None => addr(&source, &SITE_ADDR)?,
        };

        let public_origin = validate::public_origin(&source.text(&PUBLIC_ORIGIN))?;
        let origin = public_origin.origin().ascii_serialization();
        let host = public_origin.host_str().unwrap_or_default().to_string();
        let rp_id = match source.optional(&RP_ID) {
            Some(rp_id) => rp_id.to_ascii_lowercase(),
            None => host.clone(),
        };
        validate::rp_id(&rp_id, &host)?;
        let rp_name = source.text(&RP_NAME);
        if rp_name.trim().is_empty() {
            return Err(ConfigError::new(RP_NAME.key, "must not be empty"));
        }

        let data_dir = PathBuf::from(source.text(&DATA_DIR));
        let database_url = source
            .optional(&DATABASE_URL)
            .unwrap_or_else(|| format!("sqlite://{}/latchkey.db", data_dir.display()));
        let database_kind = validate::database_url(&DATABASE_URL, &database_url)?;

        let idp = IdpSettings::read(&source, &public_origin)?;
        let connect = match source.optional(&CONNECT_URL) {
            None => ConnectMode::InProcess,
            Some(value) => ConnectMode::Remote(http_url(&CONNECT_URL, &value, UrlRules::ANY)?),
        };

        let session = SessionSettings {
            idle_timeout: minutes(source.number(&SESSION_IDLE_MINUTES)?),
            absolute_timeout: hours(source.number(&SESSION_ABSOLUTE_HOURS)?),
            reauth_window: minutes(source.number(&REAUTH_WINDOW_MINUTES)?),
            append_snooze: hours(source.number(&APPEND_SNOOZE_HOURS)?),
            append_offer_again: hours(source.number(&APPEND_OFFER_AGAIN_DAYS)? * 24),
        };
        let connect_service = connect_service_settings(&source, &public_origin)?;
        let protection = protection_settings(&source)?;
        let events = event_settings(&source)?;
        let operations = OperationsSettings::read(&source)?;
        let admin_emails = admin_emails(&source)?;
        let secrets = Secrets::read(
            &source,
            &data_dir,
            public_origin.scheme() != "https",
            matches!(connect, ConnectMode::Remote(_)),
        )?;

        Ok(Self {
            site_addr,
            public_origin,
            origin,
            rp_id,
            rp_name,
            database_url,
            database_kind,
            data_dir,
            idp,
            connect,
            session,
            connect_service,
            protection,
            admin_emails,
            events,
            operations,
            secrets,
        })
    }
}

fn connect_service_settings(
    source: &Source,
    public_origin: &Url,
) -> Result<ConnectServiceSettings, ConfigError> {
    let token_max_lifetime = source.number(&CONNECT_TOKEN_MAX_LIFETIME_SECONDS)?;
    let token_lifetime = source.number(&CONNECT_TOKEN_LIFETIME_SECONDS)?;
    if token_lifetime > token_max_lifetime {
        return Err(ConfigError::new(
            CONNECT_TOKEN_LIFETIME_SECONDS.key,
            format!(
                "{token_lifetime} is longer than connect-token-max-lifetime-seconds ({token_max_lifetime})"
            ),
        ));
    }
    let frontend_url = match source.optional(&CONNECT_FRONTEND_URL) {
        None => public_origin.clone(),
        Some(value) => http_url(&CONNECT_FRONTEND_URL, &value, UrlRules::ANY)?,
    };
    Ok(ConnectServiceSettings {
        enabled: source.flag(&CONNECT_ENABLED)?,
        login_rollout_percent: source.percent(&CONNECT_LOGIN_ROLLOUT_PERCENT)?,
        append_rollout_percent: source.percent(&CONNECT_APPEND_ROLLOUT_PERCENT)?,
        require_login_token: source.flag(&CONNECT_REQUIRE_LOGIN_TOKEN)?,
        token_lifetime: Duration::from_secs(token_lifetime),
        token_max_lifetime: Duration::from_secs(token_max_lifetime),
        process_lifetime: minutes(source.number(&CONNECT_PROCESS_LIFETIME_MINUTES)?),
        frontend_url,
        service_addr: addr(source, &CONNECT_SERVICE_ADDR)?,
        failure_pause: minutes(source.number(&PASSKEY_FAILURE_PAUSE_MINUTES)?),
        automatic_upgrade: source.flag(&AUTOMATIC_UPGRADE)?,
        require_user_verification: source.flag(&REQUIRE_USER_VERIFICATION)?,
        authenticator_policy: authenticator_policy(source)?,
        providers: std::sync::Arc::new(match source.optional(&PASSKEY_PROVIDERS_FILE) {
            None => ProviderDirectory::shipped(),
            Some(path) => ProviderDirectory::with_file(std::path::Path::new(&path))
                .map_err(|err| ConfigError::new(PASSKEY_PROVIDERS_FILE.key, err.to_string()))?,
        }),
        related_origins: match source.optional(&RELATED_ORIGINS) {
            None => Vec::new(),
            Some(list) => validate::related_origins(&RELATED_ORIGINS, &list, public_origin)?,
        },
        enumeration_protection: match source.text(&ENUMERATION_PROTECTION).as_str() {
            "usability" => EnumerationProtection::Usability,
            "strict" => EnumerationProtection::Strict,
            other => {
                return Err(ConfigError::new(
                    ENUMERATION_PROTECTION.key,
                    format!("{other:?} is not a mode; use usability or strict"),
                ))
            }
        },
    })
}

fn authenticator_policy(source: &Source) -> Result<AuthenticatorPolicy, ConfigError> {
    let aaguids = |setting: &Setting| -> Result<Option<Vec<Uuid>>, ConfigError> {
        source
            .optional(setting)
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(|item| {
                        Uuid::parse_str(item).map_err(|_| {
                            ConfigError::new(
                                setting.key,
                                format!(
                                    "{item:?} is not an AAGUID like \
                                     ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4"
                                ),
                            )
                        })
                    })
                    .collect()
            })
            .transpose()
    };
    let allowed_providers = aaguids(&PASSKEY_PROVIDERS_ALLOWED)?;
    let refused_providers = aaguids(&PASSKEY_PROVIDERS_REFUSED)?.unwrap_or_default();
    if let Some(both) = allowed_providers
        .iter()
        .flatten()
        .find(|id| refused_providers.contains(id))
    {
        return Err(ConfigError::new(
            PASSKEY_PROVIDERS_REFUSED.key,
            format!("{both} is also in passkey-providers-allowed"),
        ));
    }
    let storage = source.text(&PASSKEY_STORAGE);
    let storage = PasskeyStorage::parse(&storage).ok_or_else(|| {
        ConfigError::new(
            PASSKEY_STORAGE.key,
            format!("{storage:?} is not a choice; use any, synced or device-bound"),
        )
    })?;
    Ok(AuthenticatorPolicy {
        allowed_providers,
        refused_providers,
        storage,
    })
}

fn event_settings(source: &Source) -> Result<EventSettings, ConfigError> {
    let security_log = source
        .optional(&SECURITY_LOG)
        .map(|value| {
            value
                .parse()
                .map_err(|message: String| ConfigError::new(SECURITY_LOG.key, message))
        })
        .transpose()?;
    Ok(EventSettings {
        security_log,
        audit_retention_days: source.number(&AUDIT_RETENTION_DAYS)?,
        webhooks: webhook_settings(source)?,
        mail: mail_settings(source)?,
    })
}

fn webhook_settings(source: &Source) -> Result<Option<WebhookSettings>, ConfigError> {
    let Some(list) = source.optional(&WEBHOOK_URL) else {
        return Ok(None);
    };
    let urls = list
        .split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(|url| validate::http_url(&WEBHOOK_URL, url, validate::UrlRules::WEBHOOK))
        .collect::<Result<Vec<_>, _>>()?;
    if urls.is_empty() {
        return Ok(None);
    }
    let secret = secrets::optional_secret(source, &WEBHOOK_SECRET)?.ok_or_else(|| {
        ConfigError::new(
            WEBHOOK_SECRET.key,
            "is required with LATCHKEY_WEBHOOK_URL (whsec_ and base64)",
        )
    })?;
    crate::events::webhooks::check_secret(secret.expose())
        .map_err(|err| ConfigError::new(WEBHOOK_SECRET.key, err.to_string()))?;
    let events = source
        .optional(&WEBHOOK_EVENTS)
        .map(|list| {
            list.split(',')
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(|name| {
                    name.parse::<crate::events::EventType>().map_err(|_| {
                        ConfigError::new(
                            WEBHOOK_EVENTS.key,
                            format!("{name:?} is not an event type (docs/events.md lists them)"),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    Ok(Some(WebhookSettings {
        urls,
        secret,
        events,
    }))
}

/// `admin-emails`: each entry must look like an email (a typo would lock the operator out
/// without a word).
fn admin_emails(source: &Source) -> Result<Vec<String>, ConfigError> {
    let Some(list) = source.optional(&ADMIN_EMAILS) else {
        return Ok(Vec::new());
    };
    list.split(',')
        .map(str::trim)
        .filter(|email| !email.is_empty())
        .map(|email| {
            let (local, domain) = email.split_once('@').unwrap_or_default();
            if local.is_empty() || !domain.contains('.') || email.contains(char::is_whitespace) {
                Err(ConfigError::new(
                    ADMIN_EMAILS.key,
                    format!("{email:?} is not an email address"),
                ))
            } else {
                Ok(email.to_lowercase())
            }
        })
        .collect()
}

fn mail_settings(source: &Source) -> Result<Option<MailSettings>, ConfigError> {
    let Some(url) = source.optional(&SMTP_URL) else {
        return Ok(None);
    };
    let smtp_url = Url::parse(&url)
        .ok()
        .filter(|u| matches!(u.scheme(), "smtp" | "smtps") && u.host_str().is_some())
        .ok_or_else(|| {
            ConfigError::new(
                SMTP_URL.key,
                "must be smtp://host:port or smtps://host:port",
            )
        })?;
    if !smtp_url.username().is_empty() || smtp_url.password().is_some() {
        return Err(ConfigError::new(
            SMTP_URL.key,
            "must not hold credentials: use LATCHKEY_SMTP_USERNAME and LATCHKEY_SMTP_PASSWORD",
        ));
    }
    let from = source
        .optional(&MAIL_FROM)
        .ok_or_else(|| ConfigError::new(MAIL_FROM.key, "is required with LATCHKEY_SMTP_URL"))?;
    if from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(ConfigError::new(
            MAIL_FROM.key,
            format!("{from:?} is not an address such as Example <no-reply@example.com>"),
        ));
    }
    Ok(Some(MailSettings {
        smtp_url,
        username: source.optional(&SMTP_USERNAME),
        password: secrets::optional_secret(source, &SMTP_PASSWORD)?,
        from,
    }))
}

fn protection_settings(source: &Source) -> Result<ProtectionSettings, ConfigError> {
    use crate::limits::{Rate, RateLimitSettings, Rule};
    let trusted_proxies = source
        .optional(&TRUSTED_PROXIES)
        .map(|list| validate::cidrs(&TRUSTED_PROXIES, &list))
        .transpose()?
        .unwrap_or_default();
    let mut rates = std::collections::HashMap::new();
    for (rule, setting) in [
        (Rule::SignInIp, &RATE_LIMIT_SIGN_IN_IP),
        (Rule::SignInAccountIp, &RATE_LIMIT_SIGN_IN_ACCOUNT_IP),
        (Rule::SignInAccount, &RATE_LIMIT_SIGN_IN_ACCOUNT),
        (Rule::SignUpIp, &RATE_LIMIT_SIGN_UP_IP),
        (Rule::PasskeyLoginIp, &RATE_LIMIT_PASSKEY_LOGIN_IP),
        (
            Rule::PasskeyLoginAccountIp,
            &RATE_LIMIT_PASSKEY_LOGIN_ACCOUNT_IP,
        ),
        (Rule::FrontendApiIp, &RATE_LIMIT_FRONTEND_API_IP),
        (Rule::BackendApiIp, &RATE_LIMIT_BACKEND_API_IP),
        (Rule::OidcIp, &RATE_LIMIT_OIDC_IP),
    ] {
        let rate = Rate::parse(&source.text(setting))
            .map_err(|message| ConfigError::new(setting.key, message))?;
        rates.insert(rule, rate);
    }
    let seconds = |setting: &Setting| source.number(setting).map(Duration::from_secs);
    let count = |setting: &Setting| {
        source
            .number(setting)
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
    };
    Ok(ProtectionSettings {
        trusted_proxies,
        rate_limits: RateLimitSettings { rates },
        serve: crate::serving::ServeLimits {
            max_connections: count(&MAX_CONNECTIONS)?,
            max_in_flight: count(&MAX_IN_FLIGHT_REQUESTS)?,
            header_read_timeout: seconds(&HEADER_READ_TIMEOUT_SECONDS)?,
            body_read_timeout: seconds(&BODY_READ_TIMEOUT_SECONDS)?,
            request_timeout: seconds(&REQUEST_TIMEOUT_SECONDS)?,
            shutdown_drain: seconds(&SHUTDOWN_DRAIN_SECONDS)?,
            shutdown_grace: seconds(&SHUTDOWN_GRACE_SECONDS)?,
        },
        password_hash_queue: count(&PASSWORD_HASH_QUEUE)?,
    })
}

fn addr(source: &Source, setting: &Setting) -> Result<SocketAddr, ConfigError> {
    validate::socket_addr(&setting.env_name(), &source.text(setting))
        .map_err(|message| ConfigError::new(setting.key, message))
}

fn minutes(n: u64) -> Duration {
    Duration::from_secs(60 * n)
}

fn hours(n: u64) -> Duration {
    Duration::from_secs(3600 * n)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn env(pairs: &[(&str, &str)], data_dir: &Path) -> HashMap<String, String> {
        let mut map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.entry("LATCHKEY_DATA_DIR".into())
            .or_insert_with(|| data_dir.display().to_string());
        map
    }

    fn https_secrets() -> Vec<(&'static str, &'static str)> {
        vec![
            ("LATCHKEY_PUBLIC_ORIGIN", "https://login.example.com"),
            (
                "LATCHKEY_SESSION_SECRET",
                "0123456789abcdef0123456789abcdef",
            ),
            (
                "LATCHKEY_CONNECT_API_SECRET",
                "another-secret-another-secret-xx",
            ),
            (
                "LATCHKEY_SIGNING_KEY_FILE",
                "/run/secrets/latchkey-signing.pem",
            ),
            ("LATCHKEY_CONNECT_PROJECT_ID", "pro-1234"),
        ]
    }

    #[test]
    fn defaults_start_a_local_site_and_generate_private_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::from_sources("", env(&[], dir.path())).unwrap();
        assert_eq!(config.origin, "http://localhost:3000");
        assert_eq!(config.rp_id, "localhost");
        assert_eq!(config.database_kind, DatabaseKind::Sqlite);
        assert_eq!(config.idp, IdpSettings::Builtin);
        assert_eq!(config.connect, ConnectMode::InProcess);
        assert_eq!(config.site_addr.to_string(), "127.0.0.1:3000");
        let secret_path = dir.path().join("secrets").join("session-secret");
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&secret_path).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
        // A second start reuses the same secrets.
        let again = Config::from_sources("", env(&[], dir.path())).unwrap();
        assert_eq!(again.secrets.session_secret, config.secrets.session_secret);
        assert_eq!(
            again.secrets.connect_project_id,
            config.secrets.connect_project_id
        );
        assert!(config.secrets.connect_project_id.starts_with("pro-"));
    }

    #[test]
    fn the_authenticator_policy_and_related_origins_are_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let read = |pairs: &[(&str, &str)]| Config::from_sources("", env(pairs, dir.path()));
        let open = read(&[]).unwrap().connect_service;
        assert!(open.authenticator_policy.is_open());
        assert!(open.related_origins.is_empty());
        let google = "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4";
        let configured = read(&[
            (
                "LATCHKEY_PASSKEY_PROVIDERS_ALLOWED",
                &format!(" {} ,", google.to_uppercase()),
            ),
            (
                "LATCHKEY_PASSKEY_PROVIDERS_REFUSED",
                "00000000-0000-0000-0000-000000000000",
            ),
            ("LATCHKEY_PASSKEY_STORAGE", "synced"),
            ("LATCHKEY_RELATED_ORIGINS", "https://shop.example.co.uk"),
        ])
        .unwrap()
        .connect_service;
        let policy = &configured.authenticator_policy;
        assert_eq!(
            policy.allowed_providers,
            Some(vec![Uuid::parse_str(google).unwrap()])
        );
        assert_eq!(policy.refused_providers, vec![Uuid::nil()]);
        assert_eq!(policy.storage, PasskeyStorage::Synced);
        assert_eq!(configured.related_origins.len(), 1);
        for (pairs, key, says) in [
            (
                vec![("LATCHKEY_PASSKEY_PROVIDERS_ALLOWED", "google")],
                "LATCHKEY_PASSKEY_PROVIDERS_ALLOWED",
                "is not an AAGUID",
            ),
            (
                vec![
                    ("LATCHKEY_PASSKEY_PROVIDERS_ALLOWED", google),
                    ("LATCHKEY_PASSKEY_PROVIDERS_REFUSED", google),
                ],
                "LATCHKEY_PASSKEY_PROVIDERS_REFUSED",
                "also in passkey-providers-allowed",
            ),
            (
                vec![("LATCHKEY_PASSKEY_STORAGE", "cloud")],
                "LATCHKEY_PASSKEY_STORAGE",
                "use any, synced or device-bound",
            ),
            (
                vec![("LATCHKEY_RELATED_ORIGINS", "http://shop.example.co.uk")],
                "LATCHKEY_RELATED_ORIGINS",
                "must be https",
            ),
        ] {
            let err = read(&pairs).unwrap_err();
            assert_eq!(err.key, key);
            assert!(err.message.contains(says), "{}", err.message);
        }
    }

    fn oidc_env<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut pairs = vec![
            ("LATCHKEY_IDP", "oidc"),
            (
                "LATCHKEY_IDP_ISSUER",
                "https://login.example.com/realms/acme",
            ),
            ("LATCHKEY_IDP_CLIENT_ID", "latchkey"),
        ];
        pairs.extend_from_slice(extra);
        pairs
    }

    fn oidc_of(config: &Config) -> &OidcSettings {
        match &config.idp {
            IdpSettings::Oidc(oidc) => oidc,
            IdpSettings::Builtin => panic!("expected the oidc IdP"),
        }
    }

    #[test]
    fn oidc_settings_come_from_file_and_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = "[latchkey]\nidp = \"oidc\"\nidp-issuer = \"https://login.example.com/realms/acme\"\nidp-client-id = \"latchkey\"\nidp-scopes = \"email profile email\"\n";
        let config = Config::from_sources(
            file,
            env(&[("LATCHKEY_IDP_CLIENT_SECRET", "s3cret")], dir.path()),
        )
        .unwrap();
        let oidc = oidc_of(&config);
        assert_eq!(oidc.issuer, "https://login.example.com/realms/acme");
        assert_eq!(oidc.client_id, "latchkey");
        assert_eq!(
            oidc.client_secret.as_ref().map(Secret::expose),
            Some("s3cret")
        );
        assert_eq!(oidc.scopes, ["openid", "email", "profile"]);
        assert_eq!(oidc.display_name, "login.example.com");
        assert_eq!(
            oidc.redirect_uri.as_str(),
            "http://localhost:3000/auth/callback"
        );
        assert_eq!(
            oidc.post_logout_redirect_uri.as_str(),
            "http://localhost:3000/login"
        );
        assert!(!format!("{config:?}").contains("s3cret"));

        // A public client (no secret), a name and a registration page.
        let config = Config::from_sources(
            "",
            env(
                &oidc_env(&[
                    ("LATCHKEY_IDP_NAME", "Acme SSO"),
                    (
                        "LATCHKEY_IDP_REGISTRATION_URL",
                        "https://login.example.com/register",
                    ),
                ]),
                dir.path(),
            ),
        )
        .unwrap();
        let oidc = oidc_of(&config);
        assert!(oidc.client_secret.is_none());
        assert_eq!(oidc.display_name, "Acme SSO");
        assert_eq!(
            oidc.registration_url.as_ref().map(Url::as_str),
            Some("https://login.example.com/register")
        );
    }

    #[test]
    fn oidc_settings_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("LATCHKEY_IDP_ISSUER", "")], "LATCHKEY_IDP_ISSUER"),
            (
                &[("LATCHKEY_IDP_ISSUER", "login.example.com")],
                "LATCHKEY_IDP_ISSUER",
            ),
            (
                &[("LATCHKEY_IDP_ISSUER", "http://login.example.com")],
                "LATCHKEY_IDP_ISSUER",
            ),
            (
                &[("LATCHKEY_IDP_ISSUER", "https://x.example.com/?a=b")],
                "LATCHKEY_IDP_ISSUER",
            ),
            (&[("LATCHKEY_IDP_CLIENT_ID", "")], "LATCHKEY_IDP_CLIENT_ID"),
            (
                &[("LATCHKEY_IDP_SCOPES", "openid \"quoted\"")],
                "LATCHKEY_IDP_SCOPES",
            ),
            (
                &[("LATCHKEY_IDP_REGISTRATION_URL", "ftp://x")],
                "LATCHKEY_IDP_REGISTRATION_URL",
            ),
            (
                &[("LATCHKEY_IDP_CLIENT_SECRET_FILE", "/nonexistent/secret")],
                "LATCHKEY_IDP_CLIENT_SECRET_FILE",
            ),
        ];
        for (extra, key) in cases {
            let err = Config::from_sources("", env(&oidc_env(extra), dir.path())).unwrap_err();
            assert_eq!(err.key, *key, "{extra:?}: {err}");
        }
        // A provider on this machine may use http (tests, development).
        let config = Config::from_sources(
            "",
            env(
                &oidc_env(&[("LATCHKEY_IDP_ISSUER", "http://127.0.0.1:4400")]),
                dir.path(),
            ),
        )
        .unwrap();
        assert_eq!(oidc_of(&config).issuer, "http://127.0.0.1:4400");
        // The client secret is never read from the file.
        let err = Config::from_sources(
            "[latchkey]\nidp-client-secret = \"x\"\n",
            env(&oidc_env(&[]), dir.path()),
        )
        .unwrap_err();
        assert_eq!(err.key, "LATCHKEY_IDP_CLIENT_SECRET");
    }

    #[test]
    fn environment_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = "[latchkey]\nrp-name = \"From file\"\nsession-idle-minutes = 10\n";
        let config =
            Config::from_sources(file, env(&[("LATCHKEY_RP_NAME", "From env")], dir.path()))
                .unwrap();
        assert_eq!(config.rp_name, "From env");
        assert_eq!(config.session.idle_timeout, Duration::from_secs(600));
    }

    #[test]
    fn bad_database_url_names_the_key() {
        let dir = tempfile::tempdir().unwrap();
        for bad in [
            "mysql://x/y",
            "not a url",
            "sqlite://",
            "postgres://:pw@/db",
        ] {
            let err = Config::from_sources("", env(&[("LATCHKEY_DATABASE_URL", bad)], dir.path()))
                .unwrap_err();
            assert_eq!(err.key, "LATCHKEY_DATABASE_URL", "{bad}: {err}");
        }
    }

    #[test]
    fn database_url_password_is_never_echoed() {
        let dir = tempfile::tempdir().unwrap();
        let err = Config::from_sources(
            "",
            env(
                &[("LATCHKEY_DATABASE_URL", "mysql://user:hunter2@db/x")],
                dir.path(),
            ),
        )
        .unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn rp_id_must_be_a_registrable_suffix_of_the_host() {
        let dir = tempfile::tempdir().unwrap();
        let mut ok = https_secrets();
        ok.push(("LATCHKEY_RP_ID", "example.com"));
        let config = Config::from_sources("", env(&ok, dir.path())).unwrap();
        assert_eq!(config.rp_id, "example.com");
        for bad in [
            "other.com",
            "com",
            "ample.com",
            "login.example.com.evil",
            "https://example.com",
        ] {
            let mut vars = https_secrets();
            vars.push(("LATCHKEY_RP_ID", bad));
            let err = Config::from_sources("", env(&vars, dir.path())).unwrap_err();
            assert_eq!(err.key, "LATCHKEY_RP_ID", "{bad}: {err}");
        }
    }

    #[test]
    fn https_origin_needs_every_secret() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Config::from_sources("", env(&https_secrets(), dir.path())).is_ok());
        for missing in [
            "LATCHKEY_SESSION_SECRET",
            "LATCHKEY_CONNECT_API_SECRET",
            "LATCHKEY_SIGNING_KEY_FILE",
            "LATCHKEY_CONNECT_PROJECT_ID",
        ] {
            let vars: Vec<_> = https_secrets()
                .into_iter()
                .filter(|(k, _)| *k != missing)
                .collect();
            let err = Config::from_sources("", env(&vars, dir.path())).unwrap_err();
            assert_eq!(err.key, missing, "{err}");
        }
        assert!(
            !dir.path().join("secrets").exists(),
            "nothing may be generated for https"
        );
    }

    #[test]
    fn secrets_in_the_file_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err =
            Config::from_sources("[latchkey]\nsession-secret = \"x\"\n", env(&[], dir.path()))
                .unwrap_err();
        assert_eq!(err.key, "LATCHKEY_SESSION_SECRET");
    }

    #[test]
    fn unknown_file_keys_and_bad_values_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            Config::from_sources("[latchkey]\nrp-idd = \"x\"\n", env(&[], dir.path())).is_err()
        );
        let err = Config::from_sources(
            "",
            env(&[("LATCHKEY_SESSION_IDLE_MINUTES", "0")], dir.path()),
        )
        .unwrap_err();
        assert_eq!(err.key, "LATCHKEY_SESSION_IDLE_MINUTES");
        let err =
            Config::from_sources("", env(&[("LATCHKEY_IDP", "ldap")], dir.path())).unwrap_err();
        assert_eq!(err.key, "LATCHKEY_IDP");
    }

    #[test]
    fn public_origin_must_be_a_secure_origin() {
        let dir = tempfile::tempdir().unwrap();
        for bad in [
            "http://example.com",
            "https://127.0.0.1",
            "https://example.com/app",
            "ftp://x",
        ] {
            let err = Config::from_sources("", env(&[("LATCHKEY_PUBLIC_ORIGIN", bad)], dir.path()))
                .unwrap_err();
            assert_eq!(err.key, "LATCHKEY_PUBLIC_ORIGIN", "{bad}: {err}");
        }
    }

    #[test]
    fn short_session_secret_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err =
            Config::from_sources("", env(&[("LATCHKEY_SESSION_SECRET", "short")], dir.path()))
                .unwrap_err();
        assert_eq!(err.key, "LATCHKEY_SESSION_SECRET");
    }

    #[test]
    fn passkey_service_settings_have_defaults_and_are_validated() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::from_sources("", env(&[], dir.path())).unwrap();
        let connect = &config.connect_service;
        assert!(connect.enabled);
        assert_eq!(connect.login_rollout_percent, 100);
        assert!(connect.require_login_token);
        assert_eq!(connect.token_lifetime, Duration::from_secs(300));
        assert_eq!(connect.frontend_url.as_str(), "http://localhost:3000/");
        let file = "[latchkey]\nconnect-enabled = false\nconnect-append-rollout-percent = 25\n";
        let config = Config::from_sources(file, env(&[], dir.path())).unwrap();
        assert!(!config.connect_service.enabled);
        assert_eq!(config.connect_service.append_rollout_percent, 25);
        for (key, bad) in [
            ("LATCHKEY_CONNECT_LOGIN_ROLLOUT_PERCENT", "101"),
            ("LATCHKEY_CONNECT_ENABLED", "maybe"),
            ("LATCHKEY_CONNECT_TOKEN_LIFETIME_SECONDS", "7200"),
            ("LATCHKEY_CONNECT_FRONTEND_URL", "ftp://x"),
            ("LATCHKEY_CONNECT_SERVICE_ADDR", "nowhere"),
        ] {
            let err = Config::from_sources("", env(&[(key, bad)], dir.path())).unwrap_err();
            assert_eq!(err.key, key, "{bad}: {err}");
        }
    }

    #[test]
    fn protection_settings_have_defaults_and_are_validated() {
        use crate::limits::Rule;
        let dir = tempfile::tempdir().unwrap();
        let config = Config::from_sources("", env(&[], dir.path())).unwrap();
        let protection = &config.protection;
        assert!(protection.trusted_proxies.0.is_empty());
        assert_eq!(
            protection
                .rate_limits
                .rate(Rule::SignInAccountIp)
                .unwrap()
                .to_string(),
            "10/15m"
        );
        assert_eq!(protection.serve.max_in_flight, 256);
        assert_eq!(
            protection.serve.header_read_timeout,
            Duration::from_secs(10)
        );
        let config = Config::from_sources(
            "[latchkey]\ntrusted-proxies = \"10.0.0.0/8, 192.168.1.1/32, ::1/128\"\nrate-limit-sign-up-ip = \"3/1m\"\n",
            env(&[], dir.path()),
        )
        .unwrap();
        assert_eq!(config.protection.trusted_proxies.0.len(), 3);
        assert_eq!(
            config
                .protection
                .rate_limits
                .rate(Rule::SignUpIp)
                .unwrap()
                .to_string(),
            "3/1m"
        );
        for (key, bad) in [
            ("LATCHKEY_TRUSTED_PROXIES", "10.0.0.0/33"),
            ("LATCHKEY_TRUSTED_PROXIES", "proxy.internal"),
            ("LATCHKEY_RATE_LIMIT_SIGN_IN_IP", "lots"),
            ("LATCHKEY_RATE_LIMIT_OIDC_IP", "0/1m"),
            ("LATCHKEY_MAX_IN_FLIGHT_REQUESTS", "0"),
        ] {
            let err = Config::from_sources("", env(&[(key, bad)], dir.path())).unwrap_err();
            assert_eq!(err.key, key, "{bad}: {err}");
        }
    }

    #[test]
    fn remote_passkey_service_needs_its_credentials() {
        let dir = tempfile::tempdir().unwrap();
        let err = Config::from_sources(
            "",
            env(
                &[("LATCHKEY_CONNECT_URL", "http://127.0.0.1:4000")],
                dir.path(),
            ),
        )
        .unwrap_err();
        assert_eq!(err.key, "LATCHKEY_CONNECT_API_SECRET");
    }
}
