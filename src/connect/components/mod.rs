//! The Connect components (design.md §2): Leptos components that drive WebAuthn in the
//! browser and talk to the passkey service's frontend API.

pub mod webauthn;
