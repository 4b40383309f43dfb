//! The passkey service end to end, in process, on SQLite and PostgreSQL: append → login →
//! verify → list → delete, conditional UI, identifier-less and one-tap logins, the append
//! decisions, and rollout.

mod support;

use latchkey::connect::api::paths::{backend, frontend};
use latchkey::connect::api::{
    AppendFinishRsp, AppendStartRsp, ConnectTokenType, LoginFinishRsp, LoginInitRsp, LoginStartRsp,
    ManageListRsp, SignedPasskeyClaims, VerificationResult,
};
use latchkey::connect::backend_client::claimed_identifier;
use latchkey::events::{EventType, Reason};
use serde_json::json;
use support::{
    client_info, Db, TestPasskey, TestService, Transport, Tweak, API_SECRET, PROJECT_ID,
};

fn claims(signed: &str) -> SignedPasskeyClaims {
    jsonwebtoken::dangerous::insecure_decode::<SignedPasskeyClaims>(signed)
        .expect("a JWT")
        .claims
}

async fn append_login_verify_list_delete(db: Db) {
    let svc = TestService::start(db).await;
    let mut auth = TestPasskey::new();

    // Append: the options ask for a discoverable credential, user verification, no
    // attestation, and exclude nothing yet.
    let finish = svc.append(&mut auth, "acc_1", &client_info(None)).await;
    let appended: AppendFinishRsp = finish.typed();
    assert_eq!(appended.passkey_operation.operation_type, "append");
    assert_eq!(
        appended.passkey_operation.identifier_value,
        "acc_1@example.com"
    );
    assert_eq!(appended.passkey_operation.identifier_type, "email");
    let options = auth.last_creation_options.clone().unwrap();
    let selection = &options["publicKey"]["authenticatorSelection"];
    assert_eq!(selection["residentKey"], "required");
    assert_eq!(selection["requireResidentKey"], true);
    assert_eq!(selection["userVerification"], "required");
    assert_eq!(options["publicKey"]["attestation"], "none");
    assert_eq!(options["publicKey"]["rp"]["id"], "localhost");
    assert_eq!(options["publicKey"]["user"]["name"], "acc_1@example.com");
    assert!(options["publicKey"]["excludeCredentials"]
        .as_array()
        .is_none_or(|list| list.is_empty()));

    // The backend sees the passkey with its columns.
    let user_id = svc.backend.find_user_id("acc_1").await.unwrap().unwrap();
    assert!(user_id.starts_with("usr-"));
    let listed = svc.backend.list_credentials(&user_id).await.unwrap();
    assert_eq!(listed.len(), 1);
    let credential = &listed[0];
    assert!(credential.id.starts_with("cre-"));
    assert_eq!(
        credential.authenticator_aaguid,
        "00000000-0000-0000-0000-000000000000"
    );
    assert_eq!(credential.source_browser, "Chrome");
    assert_eq!(credential.source_os, "macOS");
    assert_eq!(credential.status, "active");
    assert_eq!(credential.transport, ["hybrid", "internal"]);
    assert!(credential.last_used.is_empty());
    assert!(!credential.created.is_empty());

    // Identifier-first login → signed passkey data → verified once.
    let finish = svc.login(&mut auth, "acc_1", &Tweak::default()).await;
    let login: LoginFinishRsp = finish.typed();
    assert_eq!(login.session, "");
    let operation = login.passkey_operation.unwrap();
    assert_eq!(operation.operation_type, "verify");
    assert_eq!(operation.ceremony_type, "local");
    // What the page hands the Signal API after the login: this user's passkeys and name.
    let signal = login.signal_details.clone().expect("signal details");
    assert_eq!(signal.rp_id, "localhost");
    assert_eq!(
        signal.all_accepted_credential_ids,
        vec![credential.credential_id.clone()]
    );
    assert_eq!(signal.name, "acc_1@example.com");
    assert_eq!(
        base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            &signal.user_id
        )
        .unwrap(),
        auth.user_handle_of(&auth.newest_credential())
    );
    let token = claims(&login.signed_passkey_data);
    assert_eq!(token.iss, support::PROJECT_ID);
    assert_eq!(token.sub, user_id);
    assert_eq!(token.webauthn_id, "acc_1");
    assert_eq!(token.credential, credential.id);
    assert!(token.challenge_id.starts_with("was-"));
    assert!(!token.is_cui);
    assert!(token.exp - token.iat <= 300 && token.exp > token.iat);
    let header = jsonwebtoken::decode_header(&login.signed_passkey_data).unwrap();
    assert_eq!(header.kid.as_deref(), Some(svc.service.signer().kid()));
    assert_eq!(
        svc.verify(&login.signed_passkey_data, "acc_1").await,
        VerificationResult::Success
    );
    assert_eq!(
        svc.verify(&login.signed_passkey_data, "acc_1").await,
        VerificationResult::InvalidChallenge,
        "signed passkey data verifies once"
    );

    // The login was written back: counter and last use.
    let listed = svc.backend.list_credentials(&user_id).await.unwrap();
    assert!(!listed[0].last_used.is_empty());
    let stored = svc
        .service
        .credential_by_credential_id(&listed[0].credential_id)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.sign_count >= 1, "{}", stored.sign_count);

    // A second passkey: the first is excluded.
    let mut other_device = TestPasskey::new();
    svc.append(&mut other_device, "acc_1", &client_info(None))
        .await
        .ok();
    let excluded = other_device.last_creation_options.unwrap()["publicKey"]["excludeCredentials"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(excluded.len(), 1);
    assert_eq!(excluded[0]["id"], json!(listed[0].credential_id));

    // The user's list through the frontend API, with a list token.
    let (process, _) = svc.init("manage", &client_info(None)).await;
    let token = svc.token(ConnectTokenType::PasskeyList, "acc_1").await;
    let list: ManageListRsp = svc
        .front
        .post(
            frontend::MANAGE_LIST,
            Some(&process),
            &json!({ "connectToken": token }),
        )
        .await
        .typed();
    assert_eq!(list.passkeys.len(), 2);
    assert_eq!(list.passkeys[0].tags, ["hybrid"]);
    assert!(!list.passkeys[0].created_on_this_client);
    assert_eq!(list.rp_id, "localhost");
    assert_eq!(list.user_id, user_id);

    // Delete both (frontend with a delete token, backend directly); then login falls back.
    let token = svc.token(ConnectTokenType::PasskeyDelete, "acc_1").await;
    let deleted = svc
        .front
        .post(
            frontend::MANAGE_DELETE,
            Some(&process),
            &json!({ "connectToken": token, "credentialID": list.passkeys[0].credential.id }),
        )
        .await;
    assert_eq!(
        deleted.ok()["credentialID"],
        json!(list.passkeys[0].credential.id)
    );
    svc.backend
        .delete_credential(&user_id, &list.passkeys[1].credential.credential_id, None)
        .await
        .unwrap();
    assert!(svc
        .backend
        .list_credentials(&user_id)
        .await
        .unwrap()
        .is_empty());
    let (_, start) = svc.login_start("acc_1", &json!({})).await;
    let start: LoginStartRsp = start.typed();
    assert_eq!(start.assertion_options, "");
    assert!(start.fallback_operation_error.init_fallback);
    assert_eq!(
        start.fallback_operation_error.error.unwrap().code,
        "no_passkey_available"
    );
}

