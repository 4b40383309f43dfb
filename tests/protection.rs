//! Abuse protection over real HTTP: rate limits (by IP, by account and IP, by account, shared
//! by two instances on PostgreSQL, behind trusted proxies only), the 429 answers, slow and
//! greedy clients, the bounded password queue, and the security headers.

mod support;

use std::time::Duration;

use latchkey::connect::api::paths::frontend;
use serde_json::Value;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A wrong password for `email`, from `ip` (sent as `X-Forwarded-For`, which only counts
/// from a trusted proxy).
async fn sign_in_from(app: &TestApp, email: &str, ip: Option<&str>) -> reqwest::Response {
    let forwarded = ip.map(|ip| ("x-forwarded-for", ip));
    app.call_with(
        "sign_in",
        &[
            ("email", email),
            ("password", "not the password"),
            ("next", ""),
        ],
        forwarded.as_slice(),
    )
    .await
}

/// A sign-in post whose announced body never comes (the server holds it until the body
/// deadline).
fn post_without_its_body(app: &TestApp) -> String {
    format!(
        "POST /api/sign_in HTTP/1.1\r\nHost: x\r\nOrigin: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nemail=",
        app.origin
    )
}

/// Status, `Retry-After` and JSON body.
async fn answer(res: reqwest::Response) -> (u16, Option<u64>, Value) {
    let status = res.status().as_u16();
    let retry_after = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let body = res.json().await.unwrap_or(Value::Null);
    (status, retry_after, body)
}

#[track_caller]
fn assert_rate_limited(status: u16, retry_after: Option<u64>, body: &Value) {
    assert_eq!(status, 429, "{body}");
    let wait = retry_after.expect("a Retry-After header");
    assert!(wait >= 1, "{wait}");
    assert_eq!(body["error"], "rate_limited", "{body}");
    assert_eq!(body["retryAfter"].as_u64(), Some(wait), "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("Too many attempts. Try again in ")
            && message.ends_with(", or sign in with a passkey."),
        "{message}"
    );
}

/// Sign-ups are limited per IP; the refusal is a 429 that says how long to wait.
async fn sign_ups_are_limited_per_ip(db: Db) {
    let app = TestApp::start_with(db, &[("LATCHKEY_RATE_LIMIT_SIGN_UP_IP", "2/1h")]).await;
    app.sign_up(&unique_email(), PASSWORD).await;
    app.sign_up(&unique_email(), PASSWORD).await;
    let res = app
        .call(
            "sign_up",
            &[
                ("email", &unique_email()),
                ("password", PASSWORD),
                ("next", ""),
            ],
            None,
        )
        .await;
    assert!(session_cookie(&res).is_none());
    let (status, retry_after, body) = answer(res).await;
    assert_rate_limited(status, retry_after, &body);
    // Over an hour's refill of one: about 30 minutes.
    assert!(
        (1700..=1800).contains(&retry_after.unwrap()),
        "{retry_after:?}"
    );
}

/// Wrong passwords for one account from one IP are limited; another account from that IP,
/// and the limited account's passkey login, are not; no account is locked.
async fn passwords_are_limited_per_account_and_ip(db: Db) {
    let app = TestApp::start_with(db, &[("LATCHKEY_RATE_LIMIT_SIGN_IN_ACCOUNT_IP", "3/15m")]).await;
    let (alice, bob) = (unique_email(), unique_email());
    app.sign_up(&alice, PASSWORD).await;
    for _ in 0..3 {
        assert_eq!(sign_in_from(&app, &alice, None).await.status(), 401);
    }
    let (status, retry_after, body) = answer(sign_in_from(&app, &alice, None).await).await;
    assert_rate_limited(status, retry_after, &body);
    // Even the right password waits: the limit counts attempts, before any password check.
    assert_eq!(app.sign_in(&alice, PASSWORD).await.status(), 429);
    // Another account from the same IP is its own bucket.
    assert_eq!(sign_in_from(&app, &bob, None).await.status(), 401);
    // The throttled account can still start a passkey login.
    let (status, token, _) = app
        .call_text("passkey_login_token", &[("email", &alice)], None)
        .await;
    assert_eq!(status, 200, "{token}");
    assert!(!token.is_empty());
}

/// Failed passkey logins (started, then refused by the service) never count against the
/// password: after more of them than the password limit allows, the right password still
/// signs in.
async fn passkey_failures_never_count_against_the_password(db: Db) {
    let app = TestApp::start_with(db, &[("LATCHKEY_RATE_LIMIT_SIGN_IN_ACCOUNT_IP", "3/15m")]).await;
    let email = unique_email();
    let cookie = app.sign_up(&email, PASSWORD).await;
    let mut auth = TestPasskey::for_origin(&app.origin);
    enrol_passkey(&app, &mut auth, &cookie).await;
    for _ in 0..5 {
        let token = login_token(&app, &email).await;
        let (front, process, start) = start_login(&app, &email, &token).await;
        let options = start.ok()["assertionOptions"].as_str().unwrap().to_string();
        // A broken assertion (another challenge): the service refuses it.
        let assertion = auth.login(&options, &Tweak::challenge(vec![9; 32]));
        let finish = finish_login(&front, &process, &assertion).await;
        assert_eq!(finish.status, 400, "{finish:?}");
    }
    let signed_in = app.sign_in(&email, PASSWORD).await;
    assert!(
        session_cookie(&signed_in).is_some(),
        "{}",
        signed_in.status()
    );
}

/// Behind a trusted proxy each client is its own IP, and one account is still capped across
/// all of them (the slower ceiling).
async fn an_account_has_a_ceiling_across_ips(db: Db) {
    let app = TestApp::start_with(
        db,
        &[
            ("LATCHKEY_TRUSTED_PROXIES", "127.0.0.1/32"),
            ("LATCHKEY_RATE_LIMIT_SIGN_IN_ACCOUNT_IP", "2/15m"),
            ("LATCHKEY_RATE_LIMIT_SIGN_IN_ACCOUNT", "5/1h"),
        ],
    )
    .await;
    let victim = unique_email();
    for i in 0..5 {
        let ip = format!("198.51.100.{i}");
        assert_eq!(
            sign_in_from(&app, &victim, Some(&ip)).await.status(),
            401,
            "{ip}"
        );
    }
    let (status, retry_after, body) =
        answer(sign_in_from(&app, &victim, Some("198.51.100.77")).await).await;
    assert_rate_limited(status, retry_after, &body);
    // Two attempts from one client of the five used its per-client bucket up.
    let alice = unique_email();
    for _ in 0..2 {
        assert_eq!(
            sign_in_from(&app, &alice, Some("203.0.113.5"))
                .await
                .status(),
            401
        );
    }
    assert_eq!(
        sign_in_from(&app, &alice, Some("203.0.113.5"))
            .await
            .status(),
        429
    );
    // The same account from another client still gets its own attempts.
    assert_eq!(
        sign_in_from(&app, &alice, Some("203.0.113.6"))
            .await
            .status(),
        401
    );
}

/// Without trusted proxies, a client that writes `X-Forwarded-For` is still its socket's
/// address: rotating the header does not escape the per-IP limit.
async fn forwarded_headers_from_untrusted_peers_are_ignored(db: Db) {
    let app = TestApp::start_with(db, &[("LATCHKEY_RATE_LIMIT_SIGN_IN_IP", "3/10m")]).await;
    for i in 0..3 {
        let ip = format!("192.0.2.{i}");
        assert_eq!(
            sign_in_from(&app, &unique_email(), Some(&ip))
                .await
                .status(),
            401
        );
    }
    let res = sign_in_from(&app, &unique_email(), Some("192.0.2.99")).await;
    assert_eq!(res.status(), 429);
}

/// The passkey service's frontend API answers Corbado's `rate_limited` with `Retry-After`.
async fn the_frontend_api_is_limited_per_ip(db: Db) {
    let app = TestApp::start_with(db, &[("LATCHKEY_RATE_LIMIT_FRONTEND_API_IP", "2/1m")]).await;
    let front = app.front();
    let init = serde_json::json!({ "clientInformation": client_info(None), "flags": {} });
    for _ in 0..2 {
        front.post(frontend::LOGIN_INIT, None, &init).await.ok();
    }
    let refused = front.post(frontend::LOGIN_INIT, None, &init).await;
    assert_eq!(refused.status, 429, "{refused:?}");
    assert_eq!(refused.error_type(), "rate_limited");
    let wait = refused.retry_after.expect("Retry-After");
    assert!((1..=30).contains(&wait), "{wait}");
}

/// A limit reached through one instance holds at the other (state in PostgreSQL).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_their_limits_on_postgres() {
    let env = [("LATCHKEY_RATE_LIMIT_SIGN_IN_ACCOUNT_IP", "4/15m")];
    let first = TestApp::start_with(Db::Postgres, &env).await;
    let second = TestApp::start_sharing(&first, &env).await;
    let email = unique_email();
    for app in [&first, &second, &first, &second] {
        assert_eq!(sign_in_from(app, &email, None).await.status(), 401);
    }
    assert_eq!(sign_in_from(&first, &email, None).await.status(), 429);
    assert_eq!(sign_in_from(&second, &email, None).await.status(), 429);
}

