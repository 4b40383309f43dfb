//! The passkey service as separate processes (`latchkey connect-service`) sharing one
//! database: a ceremony started on one instance finishes on the other, and the same signed
//! passkey data verified 20 times in parallel across both gives exactly one success.

mod support;

use std::process::Stdio;

use latchkey::connect::api::paths::{self, frontend, PROCESS_HEADER};
use latchkey::connect::api::VerificationResult;
use serde_json::json;
use support::{client_info, test_env, Client, Db, TestDb, TestPasskey, ORIGIN};
use tokio::io::{AsyncBufReadExt, BufReader};

/// A running `latchkey connect-service` child process; killed on drop.
struct Instance {
    child: tokio::process::Child,
    base: String,
}

impl Instance {
    async fn start(db: &TestDb, key_file: &std::path::Path, name: &str) -> Self {
        let dir = db.dir.path().join(name);
        std::fs::create_dir_all(&dir).expect("instance folder");
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_latchkey"))
            .arg("connect-service")
            // Its own folder: no Leptos.toml there, so only the environment configures it.
            .current_dir(&dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .envs(test_env(&db.url, &dir))
            .env("LATCHKEY_SESSION_SECRET", "x".repeat(40))
            .env("LATCHKEY_SIGNING_KEY_FILE", key_file)
            .env("LATCHKEY_CONNECT_SERVICE_ADDR", "127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start latchkey connect-service");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        // A guard against a hang, not a timing assertion.
        let base = tokio::time::timeout(std::time::Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.expect("read stdout") {
                if let Some(url) = line.split("listening on ").nth(1) {
                    return url.trim().to_string();
                }
            }
            panic!("connect-service exited before listening");
        })
        .await
        .expect("connect-service starts");
        Self { child, base }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

async fn two_instances_share_ceremonies_and_verify_once(db: Db) {
    let db = TestDb::new(db).await;
    // Both instances sign with one key, as a deployment shares the key file.
    let key_file = db.dir.path().join("signing-key.pem");
    let (_, pem) = latchkey::connect::service::Signer::generate();
    std::fs::write(&key_file, pem).expect("key file");
    let a = Instance::start(&db, &key_file, "a").await;
    let b = Instance::start(&db, &key_file, "b").await;
    let (a_client, b_client) = (Client::http(&a.base), Client::http(&b.base));

    // Health and the public key, on both.
    for instance in [&a, &b] {
        let jwks: serde_json::Value = reqwest::get(format!("{}{}", instance.base, paths::JWKS))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(jwks["keys"][0]["alg"], "ES256");
    }

    // Append: started on A, finished on B.
    let mut auth = TestPasskey::new();
    let (process, start) = a_client
        .append_start("acc_multi", &client_info(None), true)
        .await;
    let response = auth.register(start.ok()["attestationOptions"].as_str().unwrap());
    b_client.front.append_finish(&process, &response).await.ok();

    // Login: started on B, finished on A.
    let (process, start) = b_client.login_start("acc_multi", &json!({})).await;
    let assertion = auth.login(
        start.ok()["assertionOptions"].as_str().unwrap(),
        &Default::default(),
    );
    let finish = a_client.login_finish(&process, &assertion, false).await;
    let signed = finish.ok()["signedPasskeyData"]
        .as_str()
        .unwrap()
        .to_string();

    // The same signed data verified 20 times at once, alternating instances.
    let mut tasks = Vec::new();
    for i in 0..20 {
        let client = if i % 2 == 0 {
            a_client.clone()
        } else {
            b_client.clone()
        };
        let signed = signed.clone();
        tasks.push(tokio::spawn(async move {
            client
                .backend
                .verify_signed_data(&signed, "acc_multi")
                .await
                .expect("verify answers")
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    let successes = results
        .iter()
        .filter(|r| **r == VerificationResult::Success)
        .count();
    assert_eq!(successes, 1, "{results:?}");
    assert!(results.iter().all(|r| matches!(
        r,
        VerificationResult::Success | VerificationResult::InvalidChallenge
    )));
}

async fn the_service_alone_answers_errors_as_json(db: Db) {
    let db = TestDb::new(db).await;
    let key_file = db.dir.path().join("signing-key.pem");
    let (_, pem) = latchkey::connect::service::Signer::generate();
    std::fs::write(&key_file, pem).expect("key file");
    let a = Instance::start(&db, &key_file, "a").await;
    let client = Client::http(&a.base);
    let missing = client
        .front
        .send("GET", "/v2/nothing-here", &[], Vec::new())
        .await;
    assert_eq!((missing.status, missing.error_type()), (404, "not_found"));
    // The app's pages are not served by the service alone.
    let page = client.front.send("GET", "/login", &[], Vec::new()).await;
    assert_eq!(page.status, 404);
    // CORS preflight for the app's origin.
    let preflight = reqwest::Client::new()
        .request(
            reqwest::Method::OPTIONS,
            format!("{}{}", a.base, frontend::LOGIN_INIT),
        )
        .header("origin", ORIGIN)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            format!("content-type,{PROCESS_HEADER}"),
        )
        .send()
        .await
        .unwrap();
    assert!(
        preflight.status().is_success(),
        "{:?} {:?}",
        preflight.status(),
        preflight.headers()
    );
    assert_eq!(
        preflight.headers()["access-control-allow-origin"]
            .to_str()
            .unwrap(),
        ORIGIN
    );
    // It keeps to its own tables: the app's were never created.
    let store = latchkey::store::Store::connect(&db.url).await.unwrap();
    let app_table = sqlx::query("SELECT COUNT(*) AS n FROM accounts")
        .fetch_one(store.pool())
        .await;
    assert!(
        app_table.is_err(),
        "the service alone must not create app tables"
    );
}

on_both_databases!(
    two_instances_share_ceremonies_and_verify_once,
    the_service_alone_answers_errors_as_json,
);
