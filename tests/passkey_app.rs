//! The app's passkey server functions over real HTTP, with the passkey service mounted in
//! process and a software authenticator in the browser's place: connect tokens for the
//! session's user only, a passkey login turned into an app session (and nothing else), the
//! re-authentication window, and the append step's own decisions.
#![cfg(feature = "ssr")]

mod support;

use serde_json::{json, Value};
use support::*;

/// Signs up, creates a passkey the way ConnectAppend does, and leaves the append step.
/// Returns the session cookie.
async fn sign_up_with_passkey(app: &TestApp, auth: &mut TestPasskey, email: &str) -> String {
    let cookie = app.sign_up(email, PASSWORD).await;
    enrol_passkey(app, auth, &cookie).await;
    cookie
}

/// After a passkey from another device (a phone, over hybrid) the append step follows: it
/// may offer a passkey on this device.
async fn passkey_login_makes_an_append_pending_session(db: Db) {
    let app = TestApp::start(db).await;
    let email = unique_email();
    let mut auth = TestPasskey::for_origin(&app.origin);
    sign_up_with_passkey(&app, &mut auth, &email).await;

    let signed = passkey_login_from_another_device(&app, &mut auth, &email).await;
    let (status, target, headers) = complete_for(&app, &signed, "/passkeys").await;
    assert_eq!(status, 200, "{target}");
    // Like every login: the append step first, carrying the target.
    assert_eq!(target, "/append?next=/passkeys");
    let session = new_session_cookie(&headers).expect("a session cookie");
    assert!(
        cookie_named(&headers, "latchkey_login_hint").is_some(),
        "the one-tap hint is set"
    );
    let res = app.get("/dashboard", Some(&session)).await;
    assert_eq!(
        location(&res).as_deref(),
        Some("/append?next=/dashboard"),
        "the new session is at the append step"
    );
    let res = app
        .call("session", &[], Some(&session))
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(res["email"], email.as_str());

    // The same signed data a second time: refused, and no session.
    let (status, body, headers) = app
        .call_text(
            "complete_passkey_login",
            &[("signed_passkey_data", &signed), ("next", "")],
            None,
        )
        .await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("passkey_rejected"), "{body}");
    assert!(new_session_cookie(&headers).is_none());
}

/// With this browser's own passkey there is nothing to offer: the server passes the append
/// step with the login (one event says why) and the browser goes straight to the target.
async fn a_passkey_of_this_device_passes_the_append_step_at_once(db: Db) {
    use latchkey::events::{EventFilter, EventType, Reason};
    let app = TestApp::start(db).await;
    let email = unique_email();
    let mut auth = TestPasskey::for_origin(&app.origin);
    sign_up_with_passkey(&app, &mut auth, &email).await;

    let signed = passkey_login(&app, &mut auth, &email).await;
    let (status, target, headers) = complete_for(&app, &signed, "/passkeys").await;
    assert_eq!((status, target.as_str()), (200, "/passkeys"));
    let session = new_session_cookie(&headers).expect("a session cookie");
    let res = app.get("/dashboard", Some(&session)).await;
    assert_eq!(res.status(), 200, "the session has passed the append step");
    let res = app.get("/append?next=%2Fpasskeys", Some(&session)).await;
    assert_eq!(location(&res).as_deref(), Some("/passkeys"));

    let events = app
        .state
        .events
        .list(&EventFilter::default(), None, 50)
        .await
        .expect("events");
    let skipped: Vec<_> = events
        .events
        .iter()
        .filter(|e| e.event.event_type == EventType::AppendSkipped)
        .map(|e| e.event.reason)
        .collect();
    assert_eq!(skipped, [Some(Reason::PasskeyOnThisDevice)]);
}

