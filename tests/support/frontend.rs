//! One client of the passkey service's frontend API, as the browser uses it: against the
//! service alone (its router in process, or over HTTP) and against the whole app, which
//! mounts the service. It also sends raw backend-API requests, for the tests of the
//! backend's own HTTP answers.

use axum::body::Body;
use base64::Engine;
use latchkey::connect::api::paths::{frontend, PROCESS_HEADER};
use serde_json::{json, Value};
use tower::ServiceExt;

use super::service::{CHROME_MAC, ORIGIN};

/// The frontend API, reached in process or over HTTP, from a browser on one origin.
#[derive(Clone)]
pub struct Front {
    target: Target,
    /// The `Origin` the browser sends.
    origin: String,
}

#[derive(Clone)]
enum Target {
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
    /// The `Retry-After` header, in seconds.
    pub retry_after: Option<u64>,
    /// The `X-Served-By` header: which instance answered, where a load balancer in front
    /// says so (tests/load_balancer.rs).
    pub served_by: Option<String>,
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
    /// A router called in process, from a browser on [`ORIGIN`].
    pub fn router(router: axum::Router) -> Self {
        Self {
            target: Target::Router(router),
            origin: ORIGIN.to_string(),
        }
    }

    /// A server at `base` (`http://127.0.0.1:PORT`), from a browser on [`ORIGIN`].
    pub fn http(base: &str) -> Self {
        Self {
            target: Target::Http {
                client: reqwest::Client::new(),
                base: base.to_string(),
            },
            origin: ORIGIN.to_string(),
        }
    }

    /// The same API from a browser on `origin`.
    pub fn with_origin(self, origin: &str) -> Self {
        Self {
            origin: origin.to_string(),
            ..self
        }
    }

    /// Sends a request with the given headers and raw body.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Answer {
        let (status, retry_after, served_by, bytes) = match &self.target {
            Target::Router(router) => {
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
                let retry_after = retry_after_of(response.headers());
                let served_by = served_by_of(response.headers());
                let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
                    .await
                    .expect("body");
                (status, retry_after, served_by, bytes.to_vec())
            }
            Target::Http { client, base } => {
                let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
                let mut req = client.request(method, format!("{base}{path}")).body(body);
                for (name, value) in headers {
                    req = req.header(*name, *value);
                }
                let response = req.send().await.expect("HTTP request");
                let status = response.status().as_u16();
                let retry_after = retry_after_of(response.headers());
                let served_by = served_by_of(response.headers());
                (
                    status,
                    retry_after,
                    served_by,
                    response.bytes().await.expect("body").to_vec(),
                )
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
        Answer {
            status,
            body,
            retry_after,
            served_by,
        }
    }

    /// A frontend-API call as a browser on our origin makes it.
    pub async fn post(&self, path: &str, process: Option<&str>, body: &Value) -> Answer {
        let mut headers = vec![
            ("origin", self.origin.as_str()),
            ("content-type", "application/json"),
            ("user-agent", CHROME_MAC),
        ];
        if let Some(process) = process {
            headers.push((PROCESS_HEADER, process));
        }
        self.send("POST", path, &headers, body.to_string().into_bytes())
            .await
    }

    /// A browser event (`eventType`) reported in `process`.
    pub async fn event(&self, process: &str, event_type: &str) -> Answer {
        self.post(
            frontend::EVENTS,
            Some(process),
            &json!({ "eventType": event_type }),
        )
        .await
    }

    /// Append finish with the authenticator's `response` in `process`.
    pub async fn append_finish(&self, process: &str, response: &str) -> Answer {
        self.post(
            frontend::APPEND_FINISH,
            Some(process),
            &json!({ "attestationResponse": response }),
        )
        .await
    }

    /// An init call (`login`, `append` or `manage`); returns the process id and the answer.
    pub async fn init(&self, component: &str, client: &Value) -> (String, Value) {
        let path = match component {
            "login" => frontend::LOGIN_INIT,
            "append" => frontend::APPEND_INIT,
            "manage" => frontend::MANAGE_INIT,
            other => panic!("no init for {other:?}"),
        };
        let answer = self
            .post(
                path,
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

fn retry_after_of(headers: &axum::http::HeaderMap) -> Option<u64> {
    headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// The `X-Served-By` header a load balancer adds (the name of the instance that answered).
pub fn served_by_of(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get("x-served-by")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
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