async fn conditional_ui_login(db: Db) {
    let svc = TestService::start(db).await;
    let mut auth = TestPasskey::new();
    svc.append(&mut auth, "acc_cui", &client_info(None))
        .await
        .ok();

    let (process, init) = svc.init("login", &client_info(None)).await;
    let init: LoginInitRsp = serde_json::from_value(init).unwrap();
    assert!(init.login_allowed);
    assert_eq!(
        init.flags.get("conditional-ui-allowed").map(String::as_str),
        Some("true")
    );
    assert!(init.new_client_env_handle.is_some());
    let options: serde_json::Value = serde_json::from_str(&init.conditional_ui_challenge).unwrap();
    assert_eq!(options["mediation"], "conditional");
    assert!(options["publicKey"]["allowCredentials"]
        .as_array()
        .is_none_or(|list| list.is_empty()));
    let assertion = auth.login(&init.conditional_ui_challenge, &Tweak::default());
    let finish: LoginFinishRsp = svc.login_finish(&process, &assertion, true).await.typed();
    let signed = finish.signed_passkey_data;
    assert!(claims(&signed).is_cui);
    // The app learns whom to verify from the (unverified) claim, then verifies.
    let identifier = claimed_identifier(&signed).unwrap();
    assert_eq!(identifier, "acc_cui");
    assert_eq!(
        svc.verify(&signed, &identifier).await,
        VerificationResult::Success
    );
}

