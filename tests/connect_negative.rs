//! One failing-input test per rule of the passkey service, on SQLite and PostgreSQL:
//! WebAuthn checks, connect-token misuse, signed-data misuse, backend authentication,
//! malformed requests, and the double-submit races.

mod support;

use latchkey::connect::api::paths::{self, backend, frontend, PROCESS_HEADER, PROJECT_ID_HEADER};
use latchkey::connect::api::{
    ConnectTokenType, ErrorType, SignedPasskeyClaims, VerificationResult,
};
use latchkey::events::{EventType, Reason};
use serde_json::json;
use support::{
    client_info, Db, TestPasskey, TestService, Transport, Tweak, API_SECRET, PROJECT_ID,
};

/// A user with one passkey on `auth`.
async fn enrolled(db: Db, identifier: &str) -> (TestService, TestPasskey) {
    let svc = TestService::start(db).await;
    let mut auth = TestPasskey::new();
    svc.append(&mut auth, identifier, &client_info(None))
        .await
        .ok();
    (svc, auth)
}

/// Logs in with `tweak` and expects a 400 validation error mentioning `expect`.
#[track_caller]
fn assert_refused(answer: &support::Answer, expect: &str) {
    assert_eq!(answer.status, 400, "{answer:?}");
    assert_eq!(answer.error_type(), "validation_error", "{answer:?}");
    let message = answer.body["message"].as_str().unwrap_or_default();
    assert!(message.contains(expect), "{expect:?} not in {message:?}");
}

async fn assert_refused_login(db: Db, tweak: Tweak, expect: &str) {
    let (svc, mut auth) = enrolled(db, "acc_n").await;
    let answer = svc.login(&mut auth, "acc_n", &tweak).await;
    assert_refused(&answer, expect);
    // Nothing was recorded as a use of the passkey.
    let user = svc.backend.find_user_id("acc_n").await.unwrap().unwrap();
    let listed = svc.backend.list_credentials(&user).await.unwrap();
    assert!(listed[0].last_used.is_empty(), "{:?}", listed[0]);
}

async fn wrong_challenge(db: Db) {
    assert_refused_login(db, Tweak::challenge(vec![7; 32]), "could not be verified").await;
}

async fn wrong_origin(db: Db) {
    assert_refused_login(
        db,
        Tweak::origin("https://evil.example"),
        "could not be verified",
    )
    .await;
}

async fn wrong_rp_id_hash(db: Db) {
    assert_refused_login(db, Tweak::rp_id("evil.example"), "could not be verified").await;
}

async fn wrong_client_data_type(db: Db) {
    assert_refused_login(
        db,
        Tweak::client_data_type("webauthn.create"),
        "could not be verified",
    )
    .await;
}

async fn missing_user_verification(db: Db) {
    assert_refused_login(
        db,
        Tweak::without_user_verification(),
        "could not be verified",
    )
    .await;
}

async fn replayed_assertion(db: Db) {
    let (svc, mut auth) = enrolled(db, "acc_replay").await;
    let (process, start) = svc.login_start("acc_replay", &json!({})).await;
    let options = start.ok()["assertionOptions"].as_str().unwrap().to_string();
    let assertion = auth.login(&options, &Tweak::default());
    svc.login_finish(&process, &assertion, false).await.ok();
    assert_refused(
        &svc.login_finish(&process, &assertion, false).await,
        "no passkey login is pending",
    );
    // Nor does it work in a new login of the same user (its challenge differs).
    let (process, _) = svc.login_start("acc_replay", &json!({})).await;
    assert_refused(
        &svc.login_finish(&process, &assertion, false).await,
        "could not be verified",
    );
}

async fn expired_challenge(db: Db) {
    let (svc, mut auth) = enrolled(db, "acc_slow").await;
    let (process, start) = svc.login_start("acc_slow", &json!({})).await;
    let options = start.ok()["assertionOptions"].as_str().unwrap().to_string();
    let assertion = auth.login(&options, &Tweak::default());
    svc.service.clock().advance(301);
    assert_refused(
        &svc.login_finish(&process, &assertion, false).await,
        "no passkey login is pending",
    );
}

