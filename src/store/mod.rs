//! The database: one sqlx `Any` pool that is SQLite (default) or PostgreSQL, from the same code.
//!
//! All SQL in this crate is written to run unchanged on both: `$n` placeholders (sqlx's SQLite
//! driver reads them as positional), TEXT and BIGINT columns, `DELETE … RETURNING` for
//! consume-once rows. Each concept keeps its queries next to it (`accounts`, `sessions`,
//! the builtin IdP, the passkey service).

pub mod accounts;
pub mod oidc_logins;
pub mod sessions;
pub mod testing;

use std::collections::BTreeSet;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{MigrationType, Migrator};
use sqlx::{AnyPool, Connection, Executor, Row};

use crate::config::{redact_url, DatabaseKind};

/// The app's own tables (accounts, sessions, builtin IdP).
fn app_migrations() -> Migrator {
    sqlx::migrate!("./migrations/app")
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the row already exists")]
    Conflict,
    #[error("cannot open the database {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create the database folder {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::Conflict,
            _ => Self::Database(err),
        }
    }
}

/// A handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    kind: DatabaseKind,
    /// The versions of every migration this process ran (or found applied): what
    /// readiness expects to stay applied.
    migrations: Arc<Mutex<BTreeSet<i64>>>,
}

/// How long a pooled connection may sit unused before it is pinged on its way out.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

impl Store {
    /// Opens the database (creating a SQLite file and its folder if needed) and runs the app's
    /// migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let store = Self::connect(url).await?;
        store.migrate(app_migrations()).await?;
        Ok(store)
    }

    /// Opens the database without any migration; each component then runs its own (the
    /// passkey service, running alone, never creates the app's tables).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let kind = if url.starts_with("sqlite:") {
            DatabaseKind::Sqlite
        } else {
            DatabaseKind::Postgres
        };
        let connect_url = match kind {
            DatabaseKind::Sqlite => prepare_sqlite_url(url)?,
            DatabaseKind::Postgres => url.to_string(),
        };
        let connect_error = |source| StoreError::Connect {
            url: redact_url(url),
            source,
        };
        let options = AnyConnectOptions::from_str(&connect_url).map_err(connect_error)?;
        let pool = AnyPoolOptions::new()
            .max_connections(match kind {
                DatabaseKind::Sqlite => 8,
                DatabaseKind::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(10))
            // sqlx pings every connection when it goes back to the pool; pinging it again when
            // it is taken out doubled the round trips of every statement (each one a hop to
            // SQLite's worker thread or to the PostgreSQL server). A connection that sat idle
            // is still checked before use, so one broken while idle is replaced unseen.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= IDLE_BEFORE_PING {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    if conn.backend_name() == "SQLite" {
                        // WAL lets readers run beside the writer; the busy timeout makes a
                        // second writer wait instead of failing with SQLITE_BUSY.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(connect_error)?;
        Ok(Self {
            pool,
            kind,
            migrations: Arc::default(),
        })
    }

    /// Applies one component's migrations. Components keep separate migration folders with
    /// disjoint version numbers, so each ignores the others' rows in `_sqlx_migrations`.
    pub async fn migrate(&self, mut migrator: Migrator) -> Result<(), StoreError> {
        migrator.set_ignore_missing(true);
        migrator.run(&self.pool).await?;
        let versions = migrator
            .iter()
            .filter(|m| m.migration_type != MigrationType::ReversibleDown)
            .map(|m| m.version);
        match self.migrations.lock() {
            Ok(mut expected) => expected.extend(versions),
            Err(poisoned) => poisoned.into_inner().extend(versions),
        }
        Ok(())
    }

    /// The migrations this process ran that the database no longer records as applied
    /// (restored from an older backup, or a table dropped by hand), oldest first.
    pub async fn missing_migrations(&self) -> Result<Vec<i64>, StoreError> {
        let expected = match self.migrations.lock() {
            Ok(expected) => expected.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        let applied: BTreeSet<i64> =
            sqlx::query("SELECT version FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_all(&self.pool)
                .await?
                .iter()
                .filter_map(|row| row.try_get("version").ok())
                .collect();
        Ok(expected.difference(&applied).copied().collect())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn kind(&self) -> &DatabaseKind {
        &self.kind
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Creates the SQLite file's folder and asks the driver to create the file (`mode=rwc`).
fn prepare_sqlite_url(url: &str) -> Result<String, StoreError> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    if let Some(parent) = Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).map_err(|source| StoreError::Folder {
            path: parent.display().to_string(),
            source,
        })?;
    }
    Ok(match query {
        Some(query) if query.contains("mode=") => url.to_string(),
        Some(_) => format!("{url}&mode=rwc"),
        None => format!("{url}?mode=rwc"),
    })
}

/// Now, in unix seconds (the unit of every time column).
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Unix seconds as RFC 3339 (UTC); empty for times out of range.
pub fn rfc3339(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Booleans are stored as 0/1 so one schema fits both databases.
pub fn flag(value: bool) -> i64 {
    i64::from(value)
}