async fn identifier_less_login(db: Db) {
    let svc = TestService::start(db).await;
    let mut auth = TestPasskey::new();
    svc.append(&mut auth, "acc_button", &client_info(None))
        .await
        .ok();

    let (process, start) = svc.login_start_discoverable(&client_info(None)).await;
    let options: serde_json::Value = serde_json::from_str(&start.assertion_options).unwrap();
    assert!(
        options.get("mediation").is_none(),
        "a modal request: {options}"
    );
    assert_eq!(options["publicKey"]["userVerification"], "required");
    let assertion = auth.login(&start.assertion_options, &Tweak::default());
    let finish: LoginFinishRsp = svc.login_finish(&process, &assertion, false).await.typed();
    assert_eq!(
        claims(&finish.signed_passkey_data).webauthn_id,
        "acc_button"
    );
    assert!(!claims(&finish.signed_passkey_data).is_cui);
}

async fn one_tap_login_uses_the_last_operation(db: Db) {
    let svc = TestService::start(db).await;
    let mut auth = TestPasskey::new();
    let appended: AppendFinishRsp = svc
        .append(&mut auth, "acc_tap", &client_info(None))
        .await
        .typed();
    // The browser keeps passkeyOperation as the last login and offers one-tap with it.
    let label = appended.passkey_operation.identifier_value;
    let (process, _) = svc.init("login", &client_info(None)).await;
    let token = svc.token(ConnectTokenType::PasskeyLogin, "acc_tap").await;
    let start: LoginStartRsp = svc
        .front
        .post(
            frontend::LOGIN_START,
            Some(&process),
            &json!({ "identifier": label, "source": "one-tap", "loadedMs": 1,
                     "loginConnectToken": token }),
        )
        .await
        .typed();
    assert!(!start.fallback_operation_error.init_fallback);
    let assertion = auth.login(&start.assertion_options, &Tweak::default());
    let finish: LoginFinishRsp = svc.login_finish(&process, &assertion, false).await.typed();
    assert_eq!(
        finish.passkey_operation.unwrap().identifier_value,
        "acc_tap@example.com"
    );
}

