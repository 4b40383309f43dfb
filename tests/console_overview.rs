//! The Overview's figures against hand-counted events, on both databases: logins per day by
//! method, the append funnel, passkey logins and their fallbacks, the share of active
//! accounts with a passkey, providers, the CSV, and roll-ups that count each event once.

mod support;

use latchkey::connect::providers::ProviderDirectory;
use latchkey::console::overview::{self, csv, DailyRow, CSV_HEADER};
use latchkey::events::{Event, EventType, Reason};
use support::*;

const DAY: i64 = 86_400;

async fn the_figures_match_the_events(db: Db) {
    let app = TestApp::start(db).await;
    let now = latchkey::store::now();
    // Two people sign up today (two password logins), one of them creates a passkey.
    let mut auth = TestPasskey::for_origin(&app.origin);
    let with_passkey = app.sign_up(&unique_email(), PASSWORD).await;
    app.sign_up(&unique_email(), PASSWORD).await;
    enrol_passkey(&app, &mut auth, &with_passkey).await;

    let events = &app.state.events;
    let record = |days_ago: i64, ty: EventType, reason: Option<Reason>, times: usize| {
        let events = events.clone();
        async move {
            for _ in 0..times {
                let mut event = Event::new(ty).with_account("acc_x");
                if let Some(reason) = reason {
                    event = event.with_reason(reason);
                }
                events
                    .try_record_at(now - days_ago * DAY, event)
                    .await
                    .expect("record");
            }
        }
    };
    use EventType::*;
    record(2, PasswordLoginSucceeded, None, 2).await;
    record(2, PasskeyLoginCompleted, None, 1).await;
    record(2, AppendOffered, None, 1).await;
    record(2, AppendSkipped, Some(Reason::UserSkipped), 1).await;
    record(1, PasskeyLoginStarted, Some(Reason::Identifier), 3).await;
    record(1, PasskeyLoginCompleted, None, 2).await;
    record(1, PasskeyLoginFellBack, Some(Reason::NoPasskey), 1).await;
    record(1, PasskeyLoginFailed, Some(Reason::Cancelled), 1).await;
    record(1, OidcLoginSucceeded, None, 1).await;
    record(1, PasskeyCreated, None, 2).await;
    record(1, AppendSkipped, Some(Reason::RolloutDenied), 1).await;
    record(1, AppendSkipped, None, 1).await;
    // Outside a week, inside a month.
    record(10, PasswordLoginSucceeded, None, 5).await;

    let store = &app.state.store;
    let week = overview::overview(store, &ProviderDirectory::shipped(), 7, now)
        .await
        .expect("overview");
    assert_eq!(week.days.len(), 7);
    let day = |days_ago: usize| week.days[6 - days_ago].clone();
    assert_eq!(
        day(0),
        DailyRow {
            date: overview::date_of(now.div_euclid(DAY)),
            password_logins: 2,
            passkeys_created: 1,
            ..DailyRow::default()
        }
    );
    assert_eq!(
        day(1),
        DailyRow {
            date: overview::date_of(now.div_euclid(DAY) - 1),
            passkey_logins: 2,
            oidc_logins: 1,
            passkeys_created: 2,
            append_skipped: 2,
            passkey_fallbacks: 1,
            ..DailyRow::default()
        }
    );
    assert_eq!(
        (
            day(2).password_logins,
            day(2).passkey_logins,
            day(2).append_skipped
        ),
        (2, 1, 1)
    );
    assert!(week.days[..4].iter().all(|d| d.password_logins == 0));
    assert_eq!(
        (week.append_offered, week.append_created),
        (1, 3),
        "offered → created"
    );
    assert_eq!(
        week.append_skipped,
        [
            ("rollout-denied".to_string(), 1),
            ("unknown".to_string(), 1),
            ("user-skipped".to_string(), 1)
        ]
    );
    assert_eq!(
        (
            week.passkey_started,
            week.passkey_completed,
            week.passkey_failed
        ),
        (3, 3, 1)
    );
    assert_eq!(week.passkey_fell_back, [("no-passkey".to_string(), 1)]);
    assert_eq!(week.active_accounts, 2);
    assert_eq!(week.active_with_passkey, Some(1));
    let passkeys: i64 = week.providers.iter().map(|(_, n)| n).sum();
    assert_eq!(passkeys, 1);

    // A month reaches the older logins.
    let month = overview::overview(store, &ProviderDirectory::shipped(), 30, now)
        .await
        .unwrap();
    let password: i64 = month.days.iter().map(|d| d.password_logins).sum();
    assert_eq!(password, 2 + 2 + 5);

    // Each event is counted once, however often the Overview is read.
    record(0, PasswordLoginSucceeded, None, 1).await;
    let again = overview::overview(store, &ProviderDirectory::shipped(), 7, now)
        .await
        .unwrap();
    assert_eq!(again.days[6].password_logins, 3);
    assert_eq!(again.days[5].passkey_logins, 2);

    let text = csv(&again.days);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], CSV_HEADER);
    assert_eq!(lines.len(), 8);
    assert_eq!(
        lines[7],
        format!("{},0,3,0,1,0,0", overview::date_of(now.div_euclid(DAY)))
    );
}

/// Retention removes audit rows; the daily counts keep them.
async fn the_counts_outlive_retention(db: Db) {
    let app = TestApp::start(db).await;
    let now = latchkey::store::now();
    let events = &app.state.events;
    for _ in 0..3 {
        events
            .try_record_at(now - 5 * DAY, Event::new(EventType::PasskeyLoginCompleted))
            .await
            .unwrap();
    }
    let store = &app.state.store;
    overview::catch_up(store).await.unwrap();
    latchkey::events::audit::prune(store, now - DAY, now)
        .await
        .unwrap();
    let week = overview::overview(store, &ProviderDirectory::shipped(), 7, now)
        .await
        .unwrap();
    assert_eq!(week.days[1].passkey_logins, 3);
}

on_both_databases!(the_figures_match_the_events, the_counts_outlive_retention);
