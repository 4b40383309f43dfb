//! The passkey service inside the web app: mounted in process by default (its backend API
//! outside the app's cross-site refusal, its frontend API checking `Origin` itself), and
//! reached over HTTP when `LATCHKEY_CONNECT_URL` names a separate service.

mod connect_support;

use connect_support::{
    test_config, Client, Db, TestDb, TestService, Transport, API_SECRET, PROJECT_ID,
};
use latchkey::connect::api::{ConnectTokenType, VerificationResult};
use latchkey::connect::backend_client::connect_token_secret;
use latchkey::server::{self, AppState};
use leptos::config::LeptosOptions;

/// The whole app on 127.0.0.1 (public origin `http://localhost:PORT`).
async fn start_app(
    db: &TestDb,
    extra: &[(&str, &str)],
) -> (AppState, String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let origin = format!("http://localhost:{port}");
    let mut vars = vec![
        ("LATCHKEY_PUBLIC_ORIGIN", origin.as_str()),
        ("LEPTOS_SITE_ADDR", "127.0.0.1:0"),
    ];
    vars.extend_from_slice(extra);
    let config = test_config(&db.url, db.dir.path(), &vars);
    let options = LeptosOptions::builder().output_name("latchkey").build();
    let state = server::build_state(config, options)
        .await
        .expect("app state");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let served = state.clone();
    tokio::spawn(async move {
        let _ = server::serve_on(listener, served, async {
            let _ = rx.await;
        })
        .await;
    });
    (state, format!("http://127.0.0.1:{port}"), tx)
}

async fn mounted_in_process(db: Db) {
    let db = TestDb::new(db).await;
    let (state, base, _stop) = start_app(&db, &[]).await;
    assert!(state.connect_service.is_some());
    let client = reqwest::Client::new();

    // A server-to-server call has no Origin: the backend API accepts it on its API key.
    let created = client
        .post(format!("{base}/v2/connectTokens"))
        .basic_auth(PROJECT_ID, Some(API_SECRET))
        .json(&serde_json::json!({ "type": "passkey-list", "data": { "identifier": "acc_1" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    let unauthenticated = client
        .post(format!("{base}/v2/connectTokens"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);

    // The frontend API takes the app's origin only, and answers errorRsp bodies.
    let origin = base.replace("127.0.0.1", "localhost");
    let init = |origin: Option<String>| {
        let mut req = client
            .post(format!("{base}/v2/connect/login/init"))
            .json(&serde_json::json!({ "clientInformation": {}, "flags": {} }));
        if let Some(origin) = origin {
            req = req.header("origin", origin);
        }
        req.send()
    };
    assert_eq!(init(Some(origin)).await.unwrap().status(), 200);
    let refused = init(Some("https://evil.example".into())).await.unwrap();
    assert_eq!(refused.status(), 403);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_origin");

    let jwks: serde_json::Value = client
        .get(format!("{base}/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
    let key = db
        .dir
        .path()
        .join("data")
        .join("secrets")
        .join("signing-key.pem");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&key).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    // App pages are still guarded as before.
    let page = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{base}/dashboard"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 303);
}

async fn remote_service_over_http(db: Db) {
    // The passkey service alone, and an app that points at it.
    let service = TestService::start_with(db, Transport::Http, |_| {}).await;
    let service_base = service.base.clone().unwrap();
    let app_db = TestDb::new(Db::Sqlite).await;
    let (state, base, _stop) =
        start_app(&app_db, &[("LATCHKEY_CONNECT_URL", service_base.as_str())]).await;
    assert!(state.connect_service.is_none());
    // The app does not serve the passkey service's routes itself.
    let answer = reqwest::Client::new()
        .post(format!("{base}/v2/connectTokens"))
        .basic_auth(PROJECT_ID, Some(API_SECRET))
        .json(&serde_json::json!({ "type": "passkey-list", "data": { "identifier": "acc" } }))
        .send()
        .await
        .unwrap();
    assert_ne!(answer.status(), 200);
    // Its backend handle reaches the remote service: a passkey made there verifies here.
    let mut auth = connect_support::TestPasskey::new();
    let remote = Client::http(&service_base);
    remote
        .append(&mut auth, "acc_r", &connect_support::client_info(None))
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

on_both_stores!(mounted_in_process, remote_service_over_http);
