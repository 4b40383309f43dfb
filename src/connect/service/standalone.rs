//! `latchkey connect-service`: the passkey service alone, for deployments that keep it
//! separate from the web app (which then sets `LATCHKEY_CONNECT_URL`). It uses its own
//! database tables only and listens on `LATCHKEY_CONNECT_SERVICE_ADDR`.

use std::future::Future;

use super::{http, ConnectService, StartError};
use crate::config::Config;
use crate::serving;
use crate::store::Store;

#[derive(Debug, thiserror::Error)]
pub enum StandaloneError {
    #[error(transparent)]
    Start(#[from] StartError),
    #[error(transparent)]
    Serve(#[from] serving::ServeError),
    #[error("{0}")]
    Delivery(String),
}

/// Opens the store, starts the service and serves it until `shutdown` resolves. Prints one
/// line `latchkey connect-service listening on http://ADDR` once it accepts connections (the
/// address is the real one when the configured port is 0).
pub async fn serve(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StandaloneError> {
    let store = Store::connect(&config.database_url)
        .await
        .map_err(StartError::from)?;
    let sinks = config.event_sinks().map_err(StartError::from)?;
    let events = crate::events::Events::open(store.clone(), sinks)
        .await
        .map_err(StartError::from)?;
    let senders =
        crate::events::delivery::Senders::from_settings(&config.events, &config.rp_name, &store)
            .map_err(StandaloneError::Delivery)?;
    let service = ConnectService::start(&config, store.clone(), events.clone()).await?;
    crate::operations::metrics::install();
    let delivery = crate::events::delivery::spawn(events, senders);
    service.live_settings().spawn_refresh();
    let listener = serving::bind(config.connect_service.service_addr).await?;
    let local = listener.local_addr().map_err(serving::ServeError::Serve)?;
    service.spawn_purge();
    println!("latchkey connect-service listening on http://{local}");
    tracing::info!(
        "passkey service listening on http://{local} (WebAuthn origin {}, RP ID {})",
        config.origin,
        config.rp_id
    );
    let limits = config.protection.serve.clone();
    let draining = serving::Draining::default();
    let operations = crate::operations::router(
        crate::operations::Readiness::new(store.clone(), None, draining.clone()),
        true,
    );
    let router =
        serving::with_request_limits(http::standalone_router(service, operations), &limits).layer(
            axum::middleware::from_fn(crate::operations::metrics::track_requests),
        );
    let served = serving::serve(listener, router, shutdown, &limits, &draining).await;
    delivery.stop(limits.shutdown_grace).await;
    served?;
    store.close().await;
    Ok(())
}
