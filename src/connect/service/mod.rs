//! The passkey service: a self-hosted service with Corbado Connect's two API
//! surfaces. It runs the WebAuthn ceremonies with webauthn-rs, issues connect tokens and
//! signed passkey data, and stores passkeys. All state (processes, challenges, tokens) lives in
//! the store, so any instance can finish a ceremony another instance started.
//!
//! One concept per module: the rows (`users`, `credentials`, `clients`, `processes`,
//! `challenges`, `tokens`, `events`), the flows (`login`, `append`, `manage`), signed passkey
//! data (`signed_data`), the rollout decision (`rollout`), browser and OS names
//! (`user_agent`), errors (`error`), and the HTTP surfaces (`http`).

pub mod append;
pub mod ceremonies;
pub mod challenges;
pub mod clients;
pub mod conditional_create;
pub mod credentials;
pub mod error;
pub mod events;
pub mod http;
pub mod login;
pub mod manage;
pub mod policy;
pub mod processes;
pub mod rollout;
pub mod signed_data;
pub mod standalone;
pub mod tokens;
pub mod user_agent;
pub mod users;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{Url, WebauthnBuilder};

use crate::config::{Config, ConnectServiceSettings, ProtectionSettings, Secret};
use crate::events::Events;
use crate::limits::Limiter;
use crate::live_settings::{LiveSettings, LiveValues};
use crate::store::{Store, StoreError};
pub use error::ConnectError;
pub use signed_data::Signer;

/// How long a WebAuthn challenge may wait for its finish step.
pub const CHALLENGE_LIFETIME_SECS: i64 = 300;
/// Signed passkey data is valid this long (Corbado: 5 minutes).
pub const SIGNED_DATA_LIFETIME_SECS: i64 = 300;
/// How long events are kept.
const EVENT_RETENTION_SECS: i64 = 90 * 24 * 3600;
/// Clients not seen for this long are forgotten (their rollout bucket comes from the handle
/// itself, so it survives; only the last-login note goes).
const CLIENT_RETENTION_SECS: i64 = 400 * 24 * 3600;
/// Clients that never logged in with a passkey are forgotten sooner.
const IDLE_CLIENT_RETENTION_SECS: i64 = 30 * 24 * 3600;
/// Connect tokens stay listable for a day after they expire.
const TOKEN_RETENTION_SECS: i64 = 24 * 3600;

fn migrations() -> sqlx::migrate::Migrator {
    sqlx::migrate!("./migrations/connect")
}

/// Why the passkey service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("security log: {0}")]
    SecurityLog(#[from] std::io::Error),
    #[error("signing key: {0}")]
    SigningKey(#[from] signed_data::SigningKeyError),
    #[error("WebAuthn settings (RP ID {rp_id:?}, origin {origin}): {message}")]
    Webauthn {
        rp_id: String,
        origin: String,
        message: String,
    },
}

/// The service's notion of "now" (unix seconds). Production uses the system clock; tests can
/// move it forward to reach expiry without waiting.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> i64 {
        crate::store::now() + self.offset.load(Ordering::Relaxed)
    }

    /// Moves this service's clock forward (tests only need this; production never calls it).
    pub fn advance(&self, secs: i64) {
        self.offset.fetch_add(secs, Ordering::Relaxed);
    }
}

/// What the service needs from the configuration.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    pub rp_id: String,
    pub rp_name: String,
    /// The WebAuthn origin, also the only origin allowed to call the frontend API.
    pub public_origin: Url,
    /// [`ServiceConfig::public_origin`] as browsers send it in `Origin`.
    pub origin: String,
    pub project_id: String,
    pub api_secret: Secret,
    pub settings: ConnectServiceSettings,
    /// Who the client is and how fast it may call (the rate limits of both APIs).
    pub protection: ProtectionSettings,
    /// The run-time settings' defaults (the kill switch and rollouts come from `settings`).
    pub live_defaults: LiveValues,
}

