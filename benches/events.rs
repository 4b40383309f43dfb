//! The audit log's costs, on SQLite and PostgreSQL (run under scripts/with-postgres.sh):
//!
//! - recording one event (the transaction that appends it to the chain), the cost each
//!   event adds to a request;
//! - with one million rows: one account's timeline, one day's events, one type's newest
//!   page, the console's Overview of 90 days (after its one-time fold into daily counts),
//!   and walking the whole chain (`audit verify`).
//!
//! Run: `scripts/with-postgres.sh cargo bench --features ssr --bench events`. The million
//! rows are written once per database in batches (hashes computed as the chain does).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use latchkey::events::audit::{self, chain_hash, GENESIS_HASH};
use latchkey::events::{Event, EventFilter, EventType, Events, Reason};
use latchkey::store::Store;
use support::{Db, TestDb};

const ROWS: i64 = 1_000_000;
const ACCOUNTS: i64 = 20_000;
/// A day of events: the rows are spread over 100 days.
const DAY: i64 = 86_400;
const START: i64 = 1_700_000_000;

fn databases() -> Vec<Db> {
    let mut dbs = vec![Db::Sqlite];
    if std::env::var("LATCHKEY_TEST_POSTGRES_URL").is_ok() {
        dbs.push(Db::Postgres);
    }
    dbs
}

async fn open(db: Db) -> (TestDb, Store, Events) {
    let db = TestDb::new(db).await;
    let store = Store::open(&db.url).await.expect("store");
    let events = Events::open(store.clone(), Default::default())
        .await
        .expect("events");
    (db, store, events)
}

fn login_event(i: i64) -> Event {
    let kind = match i % 4 {
        0 => EventType::PasswordLoginSucceeded,
        1 => EventType::PasskeyLoginStarted,
        2 => EventType::PasskeyLoginCompleted,
        _ => EventType::SignedOut,
    };
    let mut event = Event::new(kind).with_account(format!("acc_{:06}", i % ACCOUNTS));
    if kind == EventType::PasskeyLoginStarted {
        event = event.with_reason(Reason::Identifier);
    }
    event
}

fn record_one(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    for db in databases() {
        let (_db, _store, events) = rt.block_on(open(db));
        let mut i = 0;
        c.bench_function(&format!("record one event ({db:?})"), |b| {
            b.to_async(&rt).iter(|| {
                i += 1;
                let events = events.clone();
                let event = login_event(i);
                async move { events.try_record_at(START, event).await.expect("record") }
            })
        });
    }
}

/// Writes `ROWS` chained rows in batches of multi-row INSERTs.
async fn fill(store: &Store) {
    let mut prev = GENESIS_HASH.to_string();
    let mut seq = 0;
    while seq < ROWS {
        let mut tx = store.pool().begin().await.expect("tx");
        for _ in 0..20 {
            let mut sql = String::from(
                "INSERT INTO audit_events (seq, id, occurred_at, event_type, outcome, reason,
                     account_id, prev_hash, hash) VALUES ",
            );
            for n in 0..1000 {
                seq += 1;
                let event = login_event(seq);
                let id = format!("evt_{seq:08}");
                let at = START + seq * (100 * DAY) / ROWS;
                let hash = chain_hash(&prev, seq, &id, at, &event);
                if n > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "({seq}, '{id}', {at}, '{}', '{}', {}, '{}', '{prev}', '{hash}')",
                    event.event_type.as_ref(),
                    event.outcome.as_ref(),
                    event
                        .reason
                        .map_or("NULL".to_string(), |r| format!("'{}'", r.as_ref())),
                    event.account.as_deref().unwrap_or_default(),
                ));
                prev = hash;
            }
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut *tx)
                .await
                .expect("insert");
            if seq >= ROWS {
                break;
            }
        }
        tx.commit().await.expect("commit");
    }
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(seq)
        .bind(&prev)
        .execute(store.pool())
        .await
        .expect("head");
}

fn a_million_rows(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    for db in databases() {
        let (_db, store, events) = rt.block_on(open(db));
        let filled = Instant::now();
        rt.block_on(fill(&store));
        eprintln!("{db:?}: wrote {ROWS} rows in {:.1?}", filled.elapsed());
        let mut group = c.benchmark_group(format!("one million rows ({db:?})"));
        group.sample_size(20);
        let filters = [
            (
                "one account's timeline (newest 50)",
                EventFilter {
                    account: Some("acc_004242".into()),
                    ..EventFilter::default()
                },
            ),
            (
                "one day's events (newest 50)",
                EventFilter {
                    since: Some(START + 42 * DAY),
                    until: Some(START + 43 * DAY),
                    ..EventFilter::default()
                },
            ),
            (
                "one type's newest 50",
                EventFilter {
                    types: vec![EventType::SignedOut],
                    ..EventFilter::default()
                },
            ),
        ];
        for (name, filter) in filters {
            group.bench_function(name, |b| {
                b.to_async(&rt).iter(|| {
                    let (events, filter) = (events.clone(), filter.clone());
                    async move {
                        let page = events.list(&filter, None, 50).await.expect("list");
                        assert!(!page.events.is_empty());
                    }
                })
            });
        }
        // The console's Overview: the first read folds the million events into daily
        // counts (timed once); later reads fold only what is new.
        let folded = Instant::now();
        let n = rt
            .block_on(latchkey::console::overview::catch_up(&store))
            .expect("catch up");
        eprintln!(
            "{db:?}: folded {n} events into daily counts in {:.1?}",
            folded.elapsed()
        );
        let now = START + 100 * DAY;
        // What the Overview page's server function does: the figures and both charts.
        group.bench_function("the Overview page of 90 days (figures and charts)", |b| {
            b.to_async(&rt).iter(|| {
                let store = store.clone();
                async move {
                    let overview = latchkey::console::overview::overview(
                        &store,
                        &latchkey::connect::providers::ProviderDirectory::shipped(),
                        90,
                        now,
                    )
                    .await
                    .expect("overview");
                    let logins = latchkey::console::charts::logins_per_day(&overview.days);
                    let providers = latchkey::console::charts::providers(&overview.providers);
                    assert!(logins.starts_with("<svg") && providers.starts_with("<svg"));
                }
            })
        });
        group.finish();
        // Walking the chain takes seconds: timed once, not sampled.
        let walked = Instant::now();
        let verified = rt
            .block_on(audit::verify(&store))
            .expect("verify")
            .expect("intact");
        eprintln!(
            "{db:?}: audit verify walked {} rows in {:.1?}",
            verified.rows,
            walked.elapsed()
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = record_one, a_million_rows
}
criterion_main!(benches);
