//! The passkey service inside the web app: mounted in process by default (its backend API
//! outside the app's cross-site refusal, its frontend API checking `Origin` itself), and
//! reached over HTTP when `LATCHKEY_CONNECT_URL` names a separate service.

mod support;

use latchkey::connect::api::paths::{self, backend, frontend};
use latchkey::connect::api::{ConnectTokenType, VerificationResult};
use latchkey::connect::backend_client::connect_token_secret;
use support::{Answer, Client, Db, Front, TestApp, TestService, Transport, API_SECRET, PROJECT_ID};

/// A login init from a browser on `origin`.
async fn login_init_from(front: &Front, origin: &str) -> Answer {
    front
        .send(
            "POST",
            frontend::LOGIN_INIT,
            &[("origin", origin), ("content-type", "application/json")],
            serde_json::json!({ "clientInformation": {}, "flags": {} })
                .to_string()
                .into_bytes(),
        )
        .await
}

async fn mounted_in_process(db: Db) {
    let app = TestApp::start(db).await;
    let state = &app.state;
    assert!(state.connect_service.is_some());
    let front = app.front();

    // A server-to-server call has no Origin: the backend API accepts it on its API key.
    let created = front
        .backend(
            "POST",
            backend::CONNECT_TOKENS,
            Some((PROJECT_ID, API_SECRET)),
            Some(r#"{ "type": "passkey-list", "data": { "identifier": "acc_1" } }"#),
        )
        .await;
    assert_eq!(created.status, 200);
    let unauthenticated = front
        .backend("POST", backend::CONNECT_TOKENS, None, Some("{}"))
        .await;
    assert_eq!(unauthenticated.status, 401);

    // The frontend API takes the app's origin only, and answers errorRsp bodies.
    assert_eq!(login_init_from(&front, &app.origin).await.status, 200);
    let refused = login_init_from(&front, "https://evil.example").await;
    assert_eq!(refused.status, 403);
    let body = refused.body;
    assert_eq!(body["error"]["type"], "invalid_origin");

    let jwks = front.send("GET", paths::JWKS, &[], Vec::new()).await.body;
    assert_eq!(jwks["keys"][0]["kty"], "EC");

    // The app's own backend handle is the in-process one.
    let secret = connect_token_secret(
        state.connect.as_ref(),
        ConnectTokenType::PasskeyAppend,
        "acc_1",
        "a@example.com",
    )
    .await
    .unwrap();
    assert!(secret.starts_with("ctk1_"));
    // The signing key was generated for this local site, private to its owner.
    let key = app
        .db
        .dir
        .path()
        .join("data")
        .join("secrets")
        .join("signing-key.pem");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&key).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    // App pages are still guarded as before.
    let page = app.get("/dashboard", None).await;
    assert_eq!(page.status(), 303);
}

async fn remote_service_over_http(db: Db) {
    // The passkey service alone, and an app that points at it.
    let service = TestService::start_with(db, Transport::Http, |_| {}).await;
    let service_base = service.base.clone().unwrap();
    let app = TestApp::start_with(
        Db::Sqlite,
        &[("LATCHKEY_CONNECT_URL", service_base.as_str())],
    )
    .await;
    let state = &app.state;
    assert!(state.connect_service.is_none());
    // The app does not serve the passkey service's routes itself.
    let answer = reqwest::Client::new()
        .post(format!("{}{}", app.base, backend::CONNECT_TOKENS))
        .basic_auth(PROJECT_ID, Some(API_SECRET))
        .json(&serde_json::json!({ "type": "passkey-list", "data": { "identifier": "acc" } }))
        .send()
        .await
        .unwrap();
    assert_ne!(answer.status(), 200);
    // Its backend handle reaches the remote service: a passkey made there verifies here.
    let mut auth = support::TestPasskey::new();
    let remote = Client::http(&service_base);
    remote
        .append(&mut auth, "acc_r", &support::client_info(None))
        .await
        .ok();
    let signed = remote.signed_data(&mut auth, "acc_r").await;
    assert_eq!(
        state
            .connect
            .verify_signed_data(&signed, "acc_r")
            .await
            .unwrap(),
        VerificationResult::Success
    );
}

on_both_databases!(mounted_in_process, remote_service_over_http);
