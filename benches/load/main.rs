//! The load generator: drives the release build of Latchkey over loopback HTTP the way
//! browsers do, with a software authenticator per person, and measures throughput, latency
//! percentiles and the server's CPU time per operation (from `/proc`, so the generator and
//! the authenticator's signing do not count). The same run drives the Node peer
//! (benches/peer, `@simplewebauthn/server`) on the same PostgreSQL, and times bare
//! webauthn-rs verification, so every ratio comes from one run on one machine.
//!
//! `scripts/bench-load.sh` builds the release, starts PostgreSQL and runs the standard set,
//! rewriting the results block of docs/performance.md. By hand, after
//! `scripts/build-release.sh`:
//!
//! ```sh
//! scripts/with-postgres.sh cargo bench --features ssr --bench load -- [--quick] [--write]
//! ```
//!
//! Without `LATCHKEY_TEST_POSTGRES_URL` only SQLite is measured (and no peer).
//!
//! To look at one figure closely: `--only sqlite|postgres|postgres-x2|peer`,
//! `--operation passkey-login|password-login|login-page|healthz|readyz|append`,
//! `--concurrency N`, and
//! `--perf DIR` (a `perf record -g` of the server processes over each measured run, one
//! file per figure; read with `perf report -i FILE`). A filtered run never writes the docs.
//! `LATCHKEY_LOAD_SERVER_LOG=sqlx::query=debug` shows the servers' log (here: every statement).

#[path = "../../tests/support/mod.rs"]
mod support;

mod flows;
mod measure;
mod report;
mod server;

use std::path::Path;
use std::time::{Duration, Instant};

use flows::{Operation, Site, User};
use measure::{Bounds, Figures};
use report::{Results, Row};
use support::{TestPasskey, Tweak};
use webauthn_rs::prelude::{Url, WebauthnBuilder};

const CONCURRENCY: [usize; 3] = [1, 16, 64];
/// The app's operations, in an order that keeps them independent: appends (which add
/// passkeys to the accounts, so lengthen later login options) come last.
/// `GET /healthz` and `GET /readyz` measure the parts a passkey login is made of (a request,
/// a database round trip), for its floor.
const OPERATIONS: [Operation; 6] = [
    Operation::PasskeyLogin,
    Operation::PasswordLogin,
    Operation::LoginPage,
    Operation::Health,
    Operation::Ready,
    Operation::Append,
];

struct Plan {
    repeats: usize,
    bounds: Bounds,
    write: bool,
    only: Filter,
    /// Where `perf record` writes one profile per measured figure.
    perf_dir: Option<std::path::PathBuf>,
}

/// Which figures to measure (all when empty).
#[derive(Default)]
struct Filter {
    setup: Option<String>,
    operation: Option<String>,
    concurrency: Option<usize>,
}

impl Filter {
    fn is_empty(&self) -> bool {
        self.setup.is_none() && self.operation.is_none() && self.concurrency.is_none()
    }

    fn setup(&self, slug: &str) -> bool {
        self.setup.as_deref().is_none_or(|s| s == slug)
    }

    fn operation(&self, operation: Operation) -> bool {
        self.operation
            .as_deref()
            .is_none_or(|s| s == slug(operation.name()))
    }

    fn concurrency(&self, concurrency: usize) -> bool {
        self.concurrency.is_none_or(|c| c == concurrency)
    }
}

/// `passkey login` → `passkey-login`, `GET /login` → `login-page`, `GET /healthz` →
/// `healthz`.
fn slug(name: &str) -> String {
    if let Some(path) = name.strip_prefix("GET /") {
        return if path == "login" { "login-page" } else { path }.into();
    }
    name.split(" (")
        .next()
        .unwrap_or(name)
        .replace(' ', "-")
        .to_lowercase()
}