async fn append_is_skipped_with_a_reason(db: Db) {
    let svc = TestService::start(db).await;
    let mut auth = TestPasskey::new();
    // A passkey created on this browser (its client handle): the next offer is skipped.
    let (_, init) = svc.init("append", &client_info(None)).await;
    let handle = init["newClientEnvHandle"].as_str().unwrap().to_string();
    let here = client_info(Some(&handle));
    let (process, start) = svc.append_start("acc_skip", &here, false).await;
    let options = start.ok()["attestationOptions"]
        .as_str()
        .unwrap()
        .to_string();
    let response = auth.register(&options);
    svc.front.append_finish(&process, &response).await.ok();
    let (_, again) = svc.append_start("acc_skip", &here, false).await;
    let again: AppendStartRsp = again.typed();
    assert_eq!(again.attestation_options, "");
    // Skipped or not, the step after a login gets the Signal API's details of a user who has
    // passkeys (and none for a user without: see the first start above).
    assert_eq!(
        again
            .signal_details
            .map(|d| d.all_accepted_credential_ids.len()),
        Some(1)
    );
    assert!(start.typed::<AppendStartRsp>().signal_details.is_none());
    assert_eq!(
        serde_json::to_value(again.reason).unwrap(),
        json!("passkey-on-this-client")
    );
    // An explicit "Create passkey" still gets options.
    let (_, forced) = svc.append_start("acc_skip", &here, true).await;
    assert_ne!(forced.ok()["attestationOptions"], "");
    // Another browser with no platform authenticator is not offered one either.
    let no_platform = json!({ "isUserVerifyingPlatformAuthenticatorAvailable": false });
    let (_, start) = svc.append_start("acc_skip", &no_platform, false).await;
    assert_eq!(start.ok()["attestationOptions"], "");
    assert_eq!(start.ok()["reason"], "no-platform-authenticator");
    // A new user on a new capable browser is.
    let (_, start) = svc.append_start("acc_new", &client_info(None), false).await;
    assert_ne!(start.ok()["attestationOptions"], "");
    assert!(start.ok().get("reason").is_none());
}

async fn after_a_login_from_another_device_append_offers_this_device(db: Db) {
    let svc = TestService::start(db).await;
    let mut phone = TestPasskey::new();
    svc.append(&mut phone, "acc_hybrid", &client_info(None))
        .await
        .ok();
    // On a laptop (its own client handle), the login comes from the phone over hybrid.
    let (_, init) = svc.init("login", &client_info(None)).await;
    let laptop = client_info(init["newClientEnvHandle"].as_str());
    let (process, start) = svc.login_start("acc_hybrid", &laptop).await;
    assert_eq!(start.ok()["isCDA"], false);
    let options = start.ok()["assertionOptions"].as_str().unwrap().to_string();
    let tweak = Tweak {
        attachment: Some("cross-platform"),
        ..Tweak::default()
    };
    let assertion = phone.login(&options, &tweak);
    let finish: LoginFinishRsp = svc.login_finish(&process, &assertion, false).await.typed();
    assert_eq!(finish.passkey_operation.unwrap().ceremony_type, "cda");
    // Next login on the laptop expects the other device; append offers a passkey for it.
    let (_, start) = svc.login_start("acc_hybrid", &laptop).await;
    assert_eq!(start.ok()["isCDA"], true);
    let (_, append) = svc.append_start("acc_hybrid", &laptop, false).await;
    let append: AppendStartRsp = append.typed();
    assert_ne!(append.attestation_options, "");
    assert_eq!(
        serde_json::to_value(append.variant).unwrap(),
        json!("after-hybrid")
    );
}

/// A passkey login of `key` for `acc_laptop` on `client`, whose browser reports
/// `attachment`: the signed data's `crossDevice` claim.
async fn cross_device_claim(
    svc: &TestService,
    key: &mut TestPasskey,
    client: &serde_json::Value,
    attachment: &'static str,
) -> Option<bool> {
    let (process, start) = svc.login_start("acc_laptop", client).await;
    let options = start.ok()["assertionOptions"].as_str().unwrap().to_string();
    let tweak = Tweak {
        attachment: Some(attachment),
        ..Tweak::default()
    };
    let assertion = key.login(&options, &tweak);
    let finish: LoginFinishRsp = svc.login_finish(&process, &assertion, false).await.typed();
    claims(&finish.signed_passkey_data).cross_device
}

