//! Test harness for the passkey service: a real database (a SQLite file, or a fresh database
//! on the throwaway PostgreSQL server of scripts/with-postgres.sh), the service reached in
//! process (its axum router) or over loopback HTTP, and a software authenticator built on
//! webauthn-authenticator-rs's `SoftPasskey`.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use base64::Engine;
use latchkey::config::{Config, ConnectServiceSettings};
use latchkey::connect::api::ConnectTokenType;
use latchkey::connect::backend_client::{
    connect_token_secret, ConnectBackend, HttpBackend, InProcessBackend,
};
use latchkey::connect::service::{ConnectService, ServiceConfig, Signer};
use latchkey::store::Store;
use serde_json::{json, Value};
use tower::ServiceExt;

#[path = "../common/db.rs"]
mod db;
pub use db::{Db, TestDb};
#[path = "../common/authenticator.rs"]
mod authenticator;
pub use authenticator::{TestPasskey, Tweak};

pub const ORIGIN: &str = authenticator::DEFAULT_ORIGIN;
pub const RP_ID: &str = "localhost";
pub const PROJECT_ID: &str = "pro-4242";
pub const API_SECRET: &str = "test-api-secret-0123456789abcdef";
pub const CHROME_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/// How the test reaches the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// The service's router called in process; the backend through `InProcessBackend`.
    InProcess,
    /// A real server on 127.0.0.1; the frontend with reqwest, the backend with `HttpBackend`.
    Http,
}

/// A configuration for tests: local origin, fixed backend credentials, data under `dir`.
pub fn test_config(db_url: &str, dir: &std::path::Path, extra: &[(&str, &str)]) -> Config {
    let mut env: HashMap<String, String> = HashMap::from([
        ("LATCHKEY_PUBLIC_ORIGIN".into(), ORIGIN.into()),
        ("LATCHKEY_DATABASE_URL".into(), db_url.into()),
        (
            "LATCHKEY_DATA_DIR".into(),
            dir.join("data").display().to_string(),
        ),
        ("LATCHKEY_CONNECT_PROJECT_ID".into(), PROJECT_ID.into()),
        ("LATCHKEY_CONNECT_API_SECRET".into(), API_SECRET.into()),
    ]);
    for (key, value) in extra {
        env.insert(key.to_string(), value.to_string());
    }
    Config::from_sources("", env).expect("test configuration")
}

/// The frontend API, reached in process or over HTTP.
#[derive(Clone)]
pub enum Front {
    Router(axum::Router),
    Http {
        client: reqwest::Client,
        base: String,
    },
}

/// An HTTP answer: status and JSON body (`Null` when empty).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    pub fn error_type(&self) -> &str {
        self.body["error"]["type"].as_str().unwrap_or_default()
    }

    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert_eq!(self.status, 200, "expected 200, got {self:?}");
        &self.body
    }

    #[track_caller]
    pub fn typed<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_value(self.ok().clone()).expect("a response of the documented shape")
    }
}

impl Front {
    /// Sends a request with the given headers and raw body.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Answer {
        let (status, bytes) = match self {
            Front::Router(router) => {
                let mut req = axum::http::Request::builder().method(method).uri(path);
                for (name, value) in headers {
                    req = req.header(*name, *value);
                }
                let response = router
                    .clone()
                    .oneshot(req.body(Body::from(body)).expect("request"))
                    .await
                    .expect("router answers");
                let status = response.status().as_u16();
                let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
                    .await
                    .expect("body");
                (status, bytes.to_vec())
            }
            Front::Http { client, base } => {
                let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
                let mut req = client.request(method, format!("{base}{path}")).body(body);
                for (name, value) in headers {
                    req = req.header(*name, *value);
                }
                let response = req.send().await.expect("HTTP request");
                let status = response.status().as_u16();
                (status, response.bytes().await.expect("body").to_vec())
            }
        };
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!(
                    "non-JSON answer ({status}): {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        Answer { status, body }
    }