/// Sets a credential's stored counter: the column, and the counter inside the serialised
/// passkey (which webauthn-rs checks).
async fn set_counter(svc: &TestService, credential_id: &str, column: i64, in_passkey: i64) {
    let row = svc
        .service
        .credential_by_credential_id(credential_id)
        .await
        .unwrap()
        .unwrap();
    let mut passkey = serde_json::to_value(&row.passkey).unwrap();
    passkey["cred"]["counter"] = json!(in_passkey);
    sqlx::query(
        "UPDATE connect_credentials SET passkey = $1, sign_count = $2 WHERE credential_id = $3",
    )
    .bind(passkey.to_string())
    .bind(column)
    .bind(credential_id)
    .execute(svc.service.store().pool())
    .await
    .unwrap();
}

async fn counter_regression(db: Db) {
    let (svc, mut auth) = enrolled(db, "acc_clone").await;
    svc.login(&mut auth, "acc_clone", &Tweak::default())
        .await
        .ok();
    let credential_id = base64_url(&auth.newest_credential());
    // A clone has been used elsewhere: the stored counter is ahead of this authenticator.
    // Caught by webauthn-rs (counter in the stored passkey) ...
    set_counter(&svc, &credential_id, 1000, 1000).await;
    let answer = svc.login(&mut auth, "acc_clone", &Tweak::default()).await;
    assert_refused(&answer, "counter went backwards");
    // ... and by the compare-and-set on the column (a login that raced ahead of this one).
    set_counter(&svc, &credential_id, 1000, 0).await;
    let answer = svc.login(&mut auth, "acc_clone", &Tweak::default()).await;
    assert_refused(&answer, "counter went backwards");
    let stored = svc
        .service
        .credential_by_credential_id(&credential_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.sign_count, 1000, "a regression is never written");
    let events = svc
        .events(
            EventType::PasskeyLoginFailed,
            Some(Reason::CounterRegression),
        )
        .await;
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[0].event.credential.as_deref(),
        Some(stored.id.as_str())
    );
    assert_eq!(events[0].event.account.as_deref(), Some("acc_clone"));
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

async fn credential_of_another_user(db: Db) {
    let svc = TestService::start(db).await;
    let mut auth = TestPasskey::new();
    svc.append(&mut auth, "acc_alice", &client_info(None))
        .await
        .ok();
    svc.append(&mut auth, "acc_bob", &client_info(None))
        .await
        .ok();
    let bobs = auth.newest_credential();
    // Alice's login answered with Bob's passkey.
    let tweak = Tweak {
        credential: Some(bobs),
        ..Tweak::default()
    };
    let answer = svc.login(&mut auth, "acc_alice", &tweak).await;
    assert_refused(&answer, "does not belong");
    let events = svc
        .events(EventType::PasskeyLoginFailed, Some(Reason::UserMismatch))
        .await;
    assert_eq!(events.len(), 1);
}

async fn user_handle_mismatch(db: Db) {
    let svc = TestService::start(db).await;
    let mut auth = TestPasskey::new();
    svc.append(&mut auth, "acc_alice", &client_info(None))
        .await
        .ok();
    let alices = auth.newest_credential();
    svc.append(&mut auth, "acc_bob", &client_info(None))
        .await
        .ok();
    let bobs = auth.newest_credential();
    for user_handle in [auth.user_handle_of(&alices), vec![9; 16]] {
        let (process, init) = svc.init("login", &client_info(None)).await;
        let options = init["conditionalUIChallenge"].as_str().unwrap().to_string();
        // Bob's passkey, claiming to be Alice's (or an unknown user's).
        let tweak = Tweak {
            credential: Some(bobs.clone()),
            user_handle: Some(user_handle),
            ..Tweak::default()
        };
        let assertion = auth.login(&options, &tweak);
        assert_refused(
            &svc.login_finish(&process, &assertion, true).await,
            "does not belong",
        );
    }
}

async fn unknown_credential(db: Db) {
    let (svc, mut auth) = enrolled(db, "acc_gone").await;
    let user = svc.backend.find_user_id("acc_gone").await.unwrap().unwrap();
    let credential_id = base64_url(&auth.newest_credential());
    svc.backend
        .delete_credential(&user, &credential_id, None)
        .await
        .unwrap();
    let (process, init) = svc.init("login", &client_info(None)).await;
    let options = init["conditionalUIChallenge"].as_str().unwrap().to_string();
    let assertion = auth.login(&options, &Tweak::default());
    let answer = svc.login_finish(&process, &assertion, true).await;
    assert_eq!(
        (answer.status, answer.error_type()),
        (404, "not_found"),
        "{answer:?}"
    );
}

