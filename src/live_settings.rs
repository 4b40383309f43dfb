//! Settings operators change while Latchkey runs: the passkey kill switch, the rollout
//! shares, and the append step's snooze and re-offer periods. Stored as one row in the
//! database; `Leptos.toml` (or the environment) gives the defaults until an operator saves.
//! Every instance re-reads the row's version every [`REFRESH`], so a change is in effect
//! everywhere within a few seconds, without a restart.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::store::{Store, StoreError};

/// How often an instance looks for a newer version.
pub const REFRESH: Duration = Duration::from_secs(2);

/// The values, with the console's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveValues {
    /// "Passkeys enabled": off offers passkeys to nobody.
    pub passkeys_enabled: bool,
    /// "Login rollout (%)".
    pub login_rollout_percent: u8,
    /// "Append rollout (%)".
    pub append_rollout_percent: u8,
    /// "Snooze after Skip (hours)": 0 offers again at the next login.
    pub append_snooze_hours: u32,
    /// "Offer again after Don't ask again (days)": 0 never offers again.
    pub offer_again_after_days: u32,
}

/// The most hours a Skip may snooze the offer (a year).
pub const MAX_SNOOZE_HOURS: u32 = 24 * 365;
/// The most days before "Don't ask again" lapses (ten years).
pub const MAX_OFFER_AGAIN_DAYS: u32 = 3650;

/// A value the console refused, and why, by field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl LiveValues {
    /// Every problem, one per field (empty when the values can be saved).
    pub fn problems(&self) -> Vec<FieldError> {
        let mut problems = Vec::new();
        let mut check = |ok: bool, field: &str, message: String| {
            if !ok {
                problems.push(FieldError {
                    field: field.to_string(),
                    message,
                });
            }
        };
        for (field, value) in [
            ("login_rollout_percent", self.login_rollout_percent),
            ("append_rollout_percent", self.append_rollout_percent),
        ] {
            check(
                value <= 100,
                field,
                format!("must be 0 to 100 (got {value})"),
            );
        }
        check(
            self.append_snooze_hours <= MAX_SNOOZE_HOURS,
            "append_snooze_hours",
            format!("must be 0 to {MAX_SNOOZE_HOURS} hours"),
        );
        check(
            self.offer_again_after_days <= MAX_OFFER_AGAIN_DAYS,
            "offer_again_after_days",
            format!("must be 0 to {MAX_OFFER_AGAIN_DAYS} days"),
        );
        problems
    }

    /// `field: old → new` for each value that differs (for the audit log).
    pub fn changes_from(&self, old: &LiveValues) -> Vec<String> {
        let pairs = [
            (
                "passkeys_enabled",
                old.passkeys_enabled.to_string(),
                self.passkeys_enabled.to_string(),
            ),
            (
                "login_rollout_percent",
                old.login_rollout_percent.to_string(),
                self.login_rollout_percent.to_string(),
            ),
            (
                "append_rollout_percent",
                old.append_rollout_percent.to_string(),
                self.append_rollout_percent.to_string(),
            ),
            (
                "append_snooze_hours",
                old.append_snooze_hours.to_string(),
                self.append_snooze_hours.to_string(),
            ),
            (
                "offer_again_after_days",
                old.offer_again_after_days.to_string(),
                self.offer_again_after_days.to_string(),
            ),
        ];
        pairs
            .into_iter()
            .filter(|(_, old, new)| old != new)
            .map(|(field, old, new)| format!("{field}: {old} → {new}"))
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LiveSettingsError {
    #[error("invalid settings")]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for LiveSettingsError {
    fn from(err: sqlx::Error) -> Self {
        Self::Store(err.into())
    }
}

/// The live values of one instance; cheap to clone.
#[derive(Clone)]
pub struct LiveSettings {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    defaults: LiveValues,
    /// The values in effect and the version they came from (0: the defaults).
    current: RwLock<(i64, LiveValues)>,
}

impl std::fmt::Debug for LiveSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSettings")
            .field("current", &self.current())
            .finish_non_exhaustive()
    }
}

/// The table's migrations (run by the app and by a passkey service alone).
pub fn migrations() -> sqlx::migrate::Migrator {
    sqlx::migrate!("./migrations/settings")
}