    /// A frontend-API call as a browser on our origin makes it.
    pub async fn post(&self, path: &str, process: Option<&str>, body: &Value) -> Answer {
        let mut headers = vec![
            ("origin", ORIGIN),
            ("content-type", "application/json"),
            ("user-agent", CHROME_MAC),
        ];
        if let Some(process) = process {
            headers.push(("x-corbado-process-id", process));
        }
        self.send("POST", path, &headers, body.to_string().into_bytes())
            .await
    }

    /// A backend-API call with HTTP Basic credentials (`None`: no Authorization header).
    pub async fn backend(
        &self,
        method: &str,
        path: &str,
        credentials: Option<(&str, &str)>,
        body: Option<&str>,
    ) -> Answer {
        let auth = credentials.map(|(user, password)| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            )
        });
        let mut headers = vec![("content-type", "application/json")];
        if let Some(auth) = &auth {
            headers.push(("authorization", auth.as_str()));
        }
        self.send(
            method,
            path,
            &headers,
            body.unwrap_or_default().as_bytes().to_vec(),
        )
        .await
    }
}

/// What a client of the service holds: its frontend API and its backend API.
#[derive(Clone)]
pub struct Client {
    pub front: Front,
    pub backend: Arc<dyn ConnectBackend>,
}

impl Client {
    /// Both APIs of a service at `base` over HTTP.
    pub fn http(base: &str) -> Self {
        let backend = HttpBackend::new(
            url::Url::parse(base).expect("base URL"),
            PROJECT_ID.into(),
            latchkey::config::Secret::new(API_SECRET),
        )
        .expect("HTTP backend");
        Self {
            front: Front::Http {
                client: reqwest::Client::new(),
                base: base.to_string(),
            },
            backend: Arc::new(backend),
        }
    }
}

/// A passkey service under test (its client API through `Deref`).
pub struct TestService {
    pub service: ConnectService,
    pub client: Client,
    pub db: TestDb,
    pub base: Option<String>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestService {
    pub async fn start(db: Db) -> Self {
        Self::start_with(db, Transport::InProcess, |_| {}).await
    }

    pub async fn start_with(
        db: Db,
        transport: Transport,
        adjust: impl FnOnce(&mut ConnectServiceSettings),
    ) -> Self {
        let db = TestDb::new(db).await;
        let config = test_config(&db.url, db.dir.path(), &[]);
        let mut service_config = ServiceConfig::from_config(&config);
        adjust(&mut service_config.settings);
        let store = Store::connect(&db.url).await.expect("store");
        let (signer, _) = Signer::generate();
        let service = ConnectService::with_parts(service_config, store, signer)
            .await
            .expect("service");
        match transport {
            Transport::InProcess => Self {
                client: Client {
                    backend: Arc::new(InProcessBackend::new(service.clone())),
                    front: Front::Router(service.router()),
                },
                service,
                db,
                base: None,
                shutdown: None,
            },
            Transport::Http => {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                let base = format!("http://{}", listener.local_addr().expect("addr"));
                let router = latchkey::connect::service::http::standalone_router(service.clone());
                let (tx, rx) = tokio::sync::oneshot::channel::<()>();
                tokio::spawn(async move {
                    let _ = axum::serve(listener, router)
                        .with_graceful_shutdown(async {
                            let _ = rx.await;
                        })
                        .await;
                });
                Self {
                    client: Client::http(&base),
                    service,
                    db,
                    base: Some(base),
                    shutdown: Some(tx),
                }
            }
        }
    }
}

impl std::ops::Deref for TestService {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Client {
    /// A connect token's secret from the backend API.
    pub async fn token(&self, kind: ConnectTokenType, identifier: &str) -> String {
        connect_token_secret(
            self.backend.as_ref(),
            kind,
            identifier,
            &format!("{identifier}@example.com"),
        )
        .await
        .expect("connect token")
    }

