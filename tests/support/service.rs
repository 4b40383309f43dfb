//! The passkey service under test: on a real database, reached in process (its axum router
//! and `InProcessBackend`) or over loopback HTTP (reqwest and `HttpBackend`), with the
//! configuration every test shares.

use std::sync::Arc;

use latchkey::config::{Config, ConnectServiceSettings};
use latchkey::connect::api::paths::frontend;
use latchkey::connect::api::VerificationResult;
use latchkey::connect::api::{ConnectTokenType, LoginStartRsp};
use latchkey::connect::backend_client::{
    connect_token_secret, ConnectBackend, HttpBackend, InProcessBackend,
};
use latchkey::connect::service::{ConnectService, ServiceConfig, Signer};
use latchkey::events::{EventFilter, EventType, Events, Reason, StoredEvent};
use latchkey::store::Store;
use serde_json::{json, Value};

use super::authenticator::{self, TestPasskey, Tweak};
use super::db::{Db, TestDb};
use super::frontend::{Answer, Front};

/// The origin of the browser in the tests (the app's public origin in [`test_config`]).
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

/// The environment of a test configuration: public origin [`ORIGIN`], the database at
/// `db_url`, data under `dir/data`, fixed backend credentials ([`PROJECT_ID`],
/// [`API_SECRET`]).
pub fn test_env(db_url: &str, dir: &std::path::Path) -> Vec<(String, String)> {
    [
        ("LATCHKEY_PUBLIC_ORIGIN", ORIGIN.to_string()),
        ("LATCHKEY_DATABASE_URL", db_url.to_string()),
        ("LATCHKEY_DATA_DIR", dir.join("data").display().to_string()),
        ("LATCHKEY_CONNECT_PROJECT_ID", PROJECT_ID.to_string()),
        ("LATCHKEY_CONNECT_API_SECRET", API_SECRET.to_string()),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_string(), value))
    .collect()
}

/// A configuration for tests: [`test_env`], then `extra` (which wins).
pub fn test_config(db_url: &str, dir: &std::path::Path, extra: &[(&str, &str)]) -> Config {
    let mut env: std::collections::HashMap<String, String> =
        test_env(db_url, dir).into_iter().collect();
    for (key, value) in extra {
        env.insert(key.to_string(), value.to_string());
    }
    Config::from_sources("", env).expect("test configuration")
}

/// What a client of the service holds: its frontend API and its backend API.
#[derive(Clone)]
pub struct Client {
    pub front: Front,
    pub backend: Arc<dyn ConnectBackend>,
}

impl Client {
    /// The backend's verdict on signed passkey data for `identifier` (the call must answer).
    pub async fn verify(&self, signed: &str, identifier: &str) -> VerificationResult {
        self.backend
            .verify_signed_data(signed, identifier)
            .await
            .expect("verifySignedData answers")
    }

    /// Both APIs of a service at `base` over HTTP.
    pub fn http(base: &str) -> Self {
        let backend = HttpBackend::new(
            url::Url::parse(base).expect("base URL"),
            PROJECT_ID.into(),
            latchkey::config::Secret::new(API_SECRET),
        )
        .expect("HTTP backend");
        Self {
            front: Front::http(base),
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
    /// The audit log's events of one type and reason, newest first.
    pub async fn events(&self, event_type: EventType, reason: Option<Reason>) -> Vec<StoredEvent> {
        let filter = EventFilter {
            types: vec![event_type],
            ..EventFilter::default()
        };
        let page = self
            .service
            .events()
            .list(&filter, None, 100)
            .await
            .expect("events");
        page.events
            .into_iter()
            .filter(|stored| reason.is_none() || stored.event.reason == reason)
            .collect()
    }

    pub async fn start(db: Db) -> Self {
        Self::start_with(db, Transport::InProcess, |_| {}).await
    }

    pub async fn start_with(
        db: Db,
        transport: Transport,
        adjust: impl FnOnce(&mut ConnectServiceSettings),
    ) -> Self {
        Self::start_configured(db, transport, |config| adjust(&mut config.settings)).await
    }

    /// In process, with no rate limits: for benchmarks, which call far faster than people.
    pub async fn start_unlimited(db: Db) -> Self {
        Self::start_configured(db, Transport::InProcess, |config| {
            config.protection.rate_limits.rates.clear();
        })
        .await
    }

    async fn start_configured(
        db: Db,
        transport: Transport,
        adjust: impl FnOnce(&mut ServiceConfig),
    ) -> Self {
        let db = TestDb::new(db).await;
        let config = test_config(&db.url, db.dir.path(), &[]);
        let mut service_config = ServiceConfig::from_config(&config);
        adjust(&mut service_config);
        let store = Store::connect(&db.url).await.expect("store");
        let (signer, _) = Signer::generate();
        let events = Events::open(store.clone(), Default::default())
            .await
            .expect("events");
        let service = ConnectService::with_parts(service_config, store, signer, events)
            .await
            .expect("service");
        match transport {
            Transport::InProcess => Self {
                client: Client {
                    backend: Arc::new(InProcessBackend::new(service.clone())),
                    front: Front::router(service.router()),
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
                let operations = latchkey::operations::router(
                    latchkey::operations::Readiness::new(
                        service.store().clone(),
                        None,
                        Default::default(),
                    ),
                    true,
                );
                let router = latchkey::connect::service::http::standalone_router(
                    service.clone(),
                    operations,
                );
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
        self.front.init(component, client).await
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
                frontend::APPEND_START,
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
                frontend::APPEND_FINISH,
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
                frontend::LOGIN_START,
                Some(&process),
                &json!({ "identifier": format!("{identifier}@example.com"), "source": "text-field",
                         "loadedMs": 1, "loginConnectToken": token }),
            )
            .await;
        (process, answer)
    }

    /// Login init + an identifier-less start ("Sign in with a passkey") on `client`; returns
    /// the process and the answer.
    pub async fn login_start_discoverable(&self, client: &Value) -> (String, LoginStartRsp) {
        let (process, _) = self.init("login", client).await;
        let start = self
            .front
            .post(
                frontend::LOGIN_START,
                Some(&process),
                &json!({ "identifier": "", "source": "text-field", "loadedMs": 1 }),
            )
            .await
            .typed();
        (process, start)
    }

    pub async fn login_finish(&self, process: &str, assertion: &str, cui: bool) -> Answer {
        self.front
            .post(
                frontend::LOGIN_FINISH,
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
