//! A site as a browser reaches it: where its requests go and the origin it sends. The whole
//! app started by the test ([`super::TestApp`]), one real instance of several, or a load
//! balancer in front of them: the same calls, whichever answers.

use serde_json::Value;

use super::cookies::session_cookie;
use super::frontend::Front;

/// Where requests go (`base`) and what the browser sends as `Origin` (`origin`, the public
/// origin the app is configured with).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// `http://127.0.0.1:PORT`: where requests go.
    pub base: String,
    /// `http://localhost:PORT`: the public origin (what a browser sends as `Origin`).
    pub origin: String,
}

impl AsRef<Site> for Site {
    fn as_ref(&self) -> &Site {
        self
    }
}

impl Site {
    pub fn new(base: impl Into<String>, origin: impl Into<String>) -> Self {
        Self {
            base: base.into(),
            origin: origin.into(),
        }
    }

    /// A client that does not follow redirects, so tests see every status and header; it
    /// says it is Chrome on a Mac, as the frontend-API client does.
    pub fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(super::service::CHROME_MAC)
            .build()
            .expect("client")
    }

    /// The passkey service's frontend API (mounted in the app), from the site's origin.
    pub fn front(&self) -> Front {
        Front::http(&self.base).with_origin(&self.origin)
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
        let cookie = cookie.map(|cookie| ("cookie", cookie));
        self.call_with(endpoint, form, cookie.as_slice()).await
    }

    /// [`Site::call`] with extra request headers (a cookie, `X-Forwarded-For`, …).
    pub async fn call_with(
        &self,
        endpoint: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        self.call_from(&Self::client(), endpoint, form, headers)
            .await
            .expect("POST")
    }

    /// [`Site::call_with`] through `client` (one bound to a source address, say); the
    /// transport error, if any, is the caller's to judge.
    pub async fn call_from(
        &self,
        client: &reqwest::Client,
        endpoint: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> reqwest::Result<reqwest::Response> {
        let mut req = client
            .post(format!("{}/api/{endpoint}", self.base))
            .header("origin", &self.origin)
            .header("accept", "application/json")
            .form(form);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.send().await
    }

    /// A server function answering a JSON string (a connect token, a redirect target):
    /// status, the string (or the JSON text of any other answer) and the headers.
    pub async fn call_text(
        &self,
        endpoint: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> (u16, String, reqwest::header::HeaderMap) {
        let res = self.call(endpoint, form, cookie).await;
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        let text = match body {
            Value::String(text) => text,
            other => other.to_string(),
        };
        (status, text, headers)
    }

    /// Only the status of a server function's answer.
    pub async fn call_status(
        &self,
        endpoint: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> u16 {
        self.call(endpoint, form, cookie).await.status().as_u16()
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

    /// "Skip" at the append step (with "Don't ask again" ticked or not): the status.
    pub async fn skip_append(&self, cookie: &str, dont_ask_again: bool) -> u16 {
        let mut form = vec![("next", ""), ("outcome", "skipped")];
        if dont_ask_again {
            form.push(("dont_ask_again", "on"));
        }
        self.call_status("finish_append", &form, Some(cookie)).await
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
