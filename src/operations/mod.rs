//! What operators' tooling asks of a running instance: liveness (`/healthz`), readiness
//! (`/readyz`), metrics (`/metrics`), and how the process logs. The app and the standalone
//! passkey service serve the same endpoints.

pub mod logging;
pub mod metrics;
pub mod readiness;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

pub use readiness::Readiness;

use crate::routes::Endpoint;

/// `/healthz` and `/readyz`, and `/metrics` unless it has an address of its own.
pub fn router<S: Clone + Send + Sync + 'static>(
    readiness: Readiness,
    with_metrics: bool,
) -> Router<S> {
    let router = Router::new()
        .route(
            Endpoint::Health.path(),
            get(|| async { no_store("ok".into_response()) }),
        )
        .route(Endpoint::Ready.path(), get(ready));
    let router = if with_metrics {
        router.merge(metrics_router())
    } else {
        router
    };
    router.with_state(readiness)
}

/// `/metrics` alone (its own listener, `metrics-addr`).
pub fn metrics_only(readiness: Readiness) -> Router {
    metrics_router().with_state(readiness)
}

fn metrics_router() -> Router<Readiness> {
    Router::new().route(Endpoint::Metrics.path(), get(render_metrics))
}

async fn ready(axum::extract::State(readiness): axum::extract::State<Readiness>) -> Response {
    let report = readiness.check().await;
    let status = if report.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    no_store((status, axum::Json(report)).into_response())
}

async fn render_metrics(
    axum::extract::State(readiness): axum::extract::State<Readiness>,
) -> Response {
    let text = metrics::render(readiness.store()).await;
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    no_store(response)
}

/// Probes and scrapes describe this moment: no cache may answer them.
fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