async fn registration_checks(db: Db) {
    let svc = TestService::start(db).await;
    let mut auth = TestPasskey::new();
    let (process, start) = svc.append_start("acc_reg", &client_info(None), true).await;
    let options = start.ok()["attestationOptions"]
        .as_str()
        .unwrap()
        .to_string();
    // Another origin's registration is refused and the challenge is spent.
    let mut json: serde_json::Value = serde_json::from_str(&auth.register(&options)).unwrap();
    let good = json.clone();
    let client_data =
        json!({"type": "webauthn.create", "challenge": "AAAA", "origin": "https://evil.example"});
    json["response"]["clientDataJSON"] = json!(base64_url(client_data.to_string().as_bytes()));
    let refused = svc
        .front
        .post(
            frontend::APPEND_FINISH,
            Some(&process),
            &json!({ "attestationResponse": json.to_string() }),
        )
        .await;
    assert_refused(&refused, "could not be verified");
    let again = svc
        .front
        .post(
            frontend::APPEND_FINISH,
            Some(&process),
            &json!({ "attestationResponse": good.to_string() }),
        )
        .await;
    assert_refused(&again, "no passkey creation is pending");
    assert!(svc.backend.find_user_id("acc_reg").await.unwrap().is_some());
    let user = svc.backend.find_user_id("acc_reg").await.unwrap().unwrap();
    assert!(svc
        .backend
        .list_credentials(&user)
        .await
        .unwrap()
        .is_empty());

    // A credential id that is already registered is refused with 409.
    svc.append(&mut auth, "acc_reg", &client_info(None))
        .await
        .ok();
    let existing = svc
        .service
        .credential_by_credential_id(&base64_url(&auth.newest_credential()))
        .await
        .unwrap()
        .unwrap();
    let mut copy = existing.clone();
    copy.id = "cre-1".into();
    let err = svc.service.insert_credential(&copy).await.unwrap_err();
    assert_eq!(err.error_type().status(), 409);
    assert_eq!(err.error_type().as_ref(), "already_exists");
}

async fn expired_connect_token(db: Db) {
    let svc = TestService::start(db).await;
    let token = svc.token(ConnectTokenType::PasskeyList, "acc_t").await;
    svc.service.clock().advance(301);
    let (process, _) = svc.init("manage", &client_info(None)).await;
    let answer = svc
        .front
        .post(
            frontend::MANAGE_LIST,
            Some(&process),
            &json!({ "connectToken": token }),
        )
        .await;
    assert_refused(&answer, "connect token is invalid");
}

async fn reused_connect_token(db: Db) {
    let svc = TestService::start(db).await;
    let token = svc.token(ConnectTokenType::PasskeyList, "acc_t").await;
    let (process, _) = svc.init("manage", &client_info(None)).await;
    let body = json!({ "connectToken": token });
    svc.front
        .post(frontend::MANAGE_LIST, Some(&process), &body)
        .await
        .ok();
    let answer = svc
        .front
        .post(frontend::MANAGE_LIST, Some(&process), &body)
        .await;
    assert_refused(&answer, "connect token is invalid");
}

