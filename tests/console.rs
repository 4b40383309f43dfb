//! The operator console over real HTTP: who gets in (operators with a recent login; the 404
//! page for everyone else, exactly as for an address that does not exist), every admin
//! server function's authorisation, and what the actions do and record (the operator as
//! actor, old → new).

mod support;

use latchkey::events::{EventFilter, EventType, Outcome, Reason};
use serde_json::Value;
use support::*;

const OPERATOR: &str = "ops@console.example.com";

async fn console_app(db: Db) -> TestApp {
    TestApp::start_with(db, &[("LATCHKEY_ADMIN_EMAILS", OPERATOR)]).await
}

/// A person past the append step: their session cookie.
async fn active_person(app: &TestApp, email: &str) -> String {
    let cookie = app.sign_up(email, PASSWORD).await;
    assert_eq!(app.skip_append(&cookie, false).await, 200);
    cookie
}

/// Makes the session's login older than the re-authentication window.
async fn make_login_stale(app: &TestApp, email: &str) {
    sqlx::query(
        "UPDATE sessions SET authenticated_at = authenticated_at - 86400
         WHERE account_id IN (SELECT id FROM accounts WHERE email = $1)",
    )
    .bind(email)
    .execute(app.state.store.pool())
    .await
    .unwrap();
}

