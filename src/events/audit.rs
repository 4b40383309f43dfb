//! The audit log: every event stored once, in order, each row chained to the one before by a
//! SHA-256 over its canonical content and the previous row's hash. Changing, deleting or
//! inserting a row breaks the chain at that row, and [`verify`] names it.
//!
//! Appending takes the chain's head row first (`UPDATE audit_head … RETURNING`): PostgreSQL
//! locks it until the transaction ends and SQLite takes its write lock, so instances writing
//! at once line up and the chain never forks. Retention removes a prefix of the chain only
//! while appending an `audit.pruned` row that names the last removed row and its hash; that
//! row is chained like any other, so [`verify`] can start after it and still trusts it.

use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{Any, AnyPool, Row, Transaction};

use super::model::{Client, Event, EventType, Outcome, Reason};
use crate::store::Store;

/// The hash before the first row.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Rows read per query while verifying (memory stays flat on millions of rows).
const VERIFY_BATCH: i64 = 2_000;

/// The most events one page of a listing holds.
pub const MAX_PAGE: u32 = 500;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored row does not parse (a column holds a value no event can have).
    #[error("audit row {seq} holds an unknown {column} {value:?}")]
    Unreadable {
        seq: i64,
        column: &'static str,
        value: String,
    },
    /// The group-commit writer is gone (the runtime is shutting down).
    #[error("the audit log's writer has stopped")]
    WriterStopped,
}

/// An event as stored: its place in the chain, its id and time, and its hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub seq: i64,
    pub id: String,
    /// Unix seconds.
    pub occurred_at: i64,
    pub event: Event,
    pub prev_hash: String,
    pub hash: String,
}

/// Where `verify` found the chain broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("row {seq} ({id}) was changed: its hash does not match its content")]
    Changed { seq: i64, id: String },
    #[error("row {seq} ({id}) does not follow the row before it: a row before it was deleted or one was inserted")]
    NotLinked { seq: i64, id: String },
    #[error("row {expected} is missing: it was deleted (the next row is {found})")]
    Missing { expected: i64, found: i64 },
    #[error("the newest rows were deleted: the chain ends at row {last} but was written up to row {head}")]
    TailMissing { last: i64, head: i64 },
    #[error("the chain's head does not match its last row {last}: a row was inserted or the head was edited")]
    HeadMismatch { last: i64 },
}

/// What a successful `verify` checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub rows: u64,
    /// The row the walk started after (0: the chain's beginning; else a pruned prefix).
    pub starts_after: i64,
    pub head_seq: i64,
    pub head_hash: String,
}

/// Filters for reading events back, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub account: Option<String>,
    pub types: Vec<EventType>,
    pub outcome: Option<Outcome>,
    /// Unix seconds, inclusive.
    pub since: Option<i64>,
    /// Unix seconds, exclusive.
    pub until: Option<i64>,
}

/// One page of events and the cursor of the next (older) page, if there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPage {
    pub events: Vec<StoredEvent>,
    pub next_cursor: Option<i64>,
}

/// The canonical content a row's hash covers: a JSON array of its fields in a fixed order
/// (serde_json writes strings, numbers and nulls one way only). The actor, added later, is
/// appended only when there is one, so rows written before it still verify.
fn canonical(seq: i64, id: &str, occurred_at: i64, event: &Event) -> String {
    let mut fields = serde_json::json!([
        seq,
        id,
        occurred_at,
        event.event_type.as_ref(),
        event.outcome.as_ref(),
        event.reason.map(|r| r.as_ref().to_string()),
        event.account,
        event.credential,
        event.client.ip,
        event.client.browser,
        event.client.os,
        event.process,
        event.detail,
    ]);
    if let (Some(actor), Some(list)) = (&event.actor, fields.as_array_mut()) {
        list.push(actor.as_str().into());
    }
    fields.to_string()
}

/// The hash of a row: SHA-256 over the previous hash, a newline and the canonical content.
pub fn chain_hash(prev_hash: &str, seq: i64, id: &str, occurred_at: i64, event: &Event) -> String {
    let mut digest = Sha256::new();
    digest.update(prev_hash.as_bytes());
    digest.update(b"\n");
    digest.update(canonical(seq, id, occurred_at, event).as_bytes());
    format!("{:x}", digest.finalize())
}

/// Takes the chain's head for this transaction and returns the next row's number and the
/// previous hash.
async fn lock_head(tx: &mut Transaction<'_, Any>) -> Result<(i64, String), sqlx::Error> {
    reserve(tx, 1).await
}