async fn wrong_action_connect_token(db: Db) {
    let (svc, _auth) = enrolled(db, "acc_t").await;
    let list_token = svc.token(ConnectTokenType::PasskeyList, "acc_t").await;
    let (process, _) = svc.init("manage", &client_info(None)).await;
    let user = svc.backend.find_user_id("acc_t").await.unwrap().unwrap();
    let credential = svc.backend.list_credentials(&user).await.unwrap()[0]
        .id
        .clone();
    // A list token cannot delete, start an append, or log in ...
    let delete = svc
        .front
        .post(
            frontend::MANAGE_DELETE,
            Some(&process),
            &json!({ "connectToken": list_token, "credentialID": credential }),
        )
        .await;
    assert_refused(&delete, "connect token is invalid");
    let append = svc
        .front
        .post(
            frontend::APPEND_START,
            Some(&process),
            &json!({ "appendTokenValue": list_token, "loadedMs": 1 }),
        )
        .await;
    assert_refused(&append, "connect token is invalid");
    let login = svc
        .front
        .post(
            frontend::LOGIN_START,
            Some(&process),
            &json!({ "identifier": "x", "source": "text-field", "loadedMs": 1,
                     "loginConnectToken": list_token }),
        )
        .await;
    assert_refused(&login, "connect token is invalid");
    assert_eq!(svc.backend.list_credentials(&user).await.unwrap().len(), 1);
    // ... and misuse does not burn it for its own action.
    svc.front
        .post(
            frontend::MANAGE_LIST,
            Some(&process),
            &json!({ "connectToken": list_token }),
        )
        .await
        .ok();
    // Without a token, login start needs one (connect-require-login-token).
    let bare = svc
        .front
        .post(
            frontend::LOGIN_START,
            Some(&process),
            &json!({ "identifier": "acc_t", "source": "text-field", "loadedMs": 1 }),
        )
        .await;
    assert_refused(&bare, "needs a passkey-login connect token");
}

async fn token_of_another_user(db: Db) {
    let svc = TestService::start(db).await;
    let mut auth = TestPasskey::new();
    svc.append(&mut auth, "acc_alice", &client_info(None))
        .await
        .ok();
    let alice = svc
        .backend
        .find_user_id("acc_alice")
        .await
        .unwrap()
        .unwrap();
    let alices = svc.backend.list_credentials(&alice).await.unwrap()[0].clone();
    let (process, _) = svc.init("manage", &client_info(None)).await;
    // Mallory's tokens neither delete nor list Alice's passkey.
    let token = svc
        .token(ConnectTokenType::PasskeyDelete, "acc_mallory")
        .await;
    let delete = svc
        .front
        .post(
            frontend::MANAGE_DELETE,
            Some(&process),
            &json!({ "connectToken": token, "credentialID": alices.id }),
        )
        .await;
    assert_eq!((delete.status, delete.error_type()), (404, "not_found"));
    let token = svc
        .token(ConnectTokenType::PasskeyList, "acc_mallory")
        .await;
    let list = svc
        .front
        .post(
            frontend::MANAGE_LIST,
            Some(&process),
            &json!({ "connectToken": token }),
        )
        .await;
    assert_eq!(list.ok()["passkeys"], json!([]));
    assert_eq!(svc.backend.list_credentials(&alice).await.unwrap().len(), 1);
    // Mallory's login token does not log in as Alice with Alice's passkey either.
    let (process, _) = svc.init("login", &client_info(None)).await;
    let token = svc
        .token(ConnectTokenType::PasskeyLogin, "acc_mallory")
        .await;
    let start = svc
        .front
        .post(
            frontend::LOGIN_START,
            Some(&process),
            &json!({ "identifier": "acc_alice", "source": "text-field", "loadedMs": 1,
                     "loginConnectToken": token }),
        )
        .await;
    assert_eq!(start.ok()["assertionOptions"], "");
}

async fn tampered_signed_data(db: Db) {
    let (svc, mut auth) = enrolled(db, "acc_s").await;
    let signed = svc.signed_data(&mut auth, "acc_s").await;
    // Change the claims (another user), keep the signature.
    let mut parts: Vec<String> = signed.split('.').map(str::to_string).collect();
    let mut claims: SignedPasskeyClaims = jsonwebtoken::dangerous::insecure_decode(&signed)
        .unwrap()
        .claims;
    claims.webauthn_id = "acc_admin".into();
    parts[1] = base64_url(serde_json::to_string(&claims).unwrap().as_bytes());
    let forged = parts.join(".");
    // A token signed by another key.
    let (other, _) = latchkey::connect::service::Signer::generate();
    let foreign = other.sign(&claims).unwrap();
    for bad in [forged.as_str(), foreign.as_str(), "not-a-jwt", ""] {
        assert_eq!(
            svc.verify(bad, "acc_admin").await,
            VerificationResult::InvalidSignature,
            "{bad}"
        );
    }
    // The genuine token is still good afterwards.
    assert_eq!(
        svc.verify(&signed, "acc_s").await,
        VerificationResult::Success
    );
}