    /// An init call (`login`, `append` or `manage`); returns the process id and the answer.
    pub async fn init(&self, component: &str, client: &Value) -> (String, Value) {
        let answer = self
            .front
            .post(
                &format!("/v2/connect/{component}/init"),
                None,
                &json!({ "clientInformation": client, "flags": {} }),
            )
            .await;
        let body = answer.ok().clone();
        let id = body["token"]
            .as_str()
            .or_else(|| body["processID"].as_str())
            .expect("a process id")
            .to_string();
        (id, body)
    }

    /// Append init + start for `identifier`; returns the process and the start answer.
    pub async fn append_start(
        &self,
        identifier: &str,
        client: &Value,
        force: bool,
    ) -> (String, Answer) {
        let (process, _) = self.init("append", client).await;
        let token = self
            .token(ConnectTokenType::PasskeyAppend, identifier)
            .await;
        let answer = self
            .front
            .post(
                "/v2/connect/append/start",
                Some(&process),
                &json!({ "appendTokenValue": token, "loadedMs": 1, "forcePasskeyAppend": force }),
            )
            .await;
        (process, answer)
    }

    /// A whole append; returns the finish answer.
    pub async fn append(&self, auth: &mut TestPasskey, identifier: &str, client: &Value) -> Answer {
        let (process, start) = self.append_start(identifier, client, true).await;
        let options = start.ok()["attestationOptions"]
            .as_str()
            .expect("options")
            .to_string();
        assert!(
            !options.is_empty(),
            "append start offered nothing: {start:?}"
        );
        let response = auth.register(&options);
        self.front
            .post(
                "/v2/connect/append/finish",
                Some(&process),
                &json!({ "attestationResponse": response, "completionType": "manual" }),
            )
            .await
    }

    /// Login init + start for `identifier` (with a login connect token); returns the
    /// process and the start answer.
    pub async fn login_start(&self, identifier: &str, client: &Value) -> (String, Answer) {
        let (process, _) = self.init("login", client).await;
        let token = self.token(ConnectTokenType::PasskeyLogin, identifier).await;
        let answer = self
            .front
            .post(
                "/v2/connect/login/start",
                Some(&process),
                &json!({ "identifier": format!("{identifier}@example.com"), "source": "text-field",
                         "loadedMs": 1, "loginConnectToken": token }),
            )
            .await;
        (process, answer)
    }

    pub async fn login_finish(&self, process: &str, assertion: &str, cui: bool) -> Answer {
        self.front
            .post(
                "/v2/connect/login/finish",
                Some(process),
                &json!({ "assertionResponse": assertion, "isConditionalUI": cui }),
            )
            .await
    }

    /// A whole identifier-first login; returns the finish answer.
    pub async fn login(&self, auth: &mut TestPasskey, identifier: &str, tweak: &Tweak) -> Answer {
        let (process, start) = self.login_start(identifier, &json!({})).await;
        let options = start.ok()["assertionOptions"]
            .as_str()
            .expect("options")
            .to_string();
        assert!(!options.is_empty(), "login start fell back: {start:?}");
        let assertion = auth.login(&options, tweak);
        self.login_finish(&process, &assertion, false).await
    }

    /// Signed passkey data from a successful login.
    pub async fn signed_data(&self, auth: &mut TestPasskey, identifier: &str) -> String {
        let finish = self.login(auth, identifier, &Tweak::default()).await;
        finish.ok()["signedPasskeyData"]
            .as_str()
            .expect("signed data")
            .to_string()
    }
}

impl Drop for TestService {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Client information as a desktop browser with a platform authenticator sends it.
pub fn client_info(handle: Option<&str>) -> Value {
    let mut info = json!({
        "isUserVerifyingPlatformAuthenticatorAvailable": true,
        "isConditionalMediationAvailable": true,
    });
    if let Some(handle) = handle {
        info["clientEnvHandle"] = json!(handle);
    }
    info
}

/// Runs each listed test against SQLite and PostgreSQL.
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::connect_support::Db::Sqlite).await } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::connect_support::Db::Postgres).await } )*
        }
    };
}
