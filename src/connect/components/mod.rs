//! The Connect components (design.md §2): Leptos components that drive WebAuthn in the
//! browser and talk to the passkey service's frontend API.

pub mod append;
pub mod client;
pub mod frontend_api;
pub mod login;
pub mod passkey_list;
pub mod webauthn;