/// A token issued by an instance of an older version (its row has no hash, as during a
/// rolling upgrade) verifies once with a valid signature; a forgery carrying its `jti` is
/// refused and does not spend it.
async fn signed_data_from_before_hashes_were_kept(db: Db) {
    let (svc, mut auth) = enrolled(db, "acc_s").await;
    let signed = svc.signed_data(&mut auth, "acc_s").await;
    sqlx::query("UPDATE connect_signed_data SET token_hash = ''")
        .execute(svc.service.store().pool())
        .await
        .unwrap();
    let mut parts: Vec<&str> = signed.split('.').collect();
    let mut claims: SignedPasskeyClaims = jsonwebtoken::dangerous::insecure_decode(&signed)
        .unwrap()
        .claims;
    claims.is_cui = !claims.is_cui;
    let payload = base64_url(serde_json::to_string(&claims).unwrap().as_bytes());
    parts[1] = &payload;
    let forged = parts.join(".");
    assert_eq!(
        svc.verify(&forged, "acc_s").await,
        VerificationResult::InvalidSignature
    );
    assert_eq!(
        svc.verify(&signed, "acc_s").await,
        VerificationResult::Success
    );
    assert_eq!(
        svc.verify(&signed, "acc_s").await,
        VerificationResult::InvalidChallenge
    );
}

async fn replayed_signed_data(db: Db) {
    let (svc, mut auth) = enrolled(db, "acc_s").await;
    let signed = svc.signed_data(&mut auth, "acc_s").await;
    let first = svc.verify(&signed, "acc_s").await;
    let second = svc.verify(&signed, "acc_s").await;
    assert_eq!(
        (first, second),
        (
            VerificationResult::Success,
            VerificationResult::InvalidChallenge
        )
    );
}

async fn expired_signed_data(db: Db) {
    let (svc, mut auth) = enrolled(db, "acc_s").await;
    let signed = svc.signed_data(&mut auth, "acc_s").await;
    svc.service.clock().advance(301);
    assert_eq!(
        svc.verify(&signed, "acc_s").await,
        VerificationResult::InvalidChallenge
    );
}

async fn signed_data_for_another_user(db: Db) {
    let (svc, mut auth) = enrolled(db, "acc_s").await;
    let signed = svc.signed_data(&mut auth, "acc_s").await;
    assert_eq!(
        svc.verify(&signed, "acc_other").await,
        VerificationResult::UserMismatch
    );
}

async fn wrong_basic_auth(db: Db) {
    let svc = TestService::start_with(db, Transport::Http, |_| {}).await;
    let body = r#"{"type":"passkey-list","data":{"identifier":"acc"}}"#;
    for credentials in [
        None,
        Some((PROJECT_ID, "wrong-secret")),
        Some(("pro-1", API_SECRET)),
        Some((PROJECT_ID, "")),
    ] {
        let answer = svc
            .front
            .backend("POST", backend::CONNECT_TOKENS, credentials, Some(body))
            .await;
        assert_eq!(
            (answer.status, answer.error_type()),
            (401, "login_error"),
            "{credentials:?}"
        );
        assert_eq!(answer.body["httpStatusCode"], 401);
        assert!(answer.body["requestData"]["requestID"]
            .as_str()
            .unwrap()
            .starts_with("req-"));
    }
    for path in [
        backend::VERIFY_SIGNED_DATA,
        backend::VERIFY_SIGNED_DATA_PLURAL,
    ] {
        let answer = svc.front.backend("POST", path, None, Some("{}")).await;
        assert_eq!(answer.status, 401, "{path}");
    }
    let ok = svc
        .front
        .backend(
            "POST",
            backend::CONNECT_TOKENS,
            Some((PROJECT_ID, API_SECRET)),
            Some(body),
        )
        .await;
    assert!(ok.ok()["secret"].as_str().unwrap().starts_with("ctk1_"));
    // The HTTP backend with a wrong secret gets the same error, typed.
    let wrong = latchkey::connect::backend_client::HttpBackend::new(
        url::Url::parse(svc.base.as_deref().unwrap()).unwrap(),
        PROJECT_ID.into(),
        latchkey::config::Secret::new("nope"),
    )
    .unwrap();
    let err = latchkey::connect::backend_client::ConnectBackend::find_user_id(&wrong, "acc")
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), Some(ErrorType::LoginError));
}

