//! The outbox: what must leave the system because of an event (a webhook call, an email),
//! written in the same transaction as the event itself, then delivered by a worker.
//!
//! - **At least once**: a row stays `pending` until its delivery succeeds; it survives
//!   restarts and receiver outages, retried with exponential backoff for 24 hours, then
//!   marked `failed`.
//! - **One instance at a time**: a worker claims rows by setting a short lease in one
//!   `UPDATE … WHERE lease_until <= now`; PostgreSQL re-checks that condition on the locked
//!   row, SQLite runs one writer at a time, so two instances never hold the same row and,
//!   in normal operation, nothing is delivered twice. A worker that dies mid-delivery loses
//!   its lease after [`LEASE_SECS`] and another instance (or the restarted one) goes on.
//! - **In order per account**: a row is claimed only when no older row of the same
//!   destination and account is still pending.

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::audit::StoredEvent;
use super::model::EventType;
use crate::store::Store;

/// How long a claimed row is left to its worker (longer than a delivery's timeout).
pub const LEASE_SECS: i64 = 30;
/// How long a row is retried before it is given up.
pub const GIVE_UP_AFTER_SECS: i64 = 24 * 3600;
/// Rows claimed at once.
const BATCH: i64 = 20;

/// Where a row goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::AsRefStr, strum::EnumString)]
#[strum(serialize_all = "lowercase")]
pub enum Channel {
    /// A Standard Webhooks POST to the row's target URL.
    Webhook,
    /// An email to the account's owner.
    Mail,
}

/// One row to write with an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub channel: Channel,
    /// The webhook URL; empty for mail (the address is looked up at delivery).
    pub target: String,
    /// What is sent: the webhook body, or the mail's facts (JSON).
    pub payload: String,
}

/// A claimed row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// `msg_…`: the same on every attempt (the receiver's idempotency key).
    pub id: String,
    pub seq: i64,
    pub channel: Channel,
    pub target: String,
    pub account: String,
    pub event_type: String,
    pub payload: String,
    pub attempts: i64,
    pub created_at: i64,
}

