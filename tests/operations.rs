//! What operators' tooling sees, over real HTTP: liveness and readiness (and readiness
//! failing while PostgreSQL refuses connections, then recovering), Prometheus metrics, a
//! separate metrics address, the outbox giving back its rows at shutdown, and the real
//! binary's JSON logs and graceful SIGTERM with requests in flight.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn get(url: &str) -> reqwest::Response {
    TestApp::client().get(url).send().await.expect("GET")
}

/// `/readyz`'s status and its checks as `part → status`.
async fn readiness(app: &TestApp) -> (u16, Vec<(String, String)>) {
    let res = get(&format!("{}/readyz", app.base)).await;
    let status = res.status().as_u16();
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.expect("readyz JSON");
    assert_eq!(body["ready"], status == 200, "{body}");
    let checks = body["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| {
            (
                c["part"].as_str().unwrap_or_default().to_string(),
                c["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    (status, checks)
}

fn checks(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(part, status)| (part.to_string(), status.to_string()))
        .collect()
}

/// The sum of the samples of `name` whose labels include every one of `labels`
/// (`key="value"`); `None` when there is no such sample.
fn metric(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    let samples: Vec<f64> = text
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let rest = series.strip_prefix(name)?;
            let matches = if rest.is_empty() {
                labels.is_empty()
            } else {
                rest.starts_with('{') && labels.iter().all(|label| rest.contains(label))
            };
            matches.then(|| value.parse::<f64>().ok()).flatten()
        })
        .collect();
    (!samples.is_empty()).then(|| samples.iter().sum())
}

async fn scrape(base: &str) -> String {
    let res = get(&format!("{base}/metrics")).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .starts_with("text/plain; version=0.0.4"));
    res.text().await.expect("metrics text")
}

async fn the_process_is_live_and_ready(db: Db) {
    let app = TestApp::start(db).await;
    let res = get(&format!("{}/healthz", app.base)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.expect("body"), "ok");
    assert_eq!(
        readiness(&app).await,
        (
            200,
            checks(&[
                ("database", "ok"),
                ("migrations", "ok"),
                ("identity-provider", "ok")
            ])
        )
    );
}

/// A database restored from an older backup lacks a migration this binary ran: the
/// instance must not take logins against it.
async fn readiness_names_a_migration_that_is_no_longer_applied(db: Db) {
    let app = TestApp::start(db).await;
    sqlx::query(
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
    )
    .execute(app.state.store.pool())
    .await
    .expect("forget one migration");
    assert_eq!(
        readiness(&app).await,
        (
            503,
            checks(&[
                ("database", "ok"),
                ("migrations", "not applied"),
                ("identity-provider", "ok")
            ])
        )
    );
}

/// `/readyz` until it answers `want` (bounded: a guard against a hang, not a timing).
async fn wait_for_readiness(app: &TestApp, want: u16) -> Vec<(String, String)> {
    for _ in 0..60 {
        let (status, checks) = readiness(app).await;
        if status == want {
            return checks;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("/readyz never answered {want}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_fails_while_postgres_refuses_connections_and_recovers() {
    let app = TestApp::start(Db::Postgres).await;
    assert_eq!(readiness(&app).await.0, 200);
    let name = app
        .db
        .url
        .rsplit('/')
        .next()
        .expect("database name")
        .to_string();
    let admin_url = std::env::var("LATCHKEY_TEST_POSTGRES_URL").expect("test PostgreSQL");
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url)
        .await
        .expect("admin connection");
    // The name is the harness's own random digits: safe to splice into DDL.
    let refuse = sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false"
    ));
    sqlx::query(refuse)
        .execute(&mut admin)
        .await
        .expect("refuse");
    let cut = sqlx::AssertSqlSafe(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    ));
    sqlx::query(cut).execute(&mut admin).await.expect("cut");

    let down = wait_for_readiness(&app, 503).await;
    assert_eq!(
        down,
        checks(&[("database", "unreachable"), ("identity-provider", "ok")])
    );
    // Liveness is another question: the process answers, nobody should restart it.
    assert_eq!(get(&format!("{}/healthz", app.base)).await.status(), 200);
    // A person on the login page during the outage sees the page, not an error wall.
    assert_eq!(app.get("/login", None).await.status(), 200);

    let allow = sqlx::AssertSqlSafe(format!("ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true"));
    sqlx::query(allow).execute(&mut admin).await.expect("allow");
    let up = wait_for_readiness(&app, 200).await;
    assert_eq!(
        up,
        checks(&[
            ("database", "ok"),
            ("migrations", "ok"),
            ("identity-provider", "ok")
        ])
    );
}