impl ServiceConfig {
    /// The origins browsers may call the frontend API from and sign for: the public origin,
    /// then the related origins (as browsers send them in `Origin`).
    pub fn accepted_origins(&self) -> impl Iterator<Item = String> + '_ {
        std::iter::once(self.origin.clone()).chain(
            self.settings
                .related_origins
                .iter()
                .map(|origin| origin.origin().ascii_serialization()),
        )
    }

    pub fn from_config(config: &Config) -> Self {
        Self {
            rp_id: config.rp_id.clone(),
            rp_name: config.rp_name.clone(),
            public_origin: config.public_origin.clone(),
            origin: config.origin.clone(),
            project_id: config.secrets.connect_project_id.clone(),
            api_secret: config.secrets.connect_api_secret.clone(),
            settings: config.connect_service.clone(),
            protection: config.protection.clone(),
            live_defaults: config.live_defaults(),
        }
    }
}

/// The passkey service; cheap to clone.
#[derive(Clone)]
pub struct ConnectService {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    ceremonies: ceremonies::Ceremonies,
    signer: Signer,
    config: ServiceConfig,
    clock: Clock,
    limiter: Limiter,
    events: Events,
    live: LiveSettings,
}

impl std::fmt::Debug for ConnectService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectService")
            .field("rp_id", &self.inner.config.rp_id)
            .field("origin", &self.inner.config.origin)
            .finish_non_exhaustive()
    }
}

impl ConnectService {
    /// Builds the service from the app's configuration: runs its migrations and loads (or, for
    /// a local http site, generates) the signing key.
    pub async fn start(config: &Config, store: Store, events: Events) -> Result<Self, StartError> {
        let signer =
            Signer::load_or_generate(&config.secrets.signing_key_file, !config.is_https())?;
        Self::with_parts(ServiceConfig::from_config(config), store, signer, events).await
    }