async fn forged_or_garbled_signed_data_never_makes_a_session(db: Db) {
    let app = TestApp::start(db).await;
    let email = unique_email();
    let mut auth = TestPasskey::for_origin(&app.origin);
    sign_up_with_passkey(&app, &mut auth, &email).await;
    let signed = passkey_login(&app, &mut auth, &email).await;

    // One flipped character in the signature.
    let mut forged = signed.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    for data in ["", "not a jwt", "a.b.c", forged.as_str()] {
        let (status, body, headers) = app
            .call_text(
                "complete_passkey_login",
                &[("signed_passkey_data", data), ("next", "")],
                None,
            )
            .await;
        assert_eq!(status, 401, "{data:?}: {body}");
        assert!(new_session_cookie(&headers).is_none(), "{data:?}");
    }
    // The genuine data is still good (the forgeries did not spend it).
    assert_eq!(
        app.call_status(
            "complete_passkey_login",
            &[("signed_passkey_data", &signed), ("next", "")],
            None,
        )
        .await,
        200
    );
}

async fn login_tokens_have_one_shape_for_known_and_unknown_emails(db: Db) {
    let app = TestApp::start(db).await;
    let known = unique_email();
    app.sign_up(&known, PASSWORD).await;
    let (known_status, known_token, _) = app
        .call_text("passkey_login_token", &[("email", &known)], None)
        .await;
    let (unknown_status, unknown_token, _) = app
        .call_text("passkey_login_token", &[("email", &unique_email())], None)
        .await;
    assert_eq!((known_status, unknown_status), (200, 200));
    assert!(known_token.starts_with("ctk1_"), "{known_token}");
    assert!(unknown_token.starts_with("ctk1_"), "{unknown_token}");
    assert_eq!(known_token.len(), unknown_token.len());

    // And the service then answers both the same way: no passkey, fall back.
    for token in [known_token, unknown_token] {
        let (
            _,
            _,
            Answer {
                status,
                body: start,
                ..
            },
        ) = start_login(&app, "x@example.com", &token).await;
        assert_eq!(status, 200);
        assert_eq!(start["assertionOptions"], "");
        assert_eq!(
            start["fallbackOperationError"]["error"]["code"],
            "no_passkey_available"
        );
    }

    let (status, body, _) = app
        .call_text("passkey_login_token", &[("email", "not-an-email")], None)
        .await;
    assert_eq!(status, 400, "{body}");
}

async fn connect_tokens_follow_the_session(db: Db) {
    let app = TestApp::start(db).await;
    // Anonymous: no append, list or delete token.
    for endpoint in [
        "passkey_append_token",
        "passkey_list_token",
        "passkey_delete_token",
    ] {
        let (status, body, _) = app.call_text(endpoint, &[], None).await;
        assert_eq!(status, 401, "{endpoint}: {body}");
    }
    // At the append step: an append token, but nothing behind the step yet.
    let cookie = app.sign_up(&unique_email(), PASSWORD).await;
    assert_eq!(
        app.call_status("passkey_append_token", &[], Some(&cookie))
            .await,
        200
    );
    for endpoint in ["passkey_list_token", "passkey_delete_token"] {
        let (status, body, _) = app.call_text(endpoint, &[], Some(&cookie)).await;
        assert_eq!(status, 403, "{endpoint}: {body}");
        assert!(body.contains("append_pending"), "{body}");
    }
    // Past it: list and (recent login) delete.
    let res = app
        .call(
            "finish_append",
            &[("next", ""), ("outcome", "skipped")],
            Some(&cookie),
        )
        .await;
    assert!(res.status().is_success());
    for endpoint in ["passkey_list_token", "passkey_delete_token"] {
        let (status, token, _) = app.call_text(endpoint, &[], Some(&cookie)).await;
        assert_eq!(status, 200, "{endpoint}");
        assert!(token.starts_with("ctk1_"));
    }

    // An hour later, deleting needs a fresh login; listing does not.
    sqlx::query("UPDATE sessions SET authenticated_at = authenticated_at - 3600")
        .execute(app.state.store.pool())
        .await
        .unwrap();
    let (status, body, _) = app
        .call_text("passkey_delete_token", &[], Some(&cookie))
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("reauth_required"), "{body}");
    assert_eq!(
        app.call_status("passkey_list_token", &[], Some(&cookie))
            .await,
        200
    );
}

