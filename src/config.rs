//! Settings from `Leptos.toml` (`[latchkey]` table) with `LATCHKEY_…` environment overrides.
//!
//! Every key `some-key` in the file can be overridden by `LATCHKEY_SOME_KEY`; the listen address
//! is Leptos' own `LEPTOS_SITE_ADDR`. Secrets are never read from the file: they come from the
//! environment, or a file the environment names, or (local http default only) are generated
//! once under the data directory with mode 0600. Validation happens here, at start-up, and a
//! failure names the one key to fix.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

/// Keys accepted in the `[latchkey]` table (anything else is a typo and refused).
const FILE_KEYS: &[&str] = &[
    "site-addr",
    "public-origin",
    "rp-id",
    "rp-name",
    "database-url",
    "data-dir",
    "idp",
    "idp-issuer",
    "idp-client-id",
    "idp-scopes",
    "idp-name",
    "idp-registration-url",
    "connect-url",
    "connect-project-id",
    "session-idle-minutes",
    "session-absolute-hours",
    "reauth-window-minutes",
    "append-snooze-hours",
    "connect-enabled",
    "connect-login-rollout-percent",
    "connect-append-rollout-percent",
    "connect-require-login-token",
    "connect-token-lifetime-seconds",
    "connect-token-max-lifetime-seconds",
    "connect-process-lifetime-minutes",
    "connect-frontend-url",
    "connect-service-addr",
];

/// Keys that must never be written in a file inside the repository.
const SECRET_KEYS: &[&str] = &[
    "session-secret",
    "connect-api-secret",
    "signing-key",
    "idp-client-secret",
];

const MIN_SECRET_LEN: usize = 32;

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
            key: env_name(key),
            message: message.into(),
        }
    }
}

/// A secret value: no `Serialize`, and `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// Which identity provider holds the users, with its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdpSettings {
    /// Email + password in this app's database (the embedded default).
    Builtin,
    /// Any OpenID Connect provider (Keycloak, Auth0, Cognito, ...).
    Oidc(Box<OidcSettings>),
}

/// An external OpenID Connect provider (`idp = "oidc"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcSettings {
    /// Exactly as the provider writes `issuer` in its discovery document.
    pub issuer: String,
    pub client_id: String,
    /// None for a public client (PKCE alone).
    pub client_secret: Option<Secret>,
    /// Always starts with `openid`.
    pub scopes: Vec<String>,
    /// What buttons call the provider ("Continue to <name>").
    pub display_name: String,
    /// The provider's own sign-up page, linked from `/signup`.
    pub registration_url: Option<Url>,
    /// `<public origin>/auth/callback`: register it at the provider.
    pub redirect_uri: Url,
    /// `<public origin>/login`: where the provider's logout sends the browser back.
    pub post_logout_redirect_uri: Url,
}

/// Where the provider sends the browser back after login (register it there).
pub const OIDC_CALLBACK_PATH: &str = "/auth/callback";

/// Where the passkey service runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectMode {
    /// Mounted inside this process (the default).
    InProcess,
    /// A separate Latchkey passkey service (or a Corbado-compatible one) at this base URL.
    Remote(Url),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub struct SessionSettings {
    pub idle_timeout: Duration,
    pub absolute_timeout: Duration,
    /// How recent a login must be for sensitive actions such as deleting a passkey.
    pub reauth_window: Duration,
    /// After a plain "Skip" at the append step, no passkey offer for this long (zero: offer
    /// at every login, design.md §1).
    pub append_snooze: Duration,
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
}

#[derive(Debug, Clone)]
pub struct Config {
    pub site_addr: SocketAddr,
    /// The origin browsers use (scheme, host, port; no path).
    pub public_origin: Url,
    pub rp_id: String,
    pub rp_name: String,
    pub database_url: String,
    pub database_kind: DatabaseKind,
    pub data_dir: PathBuf,
    pub idp: IdpSettings,
    pub connect: ConnectMode,
    pub session: SessionSettings,
    pub connect_service: ConnectServiceSettings,
    pub secrets: Secrets,
}

