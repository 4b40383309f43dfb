//! Each measured operation, as the browser performs it over HTTP: the same requests, in the
//! same order, with the same headers (`Origin`, the process header, form or JSON bodies).
//! Errors are returned, not panicked: under load an answer can be a `503`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use latchkey::connect::api::paths::{frontend, PROCESS_HEADER};
use serde_json::{json, Value};

use crate::support::{client_info, TestPasskey, Tweak, CHROME_MAC};

/// What is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Login token → init → start → (sign) → finish → `complete_passkey_login`.
    PasskeyLogin,
    /// `sign_in` with the right password.
    PasswordLogin,
    /// Append token → init → start → (create) → finish: a new passkey.
    Append,
    /// `GET /login`, rendered on the server.
    LoginPage,
    /// `GET /healthz`: one request through the server and nothing else (no database).
    Health,
    /// `GET /readyz`: one request and two database round trips (`SELECT 1`, the applied
    /// migrations).
    Ready,
    /// The peer's options → (sign) → verify.
    PeerPasskeyLogin,
}

impl Operation {
    pub fn name(self) -> &'static str {
        match self {
            Self::PasskeyLogin => "passkey login",
            Self::PasswordLogin => "password login",
            Self::Append => "append (new passkey)",
            Self::LoginPage => "GET /login",
            Self::Health => "GET /healthz",
            Self::Ready => "GET /readyz",
            Self::PeerPasskeyLogin => "passkey login (peer)",
        }
    }
}

/// One virtual person: an account with a passkey on this authenticator, and the session
/// its sign-up left (at the append step, where append tokens are given).
pub struct User {
    pub email: String,
    pub passkey: TestPasskey,
    pub cookie: String,
}

/// The instances of one setup, reached round robin request by request (as a balancer
/// without stickiness would: a ceremony's steps land on different instances).
#[derive(Clone)]
pub struct Site {
    client: reqwest::Client,
    bases: Arc<Vec<String>>,
    pub origin: String,
    next: Arc<AtomicUsize>,
}

pub const PASSWORD: &str = "correct horse battery";

