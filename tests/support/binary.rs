//! The real `latchkey` binary, started from an integration test (cargo builds it for the
//! test: `CARGO_BIN_EXE_latchkey`): its own data folder and loopback port, JSON logs read
//! line by line, and SIGTERM as an orchestrator sends it.

use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

/// A free loopback port (the process that gets it binds it itself).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The binary could not bind the port it was given (someone took it first).
struct PortTaken;

/// One running `latchkey` process.
pub struct Binary {
    pub child: tokio::process::Child,
    /// Its stdout, one log line at a time. A task reads the pipe all along, so a chatty
    /// process never blocks on a full pipe while the test looks elsewhere.
    lines: tokio::sync::mpsc::UnboundedReceiver<String>,
    /// `http://127.0.0.1:PORT`: where requests go.
    pub base: String,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Binary {
    /// Starts the binary on 127.0.0.1 on a free port, with public origin
    /// `http://localhost:PORT`, data (and, unless told otherwise, a fresh SQLite database
    /// and generated secrets) in its own temp folder, logging JSON at `info`; then
    /// `extra_env`, which wins. Returns once it logs that it is listening.
    pub async fn start(extra_env: &[(&str, &str)]) -> Self {
        // The port is free when picked, but another process (any outgoing connection) may
        // take it before latchkey binds it: then try another.
        for _ in 0..5 {
            match Self::try_start(extra_env).await {
                Ok(binary) => return binary,
                Err(PortTaken) => continue,
            }
        }
        panic!("latchkey found its port taken five times in a row");
    }

    async fn try_start(extra_env: &[(&str, &str)]) -> Result<Self, PortTaken> {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_latchkey"));
        command
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("LEPTOS_OUTPUT_NAME", "latchkey")
            .env("LEPTOS_SITE_ROOT", dir.path().join("site"))
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LATCHKEY_PUBLIC_ORIGIN", format!("http://localhost:{port}"))
            .env("LATCHKEY_DATA_DIR", dir.path().join("data"))
            .env("LATCHKEY_LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .envs(extra_env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().expect("start latchkey");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                // Nobody listening any more: keep draining the pipe all the same.
                let _ = tx.send(line);
            }
        });
        // Its stderr goes on to the test's (shown when the test fails); the test only looks
        // for the one error that means "try another port".
        let stderr = child.stderr.take().expect("stderr");
        let port_taken = Arc::new(AtomicBool::new(false));
        let seen = port_taken.clone();
        let stderr_done = tokio::spawn(async move {
            let mut reader = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                eprintln!("{line}");
                if line.contains("cannot listen on") {
                    seen.store(true, Ordering::SeqCst);
                }
            }
        });
        let mut binary = Self {
            child,
            lines,
            base: format!("http://127.0.0.1:{port}"),
            port,
            dir,
        };
        if binary.next_log("Latchkey listening on").await.is_some() {
            return Ok(binary);
        }
        // It exited before listening: why?
        let _ = stderr_done.await;
        if port_taken.load(Ordering::SeqCst) {
            return Err(PortTaken);
        }
        panic!("latchkey exited before listening (its messages are above)");
    }

    /// The data folder (`LATCHKEY_DATA_DIR` unless `extra_env` named another).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Reads log lines (each must be one JSON object) until one's message contains `text`.
    pub async fn wait_for_log(&mut self, text: &str) -> Value {
        self.next_log(text)
            .await
            .unwrap_or_else(|| panic!("latchkey exited before logging {text:?}"))
    }

    /// [`Binary::wait_for_log`], or `None` when the process's output ends first.
    async fn next_log(&mut self, text: &str) -> Option<Value> {
        // A guard against a hang, not a timing assertion.
        tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = self.lines.recv().await {
                let entry: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|err| panic!("not a JSON log line ({err}): {line}"));
                assert!(entry["timestamp"].is_string(), "{line}");
                assert!(entry["level"].is_string(), "{line}");
                if entry["message"].as_str().is_some_and(|m| m.contains(text)) {
                    return Some(entry);
                }
            }
            None
        })
        .await
        .unwrap_or_else(|_| panic!("no log line with {text:?}"))
    }

    /// Sends SIGTERM, as an orchestrator stopping the instance does.
    pub fn terminate(&self) {
        let pid = self.child.id().expect("running");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Waits for the process to exit (bounded: a guard against a hang).
    pub async fn exit_status(&mut self) -> ExitStatus {
        tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .expect("the process exits")
            .expect("exit status")
    }
}