#[derive(Debug, Clone)]
pub struct Secrets {
    pub session_secret: Secret,
    pub connect_project_id: String,
    pub connect_api_secret: Secret,
    /// PEM file with the key that signs passkey data; generated there if missing (local only).
    pub signing_key_file: PathBuf,
}

impl Config {
    /// The public origin as browsers send it in `Origin` (no trailing slash).
    pub fn origin_string(&self) -> String {
        self.public_origin.origin().ascii_serialization()
    }

    pub fn is_https(&self) -> bool {
        self.public_origin.scheme() == "https"
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
        let settings = Settings::new(&text, env)?;
        Self::from_settings(&settings)
    }

    /// Builds and validates a configuration from file text and an environment map.
    /// Secrets missing in a local (http) setup are generated under the data directory.
    pub fn from_sources(
        file_text: &str,
        env: HashMap<String, String>,
    ) -> Result<Self, ConfigError> {
        let settings = Settings::new(file_text, env)?;
        Self::from_settings(&settings)
    }

    fn from_settings(settings: &Settings) -> Result<Self, ConfigError> {
        let site_addr = match settings.env.get("LEPTOS_SITE_ADDR") {
            Some(value) => value.parse().map_err(|_| ConfigError {
                key: "LEPTOS_SITE_ADDR".into(),
                message: format!("{value:?} is not an address like 127.0.0.1:3000"),
            })?,
            None => {
                let value = settings.string("site-addr", "127.0.0.1:3000");
                value.parse().map_err(|_| {
                    ConfigError::new(
                        "site-addr",
                        format!("{value:?} is not an address like 127.0.0.1:3000"),
                    )
                })?
            }
        };

        let public_origin =
            parse_public_origin(&settings.string("public-origin", "http://localhost:3000"))?;
        let host = public_origin.host_str().unwrap_or_default().to_string();
        let rp_id = match settings.optional("rp-id") {
            Some(rp_id) => rp_id.to_ascii_lowercase(),
            None => host.clone(),
        };
        validate_rp_id(&rp_id, &host)?;
        let rp_name = settings.string("rp-name", "Latchkey");
        if rp_name.trim().is_empty() {
            return Err(ConfigError::new("rp-name", "must not be empty"));
        }

        let data_dir = PathBuf::from(settings.string("data-dir", "data"));
        let database_url = settings.string(
            "database-url",
            &format!("sqlite://{}/latchkey.db", data_dir.display()),
        );
        let database_kind = parse_database_url(&database_url)?;

        let idp = match settings.string("idp", "builtin").as_str() {
            "builtin" => IdpSettings::Builtin,
            "oidc" => IdpSettings::Oidc(Box::new(oidc_settings(settings, &public_origin)?)),
            other => {
                return Err(ConfigError::new(
                    "idp",
                    format!("{other:?} is not an identity provider kind; use builtin or oidc"),
                ))
            }
        };

        let connect = match settings.optional("connect-url") {
            None => ConnectMode::InProcess,
            Some(value) => {
                let url = Url::parse(&value).map_err(|err| {
                    ConfigError::new("connect-url", format!("{value:?} is not a URL: {err}"))
                })?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(ConfigError::new("connect-url", "must be an http(s) URL"));
                }
                ConnectMode::Remote(url)
            }
        };

        let session = SessionSettings {
            idle_timeout: Duration::from_secs(
                60 * settings.number("session-idle-minutes", 30, 1, 60 * 24)?,
            ),
            absolute_timeout: Duration::from_secs(
                3600 * settings.number("session-absolute-hours", 12, 1, 24 * 90)?,
            ),
            reauth_window: Duration::from_secs(
                60 * settings.number("reauth-window-minutes", 5, 1, 60)?,
            ),
            append_snooze: Duration::from_secs(
                3600 * settings.number("append-snooze-hours", 0, 0, 24 * 365)?,
            ),
        };

        let connect_service = connect_service_settings(settings, &public_origin)?;