async fn dont_ask_again_makes_the_append_step_a_redirect(db: Db) {
    let app = TestApp::start(db).await;
    let email = unique_email();
    let cookie = app.sign_up(&email, PASSWORD).await;
    // Without a choice the step shows its offer.
    let res = app.get("/append?next=%2Fdashboard", Some(&cookie)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.skip_append(&cookie, true).await, 200);

    let res = app.sign_in(&email, PASSWORD).await;
    let cookie = session_cookie(&res).expect("session");
    let res = app.get("/append?next=%2Fdashboard", Some(&cookie)).await;
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(location(&res).as_deref(), Some("/dashboard"));
    // The step is done: the dashboard is open.
    assert_eq!(app.get("/dashboard", Some(&cookie)).await.status(), 200);
}

async fn skip_snoozes_the_offer_only_when_configured(db: Db) {
    for (snooze, offered_again) in [("0", true), ("24", false)] {
        let app = TestApp::start_with(db, &[("LATCHKEY_APPEND_SNOOZE_HOURS", snooze)]).await;
        let email = unique_email();
        let cookie = app.sign_up(&email, PASSWORD).await;
        let res = app
            .call(
                "finish_append",
                &[("next", ""), ("outcome", "skipped")],
                Some(&cookie),
            )
            .await;
        assert!(res.status().is_success());
        let res = app.sign_in(&email, PASSWORD).await;
        let cookie = session_cookie(&res).expect("session");
        let res = app.get("/append", Some(&cookie)).await;
        assert_eq!(
            res.status() == 200,
            offered_again,
            "snooze {snooze}: {}",
            res.status()
        );
    }
}

async fn the_login_hint_is_set_at_login_and_forgotten_on_request(db: Db) {
    let app = TestApp::start(db).await;
    let email = unique_email();
    app.sign_up(&email, PASSWORD).await;
    let res = app.sign_in(&email, PASSWORD).await;
    let hint = cookie_named(res.headers(), "latchkey_login_hint").expect("hint cookie");
    let line = set_cookie_named(res.headers(), "latchkey_login_hint").unwrap();
    assert!(
        line.contains("HttpOnly") && line.contains("SameSite=Lax"),
        "{line}"
    );

    let (_, page_info, _) = app.call_text("login_page", &[], Some(&hint)).await;
    let page_info: Value = serde_json::from_str(&page_info).expect("login page info");
    assert_eq!(page_info["remembered"], json!([email]));
    assert_eq!(page_info["classic"], Value::String("Password".into()));
    // The login page offers one-tap from the server-rendered HTML.
    let page = app.get("/login", Some(&hint)).await.text().await.unwrap();
    assert!(
        page.contains(&format!("Continue as {email}")),
        "one-tap shown"
    );
    // A real form button, enabled before any script runs.
    let button = page
        .split("<button")
        .find(|button| button.contains(&format!("Continue as {email}")))
        .expect("the one-tap button");
    assert!(!button.contains("disabled"), "{button}");

    // A second account signs in on this browser: both are offered, the latest first.
    let second = unique_email();
    app.sign_up(&second, PASSWORD).await;
    let res = app
        .call(
            "sign_in",
            &[
                ("email", second.as_str()),
                ("password", PASSWORD),
                ("next", ""),
            ],
            Some(&hint),
        )
        .await;
    let both = cookie_named(res.headers(), "latchkey_login_hint").expect("hint cookie");
    let (_, page_info, _) = app.call_text("login_page", &[], Some(&both)).await;
    let page_info: Value = serde_json::from_str(&page_info).expect("login page info");
    assert_eq!(page_info["remembered"], json!([second, email]));
    let page = app.get("/login", Some(&both)).await.text().await.unwrap();
    let first_offer = page.find(&format!("Continue as {second}")).expect("second");
    let second_offer = page.find(&format!("Continue as {email}")).expect("first");
    assert!(first_offer < second_offer, "the latest first");
    // "Use another account" without JavaScript: the email step, the accounts kept.
    let page = app
        .get("/login?account=other", Some(&both))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains("Continue as"),
        "no one-tap on the email step"
    );
    assert!(page.contains("id=\"login-email\""), "the email field");

    // "Remove from this device", one account at a time.
    let res = app
        .call(
            "forget_remembered_account",
            &[("email", second.as_str())],
            Some(&both),
        )
        .await;
    let one = cookie_named(res.headers(), "latchkey_login_hint").expect("hint cookie");
    let (_, page_info, _) = app.call_text("login_page", &[], Some(&one)).await;
    let page_info: Value = serde_json::from_str(&page_info).expect("login page info");
    assert_eq!(page_info["remembered"], json!([email]));
    let res = app
        .call(
            "forget_remembered_account",
            &[("email", email.as_str())],
            Some(&one),
        )
        .await;
    assert_eq!(
        cookie_named(res.headers(), "latchkey_login_hint").as_deref(),
        Some("latchkey_login_hint=")
    );
}

