//! The whole app on loopback HTTP, with its own database and data folder, and the calls a
//! browser makes to it: pages, server functions, the passkey service's frontend API.

use latchkey::config::Config;
use latchkey::server::{self, AppState, StartError};
use leptos::config::LeptosOptions;

use super::db::{Db, TestDb};
use super::frontend::Front;
use super::service::test_config;
use super::site::Site;

/// A running app on 127.0.0.1 with its own database and data folder.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`: where requests go.
    pub base: String,
    /// `http://localhost:PORT`: the public origin (what a browser sends as `Origin`).
    pub origin: String,
    /// `base` and `origin` together, for the helpers that take any site.
    site: Site,
    pub state: AppState,
    pub db: TestDb,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl TestApp {
    pub async fn start(db: Db) -> Self {
        Self::start_with(db, &[]).await
    }

    /// The app configured by [`test_config`] and then `extra_env`.
    pub async fn start_with(db: Db, extra_env: &[(&str, &str)]) -> Self {
        Self::start_on(TestDb::new(db).await, extra_env).await
    }

    /// A second instance on `other`'s database (its own data folder and port), as when
    /// several instances share one PostgreSQL.
    pub async fn start_sharing(other: &TestApp, extra_env: &[(&str, &str)]) -> Self {
        let db = TestDb {
            url: other.db.url.clone(),
            dir: tempfile::tempdir().expect("temp dir"),
        };
        Self::start_on(db, extra_env).await
    }

    async fn start_on(db: TestDb, extra_env: &[(&str, &str)]) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let origin = format!("http://localhost:{port}");
        let site_addr = format!("127.0.0.1:{port}");
        let mut env = vec![
            ("LATCHKEY_PUBLIC_ORIGIN", origin.as_str()),
            ("LEPTOS_SITE_ADDR", site_addr.as_str()),
        ];
        env.extend_from_slice(extra_env);
        let config = test_config(&db.url, db.dir.path(), &env);
        let state = Self::build_state(config).await.expect("app state");
        let (tx, rx) = tokio::sync::oneshot::channel();
        let served = state.clone();
        let server = tokio::spawn(async move {
            let _ = server::serve_on(listener, served, async {
                let _ = rx.await;
            })
            .await;
        });
        let base = format!("http://127.0.0.1:{port}");
        Self {
            site: Site::new(&base, &origin),
            base,
            origin,
            state,
            db,
            shutdown: Some(tx),
            server: Some(server),
        }
    }

    /// Stops this instance (its background jobs too) and starts a new one on the same
    /// database, as a deployment's restart does.
    pub async fn restart(mut self, extra_env: &[(&str, &str)]) -> Self {
        let dir = std::mem::replace(&mut self.db.dir, tempfile::tempdir().expect("temp dir"));
        let db = TestDb {
            url: self.db.url.clone(),
            dir,
        };
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        drop(self);
        Self::start_on(db, extra_env).await
    }

    /// Stops this instance as SIGTERM does (in-flight requests finish, background jobs stop)
    /// and waits for it; its database stays for the test to read.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }

    /// The app's state for `config`, as the server builds it at start-up.
    pub async fn build_state(config: Config) -> Result<AppState, StartError> {
        let options = LeptosOptions::builder().output_name("latchkey").build();
        server::build_state(config, options).await
    }

    /// A client that does not follow redirects (see [`Site::client`]).
    pub fn client() -> reqwest::Client {
        Site::client()
    }

    /// Where this app's requests go and the origin its browser sends.
    pub fn site(&self) -> &Site {
        &self.site
    }

    /// The passkey service's frontend API (mounted in the app), from the app's origin.
    pub fn front(&self) -> Front {
        self.site.front()
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> reqwest::Response {
        self.site.get(path, cookie).await
    }

    /// Calls a server function the way the hydrated app does (form body, JSON answer).
    pub async fn call(
        &self,
        endpoint: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> reqwest::Response {
        self.site.call(endpoint, form, cookie).await
    }

    /// [`TestApp::call`] with extra request headers (a cookie, `X-Forwarded-For`, …).
    pub async fn call_with(
        &self,
        endpoint: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        self.site.call_with(endpoint, form, headers).await
    }

    /// A server function answering a JSON string (a connect token, a redirect target):
    /// status, the string (or the JSON text of any other answer) and the headers.
    pub async fn call_text(
        &self,
        endpoint: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> (u16, String, reqwest::header::HeaderMap) {
        self.site.call_text(endpoint, form, cookie).await
    }

    /// Only the status of a server function's answer.
    pub async fn call_status(
        &self,
        endpoint: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> u16 {
        self.site.call_status(endpoint, form, cookie).await
    }

    /// Signs up and returns the session cookie (`name=value`).
    pub async fn sign_up(&self, email: &str, password: &str) -> String {
        self.site.sign_up(email, password).await
    }

    /// "Skip" at the append step (with "Don't ask again" ticked or not): the status.
    pub async fn skip_append(&self, cookie: &str, dont_ask_again: bool) -> u16 {
        self.site.skip_append(cookie, dont_ask_again).await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> reqwest::Response {
        self.site.sign_in(email, password).await
    }
}

impl AsRef<Site> for TestApp {
    fn as_ref(&self) -> &Site {
        &self.site
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub fn unique_email() -> String {
    format!("user-{}@example.com", latchkey::random::digits(12))
}

pub const PASSWORD: &str = "correct horse battery";