async fn metrics_count_requests_logins_and_rate_limit_hits(db: Db) {
    let app = TestApp::start_with(db, &[("LATCHKEY_RATE_LIMIT_SIGN_IN_ACCOUNT_IP", "2/15m")]).await;
    let email = unique_email();
    app.sign_up(&email, PASSWORD).await;
    assert_eq!(app.sign_in(&email, PASSWORD).await.status(), 200);
    assert_eq!(app.sign_in(&email, "not the password").await.status(), 401);
    assert_eq!(app.sign_in(&email, "not the password").await.status(), 429);
    assert_eq!(app.get("/login", None).await.status(), 200);
    assert_eq!(app.get("/no-such-page", None).await.status(), 404);

    let text = scrape(&app.base).await;
    let logins = |result: &str| {
        metric(
            &text,
            "latchkey_logins_total",
            &[r#"method="password""#, &format!(r#"result="{result}""#)],
        )
    };
    // The sign-up is a password login too (the audit log records both).
    assert_eq!(logins("succeeded"), Some(2.0));
    // The wrong password and the refused attempt (the audit log's reason: rate-limited).
    assert_eq!(logins("failed"), Some(2.0));
    assert_eq!(
        metric(
            &text,
            "latchkey_rate_limit_hits_total",
            &[r#"rule="sign-in-account-ip""#]
        ),
        Some(1.0),
        "{text}"
    );
    let requests = |route: &str, status: &str| {
        metric(
            &text,
            "latchkey_http_requests_total",
            &[
                &format!(r#"route="{route}""#),
                &format!(r#"status="{status}""#),
            ],
        )
    };
    assert_eq!(requests("/login", "200"), Some(1.0));
    assert_eq!(requests("/api/sign_in", "429"), Some(1.0));
    // Paths no route knows share one label (a scanner cannot add a series per path).
    assert_eq!(requests("unmatched", "404"), Some(1.0));
    assert!(!text.contains("no-such-page"));
    // Latency as a histogram with buckets, per route.
    assert_eq!(
        metric(
            &text,
            "latchkey_http_request_duration_seconds_count",
            &[r#"route="/login""#]
        ),
        Some(1.0)
    );
    assert_eq!(
        metric(
            &text,
            "latchkey_http_request_duration_seconds_bucket",
            &[r#"route="/login""#, r#"le="+Inf""#]
        ),
        Some(1.0),
        "{text}"
    );
    // The moment's gauges: the outbox (nothing configured to send) and the pool.
    assert_eq!(
        metric(&text, "latchkey_outbox_backlog", &[r#"channel="webhook""#]),
        Some(0.0)
    );
    assert_eq!(
        metric(&text, "latchkey_outbox_backlog", &[r#"channel="mail""#]),
        Some(0.0)
    );
    let max = match db {
        Db::Sqlite => 8.0,
        Db::Postgres => 16.0,
    };
    assert_eq!(
        metric(&text, "latchkey_db_pool_max_connections", &[]),
        Some(max)
    );
    let connections = metric(&text, "latchkey_db_pool_connections", &[]).expect("pool gauge");
    assert!((1.0..=max).contains(&connections), "{connections}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_addr_takes_metrics_off_the_site() {
    let metrics_addr = format!("127.0.0.1:{}", free_port());
    let app = TestApp::start_with(Db::Sqlite, &[("LATCHKEY_METRICS_ADDR", &metrics_addr)]).await;
    assert_eq!(app.get("/login", None).await.status(), 200);
    // Not on the site (the app's 404 page)...
    assert_eq!(app.get("/metrics", None).await.status(), 404);
    // ...but on its own address, counting the site's requests.
    let text = scrape(&format!("http://{metrics_addr}")).await;
    assert!(
        metric(
            &text,
            "latchkey_http_requests_total",
            &[r#"route="/login""#, r#"status="200""#]
        )
        .is_some_and(|n| n >= 1.0),
        "{text}"
    );
    // Probes stay on the site's port, where the balancer sends them.
    assert_eq!(readiness(&app).await.0, 200);
}

/// A receiver that accepts connections and never answers: a webhook stuck in flight.
async fn silent_receiver() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    (url, task)
}

/// At shutdown the outbox worker gets the grace period for its batch; rows still being sent
/// then are given back, so the instance that takes over sends them at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_gives_back_the_webhooks_still_in_flight() {
    let (url, _receiver) = silent_receiver().await;
    let mut app = TestApp::start_with(
        Db::Sqlite,
        &[
            ("LATCHKEY_WEBHOOK_URL", &url),
            (
                "LATCHKEY_WEBHOOK_SECRET",
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            ),
            ("LATCHKEY_SHUTDOWN_GRACE_SECONDS", "1"),
        ],
    )
    .await;
    app.sign_up(&unique_email(), PASSWORD).await;
    let store = app.state.store.clone();
    let leased = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM event_outbox WHERE status = 'pending' AND lease_until > 0",
        )
        .fetch_one(store.pool())
        .await
        .expect("count")
    };
    for _ in 0..100 {
        if leased().await > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(leased().await > 0, "the worker claimed a row");
    app.stop().await;

    let reopened = latchkey::store::Store::connect(&app.db.url)
        .await
        .expect("reopen");
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, lease_until FROM event_outbox ORDER BY seq")
            .fetch_all(reopened.pool())
            .await
            .expect("rows");
    assert!(!rows.is_empty());
    for (status, lease_until) in rows {
        assert_eq!(status, "pending", "nothing was lost or marked sent");
        assert_eq!(lease_until, 0, "every lease was given back");
    }
}

/// A sign-in whose body is sent in two halves: the request is in flight between them.
fn sign_in_head(base: &str, body_len: usize) -> String {
    let origin = base.replace("127.0.0.1", "localhost");
    format!(
        "POST /api/sign_in HTTP/1.1\r\nHost: x\r\nOrigin: {origin}\r\nAccept: application/json\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {body_len}\r\nConnection: close\r\n\r\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_requests_in_flight_and_logs_json() {
    let mut server = Binary::start(&[("LATCHKEY_SHUTDOWN_GRACE_SECONDS", "20")]).await;
    let client = TestApp::client();
    let email = unique_email();
    let origin = server.base.replace("127.0.0.1", "localhost");
    let signed_up = client
        .post(format!("{}/api/sign_up", server.base))
        .header("origin", &origin)
        .header("accept", "application/json")
        .form(&[
            ("email", email.as_str()),
            ("password", PASSWORD),
            ("next", ""),
        ])
        .send()
        .await
        .expect("sign up");
    assert_eq!(signed_up.status(), 200);

    // Three sign-ins in flight: headers and half the body sent.
    let body = format!(
        "email={}&password={}&next=",
        email.replace('@', "%40"),
        PASSWORD.replace(' ', "+")
    );
    let (first, second) = body.split_at(body.len() / 2);
    let mut in_flight = Vec::new();
    for _ in 0..3 {
        let mut stream = TcpStream::connect(server.base.trim_start_matches("http://"))
            .await
            .expect("connect");
        stream
            .write_all(format!("{}{first}", sign_in_head(&server.base, body.len())).as_bytes())
            .await
            .expect("send the first half");
        in_flight.push(stream);
    }
    // Let the server read the halves (the requests are now being handled).
    tokio::time::sleep(Duration::from_millis(300)).await;

    server.terminate();
    let shutting_down = server.wait_for_log("shutting down").await;
    assert_eq!(shutting_down["level"], "INFO");
    // No new connection is taken once the signal is seen (the listener closes right after
    // the log line; bounded wait, not a timing).
    let mut closed = false;
    for _ in 0..100 {
        if TcpStream::connect(server.base.trim_start_matches("http://"))
            .await
            .is_err()
        {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(closed, "the listener is closed");

    // The requests in flight finish: each is answered, and each is a login.
    for mut stream in in_flight {
        stream
            .write_all(second.as_bytes())
            .await
            .expect("send the second half");
        let mut answer = String::new();
        stream
            .read_to_string(&mut answer)
            .await
            .expect("read the answer");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(
            answer.to_ascii_lowercase().contains("set-cookie:"),
            "{answer}"
        );
    }
    server.wait_for_log("stopped").await;
    let status = server.exit_status().await;
    assert!(status.success(), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_format_that_is_neither_text_nor_json_stops_the_start() {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("LEPTOS_OUTPUT_NAME", "latchkey")
        .env("LATCHKEY_LOG_FORMAT", "xml")
        .env(
            "LATCHKEY_DATA_DIR",
            tempfile::tempdir().expect("dir").path(),
        )
        .output()
        .await
        .expect("run latchkey");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("LATCHKEY_LOG_FORMAT"), "{stderr}");
}

on_both_databases!(
    the_process_is_live_and_ready,
    readiness_names_a_migration_that_is_no_longer_applied,
    metrics_count_requests_logins_and_rate_limit_hits,
);