/// Login start says whether the passkey is expected on this browser
/// (`preferImmediatelyAvailable`), so the page can tell a cancelled prompt from a browser
/// without the passkey; the signed data says whether the passkey came from another device.
async fn login_start_says_where_the_passkey_is_expected(db: Db) {
    let svc = TestService::start(db).await;
    // The laptop makes a passkey for its account (its own client handle).
    let (_, init) = svc.init("login", &client_info(None)).await;
    let laptop = client_info(init["newClientEnvHandle"].as_str());
    let mut laptop_key = TestPasskey::new();
    svc.append(&mut laptop_key, "acc_laptop", &laptop)
        .await
        .ok();
    let expected = |start: &support::Answer| start.ok()["preferImmediatelyAvailable"].clone();

    let (_, start) = svc.login_start("acc_laptop", &laptop).await;
    assert_eq!(expected(&start), true, "made here");
    // Another browser: the same account's passkey is elsewhere.
    let (_, init) = svc.init("login", &client_info(None)).await;
    let other = client_info(init["newClientEnvHandle"].as_str());
    let (_, start) = svc.login_start("acc_laptop", &other).await;
    assert_eq!(expected(&start), false, "made elsewhere");
    // A login there with the phone (hybrid) does not make it expected there either.
    let claim = cross_device_claim(&svc, &mut laptop_key, &other, "cross-platform").await;
    assert_eq!(claim, Some(true));
    let (_, start) = svc.login_start("acc_laptop", &other).await;
    assert_eq!(expected(&start), false, "last login from another device");
    // …but after a login with this browser's own authenticator (a synced passkey) it is.
    let claim = cross_device_claim(&svc, &mut laptop_key, &other, "platform").await;
    assert_eq!(claim, Some(false));
    let (_, start) = svc.login_start("acc_laptop", &other).await;
    assert_eq!(expected(&start), true, "last login with this browser's own");
    // A browser that reports no attachment: the claim says nothing (the app does not guess).
    let claim = cross_device_claim(&svc, &mut laptop_key, &other, "").await;
    assert_eq!(claim, None);

    // "Sign in with a passkey" (no identifier): expected where any passkey was made.
    let (_, start) = svc.login_start_discoverable(&laptop).await;
    assert_eq!(start.prefer_immediately_available, Some(true));
    let (_, start) = svc.login_start_discoverable(&client_info(None)).await;
    assert_eq!(
        start.prefer_immediately_available,
        Some(false),
        "a new browser"
    );

    // An email without passkeys falls back: nothing to expect.
    let (_, start) = svc.login_start("acc_nobody", &laptop).await;
    assert_eq!(start.ok()["assertionOptions"], "");
}

async fn rollout_and_kill_switch_are_enforced_on_the_server(db: Db) {
    let svc = TestService::start_with(db, Transport::InProcess, |s| {
        s.login_rollout_percent = 0;
        s.append_rollout_percent = 0;
    })
    .await;
    let (_, init) = svc.init("login", &client_info(None)).await;
    assert_eq!(init["loginAllowed"], false);
    assert_eq!(init["conditionalUIChallenge"], "");
    // A client that ignores the decision still gets a silent fallback.
    let (_, start) = svc.login_start("acc_r", &json!({})).await;
    assert_eq!(start.ok()["assertionOptions"], "");
    assert_eq!(
        start.ok()["fallbackOperationError"]["error"]["code"],
        "rollout_denied"
    );
    let (_, append) = svc.append_start("acc_r", &client_info(None), false).await;
    assert_eq!(append.ok()["reason"], "rollout-denied");
    // The explicit button in the passkey list is not subject to the rollout.
    let (_, forced) = svc.append_start("acc_r", &client_info(None), true).await;
    assert_ne!(forced.ok()["attestationOptions"], "");
    let (_, manage) = svc.init("manage", &client_info(None)).await;
    assert_eq!(manage["manageAllowed"], true);

    let off = TestService::start_with(db, Transport::InProcess, |s| s.enabled = false).await;
    for component in ["login", "append", "manage"] {
        let (_, init) = off.init(component, &client_info(None)).await;
        let allowed = ["loginAllowed", "appendAllowed", "manageAllowed"]
            .iter()
            .find_map(|k| init.get(*k))
            .cloned();
        assert_eq!(allowed, Some(json!(false)), "{component}: {init}");
    }
    let (_, forced) = off.append_start("acc_r", &client_info(None), true).await;
    assert_eq!(forced.ok()["reason"], "rollout-denied");
}

