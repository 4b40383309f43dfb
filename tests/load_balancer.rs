//! Two real `latchkey` processes on one PostgreSQL database behind a real load balancer
//! (Debian's HAProxy 2.6, started by the test with the configuration docs/operations.md
//! shows): a passkey ceremony moves between instances, a rate limit holds across them, and
//! stopping one instance (out of rotation, then SIGTERM) in the middle of a run of logins
//! loses none of them.
//!
//! Run through scripts/with-postgres.sh (it sets `LATCHKEY_TEST_POSTGRES_URL`); HAProxy
//! comes from scripts/setup.sh.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use latchkey::connect::api::paths::frontend;
use serde_json::json;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The secrets both instances share. Sessions, connect tokens and signed passkey data made
/// by one instance must be accepted by the other.
const SESSION_SECRET: &str = "load-balancer-session-secret-0123456789abcdef";
const CONNECT_PROJECT_ID: &str = "pro-777000111";
const CONNECT_API_SECRET: &str = "load-balancer-api-secret-0123456789abcdef";

/// The names HAProxy gives the two instances (and sends back in `X-Served-By`).
const A: &str = "a";
const B: &str = "b";

/// HAProxy's configuration for a balancer listening on `bind` in front of `servers` (name,
/// address), with its runtime API on the unix socket `admin_socket`. docs/operations.md
/// ("Several instances") shows it with production addresses; a test below keeps the two the
/// same, comments included.
fn haproxy_config(bind: &str, admin_socket: &str, servers: &[(&str, &str)]) -> String {
    let mut config = format!(
        "\
global
    maxconn 1024
    # One line per request on stderr (under a supervisor or in a container, its log).
    log stderr format raw local0 info
    # The runtime API: take an instance out of rotation before stopping it (see below).
    stats socket {admin_socket} mode 600 level admin

defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 30s
    timeout http-request 10s
    timeout http-keep-alive 10s
    # Longer than Latchkey's own request timeout (30 s), after which it answers 503 itself.
    timeout server 35s
    # /readyz gives each part it checks at most 2 s.
    timeout check 5s

frontend site
    # TLS ends here (the test hands HAProxy a plain http socket on 127.0.0.1).
    bind {bind}
    default_backend latchkey

backend latchkey
    balance roundrobin
    # Appends the client's address to X-Forwarded-For. Latchkey believes the header only
    # from LATCHKEY_TRUSTED_PROXIES (set it to the balancer's address), so rate limits count
    # each client rather than the balancer; anyone else's X-Forwarded-For is ignored.
    option forwardfor
    # Readiness, not liveness: an instance that cannot serve logins now (database
    # unreachable, a migration missing) leaves the rotation and comes back when it can.
    option httpchk GET /readyz
    http-check expect status 200
    default-server check inter 500ms fall 2 rise 2
    # No idle connections to the instances: one connection per request, closed after the
    # answer (clients keep their keep-alive with HAProxy). An instance that gets SIGTERM
    # closes its idle connections at once; a request sent on one at that moment would get
    # no answer, and a POST must not be replayed. What is left, connections arriving just
    # as the signal does, is why an instance drains before it stops (below).
    option http-server-close
    # A request whose connection failed was never sent: retry it on the other instance. A
    # request that was sent and got no answer (or none in time) is retried only for GET,
    # HEAD and OPTIONS: HAProxy 2.6 replays any method retry-on matches, and a POST (a
    # sign-in, a passkey step) may have done its work before its answer was lost.
    retries 3
    retry-on conn-failure empty-response response-timeout
    http-request disable-l7-retry unless METH_GET || METH_OPTIONS
    option redispatch 1
    # Names the instance that answered (the test reads it; handy in a browser's devtools).
    http-response set-header X-Served-By %s
"
    );
    for (name, address) in servers {
        config.push_str(&format!("    server {name} {address}\n"));
    }
    config
}

