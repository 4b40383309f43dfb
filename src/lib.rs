//! Latchkey: passkeys on top of the identity provider you already run.
//!
//! One crate, two builds: `ssr` (the axum server, the store, the IdP adapters, the passkey
//! service) and `hydrate` (the same Leptos pages compiled to wasm for the browser). The
//! architecture is described in docs/architecture.md.

pub mod app;
pub mod connect;
pub mod error;
pub mod idp;
pub mod journey;
pub mod pages;
pub mod routes;
pub mod server_fns;

#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod console;
#[cfg(feature = "ssr")]
pub mod cookies;
#[cfg(feature = "ssr")]
pub mod events;
#[cfg(feature = "ssr")]
pub mod limits;
#[cfg(feature = "ssr")]
pub mod live_settings;
#[cfg(feature = "ssr")]
pub mod login_hint;
#[cfg(feature = "ssr")]
pub mod random;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod serving;
#[cfg(feature = "ssr")]
pub mod session;
#[cfg(feature = "ssr")]
pub mod store;

/// The browser entry point: attaches the server-rendered page to the wasm app.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
