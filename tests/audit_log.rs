//! The audit log on real databases: events are chained in order, `audit verify` (the binary's
//! subcommand) names the first changed, deleted or inserted row, retention leaves a
//! checkpoint that verification accepts, instances writing at once on PostgreSQL never fork
//! the chain, and events read back with filters and cursors.

mod support;

use latchkey::events::audit::{self, ChainBreak};
use latchkey::events::{Event, EventFilter, EventType, Events, Reason};
use latchkey::store::Store;
use support::{test_env, Db, TestDb};

async fn open(db: &TestDb) -> (Store, Events) {
    let store = Store::open(&db.url).await.expect("store");
    let events = Events::open(store.clone(), Default::default())
        .await
        .expect("events");
    (store, events)
}

/// Ten events, one a minute from `start`, alternating between two accounts.
async fn record_ten(events: &Events, start: i64) {
    for i in 0..10 {
        let account = if i % 2 == 0 { "acc_even" } else { "acc_odd" };
        let event = Event::new(EventType::PasswordLoginFailed)
            .with_reason(Reason::WrongCredentials)
            .with_account(account);
        events
            .try_record_at(start + i * 60, event)
            .await
            .expect("record");
    }
}

/// A fresh log with [`record_ten`]'s rows.
async fn ten_rows(db: Db) -> (TestDb, Store, Events) {
    let db = TestDb::new(db).await;
    let (store, events) = open(&db).await;
    record_ten(&events, 1_000_000).await;
    (db, store, events)
}

async fn verify(store: &Store) -> Result<audit::Verified, ChainBreak> {
    audit::verify(store).await.expect("verify runs")
}

/// Tampering, as someone with write access to the database would.
async fn exec(store: &Store, sql: &str) {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(store.pool())
        .await
        .expect(sql);
}

async fn an_untouched_chain_verifies(db: Db) {
    let db = TestDb::new(db).await;
    let (store, events) = open(&db).await;
    assert_eq!(verify(&store).await.expect("empty chain").rows, 0);
    record_ten(&events, 1_000_000).await;
    let verified = verify(&store).await.expect("intact");
    assert_eq!((verified.rows, verified.head_seq), (10, 10));
}

async fn an_edited_row_is_named(db: Db) {
    let (_db, store, _) = ten_rows(db).await;
    exec(
        &store,
        "UPDATE audit_events SET reason = 'disabled' WHERE seq = 4",
    )
    .await;
    assert!(matches!(
        verify(&store).await,
        Err(ChainBreak::Changed { seq: 4, .. })
    ));
}

async fn a_deleted_row_is_named(db: Db) {
    let (_db, store, _) = ten_rows(db).await;
    exec(&store, "DELETE FROM audit_events WHERE seq = 6").await;
    assert_eq!(
        verify(&store).await.unwrap_err(),
        ChainBreak::Missing {
            expected: 6,
            found: 7
        }
    );
}

async fn deleting_the_newest_rows_is_seen(db: Db) {
    let (_db, store, _) = ten_rows(db).await;
    exec(&store, "DELETE FROM audit_events WHERE seq >= 9").await;
    assert_eq!(
        verify(&store).await.unwrap_err(),
        ChainBreak::TailMissing { last: 8, head: 10 }
    );
}

/// A forger who inserts a row with a correctly computed hash, renumbering the rows after
/// it, is caught where the next row no longer follows.
async fn an_inserted_row_is_named(db: Db) {
    let (_db, store, events) = ten_rows(db).await;
    let page = events
        .list(&EventFilter::default(), None, 100)
        .await
        .expect("list");
    let row3 = page.events.iter().find(|e| e.seq == 3).expect("row 3");
    // Make room after row 3 (descending, so the primary key never collides).
    for seq in (4..=10).rev() {
        exec(
            &store,
            &format!(
                "UPDATE audit_events SET seq = {} WHERE seq = {seq}",
                seq + 1
            ),
        )
        .await;
    }
    let forged = Event::new(EventType::PasskeyLoginCompleted).with_account("acc_even");
    let hash = audit::chain_hash(&row3.hash, 4, "evt_forged", 1_000_200, &forged);
    sqlx::query(
        "INSERT INTO audit_events (seq, id, occurred_at, event_type, outcome, account_id,
             prev_hash, hash)
         VALUES (4, 'evt_forged', 1000200, 'passkey-login.completed', 'success', 'acc_even',
             $1, $2)",
    )
    .bind(&row3.hash)
    .bind(&hash)
    .execute(store.pool())
    .await
    .expect("insert");
    assert!(matches!(
        verify(&store).await,
        Err(ChainBreak::NotLinked { seq: 5, .. })
    ));
    // With a careless hash, the inserted row itself is named.
    exec(&store, "UPDATE audit_events SET hash = 'x' WHERE seq = 4").await;
    assert!(matches!(
        verify(&store).await,
        Err(ChainBreak::Changed { seq: 4, .. })
    ));
}

