//! Readiness: whether this instance can serve logins now, part by part. A load balancer
//! sends traffic only to ready instances; an orchestrator restarts one that stops answering
//! `/healthz` (liveness), never one that is merely not ready.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::idp::IdentityProvider;
use crate::serving::Draining;
use crate::store::Store;

/// Each check gets this long: a probe must answer before the balancer's own timeout, also
/// when the database hangs instead of refusing.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The parts a login needs.
#[derive(Clone)]
pub struct Readiness {
    store: Store,
    /// The identity provider when it is a remote one worth checking; `None` for the
    /// standalone passkey service, which has none.
    idp: Option<Arc<dyn IdentityProvider>>,
    /// Set once a shutdown signal came: the instance asks to be taken out of rotation.
    draining: Draining,
}

/// What `/readyz` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub ready: bool,
    /// Part → `ok` or what is wrong, in check order.
    pub checks: Vec<PartStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartStatus {
    pub part: &'static str,
    /// `ok`, or the problem in a few words (details go to the log, not to whoever probes).
    pub status: String,
}

pub const DATABASE: &str = "database";
pub const MIGRATIONS: &str = "migrations";
pub const IDENTITY_PROVIDER: &str = "identity-provider";
pub const SHUTDOWN: &str = "shutdown";

impl Readiness {
    pub fn new(store: Store, idp: Option<Arc<dyn IdentityProvider>>, draining: Draining) -> Self {
        Self {
            store,
            idp,
            draining,
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Checks every part (the migrations only when the database answers). A draining
    /// instance is not ready whatever its parts say.
    pub async fn check(&self) -> Report {
        if self.draining.is_draining() {
            return Report {
                ready: false,
                checks: vec![PartStatus {
                    part: SHUTDOWN,
                    status: "draining".into(),
                }],
            };
        }
        let mut checks = Vec::new();
        let database = within(CHECK_TIMEOUT, async {
            sqlx::query("SELECT 1")
                .execute(self.store.pool())
                .await
                .map(|_| ())
                .map_err(|err| err.to_string())
        })
        .await;
        let database_ok = database.is_ok();
        checks.push(status(DATABASE, database, "unreachable"));
        if database_ok {
            let migrations = within(CHECK_TIMEOUT, async {
                match self.store.missing_migrations().await {
                    Ok(missing) if missing.is_empty() => Ok(()),
                    Ok(missing) => Err(format!("not applied: {missing:?}")),
                    Err(err) => Err(err.to_string()),
                }
            })
            .await;
            checks.push(status(MIGRATIONS, migrations, "not applied"));
        }
        if let Some(idp) = &self.idp {
            let provider = within(CHECK_TIMEOUT, async {
                idp.readiness().await.map_err(|err| err.to_string())
            })
            .await;
            checks.push(status(IDENTITY_PROVIDER, provider, "discovery failed"));
        }
        Report {
            ready: database_ok && checks.iter().all(|c| c.status == "ok"),
            checks,
        }
    }
}

async fn within(
    limit: Duration,
    check: impl std::future::Future<Output = Result<(), String>>,
) -> Result<(), String> {
    tokio::time::timeout(limit, check)
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {} s", limit.as_secs())))
}

fn status(part: &'static str, result: Result<(), String>, problem: &str) -> PartStatus {
    match result {
        Ok(()) => PartStatus {
            part,
            status: "ok".into(),
        },
        Err(detail) => {
            tracing::warn!(part, %detail, "readiness: {part} {problem}");
            PartStatus {
                part,
                status: problem.into(),
            }
        }
    }
}
