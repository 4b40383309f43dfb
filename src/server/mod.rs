//! The server: assembles the app state and the axum router, and runs it.

pub mod assets;
pub mod backchannel_logout;
pub mod context;
pub mod headers;
pub mod idp_redirect;
pub mod middleware;
pub mod overview_csv;
pub mod state;

use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};

use crate::app::{shell, App};
use crate::config::{Config, ConnectMode};
use crate::connect::backend_client::{ConnectBackend, HttpBackend, InProcessBackend};
use crate::connect::service::ConnectService;
use crate::events::Events;
use crate::idp::IdpError;
use crate::limits::Limiter;
use crate::live_settings::LiveSettings;
use crate::routes::Endpoint;
use crate::serving::{self, ServeError};
use crate::session::Sessions;
use crate::store::{Store, StoreError};
pub use serving::shutdown_signal;
pub use state::AppState;

/// Why the server could not start (each is printed as one line).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("identity provider: {0}")]
    Idp(#[from] IdpError),
    #[error("passkey service: {0}")]
    Connect(#[from] crate::connect::service::StartError),
    #[error("passkey service client: {0}")]
    ConnectClient(#[from] crate::connect::backend_client::BackendError),
    /// Discovery at start-up failed: the provider is down, or not usable as configured.
    #[error("OpenID provider (LATCHKEY_IDP_ISSUER): {0}")]
    Oidc(String),
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error("security log (LATCHKEY_SECURITY_LOG): {0}")]
    SecurityLog(std::io::Error),
    /// Webhooks or mail cannot be sent as configured.
    #[error("{0}")]
    Delivery(String),
}

/// Everything the app needs, built from a validated configuration.
pub async fn build_state(
    config: Config,
    mut leptos_options: LeptosOptions,
) -> Result<AppState, StartError> {
    leptos_options.site_addr = config.site_addr;
    crate::operations::metrics::install();
    let store = Store::open(&config.database_url).await?;
    let idp = crate::idp::from_settings(&config, &store)
        .await
        .map_err(|err| match err {
            IdpError::Unavailable(reason) | IdpError::Discovery(reason) => StartError::Oidc(reason),
            other => StartError::Idp(other),
        })?;
    let sessions = Sessions::new(store.clone(), &config);
    let limiter = Limiter::new(config.protection.rate_limits.clone(), &store).await?;
    let events = Events::open(
        store.clone(),
        config.event_sinks().map_err(StartError::SecurityLog)?,
    )
    .await?;
    record_settings_change(&events, &config).await;
    let (connect, connect_service, live): (Arc<dyn ConnectBackend>, _, _) = match &config.connect {
        ConnectMode::InProcess => {
            let service = ConnectService::start(&config, store.clone(), events.clone()).await?;
            let live = service.live_settings().clone();
            (
                Arc::new(InProcessBackend::new(service.clone())),
                Some(service),
                live,
            )
        }
        ConnectMode::Remote(url) => {
            let backend = HttpBackend::new(
                url.clone(),
                config.secrets.connect_project_id.clone(),
                config.secrets.connect_api_secret.clone(),
            )?;
            let live = LiveSettings::open(store.clone(), config.live_defaults()).await?;
            (Arc::new(backend), None, live)
        }
    };
    Ok(AppState {
        stylesheet: Arc::from(assets::stylesheet_href(&leptos_options)),
        leptos_options,
        config: Arc::new(config),
        store,
        idp,
        sessions,
        limiter,
        events,
        live,
        connect,
        connect_service,
        draining: Default::default(),
    })
}

/// `settings.changed` when this start runs with other settings than the last one recorded.
/// The detail is a fingerprint (a hash of the settings, secrets left out), so operators see
/// when a change took effect; what changed is in their configuration management.
async fn record_settings_change(events: &Events, config: &Config) {
    use sha2::{Digest, Sha256};
    // Secrets are not part of it: their Debug forms are redacted, and `secrets` is left out.
    let settings = format!(
        "{:?}|{}|{}|{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        config.site_addr,
        config.origin,
        config.rp_id,
        config.rp_name,
        config.idp,
        config.connect,
        config.session,
        config.connect_service,
        config.protection,
        config.events,
    );
    let fingerprint = format!("fingerprint {:.16x}", Sha256::digest(settings.as_bytes()));
    let last = events
        .list(
            &crate::events::EventFilter {
                types: vec![crate::events::EventType::SettingsChanged],
                ..Default::default()
            },
            None,
            1,
        )
        .await;
    let unchanged = match &last {
        Ok(page) => page
            .events
            .first()
            .is_some_and(|e| e.event.detail.as_deref() == Some(fingerprint.as_str())),
        Err(_) => false,
    };
    if !unchanged {
        let event = crate::events::Event::new(crate::events::EventType::SettingsChanged)
            .with_reason(crate::events::Reason::Startup)
            .with_detail(&fingerprint);
        events.record(event).await;
    }
}

/// The whole HTTP surface: pages, server functions, static files, health check.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let render = {
        let options = state.leptos_options.clone();
        move || shell(options.clone())
    };
    // The passkey service's routes sit outside the app's cross-site and session layers: the
    // backend API authenticates servers by API key, and the frontend API checks `Origin`
    // itself (it must, when it runs alone).
    // Files of the site, else the app's 404 page (also what the console answers to anyone
    // but an operator).
    let fallback =
        leptos_axum::file_and_error_handler_with_context::<AppState, _>(context.clone(), shell);
    let connect = match &state.connect_service {
        Some(service) => service.router(),
        // Browsers ask the RP ID's host for the related origins, not a separate service.
        None => {
            let related = state.config.connect_service.related_origins.clone();
            Router::new().route(
                crate::connect::api::paths::RELATED_ORIGINS,
                get(move || {
                    let related = related.clone();
                    async move { crate::connect::service::http::related_origins_document(&related) }
                }),
            )
        }
    };
    // Server to server, from the OpenID provider: outside the browser layers.
    let provider_calls = Router::new().route(
        Endpoint::BackchannelLogout.path(),
        axum::routing::post(backchannel_logout::backchannel_logout),
    );
    // Probes and scrapes come from the platform, not browsers: outside the browser layers.
    let operations = crate::operations::router(
        readiness(&state),
        state.config.operations.metrics_addr.is_none(),
    );
    Router::new()
        .route(Endpoint::OidcCallback.path(), get(idp_redirect::callback))
        .route(
            Endpoint::OverviewCsv.path(),
            get(overview_csv::overview_csv),
        )
        .leptos_routes_with_context(&state, routes, context.clone(), render)
        .fallback(fallback.clone())
        .layer(axum::middleware::from_fn_with_state(
            middleware::GuardState {
                app: state.clone(),
                not_found: middleware::NotFound(
                    Router::new().fallback(fallback).with_state(state.clone()),
                ),
            },
            middleware::session_and_guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::refuse_cross_site,
        ))
        .layer(axum::middleware::from_fn(
            middleware::server_fn_error_status,
        ))
        .merge(connect)
        .merge(provider_calls)
        .merge(operations)
        .merge(assets::router(&state.leptos_options))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            headers::security_headers,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.config.protection.trusted_proxies.clone(),
            serving::remember_client_ip,
        ))
        // A bug must never show a stack trace or internals to the visitor.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                axum::response::IntoResponse::into_response(crate::error::AppError::Internal)
            },
        ))
        .with_state(state)
}