async fn retention_leaves_a_checkpoint_that_verifies(db: Db) {
    let (_db, store, events) = ten_rows(db).await;
    // Rows 1–4 are older than the cutoff.
    let removed = audit::prune(&store, 1_000_000 + 4 * 60, 2_000_000)
        .await
        .expect("prune");
    assert_eq!(removed, 4);
    let verified = verify(&store).await.expect("intact after retention");
    assert_eq!(verified.starts_after, 4);
    assert_eq!((verified.rows, verified.head_seq), (7, 11));
    // Nothing more to remove: the chain is left as it is.
    assert_eq!(
        audit::prune(&store, 1_000_000 + 4 * 60, 2_000_000)
            .await
            .expect("prune"),
        0
    );
    // A second retention pass moves the checkpoint on.
    events
        .try_record_at(2_000_100, Event::new(EventType::SignedOut))
        .await
        .expect("record");
    // Rows 5–10 go; the first checkpoint (row 11) is newer than the cutoff and stays.
    assert_eq!(
        audit::prune(&store, 1_500_000, 2_000_200)
            .await
            .expect("prune"),
        6
    );
    let verified = verify(&store).await.expect("intact after the second pass");
    assert_eq!((verified.starts_after, verified.head_seq), (10, 13));
}

/// Retention's checkpoint cannot be used to hide a deletion.
async fn deleting_behind_a_checkpoint_is_seen(db: Db) {
    let (_db, store, _) = ten_rows(db).await;
    audit::prune(&store, 1_000_000 + 4 * 60, 2_000_000)
        .await
        .expect("prune");
    // The first row after the checkpoint goes.
    exec(&store, "DELETE FROM audit_events WHERE seq = 5").await;
    assert_eq!(
        verify(&store).await.unwrap_err(),
        ChainBreak::Missing {
            expected: 5,
            found: 6
        }
    );
}

async fn a_forged_checkpoint_is_seen(db: Db) {
    let (_db, store, _) = ten_rows(db).await;
    audit::prune(&store, 1_000_000 + 4 * 60, 2_000_000)
        .await
        .expect("prune");
    // Claiming more was pruned, to hide rows 5–6, changes the checkpoint row.
    exec(&store, "DELETE FROM audit_events WHERE seq IN (5, 6)").await;
    exec(
        &store,
        "UPDATE audit_events SET detail = REPLACE(detail, '\"through_seq\":4', '\"through_seq\":6')
         WHERE event_type = 'audit.pruned'",
    )
    .await;
    assert!(verify(&store).await.is_err());
}

async fn events_read_back_by_account_type_and_time_with_cursors(db: Db) {
    let db = TestDb::new(db).await;
    let (_store, events) = open(&db).await;
    record_ten(&events, 1_000_000).await;
    events
        .try_record_at(
            1_000_000 + 11 * 60,
            Event::new(EventType::SignedOut).with_account("acc_even"),
        )
        .await
        .expect("record");
    let even = EventFilter {
        account: Some("acc_even".into()),
        ..EventFilter::default()
    };
    let first = events.list(&even, None, 4).await.expect("page 1");
    assert_eq!(first.events.len(), 4);
    assert_eq!(first.events[0].event.event_type, EventType::SignedOut);
    assert!(first.events.windows(2).all(|w| w[0].seq > w[1].seq));
    let second = events
        .list(&even, first.next_cursor, 4)
        .await
        .expect("page 2");
    assert_eq!(second.events.len(), 2);
    assert_eq!(second.next_cursor, None);
    assert!(second.events[0].seq < first.events[3].seq);

    let logouts = EventFilter {
        types: vec![EventType::SignedOut],
        ..EventFilter::default()
    };
    assert_eq!(
        events.list(&logouts, None, 50).await.unwrap().events.len(),
        1
    );

    // Minutes 2, 3 and 4: a half-open range.
    let window = EventFilter {
        since: Some(1_000_000 + 2 * 60),
        until: Some(1_000_000 + 5 * 60),
        ..EventFilter::default()
    };
    let seqs: Vec<i64> = events
        .list(&window, None, 50)
        .await
        .unwrap()
        .events
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, vec![5, 4, 3]);
}