/// The configuration docs/operations.md shows is the one these tests run.
#[test]
fn the_documented_haproxy_configuration_is_the_one_tested() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/operations.md"))
        .expect("docs/operations.md");
    let block = docs
        .split("```haproxy\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("an haproxy block in docs/operations.md");
    let documented = haproxy_config(
        ":443 ssl crt /etc/haproxy/latchkey.pem",
        "/run/haproxy/admin.sock",
        &[("a", "10.0.0.11:3000"), ("b", "10.0.0.12:3000")],
    );
    assert_eq!(block, documented);
}

/// HAProxy from Debian (scripts/setup.sh installs it).
fn haproxy_command() -> tokio::process::Command {
    let sbin = Path::new("/usr/sbin/haproxy");
    tokio::process::Command::new(if sbin.exists() {
        sbin
    } else {
        Path::new("haproxy")
    })
}

/// Two instances on one fresh PostgreSQL database and HAProxy in front of them.
struct Cluster {
    a: Binary,
    b: Binary,
    haproxy: tokio::process::Child,
    /// The balancer: where a browser's requests go.
    site: Site,
    /// Instance a reached directly, from a browser on the balancer's origin.
    site_a: Site,
    /// Instance b reached directly, from a browser on the balancer's origin.
    site_b: Site,
    /// HAProxy's runtime API.
    admin_socket: std::path::PathBuf,
    /// The HAProxy configuration, its runtime API's socket and the shared signing key.
    _dir: tempfile::TempDir,
}

impl Cluster {
    /// Starts instance a, then b (so that one of them runs the migrations), both with the
    /// balancer's origin, the same secrets and signing key, the balancer as trusted proxy,
    /// and `extra_env`; then HAProxy. Returns once HAProxy routes to both.
    async fn start(extra_env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = support::db::fresh_postgres_database().await;
        let key_file = dir.path().join("signing-key.pem");
        let (_, pem) = latchkey::connect::service::Signer::generate();
        std::fs::write(&key_file, pem).expect("write the signing key");
        let key_file = key_file.display().to_string();
        // The balancer's socket, bound now and handed to HAProxy as its stdin (`bind fd@0`):
        // the instances need its port (their public origin) before HAProxy starts, and a
        // port merely picked now could be taken by then.
        let balancer = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = balancer.local_addr().expect("address").port();
        let origin = format!("http://localhost:{port}");
        let mut env = vec![
            ("LATCHKEY_DATABASE_URL", database_url.as_str()),
            ("LATCHKEY_PUBLIC_ORIGIN", origin.as_str()),
            ("LATCHKEY_SESSION_SECRET", SESSION_SECRET),
            ("LATCHKEY_CONNECT_PROJECT_ID", CONNECT_PROJECT_ID),
            ("LATCHKEY_CONNECT_API_SECRET", CONNECT_API_SECRET),
            ("LATCHKEY_SIGNING_KEY_FILE", key_file.as_str()),
            ("LATCHKEY_TRUSTED_PROXIES", "127.0.0.1/32"),
            ("LATCHKEY_SHUTDOWN_GRACE_SECONDS", "10"),
            // Longer than HAProxy needs to see /readyz fail (inter 500ms × fall 2, plus a
            // check in flight): it stops sending before the instance stops accepting.
            ("LATCHKEY_SHUTDOWN_DRAIN_SECONDS", "3"),
        ];
        env.extend_from_slice(extra_env);
        let a = Binary::start(&env).await;
        let b = Binary::start(&env).await;

        let config_file = dir.path().join("haproxy.cfg");
        let (a_addr, b_addr) = (
            format!("127.0.0.1:{}", a.port),
            format!("127.0.0.1:{}", b.port),
        );
        let admin_socket = dir.path().join("admin.sock");
        let config = haproxy_config(
            "fd@0",
            &admin_socket.display().to_string(),
            &[(A, a_addr.as_str()), (B, b_addr.as_str())],
        );
        std::fs::write(&config_file, config).expect("write haproxy.cfg");
        let haproxy = haproxy_command()
            .arg("-f")
            .arg(&config_file)
            // Foreground, messages on stderr (nextest shows them when a test fails).
            .arg("-db")
            .stdin(std::process::Stdio::from(std::os::fd::OwnedFd::from(
                balancer,
            )))
            .kill_on_drop(true)
            .spawn()
            .expect("start haproxy (scripts/setup.sh installs it)");
        let site_a = Site::new(&a.base, &origin);
        let site_b = Site::new(&b.base, &origin);
        let mut cluster = Self {
            a,
            b,
            haproxy,
            site: Site::new(format!("http://127.0.0.1:{port}"), origin),
            site_a,
            site_b,
            admin_socket,
            _dir: dir,
        };
        cluster.wait_until_both_serve().await;
        cluster
    }

