//! Test harness: real databases (a SQLite file, or a fresh PostgreSQL database on the
//! throwaway server that scripts/with-postgres.sh starts) and the real app on loopback HTTP.
#![allow(dead_code)]

use std::collections::HashMap;

use latchkey::config::Config;
use latchkey::server::{self, AppState};
use leptos::config::LeptosOptions;

pub mod authenticator;
mod db;
pub mod openid_provider;
pub use db::{Db, TestDb};

/// A running app on 127.0.0.1 with its own database and data folder.
pub struct TestApp {
    pub base: String,
    pub origin: String,
    pub state: AppState,
    pub db: TestDb,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestApp {
    pub async fn start(db: Db) -> Self {
        Self::start_with(db, &[]).await
    }

    pub async fn start_with(db: Db, extra_env: &[(&str, &str)]) -> Self {
        let db = TestDb::new(db).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let origin = format!("http://localhost:{port}");
        let mut env: HashMap<String, String> = HashMap::from([
            ("LATCHKEY_PUBLIC_ORIGIN".into(), origin.clone()),
            ("LATCHKEY_DATABASE_URL".into(), db.url.clone()),
            (
                "LATCHKEY_DATA_DIR".into(),
                db.dir.path().join("data").display().to_string(),
            ),
            ("LEPTOS_SITE_ADDR".into(), format!("127.0.0.1:{port}")),
        ]);
        for (key, value) in extra_env {
            env.insert(key.to_string(), value.to_string());
        }
        let config = Config::from_sources("", env).expect("config");
        let options = LeptosOptions::builder().output_name("latchkey").build();
        let state = server::build_state(config, options)
            .await
            .expect("app state");
        let (tx, rx) = tokio::sync::oneshot::channel();
        let served = state.clone();
        tokio::spawn(async move {
            let _ = server::serve_on(listener, served, async {
                let _ = rx.await;
            })
            .await;
        });
        Self {
            base: format!("http://127.0.0.1:{port}"),
            origin,
            state,
            db,
            shutdown: Some(tx),
        }
    }

    /// A client that does not follow redirects, so tests see every status and header.
    pub fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> reqwest::Response {
        let mut req = Self::client()
            .get(format!("{}{path}", self.base))
            .header("accept", "text/html");
        if let Some(cookie) = cookie {
            req = req.header("cookie", cookie);
        }
        req.send().await.expect("GET")
    }

    /// Calls a server function the way the hydrated app does (form body, JSON answer).
    pub async fn call(
        &self,
        endpoint: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> reqwest::Response {
        let mut req = Self::client()
            .post(format!("{}/api/{endpoint}", self.base))
            .header("origin", &self.origin)
            .header("accept", "application/json")
            .form(form);
        if let Some(cookie) = cookie {
            req = req.header("cookie", cookie);
        }
        req.send().await.expect("POST")
    }

    /// Signs up and returns the session cookie (`name=value`).
    pub async fn sign_up(&self, email: &str, password: &str) -> String {
        let res = self
            .call(
                "sign_up",
                &[("email", email), ("password", password), ("next", "")],
                None,
            )
            .await;
        assert!(
            res.status().is_success(),
            "sign up failed: {}",
            res.status()
        );
        session_cookie(&res).expect("sign up sets a session cookie")
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> reqwest::Response {
        self.call(
            "sign_in",
            &[("email", email), ("password", password), ("next", "")],
            None,
        )
        .await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The full `Set-Cookie` line for the cookie `name`, if the response sets one.
pub fn set_cookie_named(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

/// The full `Set-Cookie` line for the session cookie, if the response sets one.
pub fn set_cookie_line(res: &reqwest::Response) -> Option<String> {
    set_cookie_named(res.headers(), "latchkey_session")
        .or_else(|| set_cookie_named(res.headers(), "__Host-latchkey_session"))
}

/// `name=value` of the session cookie the response sets (empty value = cleared).
pub fn session_cookie(res: &reqwest::Response) -> Option<String> {
    set_cookie_line(res).and_then(|line| line.split(';').next().map(str::to_string))
}

pub fn location(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

pub fn unique_email() -> String {
    format!("user-{}@example.com", latchkey::random::digits(12))
}

pub const PASSWORD: &str = "correct horse battery";
