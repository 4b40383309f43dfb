//! A full passkey login through the passkey service (login start + finish + verification of
//! the signed passkey data: in process, through the frontend API router and the in-process
//! backend, on SQLite) against bare webauthn-rs `finish_passkey_authentication`. The
//! authenticator's own signing is not timed. Run: `cargo bench --features ssr --bench
//! connect_login`; the ratio is full / bare.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use latchkey::connect::api::{ConnectTokenType, VerificationResult};
use serde_json::json;
use support::{client_info, Db, TestPasskey, TestService, Tweak, ORIGIN, RP_ID};
use webauthn_rs::prelude::{Url, WebauthnBuilder};

fn full_login(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (svc, auth) = rt.block_on(async {
        let svc = TestService::start_unlimited(Db::Sqlite).await;
        let mut auth = TestPasskey::new();
        svc.append(&mut auth, "acc_bench", &client_info(None))
            .await
            .ok();
        (svc, auth)
    });
    let auth = std::sync::Mutex::new(auth);
    c.bench_function("full passkey login (start + finish + verify)", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (svc, auth) = (&svc, &auth);
            async move {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    let (process, _) = svc.init("login", &client_info(None)).await;
                    let token = svc.token(ConnectTokenType::PasskeyLogin, "acc_bench").await;
                    let body = json!({ "identifier": "acc_bench", "source": "text-field",
                                       "loadedMs": 1, "loginConnectToken": token });
                    let started = Instant::now();
                    let start = svc
                        .front
                        .post("/v2/connect/login/start", Some(&process), &body)
                        .await;
                    timed += started.elapsed();
                    let options = start.ok()["assertionOptions"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    let assertion = auth
                        .lock()
                        .expect("authenticator")
                        .login(&options, &Tweak::default());
                    let started = Instant::now();
                    let finish = svc.login_finish(&process, &assertion, false).await;
                    let signed = finish.ok()["signedPasskeyData"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    let result = svc
                        .backend
                        .verify_signed_data(&signed, "acc_bench")
                        .await
                        .expect("verify");
                    timed += started.elapsed();
                    assert_eq!(result, VerificationResult::Success);
                }
                timed
            }
        })
    });
}

fn bare_webauthn_rs(c: &mut Criterion) {
    let origin = Url::parse(ORIGIN).expect("origin");
    let webauthn = WebauthnBuilder::new(RP_ID, &origin)
        .and_then(|b| b.build())
        .expect("webauthn");
    let mut auth = TestPasskey::new();
    let (options, registration) = webauthn
        .start_passkey_registration(webauthn_rs::prelude::Uuid::new_v4(), "bench", "bench", None)
        .expect("registration");
    let response = auth.register(&serde_json::to_string(&options).expect("json"));
    let passkey = webauthn
        .finish_passkey_registration(
            &serde_json::from_str(&response).expect("json"),
            &registration,
        )
        .expect("passkey");
    let (options, state) = webauthn
        .start_passkey_authentication(std::slice::from_ref(&passkey))
        .expect("authentication");
    let assertion = auth.login(
        &serde_json::to_string(&options).expect("json"),
        &Tweak::default(),
    );
    let assertion = serde_json::from_str(&assertion).expect("json");
    c.bench_function("bare webauthn-rs finish_passkey_authentication", |b| {
        b.iter(|| {
            webauthn
                .finish_passkey_authentication(&assertion, &state)
                .expect("verifies")
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(Duration::from_secs(10));
    targets = bare_webauthn_rs, full_login
}
criterion_main!(benches);
