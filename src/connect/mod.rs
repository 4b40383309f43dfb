//! Passkeys: the Connect layer (design.md §2).
//!
//! - [`api`]: the wire format of the passkey service (Corbado Connect's shapes), shared by
//!   the server and the browser.
//! - [`aaguid`]: provider names for authenticator AAGUIDs.
//! - [`components`]: the Leptos components that drive WebAuthn in the browser, and the
//!   browser bridge they use.
//! - [`server_fns`]: the app's server functions the components call (connect tokens for the
//!   session's user, completing a passkey login).
//! - `service` (ssr): the passkey service itself: ceremonies, connect tokens, signed passkey
//!   data, the passkey store, and its two HTTP surfaces.
//! - `backend` (ssr): how the web app reaches the service's backend API, in process or over
//!   HTTP.

pub mod aaguid;
pub mod api;
pub mod components;
pub mod server_fns;

#[cfg(feature = "ssr")]
pub mod backend;
#[cfg(feature = "ssr")]
pub mod service;
