//! One measured run: `concurrency` workers, each its own person, repeat an operation until a
//! count or a time bound is reached; latencies per operation, throughput over the run, and
//! the server's CPU time over the run divided by the operations done.

use std::time::{Duration, Instant};

use crate::flows::{Operation, Site, User};
use crate::server::{cpu_seconds, Profiler};

/// When a run stops (whichever comes first), after its warm-up.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub warm_up: Duration,
    pub measure: Duration,
    pub max_ops: usize,
}

/// What one run measured.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub ops: usize,
    pub errors: usize,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// Server CPU (user + system, every process of the setup) per successful operation.
    pub cpu_ms_per_op: f64,
    pub first_error: Option<String>,
}

/// Runs `operation` with one worker per user in `users` (the concurrency), and gives the
/// users back for the next run.
pub async fn run(
    site: &Site,
    operation: Operation,
    users: Vec<User>,
    bounds: Bounds,
    server_pids: &[u32],
    profile: Option<&std::path::Path>,
) -> (Figures, Vec<User>) {
    // Warm-up: connections opened, caches filled; not measured.
    let (_, users) = drive(site, operation, users, bounds.warm_up, usize::MAX).await;
    let profiler = profile.and_then(|path| Profiler::start(path, server_pids));
    let cpu_before = cpu_seconds(server_pids);
    let started = Instant::now();
    let (results, users) = drive(site, operation, users, bounds.measure, bounds.max_ops).await;
    let wall = started.elapsed();
    let cpu = cpu_seconds(server_pids) - cpu_before;
    if let Some(profiler) = profiler {
        profiler.stop().await;
    }

    let mut latencies: Vec<Duration> = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for result in results {
        match result {
            Ok(latency) => latencies.push(latency),
            Err(err) => {
                errors += 1;
                first_error.get_or_insert(err);
            }
        }
    }
    latencies.sort();
    let ops = latencies.len();
    let figures = Figures {
        ops,
        errors,
        per_second: ops as f64 / wall.as_secs_f64(),
        p50_ms: percentile(&latencies, 0.50),
        p95_ms: percentile(&latencies, 0.95),
        p99_ms: percentile(&latencies, 0.99),
        cpu_ms_per_op: if ops == 0 {
            0.0
        } else {
            cpu * 1000.0 / ops as f64
        },
        first_error,
    };
    (figures, users)
}

/// Each user repeats the operation until `time` passes or `max_ops` were started in all.
async fn drive(
    site: &Site,
    operation: Operation,
    users: Vec<User>,
    time: Duration,
    max_ops: usize,
) -> (Vec<Result<Duration, String>>, Vec<User>) {
    let deadline = Instant::now() + time;
    let started = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let workers: Vec<_> = users
        .into_iter()
        .map(|mut user| {
            let site = site.clone();
            let started = started.clone();
            tokio::spawn(async move {
                let mut results = Vec::new();
                while Instant::now() < deadline
                    && started.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < max_ops
                {
                    let began = Instant::now();
                    let outcome = site.perform(operation, &mut user).await;
                    results.push(outcome.map(|()| began.elapsed()));
                }
                (results, user)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut users = Vec::new();
    for worker in workers {
        match worker.await {
            Ok((results, user)) => {
                all.extend(results);
                users.push(user);
            }
            Err(err) => all.push(Err(format!("a worker panicked: {err}"))),
        }
    }
    (all, users)
}

/// The `q` quantile in milliseconds (nearest rank); 0 without samples.
pub fn percentile(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

/// The median of each figure over several runs (errors are summed).
pub fn median_of(runs: &[Figures]) -> Figures {
    let median = |pick: fn(&Figures) -> f64| {
        let mut values: Vec<f64> = runs.iter().map(pick).collect();
        values.sort_by(f64::total_cmp);
        values.get(values.len() / 2).copied().unwrap_or_default()
    };
    Figures {
        ops: runs.iter().map(|r| r.ops).sum(),
        errors: runs.iter().map(|r| r.errors).sum(),
        per_second: median(|f| f.per_second),
        p50_ms: median(|f| f.p50_ms),
        p95_ms: median(|f| f.p95_ms),
        p99_ms: median(|f| f.p99_ms),
        cpu_ms_per_op: median(|f| f.cpu_ms_per_op),
        first_error: runs.iter().find_map(|r| r.first_error.clone()),
    }
}