/// Takes the chain's head for this transaction and reserves `count` row numbers: returns
/// the first of them and the hash the first row follows.
async fn reserve(
    tx: &mut Transaction<'_, Any>,
    count: usize,
) -> Result<(i64, String), sqlx::Error> {
    let count = i64::try_from(count).unwrap_or(i64::MAX);
    let row = sqlx::query("UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash")
        .bind(count)
        .fetch_one(&mut **tx)
        .await?;
    let last: i64 = row.try_get("seq")?;
    Ok((last - count + 1, row.try_get("hash")?))
}

/// Moves the chain's head to the row with `hash` (the last one this transaction wrote).
async fn move_head(tx: &mut Transaction<'_, Any>, hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Appends `event` as row `seq` after `prev_hash` and moves the head to it.
async fn insert(
    tx: &mut Transaction<'_, Any>,
    seq: i64,
    prev_hash: &str,
    occurred_at: i64,
    event: &Event,
) -> Result<StoredEvent, sqlx::Error> {
    let stored = insert_row(tx, seq, prev_hash, occurred_at, event).await?;
    move_head(tx, &stored.hash).await?;
    Ok(stored)
}

/// Inserts `event` as row `seq` after `prev_hash` (the head is left where it is).
async fn insert_row(
    tx: &mut Transaction<'_, Any>,
    seq: i64,
    prev_hash: &str,
    occurred_at: i64,
    event: &Event,
) -> Result<StoredEvent, sqlx::Error> {
    let id = crate::random::id("evt");
    let hash = chain_hash(prev_hash, seq, &id, occurred_at, event);
    sqlx::query(
        "INSERT INTO audit_events (seq, id, occurred_at, event_type, outcome, reason,
             account_id, credential_id, client_ip, browser, os, process_id, detail,
             prev_hash, hash, actor_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(seq)
    .bind(&id)
    .bind(occurred_at)
    .bind(event.event_type.as_ref())
    .bind(event.outcome.as_ref())
    .bind(event.reason.map(|r| r.as_ref().to_string()))
    .bind(&event.account)
    .bind(&event.credential)
    .bind(&event.client.ip)
    .bind(&event.client.browser)
    .bind(&event.client.os)
    .bind(&event.process)
    .bind(&event.detail)
    .bind(prev_hash)
    .bind(&hash)
    .bind(&event.actor)
    .execute(&mut **tx)
    .await?;
    Ok(StoredEvent {
        seq,
        id,
        occurred_at,
        event: event.clone(),
        prev_hash: prev_hash.to_string(),
        hash,
    })
}

/// Appends one event inside `tx` (the caller commits: whatever else the transaction writes,
/// such as outbox rows, lands with it or not at all).
pub async fn append_in(
    tx: &mut Transaction<'_, Any>,
    occurred_at: i64,
    event: &Event,
) -> Result<StoredEvent, sqlx::Error> {
    let (seq, prev_hash) = lock_head(tx).await?;
    insert(tx, seq, &prev_hash, occurred_at, event).await
}

/// Appends `events` (each with its time) in order inside `tx`, taking the head once and
/// moving it once: what group commit writes.
pub async fn append_all_in(
    tx: &mut Transaction<'_, Any>,
    events: &[(i64, &Event)],
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let (mut seq, mut prev_hash) = reserve(tx, events.len()).await?;
    let mut stored = Vec::with_capacity(events.len());
    for (occurred_at, event) in events {
        let row = insert_row(tx, seq, &prev_hash, *occurred_at, event).await?;
        seq += 1;
        prev_hash.clone_from(&row.hash);
        stored.push(row);
    }
    move_head(tx, &prev_hash).await?;
    Ok(stored)
}

/// Removes the rows older than `before` (unix seconds), appending the `audit.pruned` row that
/// lets `verify` start after them. Returns how many rows went.
pub async fn prune(store: &Store, before: i64, now: i64) -> Result<u64, AuditError> {
    let mut tx = store.pool().begin().await?;
    let (seq, prev_hash) = lock_head(&mut tx).await?;
    let last = sqlx::query(
        "SELECT seq, hash FROM audit_events WHERE occurred_at < $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(before)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(last) = last else {
        // Nothing old enough: the head goes back untouched.
        tx.rollback().await?;
        return Ok(0);
    };
    let (through, through_hash): (i64, String) = (last.try_get("seq")?, last.try_get("hash")?);
    let removed = sqlx::query("DELETE FROM audit_events WHERE seq <= $1")
        .bind(through)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let detail = PruneAnchor {
        through_seq: through,
        hash: through_hash,
    };
    let event = Event::new(EventType::AuditPruned).with_detail(&detail.to_detail());
    insert(&mut tx, seq, &prev_hash, now, &event).await?;
    tx.commit().await?;
    Ok(removed)
}

/// What an `audit.pruned` row says: the last removed row and its hash.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct PruneAnchor {
    through_seq: i64,
    hash: String,
}

impl PruneAnchor {
    fn to_detail(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Walks the whole chain. `Ok` says how much was checked; `Err(Ok(break))` names the first
/// row where the chain is broken.
pub async fn verify(store: &Store) -> Result<Result<Verified, ChainBreak>, AuditError> {
    let pool = store.pool();
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(pool)
        .await?;
    let (head_seq, head_hash): (i64, String) = (head.try_get("seq")?, head.try_get("hash")?);
    // Where the walk starts: after the newest pruned prefix, if any. (A forged anchor does
    // not help: the anchor row is itself checked by the walk.)
    let anchor = newest_anchor(pool).await?;
    let (mut expected_seq, mut prev_hash) = match &anchor {
        Some(anchor) => (anchor.through_seq + 1, anchor.hash.clone()),
        None => (1, GENESIS_HASH.to_string()),
    };
    let starts_after = expected_seq - 1;
    // Rows before the start can only be there if they were inserted.
    let below = sqlx::query("SELECT seq, id FROM audit_events WHERE seq < $1 ORDER BY seq LIMIT 1")
        .bind(expected_seq)
        .fetch_optional(pool)
        .await?;
    if let Some(row) = below {
        return Ok(Err(ChainBreak::NotLinked {
            seq: row.try_get("seq")?,
            id: row.try_get("id")?,
        }));
    }
    let mut rows = 0u64;
    loop {
        // Constant text only: the values are bound.
        let batch = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT_EVENT} WHERE seq >= $1 ORDER BY seq LIMIT $2"
        )))
        .bind(expected_seq)
        .bind(VERIFY_BATCH)
        .fetch_all(pool)
        .await?;
        if batch.is_empty() {
            break;
        }
        for row in &batch {
            let stored = read_row(row)?;
            if stored.seq != expected_seq {
                return Ok(Err(ChainBreak::Missing {
                    expected: expected_seq,
                    found: stored.seq,
                }));
            }
            if stored.prev_hash != prev_hash {
                return Ok(Err(ChainBreak::NotLinked {
                    seq: stored.seq,
                    id: stored.id,
                }));
            }
            let recomputed = chain_hash(
                &prev_hash,
                stored.seq,
                &stored.id,
                stored.occurred_at,
                &stored.event,
            );
            if recomputed != stored.hash {
                return Ok(Err(ChainBreak::Changed {
                    seq: stored.seq,
                    id: stored.id,
                }));
            }
            prev_hash = stored.hash;
            expected_seq += 1;
            rows += 1;
        }
    }
    let last = expected_seq - 1;
    if last < head_seq {
        return Ok(Err(ChainBreak::TailMissing {
            last,
            head: head_seq,
        }));
    }
    if last != head_seq || prev_hash != head_hash {
        return Ok(Err(ChainBreak::HeadMismatch { last }));
    }
    Ok(Ok(Verified {
        rows,
        starts_after,
        head_seq,
        head_hash,
    }))
}