    /// Asks through the balancer until both instances have answered (bounded: a guard
    /// against a hang, not a timing).
    async fn wait_until_both_serve(&mut self) {
        let client = Site::client();
        let mut seen = BTreeSet::new();
        for _ in 0..200 {
            if let Some(status) = self.haproxy.try_wait().expect("haproxy status") {
                panic!("haproxy exited ({status}): is its configuration valid?");
            }
            if let Ok(res) = client
                .get(format!("{}/healthz", self.site.base))
                .send()
                .await
            {
                if res.status() == 200 {
                    seen.extend(served_by_of(res.headers()));
                }
            }
            if seen.len() == 2 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("HAProxy never routed to both instances (seen: {seen:?})");
    }

    /// One command on HAProxy's runtime API; its answer.
    async fn runtime_api(&self, command: &str) -> String {
        let mut socket = tokio::net::UnixStream::connect(&self.admin_socket)
            .await
            .expect("HAProxy's runtime API");
        socket
            .write_all(format!("{command}\n").as_bytes())
            .await
            .expect("send the command");
        let mut answer = String::new();
        socket
            .read_to_string(&mut answer)
            .await
            .expect("read the answer");
        answer
    }

    /// Waits until HAProxy's health checks have taken instance `server` out of rotation
    /// (bounded: a guard against a hang, not a timing).
    async fn wait_until_down(&self, server: &str) {
        for _ in 0..600 {
            let stats = self.runtime_api("show stat").await;
            // CSV with a header line: "# pxname,svname,...,status,..."
            let header: Vec<&str> = stats
                .lines()
                .next()
                .unwrap_or_default()
                .trim_start_matches("# ")
                .split(',')
                .collect();
            let status_at = header
                .iter()
                .position(|f| *f == "status")
                .expect("a status column");
            let status = stats
                .lines()
                .map(|line| line.split(',').collect::<Vec<_>>())
                .find(|fields| {
                    fields.len() > status_at && fields[0] == "latchkey" && fields[1] == server
                })
                .map(|fields| fields[status_at].to_string())
                .unwrap_or_else(|| panic!("no stats for {server}: {stats}"));
            if status.starts_with("DOWN") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("instance {server} never left the rotation");
    }
}

/// A client whose connections come from `ip` (any 127.0.0.0/8 address is this machine), so
/// the balancer forwards a different client address for it.
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(CHROME_MAC)
        .local_address(ip.parse::<IpAddr>().expect("an address"))
        .build()
        .expect("client")
}

fn served_by(res: &reqwest::Response) -> String {
    served_by_of(res.headers()).expect("the balancer names the instance")
}

fn both() -> BTreeSet<String> {
    [A, B].into_iter().map(String::from).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passkey_ceremony_started_on_one_instance_finishes_on_the_other() {
    let cluster = Cluster::start(&[]).await;
    let email = unique_email();
    let cookie = cluster.site.sign_up(&email, PASSWORD).await;
    let mut auth = TestPasskey::for_origin(&cluster.site.origin);
    // The append ceremony's requests already alternate between the instances.
    enrol_passkey(&cluster.site, &mut auth, &cookie).await;

    // A login split by hand: token, init and start on a; finish and completion on b.
    let token = login_token(&cluster.site_a, &email).await;
    let (_, process, start) = start_login(&cluster.site_a, &email, &token).await;
    let signed = sign_and_finish(&mut auth, &cluster.site_b.front(), &process, &start).await;
    let (status, target, headers) = complete_for(&cluster.site_b, &signed, "").await;
    assert_eq!(status, 200, "{target}");
    let session = new_session_cookie(&headers).expect("b starts a session");
    // The session b made is good at whichever instance the balancer picks.
    for _ in 0..2 {
        let res = cluster.site.get("/dashboard", Some(&session)).await;
        assert_eq!(
            res.status(),
            200,
            "{} answered {:?}",
            served_by(&res),
            location(&res)
        );
    }

    // A login entirely through the balancer: its steps land on both instances.
    let mut answered_by = Vec::new();
    let (status, token, headers) = cluster
        .site
        .call_text("passkey_login_token", &[("email", &email)], None)
        .await;
    assert_eq!(status, 200, "{token}");
    answered_by.extend(served_by_of(&headers));
    let front = cluster.site.front();
    let init = front
        .post(
            frontend::LOGIN_INIT,
            None,
            &json!({ "clientInformation": client_info(None), "flags": {} }),
        )
        .await;
    answered_by.extend(init.served_by.clone());
    let process = init.ok()["token"]
        .as_str()
        .or_else(|| init.ok()["processID"].as_str())
        .expect("a process id")
        .to_string();
    let start = front
        .post(
            frontend::LOGIN_START,
            Some(&process),
            &json!({ "identifier": email, "source": "text-field", "loadedMs": 1,
                    "loginConnectToken": token }),
        )
        .await;
    answered_by.extend(start.served_by.clone());
    let options = start.ok()["assertionOptions"].as_str().expect("options");
    let assertion = auth.login(options, &Tweak::default());
    let finish = finish_login(&front, &process, &assertion).await;
    answered_by.extend(finish.served_by.clone());
    let signed = finish.ok()["signedPasskeyData"]
        .as_str()
        .expect("signed data");
    let (status, target, headers) = complete_for(&cluster.site, signed, "").await;
    assert_eq!(status, 200, "{target}");
    answered_by.extend(served_by_of(&headers));
    assert_eq!(answered_by.len(), 5, "every step names its instance");
    assert_eq!(
        answered_by.iter().cloned().collect::<BTreeSet<_>>(),
        both(),
        "{answered_by:?}"
    );
    let session = new_session_cookie(&headers).expect("a session");
    let res = cluster.site.get("/dashboard", Some(&session)).await;
    assert_eq!(res.status(), 200, "{:?}", location(&res));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_holds_across_instances() {
    let cluster = Cluster::start(&[("LATCHKEY_RATE_LIMIT_SIGN_IN_ACCOUNT_IP", "3/15m")]).await;
    let email = unique_email();
    cluster.site.sign_up(&email, PASSWORD).await;
    let wrong = [
        ("email", email.as_str()),
        ("password", "not the password"),
        ("next", ""),
    ];
    // One client (one address), four wrong passwords, spread over both instances.
    let client = client_from("127.0.0.2");
    let mut statuses = Vec::new();
    let mut answered_by = BTreeSet::new();
    for _ in 0..4 {
        let res = cluster
            .site
            .call_from(&client, "sign_in", &wrong, &[])
            .await
            .expect("an answer");
        statuses.push(res.status().as_u16());
        answered_by.insert(served_by(&res));
    }
    assert_eq!(statuses, [401, 401, 401, 429]);
    assert_eq!(answered_by, both());

    // The bucket is the client's, as X-Forwarded-For names it, not the balancer's: another
    // client address still has its attempts for the same account.
    let other = client_from("127.0.0.3");
    let res = cluster
        .site
        .call_from(&other, "sign_in", &wrong, &[])
        .await
        .expect("an answer");
    assert_eq!(res.status(), 401);
}

/// What one sign-in got: the status and whether a session came with it, which instance
/// answered, or the transport error.
type Outcome = Result<(u16, bool, String), String>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_one_instance_mid_run_loses_no_login() {
    const SIGN_INS: usize = 40;
    const TASKS: usize = 4;
    const STOP_AFTER: usize = 10;
    let mut cluster = Cluster::start(&[
        // Forty logins from one address in a few seconds: not what this test is about.
        ("LATCHKEY_RATE_LIMIT_SIGN_IN_IP", "1000/1m"),
        ("LATCHKEY_RATE_LIMIT_SIGN_IN_ACCOUNT_IP", "1000/1m"),
        ("LATCHKEY_RATE_LIMIT_SIGN_IN_ACCOUNT", "1000/1m"),
    ])
    .await;
    let mut emails = Vec::new();
    for _ in 0..TASKS {
        let email = unique_email();
        cluster.site.sign_up(&email, PASSWORD).await;
        emails.push(email);
    }

    let taken = Arc::new(AtomicUsize::new(0));
    let (done_tx, mut done_rx) = tokio::sync::watch::channel(0usize);
    let done_tx = Arc::new(done_tx);
    let client = Site::client();
    let mut tasks = Vec::new();
    for email in emails {
        let (site, client, taken, done_tx) = (
            cluster.site.clone(),
            client.clone(),
            taken.clone(),
            done_tx.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut outcomes: Vec<Outcome> = Vec::new();
            while taken.fetch_add(1, Ordering::SeqCst) < SIGN_INS {
                let form = [
                    ("email", email.as_str()),
                    ("password", PASSWORD),
                    ("next", ""),
                ];
                let outcome = match site.call_from(&client, "sign_in", &form, &[]).await {
                    Ok(res) => Ok((
                        res.status().as_u16(),
                        new_session_cookie(res.headers()).is_some(),
                        served_by_of(res.headers()).unwrap_or_default(),
                    )),
                    Err(err) => Err(format!("{err:?}")),
                };
                outcomes.push(outcome);
                done_tx.send_modify(|done| *done += 1);
            }
            outcomes
        }));
    }

    // A guard against a hang, not a timing.
    tokio::time::timeout(
        Duration::from_secs(120),
        done_rx.wait_for(|done| *done >= STOP_AFTER),
    )
    .await
    .expect("the first sign-ins finish")
    .expect("the counter is alive");
    // SIGTERM alone, as an orchestrator sends it: a drains (its /readyz answers 503 while
    // it still serves), HAProxy's checks take it out of rotation, then it stops accepting.
    let finished_before_the_stop = *done_rx.borrow();
    cluster.a.terminate();
    cluster.a.wait_for_log("draining").await;
    let readiness = Site::client()
        .get(format!("{}/readyz", cluster.a.base))
        .send()
        .await
        .expect("a still answers while it drains");
    assert_eq!(readiness.status(), 503);
    let readiness: serde_json::Value = readiness.json().await.expect("JSON");
    assert_eq!(
        readiness["checks"],
        serde_json::json!([{"part": "shutdown", "status": "draining"}])
    );
    cluster.wait_until_down(A).await;

    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.extend(task.await.expect("a sign-in task"));
    }
    cluster.a.wait_for_log("stopped").await;
    let status = cluster.a.exit_status().await;
    assert!(status.success(), "instance a exited with {status}");

    assert_eq!(outcomes.len(), SIGN_INS);
    let mut answered: BTreeMap<String, usize> = BTreeMap::new();
    for outcome in &outcomes {
        match outcome {
            Ok((200, true, by)) => *answered.entry(by.clone()).or_default() += 1,
            other => panic!("a sign-in was lost: {other:?} (all: {outcomes:?})"),
        }
    }
    assert_eq!(
        answered.keys().cloned().collect::<BTreeSet<_>>(),
        both(),
        "{answered:?}"
    );
    eprintln!(
        "sign-ins answered per instance: {answered:?}, {finished_before_the_stop} before a stopped"
    );
    assert!(
        finished_before_the_stop < SIGN_INS,
        "a stopped while the run went on"
    );
    // Instance b goes on serving alone.
    let res = cluster.site.get("/login", None).await;
    assert_eq!(
        (res.status().as_u16(), served_by(&res)),
        (200, B.to_string())
    );
    assert!(
        cluster.b.child.try_wait().expect("b's status").is_none(),
        "instance b is still running"
    );
}
