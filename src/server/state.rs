//! What every request handler and server function can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::config::Config;
use crate::connect::backend_client::ConnectBackend;
use crate::connect::service::ConnectService;
use crate::events::Events;
use crate::idp::IdentityProvider;
use crate::limits::Limiter;
use crate::live_settings::LiveSettings;
use crate::session::Sessions;
use crate::store::Store;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    /// The stylesheet's address (its hashed name: see [`super::assets`]).
    pub stylesheet: Arc<str>,
    pub config: Arc<Config>,
    pub store: Store,
    /// The identity provider: classic sign-up and login, whatever kind it is.
    pub idp: Arc<dyn IdentityProvider>,
    pub sessions: Sessions,
    /// Rate limits (shared with the other instances on PostgreSQL).
    pub limiter: Limiter,
    /// What happened: the audit log (and the security log, when configured).
    pub events: Events,
    /// The settings operators change at run time (shared with the in-process service).
    pub live: LiveSettings,
    /// The passkey service's backend API (in process or over HTTP).
    pub connect: Arc<dyn ConnectBackend>,
    /// The passkey service when it runs in this process (its routes are mounted).
    pub connect_service: Option<ConnectService>,
    /// Set when a shutdown signal came (readiness then answers 503).
    pub draining: crate::serving::Draining,
}