/// What `/readyz` checks for the app: its database and its identity provider.
fn readiness(state: &AppState) -> crate::operations::Readiness {
    crate::operations::Readiness::new(
        state.store.clone(),
        Some(state.idp.clone()),
        state.draining.clone(),
    )
}

/// Binds the configured address and serves until Ctrl-C or SIGTERM.
pub async fn serve(state: AppState) -> Result<(), StartError> {
    let listener = serving::bind(state.leptos_options.site_addr).await?;
    serve_on(listener, state, shutdown_signal()).await
}

/// Starts the background jobs and serves on `listener` until `shutdown` resolves.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let addr = listener.local_addr().map_err(ServeError::Serve)?;
    let metrics_listener = match state.config.operations.metrics_addr {
        Some(metrics_addr) => Some(serving::bind(metrics_addr).await?),
        None => None,
    };
    let senders = crate::events::delivery::Senders::from_settings(
        &state.config.events,
        &state.config.rp_name,
        &state.store,
    )
    .map_err(StartError::Delivery)?;
    let delivery = crate::events::delivery::spawn(state.events.clone(), senders);
    // Background jobs end with the server (a restarted instance takes over their work).
    let jobs = [
        spawn_purge(
            state.sessions.clone(),
            state.events.clone(),
            state.config.events.audit_retention_days,
        ),
        state.live.spawn_refresh(),
    ];
    if let Some(service) = &state.connect_service {
        service.spawn_purge();
    }
    let limits = state.config.protection.serve.clone();
    // The metrics listener stops after the site (it reports the drain too).
    let (stopping, stopped) = tokio::sync::watch::channel(false);
    let metrics_server = match metrics_listener {
        Some(metrics_listener) => {
            let metrics = crate::operations::metrics_only(readiness(&state)).layer(
                axum::middleware::from_fn(crate::operations::metrics::track_requests),
            );
            if let Ok(metrics_addr) = metrics_listener.local_addr() {
                tracing::info!("metrics on http://{metrics_addr}/metrics");
            }
            let mut stopped = stopped.clone();
            // It stops after the site has drained: no second drain of its own.
            let limits = serving::ServeLimits {
                shutdown_drain: Duration::ZERO,
                ..limits.clone()
            };
            Some(tokio::spawn(async move {
                let until = async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                };
                let not_drained = serving::Draining::default();
                let served =
                    serving::serve(metrics_listener, metrics, until, &limits, &not_drained);
                if let Err(err) = served.await {
                    tracing::warn!(%err, "the metrics listener stopped");
                }
            }))
        }
        None => None,
    };
    tracing::info!(
        "Latchkey listening on http://{addr} (public origin {}, RP ID {})",
        state.config.origin,
        state.config.rp_id
    );
    let store = state.store.clone();
    let draining = state.draining.clone();
    let router = serving::with_request_limits(router(state), &limits).layer(
        axum::middleware::from_fn(crate::operations::metrics::track_requests),
    );
    let served = serving::serve(listener, router, shutdown, &limits, &draining).await;
    let _ = stopping.send(true);
    // In-flight requests are done (or out of time): the outbox worker finishes its batch or
    // gives its rows back, then the database closes.
    delivery.stop(limits.shutdown_grace).await;
    for job in jobs {
        job.abort();
    }
    if let Some(metrics_server) = metrics_server {
        let _ = metrics_server.await;
    }
    served?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Removes expired sessions, OpenID logins nobody came back for and, with a retention set,