        let is_https = public_origin.scheme() == "https";
        let local = LocalSecrets {
            data_dir: &data_dir,
            // Generating secrets is only acceptable for a local http site; in production a
            // missing secret must stop the server instead of silently creating a new one.
            allowed: !is_https,
        };
        let remote_connect = matches!(connect, ConnectMode::Remote(_));
        let session_secret = settings.secret("session-secret", &local, false)?;
        if session_secret.expose().len() < MIN_SECRET_LEN {
            return Err(ConfigError::new(
                "session-secret",
                format!("must be at least {MIN_SECRET_LEN} characters"),
            ));
        }
        // A remote passkey service has its own credentials; we cannot invent them.
        let connect_api_secret = settings.secret("connect-api-secret", &local, remote_connect)?;
        let connect_project_id = match settings.optional("connect-project-id") {
            Some(id) => id,
            None if remote_connect => {
                return Err(ConfigError::new(
                    "connect-project-id",
                    "required when LATCHKEY_CONNECT_URL points at a separate passkey service",
                ))
            }
            None if !local.allowed => {
                return Err(ConfigError::new(
                    "connect-project-id",
                    "required when the public origin is https",
                ))
            }
            None => local.load_or_create("connect-project-id", || {
                format!("pro-{}", crate::random::digits(12))
            })?,
        };
        let signing_key_file = match settings.env.get("LATCHKEY_SIGNING_KEY_FILE") {
            Some(path) if !path.is_empty() => PathBuf::from(path),
            _ if !local.allowed => {
                return Err(ConfigError {
                    key: "LATCHKEY_SIGNING_KEY_FILE".into(),
                    message: "required when the public origin is https".into(),
                })
            }
            _ => data_dir.join("secrets").join("signing-key.pem"),
        };

        Ok(Self {
            site_addr,
            public_origin,
            rp_id,
            rp_name,
            database_url,
            database_kind,
            data_dir,
            idp,
            connect,
            session,
            connect_service,
            secrets: Secrets {
                session_secret,
                connect_project_id,
                connect_api_secret,
                signing_key_file,
            },
        })
    }
}

fn connect_service_settings(
    settings: &Settings,
    public_origin: &Url,
) -> Result<ConnectServiceSettings, ConfigError> {
    let token_max_lifetime =
        settings.number("connect-token-max-lifetime-seconds", 3600, 30, 86400)?;
    let token_lifetime = settings.number("connect-token-lifetime-seconds", 300, 30, 86400)?;
    if token_lifetime > token_max_lifetime {
        return Err(ConfigError::new(
            "connect-token-lifetime-seconds",
            format!(
                "{token_lifetime} is longer than connect-token-max-lifetime-seconds ({token_max_lifetime})"
            ),
        ));
    }
    let frontend_url = match settings.optional("connect-frontend-url") {
        None => public_origin.clone(),
        Some(value) => {
            let url = Url::parse(&value).map_err(|err| {
                ConfigError::new(
                    "connect-frontend-url",
                    format!("{value:?} is not a URL: {err}"),
                )
            })?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(ConfigError::new(
                    "connect-frontend-url",
                    "must be an http(s) URL with a host",
                ));
            }
            url
        }
    };
    let addr = settings.string("connect-service-addr", "127.0.0.1:3100");
    let service_addr = addr.parse().map_err(|_| {
        ConfigError::new(
            "connect-service-addr",
            format!("{addr:?} is not an address like 127.0.0.1:3100"),
        )
    })?;
    // The ranges are checked by `number`, so the narrowing casts cannot truncate.
    Ok(ConnectServiceSettings {
        enabled: settings.boolean("connect-enabled", true)?,
        login_rollout_percent: settings.number("connect-login-rollout-percent", 100, 0, 100)? as u8,
        append_rollout_percent: settings.number("connect-append-rollout-percent", 100, 0, 100)?
            as u8,
        require_login_token: settings.boolean("connect-require-login-token", true)?,
        token_lifetime: Duration::from_secs(token_lifetime),
        token_max_lifetime: Duration::from_secs(token_max_lifetime),
        process_lifetime: Duration::from_secs(
            60 * settings.number("connect-process-lifetime-minutes", 30, 1, 24 * 60)?,
        ),
        frontend_url,
        service_addr,
    })
}

