//! What every request handler and server function can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::config::Config;
use crate::idp::IdentityProvider;
use crate::session::Sessions;
use crate::store::Store;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub config: Arc<Config>,
    pub store: Store,
    pub idp: Arc<dyn IdentityProvider>,
    pub sessions: Sessions,
}
