//! Latchkey: passkeys on top of the identity provider you already run.
//!
//! One crate, two builds: `ssr` (the axum server, the store, the IdP adapters, the passkey
//! service) and `hydrate` (the same Leptos pages compiled to wasm for the browser). The
//! architecture is described in docs/architecture.md.

// Leptos views are nested types; the console's overview page is deep enough that computing
// its layout passes the compiler's default query depth (128) in test builds.
#![recursion_limit = "256"]

pub mod app;
pub mod connect;
pub mod console;
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
pub mod operations;
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
    // The 404 page is static. It is also what the console answers to anyone but an operator,
    // at the console's own address: hydrating would render the console's route over it.
    let is_not_found = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.query_selector("[data-not-found]").ok().flatten())
        .is_some();
    if !is_not_found {
        // Asynchronous: a page whose code lives in a lazily loaded module is hydrated once
        // that module has arrived (see `routes`).
        wasm_bindgen_futures::spawn_local(async {
            let body = leptos::prelude::document().body();
            if let Some(body) = body {
                leptos::mount::hydrate_from_async(body, app::App)
                    .await
                    .forget();
                // From now on clicks reach the app; the ones kept before are replayed by it.
                connect::browser::environment::mark_hydrated();
            }
        });
    }
}