impl Site {
    pub fn new(bases: Vec<String>, origin: &str) -> Self {
        Self {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(CHROME_MAC)
                .pool_max_idle_per_host(256)
                .build()
                .unwrap_or_default(),
            bases: Arc::new(bases),
            origin: origin.to_string(),
            next: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn base(&self) -> &str {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.bases.len();
        &self.bases[i]
    }

    /// A server function call: form body, JSON answer, and the `Set-Cookie` session.
    async fn server_fn(
        &self,
        name: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> Result<(Value, Option<String>), String> {
        let mut req = self
            .client
            .post(format!("{}/api/{name}", self.base()))
            .header("origin", &self.origin)
            .header("accept", "application/json")
            .form(form);
        if let Some(cookie) = cookie {
            req = req.header("cookie", cookie);
        }
        let res = req.send().await.map_err(|err| format!("{name}: {err}"))?;
        let status = res.status().as_u16();
        let cookie = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| {
                v.starts_with("latchkey_session=") || v.starts_with("__Host-latchkey_session=")
            })
            .and_then(|v| v.split(';').next())
            .map(String::from);
        let text = res.text().await.map_err(|err| format!("{name}: {err}"))?;
        if status != 200 {
            return Err(format!("{name}: {status} {text}"));
        }
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok((body, cookie))
    }

    /// A frontend-API call in `process`.
    async fn frontend(
        &self,
        path: &str,
        process: Option<&str>,
        body: &Value,
    ) -> Result<Value, String> {
        let mut req = self
            .client
            .post(format!("{}{path}", self.base()))
            .header("origin", &self.origin)
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(process) = process {
            req = req.header(PROCESS_HEADER, process);
        }
        json_answer(req, path).await
    }

    pub async fn sign_up(&self, email: &str) -> Result<String, String> {
        let (_, cookie) = self
            .server_fn(
                "sign_up",
                &[("email", email), ("password", PASSWORD), ("next", "")],
                None,
            )
            .await?;
        cookie.ok_or_else(|| "sign_up: no session cookie".to_string())
    }

    async fn init(&self, path: &str) -> Result<String, String> {
        let body = json!({ "clientInformation": client_info(None), "flags": {} });
        let answer = self.frontend(path, None, &body).await?;
        answer["token"]
            .as_str()
            .or_else(|| answer["processID"].as_str())
            .map(String::from)
            .ok_or_else(|| format!("init: no process id in {answer}"))
    }

    pub async fn perform(&self, operation: Operation, user: &mut User) -> Result<(), String> {
        match operation {
            Operation::PasskeyLogin => self.passkey_login(user).await,
            Operation::PasswordLogin => self.password_login(user).await,
            Operation::Append => self.append(user).await,
            Operation::LoginPage => self.get("/login", "text/html").await,
            Operation::Health => self.get("/healthz", "text/plain").await,
            Operation::Ready => self.get("/readyz", "application/json").await,
            Operation::PeerPasskeyLogin => self.peer_login(user).await,
        }
    }

    /// A `GET` that must answer `200` with a body.
    async fn get(&self, path: &str, accept: &str) -> Result<(), String> {
        let res = self
            .client
            .get(format!("{}{path}", self.base()))
            .header("accept", accept)
            .send()
            .await
            .map_err(|err| format!("GET {path}: {err}"))?;
        let status = res.status().as_u16();
        let body = res
            .bytes()
            .await
            .map_err(|err| format!("GET {path}: {err}"))?;
        if status != 200 || body.is_empty() {
            return Err(format!("GET {path}: {status}"));
        }
        Ok(())
    }

    async fn password_login(&self, user: &User) -> Result<(), String> {
        let (_, cookie) = self
            .server_fn(
                "sign_in",
                &[("email", &user.email), ("password", PASSWORD), ("next", "")],
                None,
            )
            .await?;
        cookie
            .map(|_| ())
            .ok_or_else(|| "sign_in: no session".to_string())
    }

    async fn passkey_login(&self, user: &mut User) -> Result<(), String> {
        let (token, _) = self
            .server_fn("passkey_login_token", &[("email", &user.email)], None)
            .await?;
        let token = token
            .as_str()
            .ok_or("login token: not a string")?
            .to_string();
        let process = self.init(frontend::LOGIN_INIT).await?;
        let start = self
            .frontend(
                frontend::LOGIN_START,
                Some(&process),
                &json!({ "identifier": user.email, "source": "text-field", "loadedMs": 1,
                         "loginConnectToken": token }),
            )
            .await?;
        let options = start["assertionOptions"].as_str().unwrap_or_default();
        if options.is_empty() {
            return Err(format!("login start fell back: {start}"));
        }
        let assertion = user.passkey.login(options, &Tweak::default());
        let finish = self
            .frontend(
                frontend::LOGIN_FINISH,
                Some(&process),
                &json!({ "assertionResponse": assertion, "isConditionalUI": false }),
            )
            .await?;
        let signed = finish["signedPasskeyData"]
            .as_str()
            .ok_or_else(|| format!("login finish: {finish}"))?;
        let (_, cookie) = self
            .server_fn(
                "complete_passkey_login",
                &[("signed_passkey_data", signed), ("next", "")],
                None,
            )
            .await?;
        cookie
            .map(|_| ())
            .ok_or_else(|| "complete: no session".to_string())
    }

    /// A new passkey for `user` (also how the accounts get their first one).
    pub async fn append(&self, user: &mut User) -> Result<(), String> {
        let (token, _) = self
            .server_fn("passkey_append_token", &[], Some(&user.cookie))
            .await?;
        let token = token
            .as_str()
            .ok_or("append token: not a string")?
            .to_string();
        let process = self.init(frontend::APPEND_INIT).await?;
        let start = self
            .frontend(
                frontend::APPEND_START,
                Some(&process),
                &json!({ "appendTokenValue": token, "loadedMs": 1 }),
            )
            .await?;
        let options = start["attestationOptions"].as_str().unwrap_or_default();
        if options.is_empty() {
            return Err(format!("append start made no offer: {start}"));
        }
        let credential = user.passkey.register(options);
        let finish = self
            .frontend(
                frontend::APPEND_FINISH,
                Some(&process),
                &json!({ "attestationResponse": credential }),
            )
            .await?;
        if finish.is_null() {
            return Err("append finish: empty answer".into());
        }
        Ok(())
    }

    // ---- the peer: its own small contract (benches/peer/README.md)

    async fn peer_call(&self, path: &str, body: &Value) -> Result<Value, String> {
        let req = self
            .client
            .post(format!("{}{path}", self.base()))
            .header("content-type", "application/json")
            .body(body.to_string());
        json_answer(req, path).await
    }

    /// Registers a passkey for `user` at the peer.
    pub async fn peer_register(&self, user: &mut User) -> Result<(), String> {
        let answer = self
            .peer_call("/register/options", &json!({ "email": user.email }))
            .await?;
        let options = json!({ "publicKey": answer["options"] }).to_string();
        let mut response: Value =
            serde_json::from_str(&user.passkey.register(&options)).map_err(|e| e.to_string())?;
        response["clientExtensionResults"] = json!({});
        self.peer_call(
            "/register/verify",
            &json!({ "ceremony": answer["ceremony"], "response": response }),
        )
        .await
        .map(|_| ())
    }

    async fn peer_login(&self, user: &mut User) -> Result<(), String> {
        let answer = self
            .peer_call("/login/options", &json!({ "email": user.email }))
            .await?;
        let options = json!({ "publicKey": answer["options"] }).to_string();
        let mut response: Value =
            serde_json::from_str(&user.passkey.login(&options, &Tweak::default()))
                .map_err(|e| e.to_string())?;
        response["clientExtensionResults"] = json!({});
        let verified = self
            .peer_call(
                "/login/verify",
                &json!({ "ceremony": answer["ceremony"], "response": response }),
            )
            .await?;
        verified["session"]
            .as_str()
            .map(|_| ())
            .ok_or_else(|| format!("peer verify: {verified}"))
    }
}

async fn json_answer(req: reqwest::RequestBuilder, what: &str) -> Result<Value, String> {
    let res = req.send().await.map_err(|err| format!("{what}: {err}"))?;
    let status = res.status().as_u16();
    let text = res.text().await.map_err(|err| format!("{what}: {err}"))?;
    if status != 200 {
        return Err(format!("{what}: {status} {text}"));
    }
    serde_json::from_str(&text).map_err(|err| format!("{what}: {err}: {text}"))
}