async fn continue_without_javascript_answers_the_password_step(db: Db) {
    let app = TestApp::start(db).await;
    let res = TestApp::client()
        .post(format!("{}/api/sign_in", app.base))
        .header("origin", &app.origin)
        .header("accept", "text/html")
        .header("referer", format!("{}/login?next=%2Fpasskeys", app.origin))
        .form(&[("email", " Ada@Example.com "), ("next", "/passkeys")])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(
        location(&res).as_deref(),
        Some("/login?email=ada%40example.com&next=/passkeys")
    );
    assert!(session_cookie(&res).is_none());
    let page = app
        .get("/login?email=ada%40example.com&next=/passkeys", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"value="ada@example.com""#),
        "email carried over"
    );
    assert!(page.contains("current-password"), "password field shown");
}

/// Makes every session's login an hour old (past the re-authentication window).
async fn age_logins(app: &TestApp) {
    sqlx::query("UPDATE sessions SET authenticated_at = authenticated_at - 3600")
        .execute(app.state.store.pool())
        .await
        .unwrap();
}

/// Right after a login the append step may add a passkey whatever the window; later,
/// adding one (like deleting) needs a login, or a confirmation, within the window.
/// Confirms it's the person with `endpoint`; then adding a passkey is allowed again.
async fn confirm(app: &TestApp, endpoint: &str, form: &[(&str, &str)], cookie: &str, how: &str) {
    let (status, body, _) = app.call_text(endpoint, form, Some(cookie)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        app.call_status("passkey_append_token", &[], Some(cookie))
            .await,
        200,
        "{how}"
    );
}

