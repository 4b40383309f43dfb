//! Passkeys: the Connect layer (docs/architecture.md).
//!
//! - [`api`]: the wire format of the passkey service (Corbado Connect's shapes), shared by
//!   the server and the browser.
//! - [`aaguid`]: provider names for authenticator AAGUIDs.
//! - [`components`]: the Leptos components that drive WebAuthn in the browser, and the
//!   browser bridge they use.
//! - `service` (ssr): the passkey service itself: ceremonies, connect tokens, signed passkey
//!   data, the passkey store, and its two HTTP surfaces.
//! - `backend_client` (ssr): how the web app reaches the service's backend API, in process
//!   or over HTTP.

pub mod aaguid;
pub mod api;
pub mod components;

#[cfg(feature = "ssr")]
pub mod backend_client;
#[cfg(feature = "ssr")]
pub mod service;