/// audit rows older than it (behind a checkpoint that `audit verify` accepts).
fn spawn_purge(
    sessions: Sessions,
    events: Events,
    audit_retention_days: u64,
) -> tokio::task::JoinHandle<()> {
    let store = events.store().clone();
    let retention = i64::try_from(audit_retention_days.saturating_mul(86_400)).unwrap_or(i64::MAX);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(300));
        loop {
            tick.tick().await;
            match sessions.purge_expired().await {
                Ok(accounts) => {
                    for account in accounts {
                        let ended =
                            crate::events::Event::new(crate::events::EventType::SessionEnded)
                                .with_reason(crate::events::Reason::Expired)
                                .with_account(account);
                        events.record(ended).await;
                    }
                }
                Err(err) => tracing::warn!(%err, "purging expired sessions failed"),
            }
            match store.purge_oidc_logins(crate::store::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(logins = n, "purged abandoned OpenID logins"),
                Err(err) => tracing::warn!(%err, "purging OpenID logins failed"),
            }
            // The console's daily counts keep up (a read then has little to fold), and take
            // in what retention is about to remove.
            if let Err(err) = crate::console::overview::catch_up(&store).await {
                tracing::warn!(%err, "daily counts: catching up failed; retention waits");
                continue;
            }
            if retention > 0 {
                let now = crate::store::now();
                match crate::events::audit::prune(&store, now.saturating_sub(retention), now).await
                {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(rows = n, "audit log: removed rows past retention"),
                    Err(err) => tracing::warn!(%err, "audit log retention failed"),
                }
            }
        }
    })
}