async fn adding_a_passkey_later_needs_a_recent_login(db: Db) {
    let app = TestApp::start(db).await;
    // At the append step: an old login still may.
    let fresh = app.sign_up(&unique_email(), PASSWORD).await;
    age_logins(&app).await;
    assert_eq!(
        app.call_status("passkey_append_token", &[], Some(&fresh))
            .await,
        200,
        "the append step right after a login"
    );

    let (alice, bob) = (unique_email(), unique_email());
    let mut alice_key = TestPasskey::for_origin(&app.origin);
    let mut bob_key = TestPasskey::for_origin(&app.origin);
    let cookie = sign_up_with_passkey(&app, &mut alice_key, &alice).await;
    sign_up_with_passkey(&app, &mut bob_key, &bob).await;
    assert_eq!(
        app.call_status("passkey_append_token", &[], Some(&cookie))
            .await,
        200,
        "a recent login may"
    );
    let (_, needed, _) = app.call_text("reauth_needed", &[], Some(&cookie)).await;
    assert_eq!(needed, "false");

    age_logins(&app).await;
    let (status, body, _) = app
        .call_text("passkey_append_token", &[], Some(&cookie))
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("reauth_required"), "{body}");
    let (_, needed, _) = app.call_text("reauth_needed", &[], Some(&cookie)).await;
    assert_eq!(needed, "true");

    // Refused confirmations change nothing: a wrong password, garbage, another person's
    // passkey login.
    let (status, body, _) = app
        .call_text(
            "reauth_with_password",
            &[("password", "nope")],
            Some(&cookie),
        )
        .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(
        app.call_status(
            "reauth_with_passkey",
            &[("signed_passkey_data", "x.y.z")],
            Some(&cookie)
        )
        .await,
        401
    );
    let bobs = passkey_login(&app, &mut bob_key, &bob).await;
    assert_eq!(
        app.call_status(
            "reauth_with_passkey",
            &[("signed_passkey_data", &bobs)],
            Some(&cookie)
        )
        .await,
        401,
        "another account's passkey login does not confirm this one"
    );
    assert_eq!(
        app.call_status("passkey_append_token", &[], Some(&cookie))
            .await,
        403
    );

    // Her own passkey, through a token for her own account.
    let (status, token, _) = app
        .call_text("reauth_passkey_token", &[], Some(&cookie))
        .await;
    assert_eq!(status, 200, "{token}");
    let (front, process, start) = start_login(&app, "", &token).await;
    let signed = sign_and_finish(&mut alice_key, &front, &process, &start).await;
    confirm(
        &app,
        "reauth_with_passkey",
        &[("signed_passkey_data", &signed)],
        &cookie,
        "confirmed with a passkey",
    )
    .await;
    assert_eq!(
        app.call_status("passkey_delete_token", &[], Some(&cookie))
            .await,
        200,
        "deleting too"
    );

    // And with the password.
    age_logins(&app).await;
    confirm(
        &app,
        "reauth_with_password",
        &[("password", PASSWORD)],
        &cookie,
        "confirmed with the password",
    )
    .await;
    // Without a session there is nothing to confirm.
    assert_eq!(
        app.call_status("reauth_with_password", &[("password", PASSWORD)], None)
            .await,
        401
    );
}

/// The builtin IdP's account state wins: a disabled account's password and passkey sign
/// nobody in (with the generic answers), its sessions end at once, and enabling it restores
/// both.
async fn a_disabled_account_signs_nobody_in(db: Db) {
    let app = TestApp::start(db).await;
    let (email, other) = (unique_email(), unique_email());
    let mut key = TestPasskey::for_origin(&app.origin);
    let cookie = sign_up_with_passkey(&app, &mut key, &email).await;
    app.sign_up(&other, PASSWORD).await;
    let config = &app.state.config;

    let said = latchkey::cli::set_account_disabled(config, &email, true)
        .await
        .unwrap();
    assert_eq!(said, format!("disabled {email}; ended 1 session(s)"));
    let res = app.get("/dashboard", Some(&cookie)).await;
    assert_eq!(location(&res).as_deref(), Some("/login?next=/dashboard"));

    // The right password gets exactly what a wrong one gets.
    let disabled = app.sign_in(&email, PASSWORD).await;
    let wrong = app.sign_in(&other, "not the password").await;
    assert_eq!(
        (disabled.status().as_u16(), wrong.status().as_u16()),
        (401, 401)
    );
    assert!(session_cookie(&disabled).is_none());
    assert_eq!(disabled.text().await.unwrap(), wrong.text().await.unwrap());

    // The passkey still verifies at the passkey service, but makes no session.
    let signed = passkey_login(&app, &mut key, &email).await;
    let (status, body, headers) = app
        .call_text(
            "complete_passkey_login",
            &[("signed_passkey_data", &signed), ("next", "")],
            None,
        )
        .await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("passkey_rejected"), "{body}");
    assert!(new_session_cookie(&headers).is_none());

    assert_eq!(
        latchkey::cli::set_account_disabled(config, &email, false)
            .await
            .unwrap(),
        format!("enabled {email}")
    );
    assert_eq!(app.sign_in(&email, PASSWORD).await.status(), 200);
    let signed = passkey_login(&app, &mut key, &email).await;
    assert_eq!(
        app.call_status(
            "complete_passkey_login",
            &[("signed_passkey_data", &signed), ("next", "")],
            None,
        )
        .await,
        200
    );
    let unknown = latchkey::cli::set_account_disabled(config, "nobody@example.com", true).await;
    assert_eq!(
        unknown.unwrap_err().to_string(),
        "no account with the email nobody@example.com"
    );
}