async fn newest_anchor(pool: &AnyPool) -> Result<Option<PruneAnchor>, AuditError> {
    let row = sqlx::query(
        "SELECT seq, detail FROM audit_events WHERE event_type = $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(EventType::AuditPruned.as_ref())
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let detail: Option<String> = row.try_get("detail")?;
    let detail = detail.unwrap_or_default();
    serde_json::from_str(&detail)
        .map(Some)
        .map_err(|_| AuditError::Unreadable {
            seq: row.try_get("seq").unwrap_or_default(),
            column: "detail",
            value: detail,
        })
}

const SELECT_EVENT: &str = "SELECT seq, id, occurred_at, event_type, outcome, reason,
    account_id, credential_id, client_ip, browser, os, process_id, detail, prev_hash, hash,
    actor_id FROM audit_events";

fn read_row(row: &AnyRow) -> Result<StoredEvent, AuditError> {
    let seq: i64 = row.try_get("seq")?;
    let parse = |column: &'static str, value: String| AuditError::Unreadable { seq, column, value };
    let event_type: String = row.try_get("event_type")?;
    let outcome: String = row.try_get("outcome")?;
    let reason: Option<String> = row.try_get("reason")?;
    let event = Event {
        event_type: event_type
            .parse()
            .map_err(|_| parse("event_type", event_type.clone()))?,
        outcome: outcome
            .parse::<Outcome>()
            .map_err(|_| parse("outcome", outcome.clone()))?,
        reason: match reason {
            Some(reason) => Some(
                reason
                    .parse::<Reason>()
                    .map_err(|_| parse("reason", reason.clone()))?,
            ),
            None => None,
        },
        account: row.try_get("account_id")?,
        credential: row.try_get("credential_id")?,
        client: Client {
            ip: row.try_get("client_ip")?,
            browser: row.try_get("browser")?,
            os: row.try_get("os")?,
        },
        process: row.try_get("process_id")?,
        detail: row.try_get("detail")?,
        actor: row.try_get("actor_id")?,
    };
    Ok(StoredEvent {
        seq,
        id: row.try_get("id")?,
        occurred_at: row.try_get("occurred_at")?,
        event,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

/// Events matching `filter`, newest first, `limit` per page (at most [`MAX_PAGE`]); pass the
/// returned cursor to read the next (older) page.
pub async fn list(
    store: &Store,
    filter: &EventFilter,
    cursor: Option<i64>,
    limit: u32,
) -> Result<EventPage, AuditError> {
    let limit = limit.clamp(1, MAX_PAGE);
    let mut sql = format!("{SELECT_EVENT} WHERE seq < $1");
    let mut n = 1;
    let mut next = |sql: &mut String, clause: &str| {
        n += 1;
        sql.push_str(&clause.replace('?', &format!("${n}")));
    };
    if filter.account.is_some() {
        next(&mut sql, " AND account_id = ?");
    }
    if filter.outcome.is_some() {
        next(&mut sql, " AND outcome = ?");
    }
    if filter.since.is_some() {
        next(&mut sql, " AND occurred_at >= ?");
    }
    if filter.until.is_some() {
        next(&mut sql, " AND occurred_at < ?");
    }
    if !filter.types.is_empty() {
        let mut list = Vec::new();
        for _ in &filter.types {
            n += 1;
            list.push(format!("${n}"));
        }
        sql.push_str(&format!(" AND event_type IN ({})", list.join(", ")));
    }
    sql.push_str(&format!(
        " ORDER BY seq DESC LIMIT {}",
        i64::from(limit) + 1
    ));
    // Built from constant clauses and numbered placeholders only: every value is bound.
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(cursor.unwrap_or(i64::MAX));
    if let Some(account) = &filter.account {
        query = query.bind(account);
    }
    if let Some(outcome) = filter.outcome {
        query = query.bind(outcome.as_ref());
    }
    if let Some(since) = filter.since {
        query = query.bind(since);
    }
    if let Some(until) = filter.until {
        query = query.bind(until);
    }
    for ty in &filter.types {
        query = query.bind(ty.as_ref());
    }
    let rows = query.fetch_all(store.pool()).await?;
    let mut events = rows.iter().map(read_row).collect::<Result<Vec<_>, _>>()?;
    let next_cursor = if events.len() > limit as usize {
        events.truncate(limit as usize);
        events.last().map(|e| e.seq)
    } else {
        None
    };
    Ok(EventPage {
        events,
        next_cursor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> Event {
        Event::new(EventType::PasskeyCreated)
            .with_account("acc_1")
            .with_credential("cred-1")
    }

    #[test]
    fn the_hash_covers_every_field_and_the_previous_hash() {
        let base = chain_hash(GENESIS_HASH, 1, "evt_a", 100, &event());
        assert_eq!(base.len(), 64);
        assert_eq!(base, chain_hash(GENESIS_HASH, 1, "evt_a", 100, &event()));
        let mut changed = event();
        changed.client.os = Some("Linux".into());
        for other in [
            chain_hash(&"1".repeat(64), 1, "evt_a", 100, &event()),
            chain_hash(GENESIS_HASH, 2, "evt_a", 100, &event()),
            chain_hash(GENESIS_HASH, 1, "evt_b", 100, &event()),
            chain_hash(GENESIS_HASH, 1, "evt_a", 101, &event()),
            chain_hash(GENESIS_HASH, 1, "evt_a", 100, &changed),
            chain_hash(
                GENESIS_HASH,
                1,
                "evt_a",
                100,
                &event().with_reason(Reason::Replay),
            ),
        ] {
            assert_ne!(base, other);
        }
    }

    #[test]
    fn absent_and_empty_fields_hash_differently() {
        let mut empty = event();
        empty.detail = Some(String::new());
        assert_ne!(
            chain_hash(GENESIS_HASH, 1, "evt_a", 100, &event()),
            chain_hash(GENESIS_HASH, 1, "evt_a", 100, &empty)
        );
    }
}
