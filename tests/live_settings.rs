//! Settings operators change at run time: configuration defaults until a save, one message
//! per invalid field, a save in effect on another instance of the same PostgreSQL without a
//! restart, and the append step's re-offer after "Don't ask again".

mod support;

use std::time::Duration;

use latchkey::live_settings::{LiveSettingsError, LiveValues};
use support::*;

async fn login_allowed(app: &TestApp) -> bool {
    let (_, body) = app.front().init("login", &client_info(None)).await;
    body["loginAllowed"].as_bool().expect("loginAllowed")
}

async fn the_configuration_gives_the_defaults_until_a_save(db: Db) {
    let app = TestApp::start_with(
        db,
        &[
            ("LATCHKEY_CONNECT_APPEND_ROLLOUT_PERCENT", "40"),
            ("LATCHKEY_APPEND_SNOOZE_HOURS", "24"),
            ("LATCHKEY_APPEND_OFFER_AGAIN_DAYS", "30"),
        ],
    )
    .await;
    let live = &app.state.live;
    let defaults = LiveValues {
        passkeys_enabled: true,
        login_rollout_percent: 100,
        append_rollout_percent: 40,
        append_snooze_hours: 24,
        offer_again_after_days: 30,
    };
    assert_eq!(live.current(), defaults);
    let saved = LiveValues {
        passkeys_enabled: false,
        ..defaults
    };
    assert_eq!(live.save(saved).await.unwrap(), defaults, "the old values");
    assert_eq!(live.current(), saved);
    assert_eq!(live.defaults(), defaults);
    // The in-process passkey service follows at once: no passkey login is offered.
    assert!(!login_allowed(&app).await);
    live.save(defaults).await.unwrap();
    assert!(login_allowed(&app).await);
}

async fn invalid_values_are_refused_field_by_field(db: Db) {
    let app = TestApp::start(db).await;
    let live = &app.state.live;
    let before = live.current();
    let bad = LiveValues {
        login_rollout_percent: 120,
        offer_again_after_days: 100_000,
        ..before
    };
    match live.save(bad).await {
        Err(LiveSettingsError::Invalid(problems)) => {
            let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
            assert_eq!(fields, ["login_rollout_percent", "offer_again_after_days"]);
            assert!(problems[0].message.contains("0 to 100"));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(live.current(), before, "nothing was written");
}

/// "Don't ask again" stays until the operators' period has passed, then the offer is back.
async fn dont_ask_again_lapses_after_the_operators_period(db: Db) {
    let app = TestApp::start(db).await;
    let email = unique_email();
    let cookie = app.sign_up(&email, PASSWORD).await;
    assert_eq!(app.skip_append(&cookie, true).await, 200);
    let decision = |cookie: String| {
        let app = &app;
        async move {
            let res = app
                .call("append_decision", &[("next", "")], Some(&cookie))
                .await;
            res.json::<serde_json::Value>().await.unwrap()
        }
    };
    let cookie = session_cookie(&app.sign_in(&email, PASSWORD).await).unwrap();
    assert_eq!(decision(cookie).await, "OptedOut");

    // The operators let the offer come back after 30 days; the choice was 31 days ago.
    let live = LiveValues {
        offer_again_after_days: 30,
        ..app.state.live.current()
    };
    app.state.live.save(live).await.unwrap();
    let cookie = session_cookie(&app.sign_in(&email, PASSWORD).await).unwrap();
    assert_eq!(decision(cookie).await, "OptedOut", "only 0 days so far");
    sqlx::query("UPDATE accounts SET append_opt_out_at = append_opt_out_at - $1")
        .bind(31 * 86_400i64)
        .execute(app.state.store.pool())
        .await
        .unwrap();
    let cookie = session_cookie(&app.sign_in(&email, PASSWORD).await).unwrap();
    assert_eq!(
        decision(cookie).await,
        serde_json::json!({ "Offer": { "automatic_upgrade": true } })
    );
}

on_both_databases!(
    the_configuration_gives_the_defaults_until_a_save,
    invalid_values_are_refused_field_by_field,
    dont_ask_again_lapses_after_the_operators_period,
);

/// A save on one instance is in effect on the other without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_save_reaches_the_other_instance() {
    let first = TestApp::start(Db::Postgres).await;
    let second = TestApp::start_sharing(&first, &[]).await;
    assert!(login_allowed(&second).await);
    let off = LiveValues {
        passkeys_enabled: false,
        ..first.state.live.current()
    };
    first.state.live.save(off).await.unwrap();
    // The other instance re-reads every two seconds; a guard against a hang, not a timing
    // assertion.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while second.state.live.current() != off {
        assert!(tokio::time::Instant::now() < deadline, "never arrived");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!login_allowed(&second).await);
}