/// Events recorded at the same moment are written together (group commit): each caller gets
/// back its own row, and the chain holds every one of them, unbroken.
async fn events_recorded_at_once_each_get_their_own_row(db: Db) {
    let db = TestDb::new(db).await;
    let (store, events) = open(&db).await;
    let recorded = futures::future::join_all((0..100).map(|i| {
        let events = events.clone();
        async move {
            let event = Event::new(EventType::PasskeyLoginStarted)
                .with_reason(Reason::Button)
                .with_account(format!("acc_{i}"));
            (i, events.try_record_at(1_000_000 + i, event).await)
        }
    }))
    .await;
    let mut seqs = std::collections::BTreeSet::new();
    for (i, stored) in recorded {
        let stored = stored.expect("recorded");
        assert_eq!(
            stored.event.account.as_deref(),
            Some(format!("acc_{i}").as_str())
        );
        assert_eq!(stored.occurred_at, 1_000_000 + i);
        let row_account: Option<String> =
            sqlx::query_scalar("SELECT account_id FROM audit_events WHERE seq = $1")
                .bind(stored.seq)
                .fetch_one(store.pool())
                .await
                .expect("row");
        assert_eq!(
            row_account, stored.event.account,
            "row {} is the caller's",
            stored.seq
        );
        seqs.insert(stored.seq);
    }
    assert_eq!(seqs, (1..=100).collect(), "one row each, no gap");
    let verified = verify(&store).await.expect("intact");
    assert_eq!((verified.rows, verified.head_seq), (100, 100));
}

on_both_databases!(
    events_recorded_at_once_each_get_their_own_row,
    an_untouched_chain_verifies,
    an_edited_row_is_named,
    a_deleted_row_is_named,
    deleting_the_newest_rows_is_seen,
    an_inserted_row_is_named,
    retention_leaves_a_checkpoint_that_verifies,
    deleting_behind_a_checkpoint_is_seen,
    a_forged_checkpoint_is_seen,
    events_read_back_by_account_type_and_time_with_cursors,
);

/// Several instances (separate pools, as separate processes have) writing at once: one
/// chain, every event in it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_writing_at_once_keep_one_chain_on_postgres() {
    let db = TestDb::new(Db::Postgres).await;
    let mut writers = Vec::new();
    for instance in 0..4 {
        let (_, events) = open(&db).await;
        writers.push(tokio::spawn(async move {
            for i in 0..50 {
                let event = Event::new(EventType::PasskeyLoginStarted)
                    .with_reason(Reason::Button)
                    .with_account(format!("acc_{instance}_{i}"));
                events
                    .try_record_at(1_000_000, event)
                    .await
                    .expect("record");
            }
        }));
    }
    for writer in writers {
        writer.await.expect("writer");
    }
    let (store, _) = open(&db).await;
    let verified = verify(&store).await.expect("one unbroken chain");
    assert_eq!((verified.rows, verified.head_seq), (200, 200));
}

/// An event the database refuses (here a trigger, standing in for any constraint) fails
/// alone: the events written in the same batch are recorded all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_the_database_refuses_fails_alone() {
    let db = TestDb::new(Db::Postgres).await;
    let (store, events) = open(&db).await;
    exec(
        &store,
        "CREATE FUNCTION refuse_marked() RETURNS trigger AS $$
         BEGIN
           IF NEW.detail = 'refuse me' THEN RAISE EXCEPTION 'refused'; END IF;
           RETURN NEW;
         END $$ LANGUAGE plpgsql",
    )
    .await;
    exec(
        &store,
        "CREATE TRIGGER refuse_marked BEFORE INSERT ON audit_events
         FOR EACH ROW EXECUTE FUNCTION refuse_marked()",
    )
    .await;
    let recorded = futures::future::join_all((0..20).map(|i| {
        let events = events.clone();
        async move {
            let detail = if i == 7 { "refuse me" } else { "fine" };
            let event = Event::new(EventType::PasskeyLoginStarted)
                .with_reason(Reason::Button)
                .with_detail(detail);
            events.try_record_at(1_000_000, event).await
        }
    }))
    .await;
    for (i, outcome) in recorded.iter().enumerate() {
        assert_eq!(outcome.is_ok(), i != 7, "event {i}: {outcome:?}");
    }
    let verified = verify(&store).await.expect("intact");
    assert_eq!((verified.rows, verified.head_seq), (19, 19));
}

/// `latchkey audit verify`, the binary: exit status and the line it prints.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_verify_command_fails_naming_the_row() {
    let db = TestDb::new(Db::Sqlite).await;
    let (store, events) = open(&db).await;
    record_ten(&events, 1_000_000).await;
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_latchkey"))
            .args(["audit", "verify"])
            .current_dir(db.dir.path())
            .env_clear()
            .env("RUST_LOG", "warn")
            .envs(test_env(&db.url, db.dir.path()))
            .env("LATCHKEY_SESSION_SECRET", "x".repeat(40))
            .output()
            .expect("run latchkey audit verify")
    };
    let intact = run();
    assert!(intact.status.success(), "{intact:?}");
    assert!(String::from_utf8_lossy(&intact.stdout).contains("10 row(s) checked"));
    exec(
        &store,
        "UPDATE audit_events SET account_id = 'acc_other' WHERE seq = 7",
    )
    .await;
    let broken = run();
    assert!(!broken.status.success());
    let said = String::from_utf8_lossy(&broken.stderr);
    assert!(said.contains("row 7"), "{said}");
    assert!(said.contains("was changed"), "{said}");
}