async fn malformed_requests(db: Db) {
    let svc = TestService::start(db).await;
    let auth = Some((PROJECT_ID, API_SECRET));
    let ctk_1 = paths::fill(backend::CONNECT_TOKEN, &[("id", "ctk-1")]);
    let filter_on_secret = format!("{}?filter[]=secret_hash:eq:x", backend::CONNECT_TOKENS);
    let huge_page = format!("{}?pageSize=100000", backend::CONNECT_TOKENS);
    let unknown_user = paths::fill(backend::USER_CREDENTIALS, &[("user_id", "usr-404")]);
    let backend_cases = [
        (
            "POST",
            backend::CONNECT_TOKENS,
            "{not json",
            400,
            "invalid_json",
        ),
        ("POST", backend::CONNECT_TOKENS, "", 400, "invalid_json"),
        (
            "POST",
            backend::CONNECT_TOKENS,
            "[1,2,3]",
            400,
            "validation_error",
        ),
        (
            "POST",
            backend::CONNECT_TOKENS,
            r#"{"type":"passkey-append","data":{"identifier":"a"}}"#,
            400,
            "validation_error",
        ),
        (
            "POST",
            backend::CONNECT_TOKENS,
            r#"{"type":"passkey-list","data":{"identifier":""}}"#,
            400,
            "validation_error",
        ),
        (
            "POST",
            backend::CONNECT_TOKENS,
            r#"{"type":"passkey-list","data":{"identifier":"a"},"maxLifetimeInSeconds":0}"#,
            400,
            "validation_error",
        ),
        (
            "POST",
            backend::VERIFY_SIGNED_DATA,
            r#"{"signedPasskeyData":1}"#,
            400,
            "validation_error",
        ),
        (
            "PATCH",
            ctk_1.as_str(),
            r#"{"status":"eaten"}"#,
            400,
            "validation_error",
        ),
        (
            "PATCH",
            ctk_1.as_str(),
            r#"{"status":"consumed"}"#,
            404,
            "not_found",
        ),
        (
            "GET",
            filter_on_secret.as_str(),
            "",
            400,
            "validation_error",
        ),
        ("GET", huge_page.as_str(), "", 400, "validation_error"),
        ("GET", backend::IDENTIFIERS, "", 400, "validation_error"),
        ("GET", unknown_user.as_str(), "", 404, "not_found"),
        (
            "PUT",
            backend::CONNECT_TOKENS,
            "{}",
            405,
            "method_not_allowed",
        ),
    ];
    for (method, path, body, status, error_type) in backend_cases {
        let answer = svc.front.backend(method, path, auth, Some(body)).await;
        assert_eq!(
            (answer.status, answer.error_type()),
            (status, error_type),
            "{method} {path} {body}: {answer:?}"
        );
        assert_eq!(answer.body["httpStatusCode"], status);
    }
    let (process, _) = svc.init("login", &client_info(None)).await;
    let frontend_cases = [
        (frontend::LOGIN_INIT, "{", "invalid_json"),
        (frontend::LOGIN_INIT, r#"{"flags":{}}"#, "validation_error"),
        (
            frontend::LOGIN_START,
            r#"{"identifier":"a","source":"telepathy","loadedMs":1}"#,
            "validation_error",
        ),
        (
            frontend::LOGIN_FINISH,
            r#"{"assertionResponse":"{]","isConditionalUI":false}"#,
            "validation_error",
        ),
        (
            frontend::LOGIN_FINISH,
            r#"{"assertionResponse":"{}","isConditionalUI":false}"#,
            "validation_error",
        ),
        (
            frontend::APPEND_FINISH,
            r#"{"attestationResponse":"null"}"#,
            "validation_error",
        ),
    ];
    for (path, body, error_type) in frontend_cases {
        let answer = svc
            .front
            .send(
                "POST",
                path,
                &[("origin", support::ORIGIN), (PROCESS_HEADER, &process)],
                body.as_bytes().to_vec(),
            )
            .await;
        assert_eq!(
            (answer.status, answer.error_type()),
            (400, error_type),
            "{path} {body}: {answer:?}"
        );
    }
    // A body too large for any of our requests.
    let huge = format!(
        r#"{{"assertionResponse":"{}","isConditionalUI":false}}"#,
        "a".repeat(100_000)
    );
    let answer = svc
        .front
        .post(
            frontend::LOGIN_FINISH,
            Some(&process),
            &serde_json::from_str(&huge).unwrap(),
        )
        .await;
    assert_eq!(answer.status, 400);
    // Unknown or missing process.
    let answer = svc
        .front
        .post(
            frontend::LOGIN_START,
            Some("no-such-process"),
            &json!({ "identifier": "a", "source": "text-field", "loadedMs": 1 }),
        )
        .await;
    assert_eq!((answer.status, answer.error_type()), (404, "not_found"));
}

async fn foreign_origin(db: Db) {
    let svc = TestService::start(db).await;
    let body = br#"{"clientInformation":{},"flags":{}}"#.to_vec();
    let evil = svc
        .front
        .send(
            "POST",
            frontend::LOGIN_INIT,
            &[("origin", "https://evil.example")],
            body.clone(),
        )
        .await;
    assert_eq!((evil.status, evil.error_type()), (403, "invalid_origin"));
    let anonymous = svc
        .front
        .send("POST", frontend::LOGIN_INIT, &[], body.clone())
        .await;
    assert_eq!(anonymous.status, 403);
    let same_origin = svc
        .front
        .send(
            "POST",
            frontend::LOGIN_INIT,
            &[("sec-fetch-site", "same-origin")],
            body.clone(),
        )
        .await;
    assert_eq!(same_origin.status, 200);
    let other_project = svc
        .front
        .send(
            "POST",
            frontend::LOGIN_INIT,
            &[("origin", support::ORIGIN), (PROJECT_ID_HEADER, "pro-1")],
            body,
        )
        .await;
    assert_eq!(
        (other_project.status, other_project.error_type()),
        (400, "project_id_mismatch")
    );
}

/// The same assertion finished 20 times at once: exactly one login.
async fn double_submit_of_one_assertion(db: Db) {
    let (svc, mut auth) = enrolled(db, "acc_race").await;
    let (process, start) = svc.login_start("acc_race", &json!({})).await;
    let options = start.ok()["assertionOptions"].as_str().unwrap().to_string();
    let assertion = auth.login(&options, &Tweak::default());
    let body = json!({ "assertionResponse": assertion, "isConditionalUI": false });
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let front = svc.front.clone();
        let (process, body) = (process.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            front
                .post(frontend::LOGIN_FINISH, Some(&process), &body)
                .await
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap().status);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 400),
        "{statuses:?}"
    );
}

