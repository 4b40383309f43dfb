//! Passkey intelligence through the frontend API, on SQLite and PostgreSQL: what the login
//! page offers a browser (and the `passkey.decision` event saying why), and how failed
//! passkey prompts pause passkey login on one browser. The rules themselves are the table
//! tests of `connect::decisions`; these check that the service feeds them the right facts.

mod support;

use std::time::Duration;

use latchkey::events::{EventType, Reason};
use serde_json::{json, Value};
use support::{client_info, Db, TestPasskey, TestService, Transport, Tweak};

/// Login init on `client`: (loginAllowed, login-mode flag, whether a conditional-UI
/// challenge came with it).
async fn login_page(svc: &TestService, client: &Value) -> (bool, String, bool) {
    let (_, init) = svc.init("login", client).await;
    (
        init["loginAllowed"].as_bool().expect("loginAllowed"),
        init["flags"]["login-mode"]
            .as_str()
            .expect("login-mode")
            .to_string(),
        !init["conditionalUIChallenge"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
    )
}

async fn the_login_page_offers_what_the_browser_can_use(db: Db) {
    let svc = TestService::start(db).await;
    assert_eq!(
        login_page(&svc, &client_info(None)).await,
        (true, "identifier".into(), true)
    );
    let mut remembered = client_info(None);
    remembered["rememberedAccounts"] = json!(2);
    assert_eq!(
        login_page(&svc, &remembered).await,
        (true, "one-tap".into(), true)
    );
    let no_autofill = json!({ "isConditionalMediationAvailable": false });
    assert_eq!(
        login_page(&svc, &no_autofill).await,
        (true, "identifier".into(), false)
    );
    // Neither a platform authenticator nor a phone: no passkey UI, and a login started
    // anyway goes to the password.
    let nothing = json!({
        "isUserVerifyingPlatformAuthenticatorAvailable": false,
        "isConditionalMediationAvailable": true,
        "clientCapabilities": { "hybridTransport": false },
    });
    assert_eq!(
        login_page(&svc, &nothing).await,
        (false, "none".into(), false)
    );
    let mut auth = TestPasskey::new();
    svc.append(&mut auth, "acc_n", &client_info(None))
        .await
        .ok();
    let (_, start) = svc.login_start("acc_n", &nothing).await;
    assert_eq!(start.ok()["assertionOptions"], "");
    assert_eq!(
        svc.events(
            EventType::PasskeyLoginFellBack,
            Some(Reason::NoAuthenticator)
        )
        .await
        .len(),
        1
    );
    // A phone alone is enough for passkey login.
    let phone = json!({
        "isUserVerifyingPlatformAuthenticatorAvailable": false,
        "clientCapabilities": { "hybridTransport": true },
    });
    assert_eq!(login_page(&svc, &phone).await.1, "identifier");

    // Every decision is an event with its reason and the decision in words.
    let decisions = svc.events(EventType::PasskeyDecision, None).await;
    let reasons: Vec<_> = decisions.iter().rev().map(|e| e.event.reason).collect();
    assert_eq!(
        reasons[..5],
        [
            Some(Reason::ConditionalUi),
            Some(Reason::OneTap),
            Some(Reason::Identifier),
            Some(Reason::NoAuthenticator),
            // The append above.
            Some(Reason::PersonAsked),
        ]
    );
    let one_tap = &decisions[decisions.len() - 2].event;
    assert_eq!(
        one_tap.detail.as_deref(),
        Some("login page: one-tap + autofill")
    );
    assert_eq!(one_tap.account, None);
}

/// A login for `identifier` on `client` whose prompt the person cancels.
async fn cancel_a_prompt(svc: &TestService, identifier: &str, client: &Value) {
    let (process, start) = svc.login_start(identifier, client).await;
    assert_ne!(start.ok()["assertionOptions"], "", "no prompt: {start:?}");
    assert_eq!(
        svc.front
            .event(&process, "login-explicit-abort")
            .await
            .status,
        204
    );
}

async fn passkey_login_allowed(svc: &TestService, client: &Value) -> bool {
    login_page(svc, client).await.0
}

async fn two_failures_with_one_provider_pause_passkey_login_on_that_browser(db: Db) {
    let svc = TestService::start(db).await;
    let mut auth = TestPasskey::new();
    svc.append(&mut auth, "acc_f", &client_info(None))
        .await
        .ok();
    let (here, elsewhere) = (
        client_info(Some("ceh1_paused")),
        client_info(Some("ceh1_other")),
    );

    cancel_a_prompt(&svc, "acc_f", &here).await;
    assert!(passkey_login_allowed(&svc, &here).await, "one failure");
    cancel_a_prompt(&svc, "acc_f", &here).await;
    let (allowed, mode, autofill) = login_page(&svc, &here).await;
    assert_eq!((allowed, mode.as_str(), autofill), (false, "none", false));
    // A login the page still started goes to the password, saying why.
    let (_, start) = svc.login_start("acc_f", &here).await;
    assert_eq!(start.ok()["assertionOptions"], "");
    assert_eq!(
        svc.events(
            EventType::PasskeyLoginFellBack,
            Some(Reason::PausedAfterFailures)
        )
        .await
        .len(),
        1
    );
    // The pause is recorded once, for the account, and holds for this browser only.
    let paused = svc
        .events(
            EventType::PasskeyDecision,
            Some(Reason::PausedAfterFailures),
        )
        .await;
    let pause_events: Vec<_> = paused
        .iter()
        .filter(|e| e.event.account.is_some())
        .collect();
    assert_eq!(pause_events.len(), 1, "{paused:?}");
    assert_eq!(pause_events[0].event.account.as_deref(), Some("acc_f"));
    assert!(passkey_login_allowed(&svc, &elsewhere).await);
}

async fn a_new_provider_or_a_passkey_that_works_starts_counting_again(db: Db) {
    let svc = TestService::start(db).await;
    let mut auth = TestPasskey::new();
    svc.append(&mut auth, "acc_c", &client_info(None))
        .await
        .ok();

    // An identifier login (the account's provider), then "Sign in with a passkey" (no
    // provider known): two different providers, no pause.
    let mixed = client_info(Some("ceh1_mixed"));
    cancel_a_prompt(&svc, "acc_c", &mixed).await;
    let (process, _) = svc.login_start_discoverable(&mixed).await;
    assert_eq!(
        svc.front
            .event(&process, "login-explicit-abort")
            .await
            .status,
        204
    );
    assert!(passkey_login_allowed(&svc, &mixed).await);

    // A failure, a passkey login that works, a failure: no pause either.
    let recovered = client_info(Some("ceh1_recovered"));
    cancel_a_prompt(&svc, "acc_c", &recovered).await;
    let (process, start) = svc.login_start("acc_c", &recovered).await;
    let options = start.ok()["assertionOptions"].as_str().unwrap().to_string();
    let assertion = auth.login(&options, &Tweak::default());
    svc.login_finish(&process, &assertion, false).await.ok();
    cancel_a_prompt(&svc, "acc_c", &recovered).await;
    assert!(passkey_login_allowed(&svc, &recovered).await);

    // A refused assertion counts like a cancelled prompt.
    let refused = client_info(Some("ceh1_refused"));
    cancel_a_prompt(&svc, "acc_c", &refused).await;
    let (process, start) = svc.login_start("acc_c", &refused).await;
    let options = start.ok()["assertionOptions"].as_str().unwrap().to_string();
    let unverified = auth.login(
        &options,
        &Tweak {
            without_user_verification: true,
            ..Tweak::default()
        },
    );
    assert_eq!(
        svc.login_finish(&process, &unverified, false).await.status,
        400
    );
    assert!(!passkey_login_allowed(&svc, &refused).await);
}

async fn a_pause_of_zero_never_pauses(db: Db) {
    let svc = TestService::start_with(db, Transport::InProcess, |settings| {
        settings.failure_pause = Duration::ZERO;
    })
    .await;
    let mut auth = TestPasskey::new();
    svc.append(&mut auth, "acc_z", &client_info(None))
        .await
        .ok();
    let client = client_info(Some("ceh1_zero"));
    for _ in 0..3 {
        cancel_a_prompt(&svc, "acc_z", &client).await;
    }
    assert!(passkey_login_allowed(&svc, &client).await);
}

/// The append step's decision, with the account: a browser that made a passkey is not
/// offered another; one whose last login used a phone's is offered one "on this device".
async fn append_decisions_name_the_account_and_the_reason(db: Db) {
    let svc = TestService::start(db).await;
    let mut auth = TestPasskey::new();
    let laptop = client_info(Some("ceh1_laptop"));
    svc.append(&mut auth, "acc_a", &laptop).await.ok();
    let (_, start) = svc.append_start("acc_a", &laptop, false).await;
    assert_eq!(start.ok()["attestationOptions"], "");
    let skipped = svc
        .events(
            EventType::PasskeyDecision,
            Some(Reason::PasskeyOnThisDevice),
        )
        .await;
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].event.account.as_deref(), Some("acc_a"));
    assert_eq!(skipped[0].event.detail.as_deref(), Some("append: no offer"));

    let (_, start) = svc.append_start("acc_a", &client_info(None), false).await;
    assert_ne!(start.ok()["attestationOptions"], "");
    assert_eq!(
        svc.events(EventType::PasskeyDecision, Some(Reason::Eligible))
            .await
            .len(),
        1
    );
}

on_both_databases!(
    the_login_page_offers_what_the_browser_can_use,
    two_failures_with_one_provider_pause_passkey_login_on_that_browser,
    a_new_provider_or_a_passkey_that_works_starts_counting_again,
    a_pause_of_zero_never_pauses,
    append_decisions_name_the_account_and_the_reason,
);