/// The value after `--name`, if given.
fn option(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let plan = Plan {
        repeats: if quick { 1 } else { 3 },
        bounds: Bounds {
            warm_up: Duration::from_millis(if quick { 200 } else { 500 }),
            measure: Duration::from_secs(if quick { 1 } else { 3 }),
            max_ops: if quick { 500 } else { 5_000 },
        },
        write: args.iter().any(|a| a == "--write"),
        only: Filter {
            setup: option(&args, "--only"),
            operation: option(&args, "--operation"),
            concurrency: option(&args, "--concurrency").and_then(|c| c.parse().ok()),
        },
        perf_dir: option(&args, "--perf").map(std::path::PathBuf::from),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("load: no runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(plan)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("load: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(plan: Plan) -> Result<(), String> {
    let repository = server::repository();
    // LATCHKEY_LOAD_BIN: another build (the debug one, to try the generator quickly).
    let binary = std::env::var_os("LATCHKEY_LOAD_BIN")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| repository.join("target/release/latchkey"));
    if !binary.exists() {
        return Err(format!(
            "{} is missing: run scripts/build-release.sh first",
            binary.display()
        ));
    }
    let postgres = std::env::var("LATCHKEY_TEST_POSTGRES_URL").ok();
    let bare_verification_us = bare_verification_us();
    eprintln!("bare webauthn-rs verification: {bare_verification_us:.0} µs");
    let start_ms = start_time_ms(&binary, &repository, plan.repeats.max(3)).await?;
    eprintln!("start to first answer: {start_ms:.0} ms");

    let mut rows = Vec::new();
    let mut setups = vec![("SQLite", "sqlite", None, 1)];
    if let Some(url) = &postgres {
        setups.push(("PostgreSQL", "postgres", Some(url.clone()), 1));
        setups.push(("PostgreSQL ×2", "postgres-x2", Some(url.clone()), 2));
    }
    for (name, _, postgres, instances) in setups
        .into_iter()
        .filter(|(_, slug, _, _)| plan.only.setup(slug))
    {
        rows.extend(
            measure_latchkey(
                &plan,
                &binary,
                &repository,
                name,
                postgres.is_some(),
                instances,
            )
            .await?,
        );
    }
    if postgres.is_some() && plan.only.setup("peer") {
        if repository.join("benches/peer/node_modules").exists() {
            rows.extend(measure_peer(&plan, &repository).await?);
        } else {
            eprintln!("peer skipped: run `npm ci` in benches/peer (scripts/bench-load.sh does)");
        }
    }

    let results = Results {
        machine: machine(),
        versions: versions(postgres.is_some()).await,
        date: command_output("date", &["-u", "+%Y-%m-%d"]),
        repeats: plan.repeats,
        rows,
        bare_verification_us,
        start_ms,
    };
    let block = results.markdown();
    println!("{block}");
    if plan.write && plan.only.is_empty() {
        let path = repository.join("docs/performance.md");
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        std::fs::write(&path, report::replace_block(&text, &block))
            .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// Starts instances of one setup, seeds the people, and measures every operation at every
/// concurrency.
async fn measure_latchkey(
    plan: &Plan,
    binary: &Path,
    repository: &Path,
    name: &str,
    on_postgres: bool,
    instances: usize,
) -> Result<Vec<Row>, String> {
    let dir = tempfile::tempdir().map_err(|err| err.to_string())?;
    let database_url = if on_postgres {
        support::db::fresh_postgres_database().await
    } else {
        format!("sqlite://{}/latchkey.db", dir.path().display())
    };
    let ports: Vec<u16> = (0..instances)
        .map(|_| server::free_port())
        .collect::<Result<_, _>>()?;
    let origin = format!("http://localhost:{}", ports[0]);
    let setup = server::LatchkeySetup {
        binary,
        repository,
        database_url: &database_url,
        data_dir: dir.path(),
        origin: &origin,
    };
    let mut processes = Vec::new();
    // One after the other: the first creates the schema and the shared secrets.
    for port in &ports {
        processes.push(server::start_latchkey(&setup, *port).await?);
    }
    let pids: Vec<u32> = processes.iter().filter_map(|p| p.pid()).collect();
    let site = Site::new(processes.iter().map(|p| p.base.clone()).collect(), &origin);
    let mut users = seed_latchkey(&site, max_concurrency()).await?;

    let mut rows = Vec::new();
    let wanted = OPERATIONS.into_iter().filter(|o| plan.only.operation(*o));
    for operation in wanted {
        for concurrency in CONCURRENCY
            .into_iter()
            .filter(|c| plan.only.concurrency(*c))
        {
            let label = format!("{name}-{}-c{concurrency}", slug(operation.name()));
            let (figures, rest) =
                repeat(plan, &site, operation, users, concurrency, &pids, &label).await;
            users = rest;
            report_progress(name, operation, concurrency, &figures);
            rows.push(Row {
                setup: name.to_string(),
                operation: operation.name(),
                concurrency,
                figures,
            });
        }
    }
    for process in processes {
        process.stop().await;
    }
    Ok(rows)
}

/// The peer on its own fresh database, at every concurrency.
async fn measure_peer(plan: &Plan, repository: &Path) -> Result<Vec<Row>, String> {
    let database_url = support::db::fresh_postgres_database().await;
    let port = server::free_port()?;
    let peer = server::start_peer(repository, &database_url, port).await?;
    let pids: Vec<u32> = peer.pid().into_iter().collect();
    let origin = format!("http://localhost:{port}");
    let site = Site::new(vec![peer.base.clone()], &origin);
    let mut users = Vec::new();
    for i in 0..max_concurrency() {
        let mut user = User {
            email: format!("peer-{i}@example.com"),
            passkey: TestPasskey::for_origin(&origin),
            cookie: String::new(),
        };
        site.peer_register(&mut user).await?;
        users.push(user);
    }
    let mut rows = Vec::new();
    for concurrency in CONCURRENCY
        .into_iter()
        .filter(|c| plan.only.concurrency(*c))
    {
        let operation = Operation::PeerPasskeyLogin;
        let label = format!("peer-c{concurrency}");
        let (figures, rest) =
            repeat(plan, &site, operation, users, concurrency, &pids, &label).await;
        users = rest;
        report_progress("PostgreSQL", operation, concurrency, &figures);
        rows.push(Row {
            setup: "PostgreSQL".to_string(),
            operation: operation.name(),
            concurrency,
            figures,
        });
    }
    peer.stop().await;
    Ok(rows)
}

fn max_concurrency() -> usize {
    CONCURRENCY.iter().copied().max().unwrap_or(1)
}

/// `plan.repeats` runs with the first `concurrency` users; the median of each figure.
async fn repeat(
    plan: &Plan,
    site: &Site,
    operation: Operation,
    mut users: Vec<User>,
    concurrency: usize,
    pids: &[u32],
    label: &str,
) -> (Figures, Vec<User>) {
    let mut runs = Vec::new();
    for round in 0..plan.repeats {
        let rest = users.split_off(concurrency.min(users.len()));
        let profile = plan.perf_dir.as_ref().map(|dir| {
            let file = format!(
                "{}-{round}.data",
                label.replace([' ', '×'], "").to_lowercase()
            );
            dir.join(file)
        });
        let (figures, used) = measure::run(
            site,
            operation,
            users,
            plan.bounds,
            pids,
            profile.as_deref(),
        )
        .await;
        users = used;
        users.extend(rest);
        runs.push(figures);
    }
    (measure::median_of(&runs), users)
}

fn report_progress(setup: &str, operation: Operation, concurrency: usize, f: &Figures) {
    eprintln!(
        "{setup:<14} {:<22} c={concurrency:<3} {:>7.0}/s p50 {:>7.2} ms p99 {:>7.2} ms cpu {:>6.2} ms/op errors {}{}",
        operation.name(),
        f.per_second,
        f.p50_ms,
        f.p99_ms,
        f.cpu_ms_per_op,
        f.errors,
        f.first_error.as_deref().map(|e| format!(" (first: {e})")).unwrap_or_default()
    );
}

/// People with an account (signed up, so at the append step) and one passkey each.
async fn seed_latchkey(site: &Site, count: usize) -> Result<Vec<User>, String> {
    let mut users = Vec::new();
    for i in 0..count {
        let email = format!("load-{i}@example.com");
        let cookie = site.sign_up(&email).await?;
        let mut user = User {
            email,
            passkey: TestPasskey::for_origin(&site.origin),
            cookie,
        };
        site.append(&mut user).await?;
        users.push(user);
    }
    Ok(users)
}

/// Median time of webauthn-rs' own `finish_passkey_authentication` on one assertion: the
/// floor a passkey login's server work is compared with.
fn bare_verification_us() -> f64 {
    let Ok(origin) = Url::parse(support::ORIGIN) else {
        return f64::NAN;
    };
    let Ok(webauthn) = WebauthnBuilder::new(support::RP_ID, &origin).and_then(|b| b.build()) else {
        return f64::NAN;
    };
    let mut auth = TestPasskey::new();
    let Ok((options, registration)) = webauthn.start_passkey_registration(
        webauthn_rs::prelude::Uuid::new_v4(),
        "bench",
        "bench",
        None,
    ) else {
        return f64::NAN;
    };
    let response = auth.register(&serde_json::to_string(&options).unwrap_or_default());
    let Some(passkey) = serde_json::from_str(&response)
        .ok()
        .and_then(|r| webauthn.finish_passkey_registration(&r, &registration).ok())
    else {
        return f64::NAN;
    };
    let Ok((options, state)) =
        webauthn.start_passkey_authentication(std::slice::from_ref(&passkey))
    else {
        return f64::NAN;
    };
    let assertion = auth.login(
        &serde_json::to_string(&options).unwrap_or_default(),
        &Tweak::default(),
    );
    let Ok(assertion) = serde_json::from_str(&assertion) else {
        return f64::NAN;
    };
    let mut batches: Vec<f64> = (0..7)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..200 {
                let _ = webauthn.finish_passkey_authentication(&assertion, &state);
            }
            started.elapsed().as_secs_f64() * 1e6 / 200.0
        })
        .collect();
    batches.sort_by(f64::total_cmp);
    batches[batches.len() / 2]
}

/// Median time from spawn to the first answer, each on a fresh SQLite database.
async fn start_time_ms(binary: &Path, repository: &Path, times: usize) -> Result<f64, String> {
    let mut all = Vec::new();
    for _ in 0..times {
        let dir = tempfile::tempdir().map_err(|err| err.to_string())?;
        let port = server::free_port()?;
        let origin = format!("http://localhost:{port}");
        let url = format!("sqlite://{}/latchkey.db", dir.path().display());
        let setup = server::LatchkeySetup {
            binary,
            repository,
            database_url: &url,
            data_dir: dir.path(),
            origin: &origin,
        };
        let process = server::start_latchkey(&setup, port).await?;
        all.push(process.started_in.as_secs_f64() * 1000.0);
        process.stop().await;
    }
    all.sort_by(f64::total_cmp);
    Ok(all[all.len() / 2])
}

fn command_output(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|text| text.trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{cores} cores ({model}), Linux {}, loopback, generator and servers on the same cores",
        kernel.trim()
    )
}

async fn versions(postgres: bool) -> String {
    let mut parts = vec![
        format!(
            "latchkey {}",
            command_output("git", &["rev-parse", "--short", "HEAD"])
        ),
        command_output("rustc", &["--version"]),
    ];
    if postgres {
        parts.push(format!("node {}", command_output("node", &["--version"])));
        if let Ok(url) = std::env::var("LATCHKEY_TEST_POSTGRES_URL") {
            sqlx::any::install_default_drivers();
            if let Ok(mut conn) = <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await {
                if let Ok(version) = sqlx::query_scalar::<_, String>("SHOW server_version")
                    .fetch_one(&mut conn)
                    .await
                {
                    parts.push(format!("PostgreSQL {version}"));
                }
            }
        }
    }
    parts.join(", ")
}