impl LiveSettings {
    /// The live settings of `store`, `defaults` until an operator saves.
    pub async fn open(store: Store, defaults: LiveValues) -> Result<Self, StoreError> {
        store.migrate(migrations()).await?;
        let settings = Self {
            inner: Arc::new(Inner {
                store,
                defaults,
                current: RwLock::new((0, defaults)),
            }),
        };
        settings.refresh().await?;
        Ok(settings)
    }

    /// The values in effect on this instance.
    pub fn current(&self) -> LiveValues {
        self.inner
            .current
            .read()
            .map(|current| current.1)
            .unwrap_or(self.inner.defaults)
    }

    /// What `Leptos.toml` (or the environment) says.
    pub fn defaults(&self) -> LiveValues {
        self.inner.defaults
    }

    /// Validates and stores `values` for every instance; this one uses them at once.
    /// Returns the values they replace.
    pub async fn save(&self, values: LiveValues) -> Result<LiveValues, LiveSettingsError> {
        let problems = values.problems();
        if !problems.is_empty() {
            return Err(LiveSettingsError::Invalid(problems));
        }
        let old = self.current();
        let json = serde_json::to_string(&values).unwrap_or_default();
        let row = sqlx::query(
            "INSERT INTO live_settings (id, version, values_json, updated_at)
             VALUES (1, 1, $1, $2)
             ON CONFLICT (id) DO UPDATE SET version = live_settings.version + 1,
                 values_json = $1, updated_at = $2
             RETURNING version",
        )
        .bind(&json)
        .bind(crate::store::now())
        .fetch_one(self.inner.store.pool())
        .await?;
        let version: i64 = row.try_get("version")?;
        self.set(version, values);
        Ok(old)
    }

    /// Reads the stored version; takes its values when they are newer. Returns whether the
    /// values changed.
    pub async fn refresh(&self) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT version, values_json FROM live_settings WHERE id = 1")
            .fetch_optional(self.inner.store.pool())
            .await?;
        let Some(row) = row else { return Ok(false) };
        let version: i64 = row.try_get("version")?;
        if version <= self.version() {
            return Ok(false);
        }
        let json: String = row.try_get("values_json")?;
        match serde_json::from_str::<LiveValues>(&json) {
            Ok(values) => {
                self.set(version, values);
                Ok(true)
            }
            Err(err) => {
                // A row no version of Latchkey wrote: keep what is in effect.
                tracing::error!(%err, "live settings: unreadable row ignored");
                Ok(false)
            }
        }
    }

    /// Refreshes every [`REFRESH`] for as long as the process runs.
    pub fn spawn_refresh(&self) -> tokio::task::JoinHandle<()> {
        let settings = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(REFRESH);
            loop {
                tick.tick().await;
                match settings.refresh().await {
                    Ok(true) => {
                        tracing::info!(values = ?settings.current(), "live settings changed")
                    }
                    Ok(false) => {}
                    Err(err) => tracing::warn!(%err, "live settings: refresh failed"),
                }
            }
        })
    }

    fn version(&self) -> i64 {
        self.inner.current.read().map(|c| c.0).unwrap_or(0)
    }

    fn set(&self, version: i64, values: LiveValues) {
        if let Ok(mut current) = self.inner.current.write() {
            // Never step back to an older version (a slow refresh racing a save).
            if version >= current.0 {
                *current = (version, values);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> LiveValues {
        LiveValues {
            passkeys_enabled: true,
            login_rollout_percent: 100,
            append_rollout_percent: 100,
            append_snooze_hours: 0,
            offer_again_after_days: 0,
        }
    }

    #[test]
    fn each_field_is_checked_with_its_own_message() {
        assert!(values().problems().is_empty());
        let bad = LiveValues {
            login_rollout_percent: 101,
            append_rollout_percent: 250,
            append_snooze_hours: MAX_SNOOZE_HOURS + 1,
            offer_again_after_days: MAX_OFFER_AGAIN_DAYS + 1,
            ..values()
        };
        let fields: Vec<String> = bad.problems().into_iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            [
                "login_rollout_percent",
                "append_rollout_percent",
                "append_snooze_hours",
                "offer_again_after_days"
            ]
        );
    }

    #[test]
    fn changes_name_old_and_new_values() {
        let new = LiveValues {
            passkeys_enabled: false,
            login_rollout_percent: 50,
            ..values()
        };
        assert_eq!(
            new.changes_from(&values()),
            [
                "passkeys_enabled: true → false",
                "login_rollout_percent: 100 → 50"
            ]
        );
        assert!(values().changes_from(&values()).is_empty());
    }
}
