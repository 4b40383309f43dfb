//! Passkey intelligence through the frontend API, on SQLite and PostgreSQL: what the login
//! page offers a browser (and the `passkey.decision` event saying why), how failed passkey
//! prompts pause passkey login on one browser, and the automatic passkey upgrade. The rules themselves are the table
//! tests of `connect::decisions`; these check that the service feeds them the right facts.

mod support;

use std::time::Duration;

use latchkey::connect::api::paths::frontend;
use latchkey::events::{EventType, Reason};
use serde_json::{json, Value};
use support::{
    client_info, registration_without, Db, TestPasskey, TestService, Transport, Tweak,
    FLAG_USER_PRESENT, FLAG_USER_VERIFIED,
};

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

/// A passkey login for `identifier` on `client` offers no prompt, and the fall-back is
/// recorded (once) with `reason`.
async fn goes_to_the_password(svc: &TestService, identifier: &str, client: &Value, reason: Reason) {
    let (_, start) = svc.login_start(identifier, client).await;
    assert_eq!(start.ok()["assertionOptions"], "");
    let fell_back = svc
        .events(EventType::PasskeyLoginFellBack, Some(reason))
        .await;
    assert_eq!(fell_back.len(), 1, "{reason:?}");
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
    goes_to_the_password(&svc, "acc_n", &nothing, Reason::NoAuthenticator).await;
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

/// The page tells the service that the prompt of `process` was cancelled.
async fn report_cancel(svc: &TestService, process: &str) {
    let answer = svc.front.event(process, "login-explicit-abort").await;
    assert_eq!(answer.status, 204, "{answer:?}");
}

/// A login for `identifier` on `client` whose prompt the person cancels.
async fn cancel_a_prompt(svc: &TestService, identifier: &str, client: &Value) {
    let (process, start) = svc.login_start(identifier, client).await;
    assert_ne!(start.ok()["assertionOptions"], "", "no prompt: {start:?}");
    report_cancel(svc, &process).await;
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
    goes_to_the_password(&svc, "acc_f", &here, Reason::PausedAfterFailures).await;
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
    report_cancel(&svc, &process).await;
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

/// A registration as a password manager answers a conditional create: neither presence nor
/// verification.
fn without_presence(response: &str) -> String {
    registration_without(response, FLAG_USER_PRESENT | FLAG_USER_VERIFIED)
}

fn can_create_conditionally(handle: &str) -> Value {
    let mut client = client_info(Some(handle));
    client["clientCapabilities"] = json!({ "conditionalCreate": true });
    client
}

async fn finish(svc: &TestService, process: &str, response: &str, completion: Option<&str>) -> u16 {
    let mut body = json!({ "attestationResponse": response });
    if let Some(completion) = completion {
        body["completionType"] = json!(completion);
    }
    svc.front
        .post(frontend::APPEND_FINISH, Some(process), &body)
        .await
        .status
}

async fn the_automatic_upgrade_makes_a_passkey_without_a_dialog(db: Db) {
    let svc = TestService::start(db).await;
    let (process, start) = svc
        .append_start("acc_u", &can_create_conditionally("ceh1_auto"), false)
        .await;
    let start = start.ok().clone();
    assert_eq!(start["conditionalAppend"], true);
    let conditional = start["conditionalAttestationOptions"].as_str().unwrap();
    let modal = start["attestationOptions"].as_str().unwrap();
    let (conditional_options, modal_options): (Value, Value) = (
        serde_json::from_str(conditional).unwrap(),
        serde_json::from_str(modal).unwrap(),
    );
    // Two ceremonies: the silent one asks for no verification, the offer's does.
    let selection = |options: &Value| options["publicKey"]["authenticatorSelection"].clone();
    assert_eq!(
        selection(&conditional_options)["userVerification"],
        "preferred"
    );
    assert_eq!(selection(&conditional_options)["residentKey"], "required");
    assert_eq!(selection(&modal_options)["userVerification"], "required");
    assert_ne!(
        conditional_options["publicKey"]["challenge"],
        modal_options["publicKey"]["challenge"]
    );
    assert_eq!(conditional_options["publicKey"]["attestation"], "none");

    // The offer's ceremony refuses a passkey made without the person present…
    let mut other = TestPasskey::new();
    let absent = without_presence(&other.register(modal));
    assert_eq!(finish(&svc, &process, &absent, None).await, 400);
    // …the automatic one keeps it, once.
    let mut auth = TestPasskey::new();
    let silent = without_presence(&auth.register(conditional));
    assert_eq!(
        finish(&svc, &process, &silent, Some("conditional")).await,
        200
    );
    assert_eq!(
        finish(&svc, &process, &silent, Some("conditional")).await,
        400
    );
    let created = svc
        .events(EventType::PasskeyCreated, Some(Reason::Automatic))
        .await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].event.account.as_deref(), Some("acc_u"));
    // It signs in like any passkey (with verification, as every login asks).
    let (login, start) = svc
        .login_start("acc_u", &client_info(Some("ceh1_auto")))
        .await;
    let options = start.ok()["assertionOptions"].as_str().unwrap().to_string();
    let assertion = auth.login(&options, &Tweak::default());
    svc.login_finish(&login, &assertion, false).await.ok();
}

async fn the_automatic_upgrade_is_offered_only_where_it_can_work(db: Db) {
    let svc = TestService::start(db).await;
    let offered = |start: &Value| {
        (
            start["conditionalAppend"].as_bool().unwrap(),
            start["conditionalAttestationOptions"]
                .as_str()
                .unwrap_or_default()
                .is_empty(),
        )
    };
    // A browser that did not say it can.
    let (_, start) = svc
        .append_start("acc_o", &client_info(Some("ceh1_plain")), false)
        .await;
    assert_eq!(offered(start.ok()), (false, true));
    // "Create passkey" asked for explicitly (on /passkeys): the modal ceremony only.
    let (_, start) = svc
        .append_start("acc_o", &can_create_conditionally("ceh1_asked"), true)
        .await;
    assert_eq!(offered(start.ok()), (false, true));
    // A conditional finish with nothing pending for it.
    let (process, start) = svc
        .append_start("acc_o", &client_info(Some("ceh1_plain2")), false)
        .await;
    let mut auth = TestPasskey::new();
    let response = auth.register(start.ok()["attestationOptions"].as_str().unwrap());
    assert_eq!(
        finish(&svc, &process, &response, Some("conditional")).await,
        400
    );

    // The setting off.
    let off = TestService::start_with(db, Transport::InProcess, |settings| {
        settings.automatic_upgrade = false;
    })
    .await;
    let (_, start) = off
        .append_start("acc_o", &can_create_conditionally("ceh1_off"), false)
        .await;
    assert_eq!(offered(start.ok()), (false, true));
}

on_both_databases!(
    the_login_page_offers_what_the_browser_can_use,
    two_failures_with_one_provider_pause_passkey_login_on_that_browser,
    a_new_provider_or_a_passkey_that_works_starts_counting_again,
    a_pause_of_zero_never_pauses,
    append_decisions_name_the_account_and_the_reason,
    the_automatic_upgrade_makes_a_passkey_without_a_dialog,
    the_automatic_upgrade_is_offered_only_where_it_can_work,
);
