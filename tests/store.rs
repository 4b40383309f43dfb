//! The store and the session rules against both databases.
#![cfg(feature = "ssr")]

mod support;

use std::collections::HashMap;
use std::sync::Arc;

use http::header::{HeaderMap, HeaderValue, COOKIE};
use latchkey::config::Config;
use latchkey::idp::builtin::BuiltinIdp;
use latchkey::idp::{IdentityProvider, IdpError};
use latchkey::session::{AuthMethod, Sessions};
use latchkey::store::{now, Store};
use support::{cookie_pair, unique_email, Db, TestDb, PASSWORD};

async fn open(db: &TestDb) -> (Store, Config) {
    let env = HashMap::from([
        ("LATCHKEY_DATABASE_URL".to_string(), db.url.clone()),
        (
            "LATCHKEY_DATA_DIR".to_string(),
            db.dir.path().join("data").display().to_string(),
        ),
    ]);
    let config = Config::from_sources("", env).expect("config");
    let store = Store::open(&db.url).await.expect("open store");
    (store, config)
}

fn cookie_headers(set_cookie: &HeaderValue) -> HeaderMap {
    let pair = cookie_pair(set_cookie.to_str().unwrap());
    let mut headers = HeaderMap::new();
    headers.insert(
        COOKIE,
        HeaderValue::from_str(&format!("other=1; {pair}")).unwrap(),
    );
    headers
}

async fn accounts_are_upserted_by_idp_and_subject(db: Db) {
    let db = TestDb::new(db).await;
    let (store, _) = open(&db).await;
    let first = store
        .upsert_account("builtin", "bu_1", "a@example.com")
        .await
        .unwrap();
    let again = store
        .upsert_account("builtin", "bu_1", "new@example.com")
        .await
        .unwrap();
    assert_eq!(
        first.id, again.id,
        "same (idp, subject) is the same account"
    );
    assert_eq!(
        again.email, "new@example.com",
        "email is display data and follows the IdP"
    );
    let other = store
        .upsert_account("https://idp.example", "bu_1", "a@example.com")
        .await
        .unwrap();
    assert_ne!(
        other.id, first.id,
        "same subject at another issuer is another person"
    );
    assert_eq!(store.find_account(&first.id).await.unwrap(), Some(again));
    assert_eq!(store.find_account("acc_missing").await.unwrap(), None);
}

async fn sessions_expire_when_idle_or_too_old(db: Db) {
    let db = TestDb::new(db).await;
    let (store, config) = open(&db).await;
    let sessions = Sessions::new(store.clone(), &config);
    let account = store
        .upsert_account("builtin", "bu_1", "a@example.com")
        .await
        .unwrap();

    let (session, cookie) = sessions
        .start(&account.id, &account.email, AuthMethod::Password, None)
        .await
        .unwrap();
    let headers = cookie_headers(&cookie);
    let found = sessions.resolve(&headers).await.unwrap();
    assert_eq!(found.session.as_ref(), Some(&session));
    assert!(session.append_pending(), "a fresh login is append-pending");

    // Idle for longer than the idle timeout: gone, and the browser is told to drop the cookie.
    let idle = config.session.idle_timeout.as_secs() as i64;
    sqlx::query("UPDATE sessions SET last_seen_at = $1")
        .bind(now() - idle - 1)
        .execute(store.pool())
        .await
        .unwrap();
    let found = sessions.resolve(&headers).await.unwrap();
    assert!(found.session.is_none() && found.clear_cookie);
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(count, 0, "an expired session is deleted when seen");

    // Past the absolute expiry even while active.
    let (_, cookie) = sessions
        .start(&account.id, &account.email, AuthMethod::Password, None)
        .await
        .unwrap();
    let headers = cookie_headers(&cookie);
    sqlx::query("UPDATE sessions SET expires_at = $1")
        .bind(now() - 1)
        .execute(store.pool())
        .await
        .unwrap();
    assert!(sessions.resolve(&headers).await.unwrap().session.is_none());

    // The background purge removes both kinds without anyone visiting.
    for _ in 0..2 {
        sessions
            .start(&account.id, &account.email, AuthMethod::Password, None)
            .await
            .unwrap();
    }
    let (live, _) = sessions
        .start(&account.id, &account.email, AuthMethod::Passkey, None)
        .await
        .unwrap();
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE auth_method = 'password'")
        .bind(now() - idle - 5)
        .execute(store.pool())
        .await
        .unwrap();
    assert_eq!(sessions.purge_expired().await.unwrap().len(), 2);
    assert!(sessions.is_recent_login(&live));
    assert_eq!(live.auth_method(), "passkey");
}

async fn forged_or_malformed_cookies_find_nothing(db: Db) {
    let db = TestDb::new(db).await;
    let (store, config) = open(&db).await;
    let sessions = Sessions::new(store.clone(), &config);
    for value in [
        "",
        "short",
        "x".repeat(43).as_str(),
        "'; DROP TABLE sessions; --",
    ] {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_str(&format!("latchkey_session={value}")).unwrap(),
        );
        let found = sessions.resolve(&headers).await.unwrap();
        assert!(found.session.is_none(), "{value:?}");
    }
    // The table stores only keyed hashes, never the token itself.
    let account = store
        .upsert_account("builtin", "bu_1", "a@example.com")
        .await
        .unwrap();
    let (_, cookie) = sessions
        .start(&account.id, &account.email, AuthMethod::Password, None)
        .await
        .unwrap();
    let token = cookie
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .split('=')
        .nth(1)
        .unwrap()
        .to_string();
    let stored: String = sqlx::query_scalar("SELECT id_hash FROM sessions")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(!stored.contains(&token));
    assert_eq!(stored.len(), 64);
}

async fn concurrent_sign_ups_for_one_email_create_one_user(db: Db) {
    let db = TestDb::new(db).await;
    let (store, _) = open(&db).await;
    let idp = Arc::new(BuiltinIdp::new(store.clone()).unwrap());
    let email = unique_email();
    let attempts = (0..4).map(|_| {
        let idp = idp.clone();
        let email = email.clone();
        tokio::spawn(async move { idp.sign_up(&email, PASSWORD).await })
    });
    let mut created = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(_) => created += 1,
            Err(IdpError::EmailTaken) => {}
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    assert_eq!(created, 1);
    let identity = idp.sign_in_with_password(&email, PASSWORD).await.unwrap();
    assert_eq!(identity.email, email);
    assert!(matches!(
        idp.sign_in_with_password(&email, "wrong password").await,
        Err(IdpError::InvalidCredentials)
    ));
}

on_both_databases!(
    accounts_are_upserted_by_idp_and_subject,
    sessions_expire_when_idle_or_too_old,
    forged_or_malformed_cookies_find_nothing,
    concurrent_sign_ups_for_one_email_create_one_user,
);

// SQLite's own settings: there is nothing to check on PostgreSQL.
#[tokio::test]
async fn sqlite_runs_in_wal_mode() {
    let db = TestDb::new(Db::Sqlite).await;
    let (store, _) = open(&db).await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(mode.to_lowercase(), "wal");
    let timeout: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(timeout, 5000);
}
