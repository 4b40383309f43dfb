//! Passkeys: the browser components and (server side) the passkey service.

pub mod components;
