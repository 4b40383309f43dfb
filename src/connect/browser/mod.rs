//! The browser bridge the passkey hooks stand on: the WebAuthn API through wasm-bindgen
//! ([`webauthn`]), the passkey service's frontend API ([`frontend_api`]), and the small
//! browser services they share (the client handle, navigation, time: [`environment`]).
//!
//! Everything here is inert on the server: it reports "not supported" or does nothing, and
//! the hooks only call it after hydration.

pub mod environment;
pub mod frontend_api;
pub mod webauthn;
