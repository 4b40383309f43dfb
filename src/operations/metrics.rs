//! Metrics in Prometheus' text format: requests by route and status with latency histograms,
//! logins by method and result, rate-limit hits, the outbox's backlog and the database pool.
//!
//! Counters and histograms go through the `metrics` facade to one process-wide recorder
//! (so the limiter and the audit log need no handle); gauges that describe a moment (pool
//! use, backlog) are read when `/metrics` is scraped.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::events::EventType;
use crate::store::Store;

pub const HTTP_REQUESTS: &str = "latchkey_http_requests_total";
pub const HTTP_DURATION: &str = "latchkey_http_request_duration_seconds";
pub const LOGINS: &str = "latchkey_logins_total";
pub const EVENTS: &str = "latchkey_events_total";
pub const RATE_LIMIT_HITS: &str = "latchkey_rate_limit_hits_total";
pub const OUTBOX_BACKLOG: &str = "latchkey_outbox_backlog";
pub const DB_POOL_CONNECTIONS: &str = "latchkey_db_pool_connections";
pub const DB_POOL_MAX: &str = "latchkey_db_pool_max_connections";

/// Latency buckets in seconds: a passkey login step takes about a millisecond, a password
/// check tens, a provider round trip hundreds.
const DURATION_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The label of requests no route matched (one label, whatever the path: a scanner must
/// not create a time series per path it tries).
const UNMATCHED: &str = "unmatched";

/// Installs the process-wide recorder (before the first request: what is counted before
/// goes nowhere). Idempotent.
pub fn install() {
    handle();
}

/// The process-wide recorder's handle, installed on first use.
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), DURATION_BUCKETS)
            .map(PrometheusBuilder::build_recorder)
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        // Another recorder already installed (a test harness's) only means our series are
        // not recorded; serving still works.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics stays empty");
        }
        describe();
        handle
    })
}

fn describe() {
    metrics::describe_counter!(HTTP_REQUESTS, "HTTP requests answered, by route and status");
    metrics::describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "time to answer an HTTP request, by route"
    );
    metrics::describe_counter!(LOGINS, "logins by method and result");
    metrics::describe_counter!(EVENTS, "audit log events recorded, by type");
    metrics::describe_counter!(RATE_LIMIT_HITS, "requests refused by a rate limit, by rule");
    metrics::describe_gauge!(
        OUTBOX_BACKLOG,
        "webhook calls and mails waiting to be delivered, by channel"
    );
    metrics::describe_gauge!(
        DB_POOL_CONNECTIONS,
        "database connections of this instance, by state"
    );
    metrics::describe_gauge!(DB_POOL_MAX, "the database pool's size limit");
}

/// Middleware: counts every answer and its latency under the route that matched it.
pub async fn track_requests(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED.to_string(), |path| path.as_str().to_string());
    let method = method_label(req.method());
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!(HTTP_DURATION, "method" => method, "route" => route.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!(HTTP_REQUESTS, "method" => method, "route" => route, "status" => status)
        .increment(1);
    response
}

/// Methods as a closed set (a client may send any token as a method).
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts a recorded event, and the login it reports, if any.
pub fn event_recorded(event_type: EventType) {
    metrics::counter!(EVENTS, "type" => event_type.as_ref().to_string()).increment(1);
    if let Some((method, result)) = login_outcome(event_type) {
        metrics::counter!(LOGINS, "method" => method, "result" => result).increment(1);
    }
}

/// The login method and result an event reports (`None` for every other event).
pub fn login_outcome(event_type: EventType) -> Option<(&'static str, &'static str)> {
    use EventType::*;
    Some(match event_type {
        PasswordLoginSucceeded => ("password", "succeeded"),
        PasswordLoginFailed => ("password", "failed"),
        OidcLoginSucceeded => ("oidc", "succeeded"),
        OidcLoginFailed => ("oidc", "failed"),
        PasskeyLoginCompleted => ("passkey", "succeeded"),
        PasskeyLoginFailed => ("passkey", "failed"),
        PasskeyLoginFellBack => ("passkey", "fell-back"),
        _ => return None,
    })
}

/// Counts a request a rate limit refused.
pub fn rate_limit_hit(rule: &str) {
    metrics::counter!(RATE_LIMIT_HITS, "rule" => rule.to_string()).increment(1);
}

/// The text `/metrics` answers: the moment's gauges read from `store`, then everything.
pub async fn render(store: &Store) -> String {
    let pool = store.pool();
    let size = f64::from(pool.size());
    // `num_idle` counts connections waiting in the pool; the rest are lent out.
    let idle = pool.num_idle() as f64;
    metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "idle").set(idle);
    metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "in-use").set((size - idle).max(0.0));
    metrics::gauge!(DB_POOL_MAX).set(f64::from(pool.options().get_max_connections()));
    match crate::events::outbox::backlog(store).await {
        Ok(backlog) => {
            for (channel, pending) in backlog {
                metrics::gauge!(OUTBOX_BACKLOG, "channel" => channel.as_ref().to_string())
                    .set(pending as f64);
            }
        }
        Err(err) => tracing::warn!(%err, "metrics: reading the outbox backlog failed"),
    }
    let handle = handle();
    // Folds the histograms' recent samples in (and keeps their memory bounded).
    handle.run_upkeep();
    handle.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_login_event_has_a_method_and_result() {
        use EventType::*;
        let table = [
            (PasswordLoginSucceeded, Some(("password", "succeeded"))),
            (PasswordLoginFailed, Some(("password", "failed"))),
            (OidcLoginSucceeded, Some(("oidc", "succeeded"))),
            (OidcLoginFailed, Some(("oidc", "failed"))),
            (PasskeyLoginCompleted, Some(("passkey", "succeeded"))),
            (PasskeyLoginFailed, Some(("passkey", "failed"))),
            (PasskeyLoginFellBack, Some(("passkey", "fell-back"))),
            (PasskeyLoginStarted, None),
            (PasskeyCreated, None),
            (SettingsChanged, None),
        ];
        for (event, want) in table {
            assert_eq!(login_outcome(event), want, "{event:?}");
        }
    }

    #[test]
    fn unusual_methods_share_one_label() {
        let custom = axum::http::Method::from_bytes(b"BREW").expect("method");
        assert_eq!(method_label(&custom), "other");
        assert_eq!(method_label(&axum::http::Method::POST), "POST");
    }
}