    /// Builds the service from explicit parts (tests and the standalone subcommand).
    pub async fn with_parts(
        config: ServiceConfig,
        store: Store,
        signer: Signer,
        events: Events,
    ) -> Result<Self, StartError> {
        store.migrate(migrations()).await?;
        let webauthn_error = |err: webauthn_rs::prelude::WebauthnError| StartError::Webauthn {
            rp_id: config.rp_id.clone(),
            origin: config.origin.clone(),
            message: err.to_string(),
        };
        let mut builder =
            WebauthnBuilder::new(&config.rp_id, &config.public_origin).map_err(webauthn_error)?;
        // Related origins share the RP ID: their assertions name them in clientDataJSON, and
        // webauthn-rs accepts an origin only when it is listed here.
        for origin in &config.settings.related_origins {
            builder = builder.append_allowed_origin(origin);
        }
        // Built to check the RP ID against the origins (it refuses a mismatch); the ceremonies
        // then run on the same relying party (see `ceremonies`).
        builder
            .rp_name(&config.rp_name)
            .timeout(Duration::from_secs(CHALLENGE_LIFETIME_SECS as u64))
            .build()
            .map_err(webauthn_error)?;
        let ceremonies = ceremonies::Ceremonies::new(
            webauthn_rs_core::WebauthnCore::new_unsafe_experts_only(
                &config.rp_name,
                &config.rp_id,
                std::iter::once(config.public_origin.clone())
                    .chain(config.settings.related_origins.iter().cloned())
                    .collect(),
                Duration::from_secs(CHALLENGE_LIFETIME_SECS as u64),
                Some(false),
                Some(false),
            ),
            config.settings.require_user_verification,
        );
        let limiter = Limiter::new(config.protection.rate_limits.clone(), &store).await?;
        let live = LiveSettings::open(
            store.clone(),
            LiveValues {
                passkeys_enabled: config.settings.enabled,
                login_rollout_percent: config.settings.login_rollout_percent,
                append_rollout_percent: config.settings.append_rollout_percent,
                ..config.live_defaults
            },
        )
        .await?;
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                ceremonies,
                signer,
                config,
                clock: Clock::default(),
                limiter,
                events,
                live,
            }),
        })
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    pub fn config(&self) -> &ServiceConfig {
        &self.inner.config
    }

    pub fn signer(&self) -> &Signer {
        &self.inner.signer
    }

    pub fn limiter(&self) -> &Limiter {
        &self.inner.limiter
    }

    /// Where the service records what happens (the audit log of its database).
    pub fn events(&self) -> &Events {
        &self.inner.events
    }

    /// The settings operators change at run time (kill switch, rollouts); the app shares
    /// this handle when the service runs in its process.
    pub fn live_settings(&self) -> &LiveSettings {
        &self.inner.live
    }

    fn ceremonies(&self) -> &ceremonies::Ceremonies {
        &self.inner.ceremonies
    }

    fn settings(&self) -> &ConnectServiceSettings {
        &self.inner.config.settings
    }

    fn now(&self) -> i64 {
        self.inner.clock.now()
    }

    /// The service's HTTP surfaces (frontend API, backend API, JWKS), for any router state.
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> axum::Router<S> {
        http::router(self.clone())
    }

    /// Deletes expired processes (with their challenges), challenges, connect tokens, signed
    /// data and old events. Returns how many rows went.
    pub async fn purge_expired(&self) -> Result<u64, StoreError> {
        let now = self.now();
        let pool = self.store().pool();
        let mut purged = 0;
        for (sql, cutoff) in [
            ("DELETE FROM connect_challenges WHERE expires_at <= $1", now),
            ("DELETE FROM connect_processes WHERE expires_at <= $1", now),
            (
                "DELETE FROM connect_tokens WHERE expires_at <= $1",
                now - TOKEN_RETENTION_SECS,
            ),
            (
                "DELETE FROM connect_signed_data WHERE expires_at <= $1",
                now,
            ),
            (
                "DELETE FROM connect_events WHERE created_at <= $1",
                now - EVENT_RETENTION_SECS,
            ),
            (
                "DELETE FROM connect_clients WHERE last_seen_at <= $1",
                now - CLIENT_RETENTION_SECS,
            ),
            (
                "DELETE FROM connect_clients WHERE last_seen_at <= $1 AND last_login_user_id IS NULL",
                now - IDLE_CLIENT_RETENTION_SECS,
            ),
        ] {
            purged += sqlx::query(sql)
                .bind(cutoff)
                .execute(pool)
                .await?
                .rows_affected();
        }
        purged += self.limiter().purge().await?;
        Ok(purged)
    }

    /// Purges expired rows every minute, for as long as the process runs.
    pub fn spawn_purge(&self) {
        let service = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                match service.purge_expired().await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(rows = n, "passkey service: purged expired rows"),
                    Err(err) => tracing::warn!(%err, "passkey service: purge failed"),
                }
            }
        });
    }
}

/// SHA-256 of a secret or handle, hex: what the store keeps instead of the value.
pub(crate) fn hash(value: &str) -> String {
    format!("{:x}", Sha256::digest(value.as_bytes()))
}

/// A Corbado-style id: `prefix-` and 20 random digits.
pub(crate) fn new_id(prefix: &str) -> String {
    format!("{prefix}-{}", crate::random::digits(20))
}

pub(crate) use crate::store::rfc3339;

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_ids_and_times_have_their_shapes() {
        assert_eq!(super::hash("abc").len(), 64);
        assert_ne!(super::hash("abc"), super::hash("abd"));
        let id = super::new_id("cre");
        assert!(id.starts_with("cre-") && id.len() == 24, "{id}");
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn the_clock_moves_forward_for_tests() {
        let clock = super::Clock::default();
        let before = clock.now();
        clock.advance(3600);
        assert!(clock.now() >= before + 3600);
    }
}
