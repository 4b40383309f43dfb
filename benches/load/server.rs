//! The processes under load: release builds of Latchkey and the Node peer, started on
//! loopback by the generator, and their CPU time read from `/proc` (so the generator's own
//! work, the authenticator's signing included, never counts).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Rate limits high enough that the load is never refused: the checks still run (and cost
/// what they cost), they just never say no.
const UNLIMITED: &str = "100000000/1m";
const RATE_LIMITS: &[&str] = &[
    "LATCHKEY_RATE_LIMIT_SIGN_IN_IP",
    "LATCHKEY_RATE_LIMIT_SIGN_IN_ACCOUNT_IP",
    "LATCHKEY_RATE_LIMIT_SIGN_IN_ACCOUNT",
    "LATCHKEY_RATE_LIMIT_SIGN_UP_IP",
    "LATCHKEY_RATE_LIMIT_PASSKEY_LOGIN_IP",
    "LATCHKEY_RATE_LIMIT_PASSKEY_LOGIN_ACCOUNT_IP",
    "LATCHKEY_RATE_LIMIT_FRONTEND_API_IP",
    "LATCHKEY_RATE_LIMIT_BACKEND_API_IP",
];

/// A free loopback port.
pub fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|err| format!("no free port: {err}"))
}

/// One running process and where it answers.
pub struct Process {
    pub child: Child,
    pub base: String,
    /// From spawn to the first `200` on `/healthz`.
    pub started_in: Duration,
}

impl Process {
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        let _ = tokio::time::timeout(Duration::from_secs(20), self.child.wait()).await;
        let _ = self.child.kill().await;
    }
}

/// What a Latchkey instance runs on.
pub struct LatchkeySetup<'a> {
    pub binary: &'a Path,
    pub repository: &'a Path,
    pub database_url: &'a str,
    /// Shared by the instances of one setup: the secrets (signing key, session secret) are
    /// generated here once, so any instance verifies what another signed.
    pub data_dir: &'a Path,
    /// The origin every instance answers for (the first instance's address).
    pub origin: &'a str,
}

/// Starts `latchkey` (the release build) on `port` and waits until it answers.
pub async fn start_latchkey(setup: &LatchkeySetup<'_>, port: u16) -> Result<Process, String> {
    let mut command = Command::new(setup.binary);
    command
        .current_dir(setup.repository)
        .env("LEPTOS_OUTPUT_NAME", "latchkey")
        .env("LEPTOS_SITE_ROOT", "target/site")
        .env("LEPTOS_SITE_PKG_DIR", "pkg")
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LATCHKEY_PUBLIC_ORIGIN", setup.origin)
        .env("LATCHKEY_DATABASE_URL", setup.database_url)
        .env("LATCHKEY_DATA_DIR", setup.data_dir)
        .env(
            "RUST_LOG",
            server_log_filter().unwrap_or_else(|| "warn".into()),
        )
        .env("NO_COLOR", "1");
    for limit in RATE_LIMITS {
        command.env(limit, UNLIMITED);
    }
    spawn(command, &format!("http://127.0.0.1:{port}")).await
}

/// `LATCHKEY_LOAD_SERVER_LOG`: a `RUST_LOG` filter for the servers, whose log then goes to
/// the generator's stderr (e.g. `sqlx::query=debug` to see every statement of an operation).
fn server_log_filter() -> Option<String> {
    std::env::var("LATCHKEY_LOAD_SERVER_LOG").ok()
}

/// The Node peer (`benches/peer/server.mjs`) on `port`, against `database_url`.
pub async fn start_peer(
    repository: &Path,
    database_url: &str,
    port: u16,
) -> Result<Process, String> {
    let mut command = Command::new("node");
    command
        .current_dir(repository)
        .arg("benches/peer/server.mjs")
        .env("PEER_DATABASE_URL", database_url)
        .env("PEER_ADDR", format!("127.0.0.1:{port}"))
        .env("PEER_RP_ID", "localhost")
        .env("PEER_ORIGIN", format!("http://localhost:{port}"));
    spawn(command, &format!("http://127.0.0.1:{port}")).await
}

async fn spawn(mut command: Command, base: &str) -> Result<Process, String> {
    let started = Instant::now();
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|err| format!("cannot start {command:?}: {err}"))?;
    // Drain its output so it never blocks on a full pipe (shown when a log filter was asked for).
    if let Some(stdout) = child.stdout.take() {
        let show = server_log_filter().is_some();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if show {
                    eprintln!("{line}");
                }
            }
        });
    }
    let client = reqwest::Client::new();
    let health = format!("{base}/healthz");
    let deadline = started + Duration::from_secs(60);
    loop {
        if let Ok(res) = client.get(&health).send().await {
            if res.status() == 200 {
                break;
            }
        }
        if Instant::now() > deadline {
            return Err(format!("{base} did not answer /healthz within 60 s"));
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("{base} exited at start: {status}"));
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Ok(Process {
        child,
        base: base.to_string(),
        started_in: started.elapsed(),
    })
}

/// `perf record -g` of the server processes while a run is measured (its own CPU counts in
/// the figures of that run, so profiled runs are for reading, not for the table).
pub struct Profiler {
    child: Child,
}

impl Profiler {
    pub fn start(path: &Path, pids: &[u32]) -> Option<Self> {
        let pids: Vec<String> = pids.iter().map(u32::to_string).collect();
        let child = Command::new("perf")
            .args(["record", "-F", "999", "-g", "-q", "-o"])
            .arg(path)
            .args(["-p", &pids.join(",")])
            .stdout(Stdio::null())
            .spawn()
            .map_err(|err| eprintln!("perf record did not start: {err}"))
            .ok()?;
        Some(Self { child })
    }

    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-INT", &pid.to_string()])
                .status();
        }
        let _ = self.child.wait().await;
    }
}

/// CPU seconds (user + system) used so far by `pids` and their child processes (the
/// peer's cluster workers).
pub fn cpu_seconds(pids: &[u32]) -> f64 {
    let ticks_per_second = clock_ticks();
    let mut all: Vec<u32> = pids.to_vec();
    all.extend(children_of(pids));
    all.iter()
        .filter_map(|pid| read_stat(*pid))
        .map(|stat| (stat.utime + stat.stime) as f64 / ticks_per_second)
        .sum()
}

struct Stat {
    ppid: u32,
    utime: u64,
    stime: u64,
}

/// `/proc/PID/stat`: fields after the command name (which may hold spaces and parentheses).
fn read_stat(pid: u32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // state(3) ppid(4) … utime(14) stime(15), counted from 1 over the whole line.
    Some(Stat {
        ppid: fields.get(1)?.parse().ok()?,
        utime: fields.get(11)?.parse().ok()?,
        stime: fields.get(12)?.parse().ok()?,
    })
}

fn children_of(parents: &[u32]) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| read_stat(*pid).is_some_and(|s| parents.contains(&s.ppid)))
        .collect()
}

fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

/// The repository root (the bench runs with the package root as working directory).
pub fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