/// Password checks beyond the cores and the queue are refused at once (503, Retry-After).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_queue_is_bounded() {
    let app = TestApp::start_with(
        Db::Sqlite,
        &[
            ("LATCHKEY_PASSWORD_HASH_QUEUE", "1"),
            ("LATCHKEY_RATE_LIMIT_SIGN_IN_IP", "1000/1m"),
        ],
    )
    .await;
    let emails: Vec<String> = (0..24).map(|_| unique_email()).collect();
    let attempts = emails.iter().map(|email| sign_in_from(&app, email, None));
    let answers = futures::future::join_all(attempts).await;
    let mut busy = 0;
    for res in answers {
        match res.status().as_u16() {
            401 => {}
            503 => {
                busy += 1;
                assert_eq!(res.headers()["retry-after"], "5");
                let body: Value = res.json().await.unwrap();
                assert_eq!(body["error"], "busy", "{body}");
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(
        busy > 0,
        "24 password checks at once must overflow 2 cores + 1 waiting"
    );
}

/// Reads until the server closes the connection (or `limit` passes); what it sent.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(limit, stream.read_to_end(&mut got)).await;
    read.ok()
        .map(|_| String::from_utf8_lossy(&got).into_owned())
}

/// A client that trickles its headers, or never sends its body, is cut off, and everyone
/// else is served meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_dropped_and_others_served() {
    let app = TestApp::start_with(
        Db::Sqlite,
        &[
            ("LATCHKEY_HEADER_READ_TIMEOUT_SECONDS", "1"),
            ("LATCHKEY_BODY_READ_TIMEOUT_SECONDS", "1"),
        ],
    )
    .await;
    let addr = app.base.trim_start_matches("http://").to_string();
    // Headers one byte at a time, far slower than the timeout allows.
    let trickle = {
        let addr = addr.clone();
        tokio::spawn(async move {
            let mut stream = TcpStream::connect(&addr).await.unwrap();
            for byte in b"GET /login HTTP/1.1\r\nHost: x\r\n" {
                if stream.write_all(&[*byte]).await.is_err() {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            // The server has closed the connection well before the headers ended.
            let mut rest = Vec::new();
            matches!(
                tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await,
                Ok(Ok(0)) | Ok(Err(_))
            ) || stream.write_all(b"\r\n").await.is_err()
        })
    };
    // A body that is announced and never sent.
    let mut silent = TcpStream::connect(&addr).await.unwrap();
    silent
        .write_all(post_without_its_body(&app).as_bytes())
        .await
        .unwrap();
    // Meanwhile the server answers others.
    for _ in 0..5 {
        let res = app.get("/healthz", None).await;
        assert_eq!(res.status(), 200);
    }
    let answer = read_until_closed(&mut silent, Duration::from_secs(10))
        .await
        .expect("the server ends the silent request");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        trickle.await.unwrap(),
        "the trickling connection was dropped"
    );
}

/// Over the in-flight cap a request is answered 503 with Retry-After at once, not queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_over_the_in_flight_cap_are_answered_503() {
    let app = TestApp::start_with(
        Db::Sqlite,
        &[
            ("LATCHKEY_MAX_IN_FLIGHT_REQUESTS", "1"),
            ("LATCHKEY_BODY_READ_TIMEOUT_SECONDS", "20"),
        ],
    )
    .await;
    let addr = app.base.trim_start_matches("http://").to_string();
    // One request in flight: its body is still coming. It gets a head start, so that no
    // other request takes the only slot first (then it is the one refused; try again).
    let mut refused = None;
    let mut holders = Vec::new();
    for _ in 0..20 {
        let mut holder = TcpStream::connect(&addr).await.unwrap();
        holder
            .write_all(post_without_its_body(&app).as_bytes())
            .await
            .unwrap();
        holders.push(holder);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let res = app.get("/login", None).await;
        if res.status() == 503 {
            refused = Some(res);
            break;
        }
    }
    let res = refused.expect("a request beyond the in-flight cap is answered 503");
    assert_eq!(res.headers()["retry-after"], "5");
}