async fn account_id(app: &TestApp, email: &str) -> String {
    app.state
        .store
        .find_account_by_email(app.state.idp.issuer(), email)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// The body without the per-response nonce (the only thing that may differ).
fn without_nonce(html: &str) -> String {
    let nonce = html
        .split_once("nonce=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(nonce, _)| nonce.to_string());
    match nonce {
        Some(nonce) if !nonce.is_empty() => html.replace(&nonce, "#"),
        _ => html.to_string(),
    }
}

/// Every server function of the console, with arguments it accepts.
fn admin_calls(account: &str) -> Vec<(&'static str, Vec<(&'static str, String)>)> {
    let a = account.to_string();
    vec![
        ("admin/overview", vec![("days", "30".into())]),
        ("admin/search_accounts", vec![("query", "".into())]),
        ("admin/account", vec![("id", a.clone())]),
        (
            "admin/delete_passkey",
            vec![("account_id", a.clone()), ("passkey_id", "cre-none".into())],
        ),
        ("admin/sign_out_everywhere", vec![("account_id", a.clone())]),
        (
            "admin/set_account_disabled",
            vec![("account_id", a.clone()), ("disabled", "false".into())],
        ),
        (
            "admin/block_passkeys",
            vec![("account_id", a.clone()), ("days", "".into())],
        ),
        ("admin/unblock_passkeys", vec![("account_id", a.clone())]),
        ("admin/settings", vec![]),
        (
            "admin/save_settings",
            vec![
                ("passkeys_enabled", "on".into()),
                ("login_rollout_percent", "100".into()),
                ("append_rollout_percent", "100".into()),
                ("append_snooze_hours", "0".into()),
                ("offer_again_after_days", "0".into()),
            ],
        ),
        ("admin/events", vec![("days", "7".into())]),
    ]
}

/// The account page's data, as the operator's browser gets it.
async fn account_page(app: &TestApp, id: &str, operator: &str) -> Value {
    let (status, body) = call(
        app,
        "admin/account",
        &[("id", id.to_string())],
        Some(operator),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

const CONSOLE_PAGES: [&str; 6] = [
    "/admin",
    "/admin/accounts",
    "/admin/accounts/acc-anything",
    "/admin/settings",
    "/admin/events",
    "/admin/overview.csv?days=30",
];

async fn call(
    app: &TestApp,
    endpoint: &str,
    form: &[(&'static str, String)],
    cookie: Option<&str>,
) -> (u16, String) {
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = app.call(endpoint, &form, cookie).await;
    (res.status().as_u16(), res.text().await.unwrap_or_default())
}

async fn the_console_does_not_exist_for_anyone_else(db: Db) {
    let app = console_app(db).await;
    let person = active_person(&app, &unique_email()).await;
    let someone = account_id(
        &app,
        &app.state.store.search_accounts("").await.unwrap()[0].email,
    )
    .await;
    let unknown_page = app.get("/no-such-page", None).await;
    assert_eq!(unknown_page.status(), 404);
    let unknown_page = without_nonce(&unknown_page.text().await.unwrap());
    let (unknown_fn_status, unknown_fn) = call(&app, "admin/no-such-function", &[], None).await;
    assert_eq!(unknown_fn_status, 404);
    for cookie in [None, Some(person.as_str())] {
        for path in CONSOLE_PAGES {
            let res = app.get(path, cookie).await;
            assert_eq!(res.status(), 404, "{path} as {cookie:?}");
            let body = without_nonce(&res.text().await.unwrap());
            assert_eq!(
                body, unknown_page,
                "{path} must look like an unknown address"
            );
        }
        for (endpoint, form) in admin_calls(&someone) {
            let (status, body) = call(&app, endpoint, &form, cookie).await;
            assert_eq!(status, 404, "{endpoint} as {cookie:?}: {body}");
            assert_eq!(
                without_nonce(&body),
                without_nonce(&unknown_fn),
                "{endpoint} must look like an unknown one"
            );
        }
    }
    // Nothing was changed by all those calls.
    let settings_changes = app
        .state
        .events
        .list(
            &EventFilter {
                types: vec![EventType::SettingsChanged],
                outcome: Some(Outcome::Info),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert!(settings_changes
        .events
        .iter()
        .all(|e| e.event.actor.is_none()));
}

async fn operators_need_a_recent_login(db: Db) {
    let app = console_app(db).await;
    let operator = active_person(&app, OPERATOR).await;
    let email = unique_email();
    active_person(&app, &email).await;
    let someone = account_id(&app, &email).await;
    // With a fresh login: every page and every function answers.
    for path in CONSOLE_PAGES {
        let res = app.get(path, Some(&operator)).await;
        assert_eq!(res.status(), 200, "{path}");
    }
    for (endpoint, form) in admin_calls(&someone) {
        let (status, body) = call(&app, endpoint, &form, Some(&operator)).await;
        // Deleting a passkey that does not exist is "not found"; everything else works.
        let expected = if endpoint == "admin/delete_passkey" {
            404
        } else {
            200
        };
        assert_eq!(status, expected, "{endpoint}: {body}");
    }
    // Too old: pages go to a fresh sign-in and back; functions ask to confirm.
    make_login_stale(&app, OPERATOR).await;
    let res = app.get("/admin/settings", Some(&operator)).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        location(&res).as_deref(),
        Some("/login?next=/admin/settings")
    );
    for (endpoint, form) in admin_calls(&someone) {
        let (status, body) = call(&app, endpoint, &form, Some(&operator)).await;
        assert_eq!(status, 403, "{endpoint}: {body}");
        assert!(body.contains("reauth_required"), "{endpoint}: {body}");
    }
    // Signing in again opens it (after the append step, like every login).
    let again = session_cookie(&app.sign_in(OPERATOR, PASSWORD).await).unwrap();
    let res = app.get("/admin", Some(&again)).await;
    assert_eq!(res.status(), 303, "the append step comes first");
    assert_eq!(location(&res).as_deref(), Some("/append?next=/admin"));
    assert_eq!(app.skip_append(&again, false).await, 200);
    assert_eq!(app.get("/admin", Some(&again)).await.status(), 200);
}

async fn actions_are_recorded_with_the_operator(db: Db) {
    let app = console_app(db).await;
    let operator = active_person(&app, OPERATOR).await;
    let me = account_id(&app, OPERATOR).await;
    let email = unique_email();
    let person = active_person(&app, &email).await;
    let id = account_id(&app, &email).await;
    let form = |extra: &[(&'static str, &str)]| {
        let mut form = vec![("account_id", id.clone())];
        form.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        form
    };

    // Disable: the person's session ends and the password no longer works.
    let (status, body) = call(
        &app,
        "admin/set_account_disabled",
        &form(&[("disabled", "true")]),
        Some(&operator),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.get("/dashboard", Some(&person)).await.status(), 303);
    assert_eq!(app.sign_in(&email, PASSWORD).await.status(), 401);
    let detail = account_page(&app, &id, &operator).await;
    assert_eq!(detail["disabled"], true);
    call(
        &app,
        "admin/set_account_disabled",
        &form(&[("disabled", "false")]),
        Some(&operator),
    )
    .await;
    let person = session_cookie(&app.sign_in(&email, PASSWORD).await).expect("enabled again");

    // Sign out everywhere.
    let (status, _) = call(
        &app,
        "admin/sign_out_everywhere",
        &form(&[]),
        Some(&operator),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(app.get("/dashboard", Some(&person)).await.status(), 303);

    // Block passkeys for a week, then lift it.
    let (status, body) = call(
        &app,
        "admin/block_passkeys",
        &form(&[("days", "7")]),
        Some(&operator),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(app
        .state
        .store
        .passkeys_blocked(&id, latchkey::store::now())
        .await
        .unwrap());
    let (status, body) = call(
        &app,
        "admin/block_passkeys",
        &form(&[("days", "0")]),
        Some(&operator),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    call(&app, "admin/unblock_passkeys", &form(&[]), Some(&operator)).await;
    assert!(!app
        .state
        .store
        .passkeys_blocked(&id, latchkey::store::now())
        .await
        .unwrap());

    // Settings: each change old → new.
    let settings = [
        ("passkeys_enabled", "on".to_string()),
        ("login_rollout_percent", "40".into()),
        ("append_rollout_percent", "100".into()),
        ("append_snooze_hours", "0".into()),
        ("offer_again_after_days", "0".into()),
    ];
    let (status, body) = call(&app, "admin/save_settings", &settings, Some(&operator)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.state.live.current().login_rollout_percent, 40);

    let events = app
        .state
        .events
        .list(&EventFilter::default(), None, 100)
        .await
        .unwrap()
        .events;
    let by_operator = |ty: EventType| {
        events
            .iter()
            .find(|e| e.event.event_type == ty && e.event.actor.as_deref() == Some(me.as_str()))
            .unwrap_or_else(|| panic!("no {ty} by the operator"))
            .event
            .clone()
    };
    let disabled = by_operator(EventType::AccountDisabled);
    assert_eq!(disabled.account.as_deref(), Some(id.as_str()));
    assert_eq!(
        disabled.detail.as_deref(),
        Some("status: Active → Disabled")
    );
    assert_eq!(
        by_operator(EventType::AccountEnabled).detail.as_deref(),
        Some("status: Disabled → Active")
    );
    let ended = by_operator(EventType::SessionEnded);
    assert_eq!(ended.reason, Some(Reason::Revoked));
    assert!(by_operator(EventType::PasskeysBlocked)
        .detail
        .unwrap()
        .starts_with("passkeys: not blocked → blocked until "));
    assert!(by_operator(EventType::PasskeysUnblocked)
        .detail
        .unwrap()
        .ends_with("→ not blocked"));
    assert_eq!(
        by_operator(EventType::SettingsChanged).detail.as_deref(),
        Some("login_rollout_percent: 100 → 40")
    );
    // The chain still verifies with the new column.
    assert!(latchkey::events::audit::verify(&app.state.store)
        .await
        .unwrap()
        .is_ok());
}

async fn a_blocked_account_gets_no_passkey_login_or_offer(db: Db) {
    let app = console_app(db).await;
    let operator = active_person(&app, OPERATOR).await;
    let email = unique_email();
    let cookie = app.sign_up(&email, PASSWORD).await;
    let mut auth = TestPasskey::for_origin(&app.origin);
    enrol_passkey(&app, &mut auth, &cookie).await;
    let id = account_id(&app, &email).await;
    // Signed before the block, completed after it: refused.
    let signed = passkey_login(&app, &mut auth, &email).await;
    call(
        &app,
        "admin/block_passkeys",
        &[("account_id", id.clone()), ("days", "".into())],
        Some(&operator),
    )
    .await;
    assert_eq!(complete_login(&app, &signed).await, 401);
    // The login token now names nobody with passkeys: the login page goes to the password.
    let token = login_token(&app, &email).await;
    let (_, _, start) = start_login(&app, &email, &token).await;
    assert_eq!(start.ok()["assertionOptions"], "", "{start:?}");
    // The append step forwards by itself.
    let fresh = session_cookie(&app.sign_in(&email, PASSWORD).await).unwrap();
    let (status, decision, _) = app
        .call_text("append_decision", &[("next", "")], Some(&fresh))
        .await;
    assert_eq!(status, 200);
    assert_eq!(decision, "Blocked");
    // The operator's account page shows the block; unblocking lets the passkey in again.
    let detail = account_page(&app, &id, &operator).await;
    assert_eq!(detail["passkeys_blocked"], "until unblocked");
    // …and explains the decisions it led to, newest first.
    let decisions = detail["decisions"].as_array().expect("decisions");
    assert_eq!(decisions[0]["decision"], "append: no offer");
    assert_eq!(decisions[0]["reason_code"], "blocked");
    assert_eq!(
        decisions[0]["reason"],
        "an operator blocked this account's passkeys"
    );
    assert!(
        decisions.iter().any(
            |d| d["reason_code"] == "expected-elsewhere" || d["reason_code"] == "expected-here"
        ),
        "the earlier passkey login's decision: {decisions:?}"
    );
    assert_eq!(detail["passkeys"].as_array().map(Vec::len), Some(1));
    call(
        &app,
        "admin/unblock_passkeys",
        &[("account_id", id.clone())],
        Some(&operator),
    )
    .await;
    let signed = passkey_login(&app, &mut auth, &email).await;
    assert_eq!(complete_login(&app, &signed).await, 200);
    // An operator's "Delete": the service records it with the operator as actor.
    let passkey = detail["passkeys"][0]["id"].as_str().unwrap().to_string();
    let (status, body) = call(
        &app,
        "admin/delete_passkey",
        &[("account_id", id.clone()), ("passkey_id", passkey)],
        Some(&operator),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let me = account_id(&app, OPERATOR).await;
    let deleted = app
        .state
        .events
        .list(
            &EventFilter {
                types: vec![EventType::PasskeyDeleted],
                ..Default::default()
            },
            None,
            5,
        )
        .await
        .unwrap();
    assert_eq!(deleted.events[0].event.actor.as_deref(), Some(me.as_str()));
}

async fn search_matches_the_start_of_emails_literally(db: Db) {
    let app = console_app(db).await;
    let operator = active_person(&app, OPERATOR).await;
    for email in [
        "zed_one@example.com",
        "zedxone@example.com",
        "Zed.two@example.com",
    ] {
        app.sign_up(email, PASSWORD).await;
    }
    let search = |query: &'static str| {
        let (app, operator) = (&app, operator.clone());
        async move {
            let (status, body) = call(
                app,
                "admin/search_accounts",
                &[("query", query.to_string())],
                Some(&operator),
            )
            .await;
            assert_eq!(status, 200, "{body}");
            let found: Vec<Value> = serde_json::from_str(&body).unwrap();
            let mut emails: Vec<String> = found
                .iter()
                .map(|a| a["email"].as_str().unwrap().to_string())
                .collect();
            emails.sort();
            emails
        }
    };
    assert_eq!(search("zed").await.len(), 3);
    // `_` is a character here, not a wildcard.
    assert_eq!(search("zed_").await, ["zed_one@example.com"]);
    assert_eq!(search("ZED.T").await.len(), 1);
    assert!(search("%").await.is_empty());
}

on_both_databases!(
    the_console_does_not_exist_for_anyone_else,
    operators_need_a_recent_login,
    actions_are_recorded_with_the_operator,
    a_blocked_account_gets_no_passkey_login_or_offer,
    search_matches_the_start_of_emails_literally,
);