async fn rollout_is_stable_per_client(db: Db) {
    let svc =
        TestService::start_with(db, Transport::InProcess, |s| s.login_rollout_percent = 50).await;
    let mut allowed = 0;
    for _ in 0..40 {
        let (_, init) = svc.init("login", &client_info(None)).await;
        let handle = init["newClientEnvHandle"].as_str().unwrap().to_string();
        let first = init["loginAllowed"].as_bool().unwrap();
        let (_, again) = svc.init("login", &client_info(Some(&handle))).await;
        assert_eq!(again["loginAllowed"].as_bool().unwrap(), first);
        assert!(again.get("newClientEnvHandle").is_none());
        allowed += usize::from(first);
    }
    // 40 clients at 50%: both outcomes occur (the chance that they do not is 2^-39).
    assert!((1..40).contains(&allowed), "{allowed}");
}

async fn processes_clear_and_events(db: Db) {
    let svc = TestService::start(db).await;
    let (process, _) = svc.init("login", &client_info(None)).await;
    let event = svc
        .front
        .post(
            frontend::EVENTS,
            Some(&process),
            &json!({ "eventType": "login-explicit-abort", "message": "situation 7" }),
        )
        .await;
    assert_eq!(event.status, 204);
    let reported = svc
        .events(EventType::PasskeyLoginFailed, Some(Reason::Cancelled))
        .await;
    assert_eq!(reported.len(), 1);
    assert_eq!(
        reported[0].event.detail.as_deref(),
        Some("login-explicit-abort: situation 7")
    );
    let unknown = svc.front.event(&process, "made-up").await;
    assert_eq!(
        (unknown.status, unknown.error_type()),
        (400, "validation_error")
    );
    let cleared = svc
        .front
        .post(
            frontend::PROCESS_CLEAR,
            None,
            &json!({ "processId": process }),
        )
        .await;
    assert_eq!(cleared.ok()["processId"], json!(process));
    let again = svc
        .front
        .post(
            frontend::PROCESS_CLEAR,
            None,
            &json!({ "processId": process }),
        )
        .await;
    assert_eq!((again.status, again.error_type()), (404, "not_found"));
    // A cleared process cannot be used any more.
    let event = svc.front.event(&process, "login-error").await;
    assert_eq!(event.status, 404);
}

async fn expired_rows_are_purged(db: Db) {
    let svc = TestService::start(db).await;
    let (process, _) = svc.init("login", &client_info(None)).await;
    svc.token(ConnectTokenType::PasskeyAppend, "acc_p").await;
    assert_eq!(svc.service.purge_expired().await.unwrap(), 0);
    svc.service.clock().advance(2 * 24 * 3600);
    // The process, its conditional-UI challenge and the token are gone.
    assert!(svc.service.purge_expired().await.unwrap() >= 3);
    let event = svc.front.event(&process, "login-error").await;
    assert_eq!(event.status, 404);
    let tokens = svc
        .backend
        .list_connect_tokens(&Default::default())
        .await
        .unwrap();
    assert_eq!(tokens.paging.total_items, 0);

    // Browsers: one that logged in with a passkey is remembered, an idle one is forgotten
    // after a month.
    let mut auth = TestPasskey::new();
    svc.append(&mut auth, "acc_p", &client_info(None))
        .await
        .ok();
    svc.login(&mut auth, "acc_p", &Tweak::default()).await.ok();
    let clients = || async {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM connect_clients")
            .fetch_one(svc.service.store().pool())
            .await
            .unwrap();
        sqlx::Row::try_get::<i64, _>(&row, "n").unwrap()
    };
    assert_eq!(
        clients().await,
        3,
        "the first init, the append and the login each met a new browser"
    );
    svc.service.clock().advance(31 * 24 * 3600);
    svc.service.purge_expired().await.unwrap();
    assert_eq!(
        clients().await,
        1,
        "only the browser with a passkey login stays"
    );
}

