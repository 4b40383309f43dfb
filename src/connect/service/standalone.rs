//! `latchkey connect-service`: the passkey service alone, for deployments that keep it
//! separate from the web app (which then sets `LATCHKEY_CONNECT_URL`). It uses its own
//! database tables only and listens on `LATCHKEY_CONNECT_SERVICE_ADDR`.

use std::future::Future;

use super::{http, ConnectService, StartError};
use crate::config::Config;
use crate::store::Store;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Serve(std::io::Error),
}

/// Opens the store, starts the service and serves it until `shutdown` resolves. Prints one
/// line `latchkey connect-service listening on http://ADDR` once it accepts connections (the
/// address is the real one when the configured port is 0).
pub async fn serve(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let store = Store::connect(&config.database_url)
        .await
        .map_err(StartError::from)?;
    let service = ConnectService::start(&config, store.clone()).await?;
    let addr = config.connect_service.service_addr;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Listen {
            addr: addr.to_string(),
            source,
        })?;
    let local = listener.local_addr().map_err(ServeError::Serve)?;
    service.spawn_purge();
    println!("latchkey connect-service listening on http://{local}");
    tracing::info!(
        "passkey service listening on http://{local} (WebAuthn origin {}, RP ID {})",
        config.origin_string(),
        config.rp_id
    );
    axum::serve(listener, http::standalone_router(service))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(ServeError::Serve)?;
    store.close().await;
    Ok(())
}
