//! Events leaving the system through the outbox, against real receivers started here: a
//! Standard Webhooks receiver in Node that verifies every signature with the specification's
//! npm package, and an SMTP server (aiosmtpd, installed by scripts/setup.sh). They are
//! stopped for a while, the app is restarted in the middle of the backlog, and every event
//! still arrives: once, in order per account.

mod support;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use latchkey::events::outbox;
use serde_json::Value;
use support::*;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn repository(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// A free loopback port (the receivers bind it themselves).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Starts a receiver process; with `ready`, waits for the output line that says it listens.
async fn start(mut command: Command, ready: Option<&str>) -> Child {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start a receiver");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    if let Some(ready) = ready {
        // A guard against a hang, not a timing assertion.
        tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.expect("read stdout") {
                if line.contains(ready) {
                    return;
                }
            }
            panic!("the receiver exited before it listened");
        })
        .await
        .expect("the receiver listens");
    }
    // Keep draining its output so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    child
}

async fn webhook_receiver(port: u16, out: &Path) -> Child {
    let mut command = Command::new("node");
    command
        .arg(repository("end2end/receivers/webhook-receiver.mjs"))
        .arg(port.to_string())
        .arg(SECRET)
        .arg(out);
    start(command, Some("listening")).await
}

async fn smtp_server(port: u16, maildir: &Path) -> Child {
    let mut command = Command::new(repository("tools/python/bin/python"));
    command
        .args(["-u", "-m", "aiosmtpd", "-n", "-l"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(maildir);
    let child = start(command, None).await;
    // aiosmtpd prints nothing when it is ready: wait until it accepts connections.
    wait_for(|| async {
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
    })
    .await;
    child
}

/// Polls `done` until it holds (a guard of two minutes against a hang).
async fn wait_for<F, Fut>(done: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while !done().await {
        assert!(tokio::time::Instant::now() < deadline, "gave up waiting");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What the receiver accepted, in arrival order (and anything it refused).
fn received(out: &Path) -> Vec<Value> {
    std::fs::read_to_string(out)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

async fn pending(app: &TestApp) -> i64 {
    outbox::count(&app.state.store, "pending")
        .await
        .expect("count")
}

async fn webhooks_survive_an_outage_and_a_restart(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("received.jsonl");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/hooks/latchkey");
    let env = [
        ("LATCHKEY_WEBHOOK_URL", url.as_str()),
        ("LATCHKEY_WEBHOOK_SECRET", SECRET),
        (
            "LATCHKEY_WEBHOOK_EVENTS",
            "account.created,password-login.succeeded,password-login.failed,session.signed-out",
        ),
    ];
    let app = TestApp::start_with(db, &env).await;

    // The receiver is down: three people sign up, fail and sign out.
    let emails: Vec<String> = (0..3).map(|_| unique_email()).collect();
    for email in &emails {
        let cookie = app.sign_up(email, PASSWORD).await;
        assert_eq!(app.sign_in(email, "wrong").await.status(), 401);
        assert_eq!(app.call_status("sign_out", &[], Some(&cookie)).await, 200);
    }
    // Four webhooks each (sign-up, its login, the failure, the sign-out); settings changes
    // are filtered out.
    assert_eq!(pending(&app).await, 12);
    // The worker keeps trying while the receiver is down.
    wait_for(|| async {
        sqlx::query_scalar::<_, i64>("SELECT MAX(attempts) FROM event_outbox")
            .fetch_one(app.state.store.pool())
            .await
            .unwrap_or(0)
            >= 2
    })
    .await;

    // Restarted in the middle of the backlog; still down; more events meanwhile.
    let app = app.restart(&env).await;
    for email in &emails {
        let res = app.sign_in(email, PASSWORD).await;
        assert_eq!(res.status(), 200);
    }
    assert_eq!(pending(&app).await, 15);

    // The receiver comes up: everything arrives.
    let _receiver = webhook_receiver(port, &out).await;
    wait_for(|| async { pending(&app).await == 0 }).await;
    let got = received(&out);
    assert!(
        got.iter().all(|line| line.get("refused").is_none()),
        "every signature verifies: {got:?}"
    );
    assert_eq!(got.len(), 15, "each event exactly once: {got:?}");
    let ids: HashSet<&str> = got.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 15);
    assert!(got.iter().all(|l| l["path"] == "/hooks/latchkey"));

    // In order per account: each account's sequence numbers arrive rising, in the order the
    // person acted.
    let mut per_account: HashMap<String, Vec<(i64, String)>> = HashMap::new();
    for line in &got {
        let data = &line["payload"]["data"];
        per_account
            .entry(data["accountId"].as_str().unwrap().to_string())
            .or_default()
            .push((
                data["sequence"].as_i64().unwrap(),
                line["payload"]["type"].as_str().unwrap().to_string(),
            ));
    }
    assert_eq!(per_account.len(), 3);
    for events in per_account.values() {
        assert!(events.windows(2).all(|w| w[0].0 < w[1].0), "{events:?}");
        let types: Vec<&str> = events.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(
            types,
            [
                "account.created",
                "password-login.succeeded",
                "password-login.failed",
                "session.signed-out",
                "password-login.succeeded",
            ]
        );
    }
    let delivered = outbox::count(&app.state.store, "delivered").await.unwrap();
    assert_eq!(delivered, 15);
}

on_both_databases!(webhooks_survive_an_outage_and_a_restart);

/// Two instances on one PostgreSQL deliver one outbox: nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_deliver_each_webhook_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("received.jsonl");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/");
    let env = [
        ("LATCHKEY_WEBHOOK_URL", url.as_str()),
        ("LATCHKEY_WEBHOOK_SECRET", SECRET),
    ];
    let _receiver = webhook_receiver(port, &out).await;
    let first = TestApp::start_with(Db::Postgres, &env).await;
    let second = TestApp::start_sharing(&first, &env).await;
    for i in 0..10 {
        let app = if i % 2 == 0 { &first } else { &second };
        app.sign_up(&unique_email(), PASSWORD).await;
    }
    wait_for(|| async { pending(&first).await == 0 }).await;
    let got = received(&out);
    let ids: Vec<&str> = got.iter().map(|l| l["id"].as_str().unwrap()).collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique.len(), "no webhook twice: {ids:?}");
    // Two starts' settings, and each sign-up's account and login.
    assert_eq!(ids.len(), 2 + 10 * 2);
}

/// A receiver that refuses a signature made with another secret: the check is real.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_signed_with_another_secret_is_refused_by_the_receiver() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("received.jsonl");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/");
    let _receiver = webhook_receiver(port, &out).await;
    let env = [
        ("LATCHKEY_WEBHOOK_URL", url.as_str()),
        (
            "LATCHKEY_WEBHOOK_SECRET",
            "whsec_QW5vdGhlciBzZWNyZXQgb2YgMjQrIGJ5dGVz",
        ),
        ("LATCHKEY_WEBHOOK_EVENTS", "account.created"),
    ];
    let app = TestApp::start_with(Db::Sqlite, &env).await;
    app.sign_up(&unique_email(), PASSWORD).await;
    wait_for(|| async { !received(&out).is_empty() }).await;
    let got = received(&out);
    assert!(got[0]["refused"].is_string(), "{got:?}");
    // Refused is not delivered: it stays pending for a retry.
    assert_eq!(pending(&app).await, 1);
}

/// Passkey added and removed: the owner is mailed, after the mail server comes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_is_mailed_when_a_passkey_is_added_or_removed() {
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("maildir");
    let port = free_port();
    let smtp = format!("smtp://127.0.0.1:{port}");
    let env = [
        ("LATCHKEY_SMTP_URL", smtp.as_str()),
        ("LATCHKEY_MAIL_FROM", "Latchkey <no-reply@example.com>"),
    ];
    let app = TestApp::start_with(Db::Sqlite, &env).await;
    let email = unique_email();
    let mut auth = TestPasskey::for_origin(&app.origin);
    let cookie = app.sign_up(&email, PASSWORD).await;
    // The mail server is down while the passkey is created.
    enrol_passkey(&app, &mut auth, &cookie).await;
    assert_eq!(pending(&app).await, 1);
    wait_for(|| async {
        sqlx::query_scalar::<_, i64>("SELECT MAX(attempts) FROM event_outbox")
            .fetch_one(app.state.store.pool())
            .await
            .unwrap_or(0)
            >= 1
    })
    .await;

    let _smtp = smtp_server(port, &maildir).await;
    wait_for(|| async { pending(&app).await == 0 }).await;
    let mails = read_maildir(&maildir);
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert!(mail.contains(&format!("To: {email}")), "{mail}");
    assert!(
        mail.contains("From: Latchkey <no-reply@example.com>"),
        "{mail}"
    );
    assert!(
        mail.contains("Subject: A passkey was added to your"),
        "{mail}"
    );
    assert!(mail.contains("multipart/alternative"), "{mail}");
    assert!(mail.contains("text/html"), "{mail}");
    assert!(mail.contains("Chrome on macOS"), "{mail}");
    assert!(mail.contains("If this was not you"), "{mail}");

    // Removing it (the backend API's way) mails again.
    let service = app.state.connect_service.as_ref().unwrap();
    let account = app
        .state
        .store
        .find_account_by_email(app.state.idp.issuer(), &email)
        .await
        .unwrap()
        .unwrap();
    let user = service
        .user_by_identifier(&account.id)
        .await
        .unwrap()
        .unwrap();
    let credential = &service.credentials_of(&user.id).await.unwrap()[0];
    service
        .delete_user_credential(&user.id, &credential.id, None)
        .await
        .unwrap();
    wait_for(|| async { read_maildir(&maildir).len() == 2 }).await;
    let removed = read_maildir(&maildir)
        .into_iter()
        .find(|m| m.contains("Subject: A passkey was removed"))
        .expect("the removal mail");
    assert!(removed.contains("change your password"), "{removed}");
}

/// Without SMTP nothing is queued for mail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_smtp_no_mail_is_queued() {
    let app = TestApp::start(Db::Sqlite).await;
    let mut auth = TestPasskey::for_origin(&app.origin);
    let cookie = app.sign_up(&unique_email(), PASSWORD).await;
    enrol_passkey(&app, &mut auth, &cookie).await;
    assert_eq!(pending(&app).await, 0);
}

/// The maildir's messages, quoted-printable soft line breaks undone.
fn read_maildir(maildir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(maildir.join("new")) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .map(|text| {
            text.replace("=\r\n", "")
                .replace("=\n", "")
                .replace("=3D", "=")
        })
        .collect()
}
