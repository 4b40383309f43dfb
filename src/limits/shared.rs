//! Limits shared by every instance on one PostgreSQL database.
//!
//! The algorithm is governor's GCRA: each key keeps one number, the "theoretical arrival
//! time" (TAT), stored as absolute time (nanoseconds since the Unix epoch) so every
//! instance reads the same thing. A request is let through when `TAT − τ ≤ now`, and then
//! moves the TAT to `max(TAT, now) + T` (T: one request's share of the period; τ: the burst
//! beyond the first, `T × (burst − 1)`, with both taken from governor's [`Quota`]).
//!
//! Written as one conditional upsert by hand because governor's storage hook
//! ([`governor::state::StateStore`]) is a read-modify-write callback: on a database that
//! takes a transaction with the row locked, five round trips per check (and a request's
//! checks are on its path). The statement below decides and writes in one, with the row
//! locked for that statement only. A test holds it to governor's decisions.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use governor::Quota;
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
        match self.check_at(quota, key, unix_nanos()).await {
            Ok(verdict) => verdict,
            Err(err) => {
                // The database cannot be asked: let the request through rather than turn an
                // outage of the limiter into an outage of sign-in (the log says so).
                tracing::warn!(%err, "rate-limit state unavailable; request not limited");
                Ok(())
            }
        }
    }

    /// One statement per admitted request: a new key starts at `now + T`; a known one moves
    /// on only if the request fits. Concurrent requests for one key queue on the row's lock
    /// for the length of that statement. A refusal reads the TAT to say how long to wait.
    async fn check_at(
        &self,
        quota: Quota,
        key: &str,
        now: u64,
    ) -> Result<Result<(), Duration>, StoreError> {
        let t = quota.replenish_interval().as_nanos() as u64;
        let tau = t.saturating_mul(u64::from(quota.burst_size().get()) - 1);
        let admitted = sqlx::query(
            "INSERT INTO rate_limits (key, tat) VALUES ($1, $2 + $3)
             ON CONFLICT (key) DO UPDATE SET tat = GREATEST(rate_limits.tat, $2) + $3
                 WHERE rate_limits.tat - $4 <= $2
             RETURNING tat",
        )
        .bind(key)
        .bind(as_column(now))
        .bind(as_column(t))
        .bind(as_column(tau))
        .fetch_optional(self.store.pool())
        .await?;
        if admitted.is_some() {
            return Ok(Ok(()));
        }
        let row = sqlx::query("SELECT tat FROM rate_limits WHERE key = $1")
            .bind(key)
            .fetch_optional(self.store.pool())
            .await?;
        let tat = match row {
            Some(row) => u64::try_from(row.try_get::<i64, _>("tat")?).unwrap_or(0),
            None => 0,
        };
        Ok(Err(Duration::from_nanos(
            tat.saturating_sub(tau).saturating_sub(now),
        )))
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
    use std::num::NonZeroU32;

    use governor::clock::{Clock, FakeRelativeClock};
    use governor::RateLimiter;

    use super::*;
    use crate::limits::Rate;

    async fn fresh_store() -> Store {
        let url = crate::store::testing::fresh_postgres_database().await;
        Store::connect(&url).await.expect("store")
    }

    /// Gaps between arrivals, from a fixed pseudo-random sequence: bursts (no gap), fractions
    /// of one request's share `t`, and pauses of two shares; the same on every run.
    fn gaps(t: Duration, count: usize) -> Vec<Duration> {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        (0..count)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let eighths = [0, 0, 1, 4, 16][(seed % 5) as usize];
                t * eighths / 8 + Duration::from_nanos(seed % 1_000)
            })
            .collect()
    }

    /// The one-statement check says yes and no exactly when governor's own limiter does,
    /// asks for the same wait, over a long irregular sequence of arrivals per quota.
    #[tokio::test]
    async fn the_shared_check_decides_as_governor_does() {
        let state = SharedState::open(fresh_store().await).await.expect("open");
        let start = 1_800_000_000_000_000_000_u64;
        for rate in ["3/1m", "10/1s", "1/1h", "50/15m"] {
            let quota = Rate::parse(rate).expect("rate").quota();
            let clock = FakeRelativeClock::default();
            let governor = RateLimiter::direct_with_clock(quota, clock.clone());
            let (mut admitted, mut refused) = (0, 0);
            for gap in gaps(quota.replenish_interval(), 400) {
                clock.advance(gap);
                let now = start + clock.now().as_u64();
                let expected = governor
                    .check()
                    .map_err(|not_until| not_until.wait_time_from(clock.now()));
                let got = state.check_at(quota, rate, now).await.expect("database");
                assert_eq!(got, expected, "{rate} at {now}");
                match got {
                    Ok(()) => admitted += 1,
                    Err(_) => refused += 1,
                }
            }
            // The sequence reaches both answers for every quota.
            assert!(
                admitted > 0 && refused > 0,
                "{rate}: {admitted} / {refused}"
            );
        }
    }

    /// Keys are independent, and a refused request moves nothing on.
    #[tokio::test]
    async fn a_refusal_leaves_the_bucket_as_it_was() {
        let state = SharedState::open(fresh_store().await).await.expect("open");
        let quota = Quota::per_hour(NonZeroU32::new(1).expect("one"));
        let now = 1_800_000_000_000_000_000_u64;
        let hour = Duration::from_secs(3600);
        assert_eq!(state.check_at(quota, "a", now).await.unwrap(), Ok(()));
        assert_eq!(state.check_at(quota, "b", now).await.unwrap(), Ok(()));
        let ten_minutes = Duration::from_secs(600);
        let later = now + ten_minutes.as_nanos() as u64;
        let wait = state.check_at(quota, "a", later).await.unwrap();
        assert_eq!(wait, Err(hour - ten_minutes));
        // An hour after the first, the next fits: the refusal did not push the bucket on.
        let next = now + hour.as_nanos() as u64;
        assert_eq!(state.check_at(quota, "a", next).await.unwrap(), Ok(()));
        assert!(state.check_at(quota, "a", next).await.unwrap().is_err());
    }
}
