//! The app's server functions: what the pages and the Connect components ask the server.
//! Each works as a plain HTML form post (no JavaScript) where a form uses it, and as a
//! hydrated call.
//!
//! - [`admin`]: the operator console (operators only);
//! - [`account`]: sign up, sign in, sign out, the session summary, the login page's facts;
//! - [`append`]: the append step (the app's decision, leaving it);
//! - [`passkeys`]: connect tokens for the session's own account, completing a passkey login;
//! - [`reauth`]: confirming it is you before a sensitive action (step-up).

pub mod account;
pub mod admin;
pub mod append;
pub mod passkeys;
pub mod reauth;
