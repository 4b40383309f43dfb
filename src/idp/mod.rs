//! Identity providers: where classic sign-up and password login live.
//!
//! Latchkey never replaces the IdP; it asks it "who is this?" and layers passkeys on top.
//! [`IdentityProvider`] is the one door the app goes through: `builtin` stands for a
//! company's own login code; `oidc` (any OpenID Connect provider) implements the same
//! trait. Adding a kind of IdP is one module here plus one arm in [`from_settings`] (and its
//! settings in `crate::config`).
//!
//! [`ClassicLogin`] is shared with the browser (the pages render it); the rest is server-only.

mod classic;
pub use classic::ClassicLogin;

#[cfg(feature = "ssr")]
pub mod builtin;
#[cfg(feature = "ssr")]
pub mod oidc;
#[cfg(feature = "ssr")]
mod provider;
#[cfg(feature = "ssr")]
pub use provider::*;