/// One connect token spent 20 times at once: exactly one use.
async fn double_spend_of_one_token(db: Db) {
    let svc = TestService::start(db).await;
    let token = svc
        .token(ConnectTokenType::PasskeyAppend, "acc_spend")
        .await;
    let (process, _) = svc.init("append", &client_info(None)).await;
    let body = json!({ "appendTokenValue": token, "loadedMs": 1, "forcePasskeyAppend": true });
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let front = svc.front.clone();
        let (process, body) = (process.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            front
                .post(frontend::APPEND_START, Some(&process), &body)
                .await
        }));
    }
    let mut ok = 0;
    for task in tasks {
        ok += usize::from(task.await.unwrap().status == 200);
    }
    assert_eq!(ok, 1);
}

on_both_databases!(
    wrong_challenge,
    wrong_origin,
    wrong_rp_id_hash,
    wrong_client_data_type,
    missing_user_verification,
    replayed_assertion,
    expired_challenge,
    counter_regression,
    credential_of_another_user,
    user_handle_mismatch,
    unknown_credential,
    registration_checks,
    expired_connect_token,
    reused_connect_token,
    wrong_action_connect_token,
    token_of_another_user,
    tampered_signed_data,
    signed_data_from_before_hashes_were_kept,
    replayed_signed_data,
    expired_signed_data,
    signed_data_for_another_user,
    wrong_basic_auth,
    malformed_requests,
    foreign_origin,
    double_submit_of_one_assertion,
    double_spend_of_one_token,
);
