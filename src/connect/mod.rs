//! Passkeys: the Connect layer (docs/architecture.md).
//!
//! - [`api`]: the wire format of the passkey service (Corbado Connect's shapes), shared by
//!   the server and the browser.
//! - [`aaguid`]: how a passkey is named for people.
//! - `decisions` (ssr): passkey intelligence: whether to offer a passkey and whether and how
//!   to start a passkey login, each with a reason (pure, one table test per decision).
//! - `providers` (ssr): passkey providers (name, icons) by AAGUID, from the community list.
//! - [`browser`]: the browser bridge: WebAuthn through wasm-bindgen, the frontend-API client,
//!   the client handle (inert on the server);
//! - [`hooks`]: the ceremonies as Leptos hooks (`use_passkey_login`, `use_passkey_create`,
//!   `use_passkey_list`), their decisions as pure, tested functions;
//! - [`components`]: `ConnectLogin`, `ConnectAppend`, `ConnectPasskeyList`: markup.
//! - `service` (ssr): the passkey service itself: ceremonies, connect tokens, signed passkey
//!   data, the passkey store, and its two HTTP surfaces.
//! - `backend_client` (ssr): how the web app reaches the service's backend API, in process
//!   or over HTTP.

pub mod aaguid;
pub mod api;
pub mod browser;
pub mod components;
pub mod hooks;

#[cfg(feature = "ssr")]
pub mod backend_client;
#[cfg(feature = "ssr")]
pub mod decisions;
#[cfg(feature = "ssr")]
pub mod providers;
#[cfg(feature = "ssr")]
pub mod service;