fn oidc_settings(settings: &Settings, public_origin: &Url) -> Result<OidcSettings, ConfigError> {
    let issuer = settings.optional("idp-issuer").ok_or_else(|| {
        ConfigError::new(
            "idp-issuer",
            "required with idp = oidc (the provider's issuer URL, e.g. https://login.example.com/realms/acme)",
        )
    })?;
    let issuer_url = Url::parse(&issuer)
        .map_err(|err| ConfigError::new("idp-issuer", format!("{issuer:?} is not a URL: {err}")))?;
    let loopback = matches!(
        issuer_url.host_str(),
        Some("localhost" | "127.0.0.1" | "[::1]")
    );
    match issuer_url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => {
            return Err(ConfigError::new(
                "idp-issuer",
                "must be an https URL (http only for a provider on this machine)",
            ))
        }
    }
    if issuer_url.query().is_some()
        || issuer_url.fragment().is_some()
        || !issuer_url.username().is_empty()
    {
        return Err(ConfigError::new(
            "idp-issuer",
            "must be the bare issuer URL, without query, fragment or user name",
        ));
    }
    let client_id = settings.optional("idp-client-id").ok_or_else(|| {
        ConfigError::new(
            "idp-client-id",
            "required with idp = oidc (the client id registered at the provider)",
        )
    })?;
    let client_secret = settings.optional_secret("idp-client-secret")?;
    let mut scopes = vec!["openid".to_string()];
    for scope in settings
        .string("idp-scopes", "openid email profile")
        .split_whitespace()
    {
        if !scope
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')
        {
            return Err(ConfigError::new(
                "idp-scopes",
                format!("{scope:?} is not a valid scope name"),
            ));
        }
        if !scopes.iter().any(|known| known == scope) {
            scopes.push(scope.to_string());
        }
    }
    let registration_url = match settings.optional("idp-registration-url") {
        None => None,
        Some(value) => {
            let url = Url::parse(&value).map_err(|err| {
                ConfigError::new(
                    "idp-registration-url",
                    format!("{value:?} is not a URL: {err}"),
                )
            })?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(ConfigError::new(
                    "idp-registration-url",
                    "must be an http(s) URL",
                ));
            }
            Some(url)
        }
    };
    let display_name = settings.string(
        "idp-name",
        issuer_url.host_str().unwrap_or("your sign-in service"),
    );
    let join = |path: &str| {
        public_origin
            .join(path)
            .map_err(|err| ConfigError::new("public-origin", err.to_string()))
    };
    Ok(OidcSettings {
        issuer,
        client_id,
        client_secret,
        scopes,
        display_name,
        registration_url,
        redirect_uri: join(OIDC_CALLBACK_PATH)?,
        post_logout_redirect_uri: join("/login")?,
    })
}

/// `rp-id` → `LATCHKEY_RP_ID`.
fn env_name(key: &str) -> String {
    format!("LATCHKEY_{}", key.replace('-', "_").to_ascii_uppercase())
}

/// The merged view of the file table and the environment.
struct Settings {
    file: HashMap<String, String>,
    env: HashMap<String, String>,
}

impl Settings {
    fn new(file_text: &str, env: HashMap<String, String>) -> Result<Self, ConfigError> {
        let mut file = HashMap::new();
        if !file_text.trim().is_empty() {
            let doc: toml::Table =
                file_text
                    .parse()
                    .map_err(|err: toml::de::Error| ConfigError {
                        key: "Leptos.toml".into(),
                        message: format!("not valid TOML: {}", err.message()),
                    })?;
            if let Some(table) = doc.get("latchkey") {
                let table = table.as_table().ok_or_else(|| ConfigError {
                    key: "Leptos.toml".into(),
                    message: "[latchkey] must be a table".into(),
                })?;
                for (key, value) in table {
                    if SECRET_KEYS.contains(&key.as_str()) {
                        return Err(ConfigError::new(
                            key,
                            "secrets are read only from the environment (or a file it names), never from Leptos.toml",
                        ));
                    }
                    if !FILE_KEYS.contains(&key.as_str()) {
                        return Err(ConfigError {
                            key: format!("Leptos.toml [latchkey] {key}"),
                            message: "unknown setting".into(),
                        });
                    }
                    let value = match value {
                        toml::Value::String(s) => s.clone(),
                        toml::Value::Integer(i) => i.to_string(),
                        toml::Value::Boolean(b) => b.to_string(),
                        _ => return Err(ConfigError::new(key, "must be a string or a number")),
                    };
                    file.insert(key.clone(), value);
                }
            }
        }
        Ok(Self { file, env })
    }

