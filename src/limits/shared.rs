//! Limits shared by every instance on one PostgreSQL database.
//!
//! governor keeps one number per key, the GCRA's "theoretical arrival time" (TAT), and lets
//! the place that keeps it be swapped ([`StateStore`]). Here that number is a row, stored
//! as absolute time (nanoseconds since the Unix epoch) so every instance reads the same
//! thing. Each check locks the row, lets governor decide against a clock frozen at "now"
//! (so its relative times start at now), and writes the new TAT back in the same
//! transaction. The arithmetic stays governor's; only the storage is ours.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::{NotKeyed, StateStore};
use governor::{Quota, RateLimiter};
use sqlx::Row;

use crate::store::{Store, StoreError};

/// Rows whose TAT lies this far in the past are deleted by [`SharedState::purge`].
const PURGE_AFTER: Duration = Duration::from_secs(3600);

fn migrations() -> sqlx::migrate::Migrator {
    sqlx::migrate!("./migrations/limits")
}

pub(super) struct SharedState {
    store: Store,
}

impl SharedState {
    pub async fn open(store: Store) -> Result<Self, StoreError> {
        store.migrate(migrations()).await?;
        Ok(Self { store })
    }

    pub async fn check(&self, quota: Quota, key: &str) -> Result<(), Duration> {
        match self.check_locked(quota, key).await {
            Ok(verdict) => verdict,
            Err(err) => {
                // The database cannot be asked: let the request through rather than turn an
                // outage of the limiter into an outage of sign-in (the log says so).
                tracing::warn!(%err, "rate-limit state unavailable; request not limited");
                Ok(())
            }
        }
    }

    /// One transaction per check: the bucket's row is locked (`FOR UPDATE`) while governor
    /// decides, so concurrent requests for one key wait their turn instead of retrying.
    async fn check_locked(
        &self,
        quota: Quota,
        key: &str,
    ) -> Result<Result<(), Duration>, StoreError> {
        let mut tx = self.store.pool().begin().await?;
        // A new bucket starts as "nothing seen" (a TAT of 0 lies in the past).
        sqlx::query(
            "INSERT INTO rate_limits (key, tat) VALUES ($1, 0) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query("SELECT tat FROM rate_limits WHERE key = $1 FOR UPDATE")
            .bind(key)
            .fetch_one(&mut *tx)
            .await?;
        let stored = u64::try_from(row.try_get::<i64, _>("tat")?).unwrap_or(0);
        let now = unix_nanos();
        let next = match decide(quota, Some(stored.saturating_sub(now))) {
            Ok(next) => next,
            Err(wait) => return Ok(Err(wait)),
        };
        sqlx::query("UPDATE rate_limits SET tat = $1 WHERE key = $2")
            .bind(as_column(now.saturating_add(next)))
            .bind(key)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    pub async fn purge(&self) -> Result<u64, StoreError> {
        let before = unix_nanos().saturating_sub(PURGE_AFTER.as_nanos() as u64);
        let done = sqlx::query("DELETE FROM rate_limits WHERE tat < $1")
            .bind(as_column(before))
            .execute(self.store.pool())
            .await?;
        Ok(done.rows_affected())
    }
}

/// governor's decision for one request, given the stored TAT relative to now (`None`: no
/// request seen yet). `Ok`: the new TAT, relative to now; `Err`: how long to wait.
fn decide(quota: Quota, tat: Option<u64>) -> Result<u64, Duration> {
    let slot = Slot {
        tat: tat.map(Nanos::from),
        next: AtomicU64::new(0),
    };
    let limiter: RateLimiter<NotKeyed, Slot, FrozenAtZero, NoOpMiddleware<Nanos>> =
        RateLimiter::new(quota, slot, FrozenAtZero);
    match limiter.check() {
        Ok(()) => Ok(limiter.into_state_store().next.into_inner()),
        Err(not_until) => Err(not_until.wait_time_from(FrozenAtZero.now())),
    }
}

/// A clock that always says 0: relative times then start at the moment of the check.
#[derive(Clone, Copy)]
struct FrozenAtZero;

impl Clock for FrozenAtZero {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        Nanos::from(0)
    }
}

/// A state store holding one key's TAT for one decision: what was read, and what governor
/// wants written.
struct Slot {
    tat: Option<Nanos>,
    next: AtomicU64,
}

impl StateStore for Slot {
    type Key = NotKeyed;

    fn measure_and_replace<T, F, E>(&self, _key: &NotKeyed, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let (decision, next) = f(self.tat)?;
        self.next.store(next.as_u64(), Ordering::Relaxed);
        Ok(decision)
    }
}

fn unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// BIGINT holds nanoseconds since 1970 until 2262.
fn as_column(nanos: u64) -> i64 {
    i64::try_from(nanos).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Rate;

    /// governor's arithmetic on a stored TAT, as each check sees it: a burst of three, then
    /// one every twenty seconds.
    #[test]
    fn decisions_follow_the_stored_arrival_time() {
        let quota = Rate::parse("3/1m").unwrap().quota();
        let interval = 20_000_000_000_u64;
        // First request: nothing stored; the TAT moves one interval ahead.
        let first = decide(quota, None).unwrap();
        assert_eq!(first, interval);
        // Two more fit in the burst, each pushing the TAT on.
        let second = decide(quota, Some(first)).unwrap();
        let third = decide(quota, Some(second)).unwrap();
        assert_eq!(third, 3 * interval);
        // The fourth must wait until one interval has drained.
        let wait = decide(quota, Some(third)).unwrap_err();
        assert_eq!(wait, Duration::from_nanos(interval));
        // A TAT in the past (stored before now) is the same as none.
        assert_eq!(decide(quota, Some(0)).unwrap(), interval);
    }
}