/// Over the connection cap a new connection is answered 503 and closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_are_answered_503() {
    let app = TestApp::start_with(Db::Sqlite, &[("LATCHKEY_MAX_CONNECTIONS", "2")]).await;
    let addr = app.base.trim_start_matches("http://").to_string();
    // Two idle connections fill the cap. (Until the server has accepted them a new
    // connection may still get in; kept open, it fills the cap either way.)
    let mut open = vec![
        TcpStream::connect(&addr).await.unwrap(),
        TcpStream::connect(&addr).await.unwrap(),
    ];
    let mut answer = String::new();
    for _ in 0..10 {
        let mut extra = TcpStream::connect(&addr).await.unwrap();
        extra
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        answer = read_until_closed(&mut extra, Duration::from_secs(5))
            .await
            .unwrap_or_default();
        if answer.starts_with("HTTP/1.1 503") {
            break;
        }
        open.push(extra);
    }
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: 5"),
        "{answer}"
    );
}

/// Pages carry a CSP whose script nonce is the one on their inline scripts, new for every
/// response; other responses allow no inline script at all. WebAuthn is for this origin only.
async fn pages_get_a_nonce_csp_and_the_other_headers(db: Db) {
    let app = TestApp::start(db).await;
    let csp_and_body = |res: reqwest::Response| async move {
        let csp = res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        let headers = res.headers().clone();
        (csp, headers, res.text().await.unwrap())
    };
    let (csp, headers, body) = csp_and_body(app.get("/login", None).await).await;
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a script nonce")
        .to_string();
    for directive in [
        "default-src 'self'",
        "'wasm-unsafe-eval'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(directive), "{csp} lacks {directive}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(
        body.contains(&format!("nonce=\"{nonce}\"")),
        "scripts carry the nonce"
    );
    assert!(
        !body.contains("<script>") && !body.contains("<script type=\"module\">"),
        "no inline script without the nonce"
    );
    assert_eq!(
        headers["permissions-policy"],
        "publickey-credentials-get=(self), publickey-credentials-create=(self)"
    );
    assert_eq!(headers["cross-origin-opener-policy"], "same-origin");
    assert!(
        headers.get("strict-transport-security").is_none(),
        "no HSTS on http"
    );
    let (again, _, _) = csp_and_body(app.get("/login", None).await).await;
    assert!(!again.contains(&nonce), "a new nonce per response");
    let (api_csp, _, _) = csp_and_body(app.get("/healthz", None).await).await;
    assert!(
        api_csp.contains("script-src 'self' 'wasm-unsafe-eval';"),
        "{api_csp}"
    );
    assert!(!api_csp.contains("nonce"), "{api_csp}");
}

/// An https site sends HSTS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_origins_get_hsts() {
    use tower::ServiceExt;
    let db = TestDb::new(Db::Sqlite).await;
    let key_file = db.dir.path().join("signing.pem");
    let (_, pem) = latchkey::connect::service::Signer::generate();
    std::fs::write(&key_file, pem).unwrap();
    let key_file = key_file.display().to_string();
    let config = test_config(
        &db.url,
        db.dir.path(),
        &[
            ("LATCHKEY_PUBLIC_ORIGIN", "https://login.example.com"),
            (
                "LATCHKEY_SESSION_SECRET",
                "0123456789abcdef0123456789abcdef",
            ),
            ("LATCHKEY_SIGNING_KEY_FILE", &key_file),
        ],
    );
    let state = TestApp::build_state(config).await.expect("state");
    let res = latchkey::server::router(state)
        .oneshot(
            axum::http::Request::get("/healthz")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        res.headers()["strict-transport-security"],
        "max-age=63072000; includeSubDomains"
    );
}

on_both_databases!(
    passkey_failures_never_count_against_the_password,
    sign_ups_are_limited_per_ip,
    passwords_are_limited_per_account_and_ip,
    an_account_has_a_ceiling_across_ips,
    forwarded_headers_from_untrusted_peers_are_ignored,
    the_frontend_api_is_limited_per_ip,
    pages_get_a_nonce_csp_and_the_other_headers,
);