    /// Environment first, then the file; empty values count as unset.
    fn optional(&self, key: &str) -> Option<String> {
        self.env
            .get(&env_name(key))
            .or_else(|| self.file.get(key))
            .map(|value| value.trim().to_string())
            .filter(|value| !value.is_empty())
    }

    fn string(&self, key: &str, default: &str) -> String {
        self.optional(key).unwrap_or_else(|| default.to_string())
    }

    fn number(&self, key: &str, default: u64, min: u64, max: u64) -> Result<u64, ConfigError> {
        let Some(value) = self.optional(key) else {
            return Ok(default);
        };
        match value.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(ConfigError::new(
                key,
                format!("{value:?} must be a whole number from {min} to {max}"),
            )),
        }
    }

    fn boolean(&self, key: &str, default: bool) -> Result<bool, ConfigError> {
        match self.optional(key).map(|v| v.to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if v == "true" || v == "1" => Ok(true),
            Some(v) if v == "false" || v == "0" => Ok(false),
            Some(v) => Err(ConfigError::new(
                key,
                format!("{v:?} must be true or false"),
            )),
        }
    }

    /// A secret that may be absent (never generated): `LATCHKEY_X` or the file `LATCHKEY_X_FILE`.
    fn optional_secret(&self, key: &str) -> Result<Option<Secret>, ConfigError> {
        let name = env_name(key);
        let set = |var: &str| self.env.get(var).is_some_and(|v| !v.is_empty());
        if !set(&name) && !set(&format!("{name}_FILE")) {
            return Ok(None);
        }
        let never = LocalSecrets {
            data_dir: Path::new(""),
            allowed: false,
        };
        self.secret(key, &never, true).map(Some)
    }

    /// A secret from `LATCHKEY_X` or the file named by `LATCHKEY_X_FILE`; generated locally
    /// when allowed and not `required`.
    fn secret(
        &self,
        key: &str,
        local: &LocalSecrets,
        required: bool,
    ) -> Result<Secret, ConfigError> {
        let name = env_name(key);
        if let Some(value) = self.env.get(&name).filter(|v| !v.is_empty()) {
            return Ok(Secret(value.clone()));
        }
        let file_var = format!("{name}_FILE");
        if let Some(path) = self.env.get(&file_var).filter(|v| !v.is_empty()) {
            let value = std::fs::read_to_string(path).map_err(|err| ConfigError {
                key: file_var.clone(),
                message: format!("cannot read {path}: {err}"),
            })?;
            let value = value.trim().to_string();
            if value.is_empty() {
                return Err(ConfigError {
                    key: file_var,
                    message: format!("{path} is empty"),
                });
            }
            return Ok(Secret(value));
        }
        if required {
            return Err(ConfigError::new(
                key,
                format!("required (set {name} or {file_var})"),
            ));
        }
        if !local.allowed {
            return Err(ConfigError::new(
                key,
                format!("required when the public origin is https (set {name} or {file_var})"),
            ));
        }
        local
            .load_or_create(key, || crate::random::token(32))
            .map(Secret)
    }
}

/// Secrets generated once for a local site and kept under `data/secrets/` (mode 0600).
struct LocalSecrets<'a> {
    data_dir: &'a Path,
    allowed: bool,
}