/// Writes the rows of `stored` inside the event's transaction.
pub async fn enqueue(
    tx: &mut Transaction<'_, Any>,
    stored: &StoredEvent,
    outgoing: &[Outgoing],
) -> Result<(), sqlx::Error> {
    for row in outgoing {
        sqlx::query(
            "INSERT INTO event_outbox (id, seq, channel, target, ordering_key, event_type,
                 payload, status, attempts, next_attempt_at, lease_until, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, 0, $8)",
        )
        .bind(crate::random::id("msg"))
        .bind(stored.seq)
        .bind(row.channel.as_ref())
        .bind(&row.target)
        .bind(stored.event.account.as_deref().unwrap_or_default())
        .bind(stored.event.event_type.as_ref())
        .bind(&row.payload)
        .bind(stored.occurred_at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Claims up to a batch of due rows for this worker, oldest first, at most one per
/// destination and account.
pub async fn claim(store: &Store, now: i64) -> Result<Vec<Delivery>, sqlx::Error> {
    let rows = sqlx::query(
        "UPDATE event_outbox SET lease_until = $1
         WHERE id IN (
             SELECT o.id FROM event_outbox o
             WHERE o.status = 'pending' AND o.next_attempt_at <= $2 AND o.lease_until <= $2
               AND NOT EXISTS (
                   SELECT 1 FROM event_outbox p
                   WHERE p.channel = o.channel AND p.target = o.target
                     AND p.ordering_key = o.ordering_key AND p.status = 'pending'
                     AND p.seq < o.seq)
             ORDER BY o.seq LIMIT $3)
           AND status = 'pending' AND lease_until <= $2
         RETURNING id, seq, channel, target, ordering_key, event_type, payload, attempts,
             created_at",
    )
    .bind(now + LEASE_SECS)
    .bind(now)
    .bind(BATCH)
    .fetch_all(store.pool())
    .await?;
    let mut claimed = rows.iter().filter_map(read).collect::<Vec<_>>();
    claimed.sort_by_key(|d| d.seq);
    Ok(claimed)
}

fn read(row: &AnyRow) -> Option<Delivery> {
    let channel: String = row.try_get("channel").ok()?;
    Some(Delivery {
        id: row.try_get("id").ok()?,
        seq: row.try_get("seq").ok()?,
        channel: channel.parse().ok()?,
        target: row.try_get("target").ok()?,
        account: row.try_get("ordering_key").ok()?,
        event_type: row.try_get("event_type").ok()?,
        payload: row.try_get("payload").ok()?,
        attempts: row.try_get("attempts").ok()?,
        created_at: row.try_get("created_at").ok()?,
    })
}

/// The row went out.
pub async fn delivered(store: &Store, id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE event_outbox SET status = 'delivered', delivered_at = $2, lease_until = 0,
             attempts = attempts + 1, last_error = NULL
         WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// The attempt failed: try again later, or give up after a day.
pub async fn failed(
    store: &Store,
    delivery: &Delivery,
    error: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let error: String = error.chars().take(500).collect();
    let attempts = delivery.attempts + 1;
    let next = now + backoff_secs(attempts);
    let give_up = next > delivery.created_at + GIVE_UP_AFTER_SECS;
    sqlx::query(
        "UPDATE event_outbox SET status = $2, attempts = $3, next_attempt_at = $4,
             lease_until = 0, last_error = $5
         WHERE id = $1",
    )
    .bind(&delivery.id)
    .bind(if give_up { "failed" } else { "pending" })
    .bind(attempts)
    .bind(next)
    .bind(&error)
    .execute(store.pool())
    .await?;
    if give_up {
        tracing::error!(id = %delivery.id, channel = delivery.channel.as_ref(), %error, "outbox: gave up after a day of retries");
    }
    Ok(())
}

/// Seconds before attempt `attempts + 1`: 1 s, 2 s, 4 s, … doubling up to an hour.
pub fn backoff_secs(attempts: i64) -> i64 {
    let exponent = u32::try_from(attempts.clamp(1, 13) - 1).unwrap_or(0);
    (1i64 << exponent).min(3600)
}

/// Rows delivered or given up longer ago than `before` go.
pub async fn purge(store: &Store, before: i64) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM event_outbox WHERE status <> 'pending' AND created_at < $1")
            .bind(before)
            .execute(store.pool())
            .await?
            .rows_affected(),
    )
}

/// How many rows wait, per status (for operators and tests).
pub async fn count(store: &Store, status: &str) -> Result<i64, sqlx::Error> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM event_outbox WHERE status = $1")
        .bind(status)
        .fetch_one(store.pool())
        .await?;
    row.try_get("n")
}

/// Rows waiting to be delivered, per channel (every channel, zero included).
pub async fn backlog(store: &Store) -> Result<Vec<(Channel, i64)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT channel, COUNT(*) AS n FROM event_outbox WHERE status = 'pending' GROUP BY channel",
    )
    .fetch_all(store.pool())
    .await?;
    let mut backlog = vec![(Channel::Webhook, 0), (Channel::Mail, 0)];
    for row in rows {
        let channel: String = row.try_get("channel")?;
        let n: i64 = row.try_get("n")?;
        if let Some(entry) = backlog.iter_mut().find(|(c, _)| c.as_ref() == channel) {
            entry.1 = n;
        }
    }
    Ok(backlog)
}

/// Gives back the leases of rows this instance claimed but will not deliver (it is
/// stopping), so another instance takes them at once instead of after [`LEASE_SECS`].
pub async fn release(store: &Store, ids: &[String]) -> Result<u64, sqlx::Error> {
    let mut released = 0;
    for id in ids {
        released += sqlx::query(
            "UPDATE event_outbox SET lease_until = 0 WHERE id = $1 AND status = 'pending'",
        )
        .bind(id)
        .execute(store.pool())
        .await?
        .rows_affected();
    }
    Ok(released)
}

/// The event types that mail the account's owner.
pub const MAILED: &[EventType] = &[EventType::PasskeyCreated, EventType::PasskeyDeleted];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        let waits: Vec<i64> = (1..=14).map(backoff_secs).collect();
        assert_eq!(&waits[..5], &[1, 2, 4, 8, 16]);
        assert_eq!(waits[11], 2048);
        assert_eq!(&waits[12..], &[3600, 3600]);
        assert_eq!(backoff_secs(100), 3600);
        // About 35 attempts in the day before a row is given up.
        let mut at = 0;
        let mut attempts = 0;
        while at <= GIVE_UP_AFTER_SECS {
            attempts += 1;
            at += backoff_secs(attempts);
        }
        assert!((30..40).contains(&attempts), "{attempts}");
    }
}