/// `GET /v2/events`: the audit log over the backend API, by identifier and type, paged with
/// cursors; bad filters are clear 400s, and the API key is required.
async fn the_backend_api_lists_events(db: Db) {
    let svc = TestService::start_with(db, Transport::Http, |_| {}).await;
    let mut auth = TestPasskey::new();
    for identifier in ["acc_ev1", "acc_ev2", "acc_ev1"] {
        svc.append(&mut auth, identifier, &client_info(None))
            .await
            .ok();
    }
    let list = |query: &'static str| {
        let front = svc.front.clone();
        async move {
            let path = format!("{}?{query}", backend::EVENTS);
            front
                .backend("GET", &path, Some((PROJECT_ID, API_SECRET)), None)
                .await
        }
    };
    let mine = list("identifier=acc_ev1&types=passkey.created").await;
    let events = mine.ok()["events"].as_array().unwrap().clone();
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e["identifier"] == "acc_ev1"));
    assert!(events.iter().all(|e| e["type"] == "passkey.created"));
    assert!(events[0]["sequence"].as_i64() > events[1]["sequence"].as_i64());
    assert_eq!(events[0]["browser"], "Chrome");

    let first = list("types=passkey.created&limit=2").await;
    let cursor = first.ok()["nextCursor"].as_str().unwrap().to_string();
    let path = format!(
        "{}?types=passkey.created&limit=2&cursor={cursor}",
        backend::EVENTS
    );
    let second = svc
        .front
        .backend("GET", &path, Some((PROJECT_ID, API_SECRET)), None)
        .await;
    assert_eq!(second.ok()["events"].as_array().unwrap().len(), 1);
    assert!(second.ok().get("nextCursor").is_none());

    for (query, field) in [
        ("types=passkey.invented", "types"),
        ("since=yesterday", "since"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("colour=red", "colour"),
    ] {
        let answer = list(query).await;
        assert_eq!(
            (answer.status, answer.error_type()),
            (400, "validation_error"),
            "{query}"
        );
        assert_eq!(
            answer.body["error"]["validation"][0]["field"], field,
            "{query}: {:?}",
            answer.body
        );
    }
    let anonymous = svc.front.backend("GET", backend::EVENTS, None, None).await;
    assert_eq!(anonymous.status, 401);
}