impl LocalSecrets<'_> {
    fn load_or_create(
        &self,
        key: &str,
        generate: impl FnOnce() -> String,
    ) -> Result<String, ConfigError> {
        let dir = self.data_dir.join("secrets");
        let path = dir.join(key);
        match std::fs::read_to_string(&path) {
            Ok(value) if !value.trim().is_empty() => return Ok(value.trim().to_string()),
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => {
                return Err(ConfigError::new(
                    key,
                    format!("cannot read {}: {err}", path.display()),
                ))
            }
        }
        let value = generate();
        write_private_file(&dir, &path, &value).map_err(|err| {
            ConfigError::new(key, format!("cannot write {}: {err}", path.display()))
        })?;
        Ok(value)
    }
}

/// Writes a file only its owner can read, creating the folder (mode 0700) first.
pub fn write_private_file(dir: &Path, path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    // Write to a temporary name and rename, so a crash never leaves half a secret behind.
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

fn parse_public_origin(value: &str) -> Result<Url, ConfigError> {
    let key = "public-origin";
    let url = Url::parse(value)
        .map_err(|err| ConfigError::new(key, format!("{value:?} is not a URL: {err}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ConfigError::new(
            key,
            "must start with https:// (or http://localhost)",
        ));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError::new(
            key,
            "must be an origin only (scheme, host, port), with no path",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConfigError::new(
            key,
            "must not contain a user name or password",
        ));
    }
    let host = match url.host() {
        Some(url::Host::Domain(host)) => host.to_string(),
        Some(_) => {
            return Err(ConfigError::new(
                key,
                "must use a domain name: WebAuthn does not accept IP addresses (use localhost)",
            ))
        }
        None => return Err(ConfigError::new(key, "has no host")),
    };
    let local = host == "localhost" || host.ends_with(".localhost");
    if url.scheme() == "http" && !local {
        return Err(ConfigError::new(
            key,
            "http is only allowed for localhost; browsers require https for passkeys",
        ));
    }
    Ok(url)
}

/// WebAuthn: the RP ID must be the origin's host or a registrable domain suffix of it.
fn validate_rp_id(rp_id: &str, host: &str) -> Result<(), ConfigError> {
    let key = "rp-id";
    if rp_id.is_empty() || rp_id.contains(['/', ':', ' ']) {
        return Err(ConfigError::new(
            key,
            format!("{rp_id:?} must be a bare domain name"),
        ));
    }
    if rp_id == host {
        return Ok(());
    }
    let is_suffix = host.ends_with(&format!(".{rp_id}"));
    // A public suffix ("com", "co.uk", "github.io") can never be an RP ID.
    let registrable = psl::domain_str(rp_id).is_some();
    if is_suffix && registrable {
        Ok(())
    } else {
        Err(ConfigError::new(
            key,
            format!("{rp_id:?} is not a registrable suffix of the public origin's host {host:?}"),
        ))
    }
}

fn parse_database_url(value: &str) -> Result<DatabaseKind, ConfigError> {
    let key = "database-url";
    let redacted = redact_url(value);
    let url = Url::parse(value).map_err(|err| {
        ConfigError::new(
            key,
            format!("{redacted:?} is not a URL ({err}); use sqlite://… or postgres://…"),
        )
    })?;
    match url.scheme() {
        "sqlite" => {
            let path = value
                .trim_start_matches("sqlite://")
                .trim_start_matches("sqlite:");
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err(ConfigError::new(
                    key,
                    "sqlite:// needs a file path, e.g. sqlite://data/latchkey.db",
                ));
            }
            Ok(DatabaseKind::Sqlite)
        }
        "postgres" | "postgresql" => {
            if url.host_str().is_none_or(str::is_empty) {
                return Err(ConfigError::new(key, format!("{redacted:?} has no host")));
            }
            Ok(DatabaseKind::Postgres)
        }
        other => Err(ConfigError::new(
            key,
            format!("unsupported scheme {other:?}; use sqlite://… or postgres://…"),
        )),
    }
}

/// A database URL without its password, for messages and logs.
pub fn redact_url(value: &str) -> String {
    match Url::parse(value) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        Ok(_) => value.to_string(),
        Err(_) => "<unparsable>".to_string(),
    }
}

#[cfg(test)]
mod tests {
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
        assert_eq!(config.origin_string(), "http://localhost:3000");
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
