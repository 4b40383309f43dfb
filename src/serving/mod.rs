//! What the web app and the standalone passkey service share to serve HTTP: the serve loop
//! (timeouts, a connection cap, graceful shutdown), the request limits every router gets
//! (in-flight cap with load shedding, body and request deadlines), the client's address,
//! and the same-origin rule for state-changing requests.
//!
//! The loop is hyper-util's connection builder driven by hand because `axum::serve` runs
//! without hyper's timer (so no header-read timeout) and without a connection cap: a client
//! that trickles its headers, or opens connections and sends nothing, would hold them for
//! ever.

mod client_ip;
mod same_origin;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::error_handling::HandleErrorLayer;
use axum::extract::ConnectInfo;
use axum::http::header::{HeaderValue, CONNECTION, RETRY_AFTER};
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;

pub use client_ip::{client_ip, ClientIp, TrustedProxies};
pub use same_origin::is_same_origin;

/// Why a server stopped serving (or never started).
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Serve(std::io::Error),
}

/// How much one server takes on at once, and how long it waits for a slow client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeLimits {
    /// Open connections; one more is answered `503` and closed.
    pub max_connections: usize,
    /// Requests being handled; one more is answered `503` at once (never queued).
    pub max_in_flight: usize,
    /// A request's headers must arrive within this time, or the connection is closed.
    pub header_read_timeout: Duration,
    /// Its body must arrive within this time (`408`).
    pub body_read_timeout: Duration,
    /// The whole request must be answered within this time (`503`).
    pub request_timeout: Duration,
    /// After a shutdown signal, the server keeps serving this long while readiness says
    /// it is stopping, so a load balancer takes it out of rotation before it closes.
    pub shutdown_drain: Duration,
    /// Requests in flight get this long to finish once the server stops accepting.
    pub shutdown_grace: Duration,
}

/// Whether this server is draining (a shutdown signal came; it still serves, but asks not
/// to be sent more). Readiness reads it.
#[derive(Debug, Clone, Default)]
pub struct Draining(Arc<std::sync::atomic::AtomicBool>);

impl Draining {
    pub fn is_draining(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn start(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Seconds a client refused for load is asked to wait.
const RETRY_AFTER_OVERLOAD_SECS: u64 = 5;

/// Binds `addr`.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Listen {
            addr: addr.to_string(),
            source,
        })
}

/// The per-request limits as layers around `router`: at most `max_in_flight` requests are
/// handled at once across all routes (one more is shed with `503` and `Retry-After`), a body
/// must arrive within `body_read_timeout` (`408`), and an answer within `request_timeout`
/// (`503`).
pub fn with_request_limits(router: Router, limits: &ServeLimits) -> Router {
    router
        .layer(axum::middleware::from_fn_with_state(
            limits.body_read_timeout,
            read_body_in_time,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            limits.request_timeout,
        ))
        .layer(
            tower::ServiceBuilder::new()
                .layer(HandleErrorLayer::new(|_: tower::BoxError| async {
                    overloaded()
                }))
                .load_shed()
                // One permit pool for every route (a plain concurrency limit would give each
                // route its own).
                .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
                    limits.max_in_flight,
                )),
        )
}

/// Request bodies larger than this are refused (`413`); every body this app takes is small.
const MAX_REQUEST_BODY: usize = 1 << 20;

/// Reads the whole body before the handler runs, within `deadline`: a client that announces
/// a body and never sends it gets `408` whatever the route would have made of it.
async fn read_body_in_time(
    axum::extract::State(deadline): axum::extract::State<Duration>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let (parts, body) = req.into_parts();
    let bytes =
        match tokio::time::timeout(deadline, axum::body::to_bytes(body, MAX_REQUEST_BODY)).await {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(_)) => {
                return (StatusCode::PAYLOAD_TOO_LARGE, "The request is too large.").into_response()
            }
            Err(_) => {
                let mut response = (
                    StatusCode::REQUEST_TIMEOUT,
                    "The request took too long to arrive.",
                )
                    .into_response();
                response
                    .headers_mut()
                    .insert(CONNECTION, HeaderValue::from_static("close"));
                return response;
            }
        };
    next.run(axum::extract::Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Middleware: decides the client's address (see [`client_ip`]) and puts it in the request's
/// extensions as [`ClientIp`].
pub async fn remember_client_ip(
    axum::extract::State(trusted): axum::extract::State<TrustedProxies>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| *peer);
    let ip = client_ip(peer, req.headers(), &trusted);
    req.extensions_mut().insert(ip);
    next.run(req).await
}

/// `503 Service Unavailable` with `Retry-After`: the answer to any overload.
pub fn overloaded() -> Response {
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        "The server is busy. Please try again in a few seconds.",
    )
        .into_response();
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(RETRY_AFTER_OVERLOAD_SECS));
    response
}

/// Serves `router` on `listener` until `shutdown` resolves; then drains (`draining` set, still
/// serving) for `shutdown_drain`, stops accepting, and gives the requests in flight
/// `shutdown_grace` to finish. Each request carries the peer's address as [`ConnectInfo`].
///
/// Why drain: closing the listener at once resets connections the kernel already queued,
/// and hyper closes accepted connections whose request it has not read yet. A balancer
/// cannot tell those from an instance that died mid-request, so it must not replay them
/// (a POST is not idempotent): the login is lost. Once the balancer's health check has
/// seen `/readyz` fail, no new connection comes, and closing loses nothing.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: &ServeLimits,
    draining: &Draining,
) -> Result<(), ServeError> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(30)));
    let builder = Arc::new(builder);
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut drain_until: Option<tokio::time::Instant> = None;
    loop {
        let drained = async {
            match drain_until {
                Some(until) => tokio::time::sleep_until(until).await,
                None => std::future::pending().await,
            }
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(%err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown, if drain_until.is_none() => {
                draining.start();
                if limits.shutdown_drain.is_zero() {
                    break;
                }
                tracing::info!(seconds = limits.shutdown_drain.as_secs(), "draining: /readyz answers 503, still serving");
                drain_until = Some(tokio::time::Instant::now() + limits.shutdown_drain);
                continue;
            }
            () = drained => break,
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "connection refused: too many open connections");
            tokio::spawn(refuse(builder.clone(), stream));
            continue;
        };
        let service = router.clone().map_request(move |req: Request<Incoming>| {
            let mut req = req.map(Body::new);
            req.extensions_mut().insert(ConnectInfo(peer));
            req
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%peer, %err, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!("requests still in flight after the shutdown grace period");
        }
    }
    Ok(())
}

/// Answers every request on a connection over the cap with `503` and closes it.
async fn refuse(builder: Arc<Builder<TokioExecutor>>, stream: TcpStream) {
    let service = tower::service_fn(|_: Request<Incoming>| async {
        let mut response = overloaded();
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
        Ok::<_, Infallible>(response)
    });
    let _ = builder
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
        .await;
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::warn!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::warn!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