/// The keys of a JSON value, recursively, with every leaf replaced by its kind: what an
/// observer can compare between two answers besides their random values.
fn shape(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), shape(v))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(shape).collect()),
        Value::String(_) => json!("string"),
        Value::Number(_) => json!("number"),
        Value::Bool(_) => json!("bool"),
        Value::Null => Value::Null,
    }
}

/// Login start's answer (and its options, parsed) for `email`.
async fn login_start_for(app: &TestApp, email: &str) -> (Value, Value) {
    let token = login_token(app, email).await;
    let (_, _, start) = start_login(app, email, &token).await;
    let body = start.ok().clone();
    let options = serde_json::from_str(body["assertionOptions"].as_str().unwrap_or_default())
        .unwrap_or(Value::Null);
    (body, options)
}

/// Strict enumeration protection: an account with a passkey, an account without, and an
/// email nobody has get answers of one shape; the decoys are stable per email and no answer
/// to them signs anyone in.
async fn strict_enumeration_answers_every_email_alike(db: Db) {
    let app = TestApp::start_with(db, &[("LATCHKEY_ENUMERATION_PROTECTION", "strict")]).await;
    let (alice, bob, nobody) = (unique_email(), unique_email(), unique_email());
    let mut key = TestPasskey::for_origin(&app.origin);
    sign_up_with_passkey(&app, &mut key, &alice).await;
    app.sign_up(&bob, PASSWORD).await;

    let (alice_body, alice_options) = login_start_for(&app, &alice).await;
    for email in [&bob, &nobody] {
        let (body, options) = login_start_for(&app, email).await;
        assert_eq!(shape(&body), shape(&alice_body), "{body}");
        let listed = options["publicKey"]["allowCredentials"].as_array().unwrap();
        assert!(!listed.is_empty(), "{options}");
        for decoy in listed {
            assert_eq!(
                shape(decoy),
                shape(&alice_options["publicKey"]["allowCredentials"][0])
            );
        }
        let keys = |v: &Value| {
            v["publicKey"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(&options), keys(&alice_options));
        // Asked again: the same decoys, a new challenge.
        let (_, again) = login_start_for(&app, email).await;
        assert_eq!(
            again["publicKey"]["allowCredentials"],
            options["publicKey"]["allowCredentials"]
        );
        assert_ne!(
            again["publicKey"]["challenge"],
            options["publicKey"]["challenge"]
        );
    }
    // Someone answers Bob's decoy challenge with Alice's real passkey: refused.
    let token = login_token(&app, &bob).await;
    let (front, process, start) = start_login(&app, &bob, &token).await;
    // (Her authenticator signs the decoy challenge with her own credential.)
    let mut decoy: Value =
        serde_json::from_str(start.ok()["assertionOptions"].as_str().unwrap()).unwrap();
    decoy["publicKey"]["allowCredentials"] = json!([]);
    let assertion = key.login(&decoy.to_string(), &Tweak::default());
    let finish = finish_login(&front, &process, &assertion).await;
    assert_ne!(finish.status, 200, "{finish:?}");
    assert!(finish.body.get("signedPasskeyData").is_none());
}

on_both_databases!(
    a_disabled_account_signs_nobody_in,
    strict_enumeration_answers_every_email_alike,
    adding_a_passkey_later_needs_a_recent_login,
    passkey_login_makes_an_append_pending_session,
    a_passkey_of_this_device_passes_the_append_step_at_once,
    forged_or_garbled_signed_data_never_makes_a_session,
    login_tokens_have_one_shape_for_known_and_unknown_emails,
    connect_tokens_follow_the_session,
    the_login_hint_is_set_at_login_and_forgotten_on_request,
    continue_without_javascript_answers_the_password_step,
    dont_ask_again_makes_the_append_step_a_redirect,
    skip_snoozes_the_offer_only_when_configured,
);