/// A person names a passkey with a `passkey-rename` token: the name is stored trimmed, shown
/// by both APIs and recorded as an event without the name; a bad name, another token type,
/// or someone else's passkey is refused and changes nothing.
async fn a_passkey_is_renamed_by_its_owner_only(db: Db) {
    let svc = TestService::start(db).await;
    let mut auth = TestPasskey::new();
    svc.append(&mut auth, "acc_n", &client_info(None))
        .await
        .ok();
    let mut other = TestPasskey::new();
    svc.append(&mut other, "acc_other", &client_info(None))
        .await
        .ok();
    let user = svc.backend.find_user_id("acc_n").await.unwrap().unwrap();
    let passkey = svc.backend.list_credentials(&user).await.unwrap()[0].clone();
    let other_user = svc
        .backend
        .find_user_id("acc_other")
        .await
        .unwrap()
        .unwrap();
    let others = svc.backend.list_credentials(&other_user).await.unwrap()[0].clone();
    let (process, _) = svc.init("manage", &client_info(None)).await;
    let rename = |token: String, credential: String, name: &str| {
        let body = json!({ "connectToken": token, "credentialID": credential, "name": name });
        let front = svc.front.clone();
        let process = process.clone();
        async move {
            front
                .post(frontend::MANAGE_RENAME, Some(&process), &body)
                .await
        }
    };

    let token = svc.token(ConnectTokenType::PasskeyRename, "acc_n").await;
    let renamed = rename(token, passkey.id.clone(), "  Work laptop ").await;
    assert_eq!(renamed.ok()["name"], "Work laptop");
    let listed = svc.backend.list_credentials(&user).await.unwrap();
    assert_eq!(listed[0].name, "Work laptop");
    assert_eq!(listed[0].display_name(), "Work laptop");
    let list_token = svc.token(ConnectTokenType::PasskeyList, "acc_n").await;
    let list: ManageListRsp = svc
        .front
        .post(
            frontend::MANAGE_LIST,
            Some(&process),
            &json!({ "connectToken": list_token }),
        )
        .await
        .typed();
    assert_eq!(list.passkeys[0].credential.name, "Work laptop");
    assert_eq!(list.webauthn_user_name, "acc_n@example.com");
    let events = svc.events(EventType::PasskeyRenamed, None).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event.account.as_deref(), Some("acc_n"));
    assert_eq!(
        events[0].event.credential.as_deref(),
        Some(passkey.id.as_str())
    );
    assert!(!format!("{:?}", events[0].event).contains("Work laptop"));

    // Bad names, each with the field's message; the token is not spent on them.
    let token = svc.token(ConnectTokenType::PasskeyRename, "acc_n").await;
    for (name, says) in [
        ("   ", "Enter a name for the passkey."),
        (&"x".repeat(65), "Use at most 64 characters."),
        (
            "tab\there",
            "Use letters, digits, spaces and punctuation only.",
        ),
    ] {
        let answer = rename(token.clone(), passkey.id.clone(), name).await;
        assert_eq!(
            (answer.status, answer.error_type()),
            (400, "validation_error")
        );
        assert_eq!(answer.body["error"]["validation"][0]["field"], "name");
        assert_eq!(answer.body["message"], says);
    }
    // Someone else's passkey is not found; a list or delete token cannot rename.
    let answer = rename(token, others.id.clone(), "Mine now").await;
    assert_eq!(answer.status, 404, "{answer:?}");
    for kind in [
        ConnectTokenType::PasskeyList,
        ConnectTokenType::PasskeyDelete,
    ] {
        let token = svc.token(kind, "acc_n").await;
        let answer = rename(token, passkey.id.clone(), "Nope").await;
        assert_eq!(answer.status, 400, "{kind:?}: {answer:?}");
        assert!(answer.body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("connect token is invalid"));
    }
    let theirs = svc.backend.list_credentials(&other_user).await.unwrap();
    assert_eq!(theirs[0].name, "");
    assert_eq!(
        svc.backend.list_credentials(&user).await.unwrap()[0].name,
        "Work laptop"
    );
}

/// More logins at once than the database pool has connections: every login finishes and
/// every event is recorded. (Requests wait for their events' commit; a request that held a
/// connection while it waited would starve the audit writer of one.)
async fn more_logins_at_once_than_database_connections(db: Db) {
    const PEOPLE: usize = 40;
    let svc = TestService::start_unlimited(db).await;
    let mut people = Vec::with_capacity(PEOPLE);
    for n in 0..PEOPLE {
        let identifier = format!("acc_busy_{n}");
        let mut auth = TestPasskey::new();
        svc.append(&mut auth, &identifier, &client_info(None))
            .await
            .ok();
        people.push((identifier, auth));
    }
    let tweak = Tweak::default();
    let logins = people
        .iter_mut()
        .map(|(identifier, auth)| svc.login(auth, identifier, &tweak));
    for finish in futures::future::join_all(logins).await {
        assert!(finish.ok()["signedPasskeyData"].is_string(), "{finish:?}");
    }
    let completed = svc.events(EventType::PasskeyLoginCompleted, None).await;
    assert_eq!(completed.len(), PEOPLE);
}

on_both_databases!(
    a_passkey_is_renamed_by_its_owner_only,
    more_logins_at_once_than_database_connections,
    the_backend_api_lists_events,
    append_login_verify_list_delete,
    conditional_ui_login,
    identifier_less_login,
    one_tap_login_uses_the_last_operation,
    append_is_skipped_with_a_reason,
    after_a_login_from_another_device_append_offers_this_device,
    login_start_says_where_the_passkey_is_expected,
    rollout_and_kill_switch_are_enforced_on_the_server,
    rollout_is_stable_per_client,
    processes_clear_and_events,
    expired_rows_are_purged,
);
