//! The passkey ceremonies as Leptos hooks, one per file, in the shape of leptos-use: a
//! `use_…(options)` function returning a struct of signals plus the actions a component
//! wires to its buttons. The state machines' decisions are pure functions with unit tests;
//! the components around them are markup.
//!
//! SSR behaviour, for every hook: the initial state is returned and nothing runs on the
//! server; the browser starts the hook's frontend-API process after hydration.

/// A message for the person: information (`role="status"`, calm) or an error
/// (`role="alert"`, announced at once). A cancelled prompt or an unavailable service is
/// information; a refusal is an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Error(String),
    Info(String),
}

pub mod use_passkey_create;
pub mod use_passkey_list;
pub mod use_passkey_login;
pub mod use_step_up;

pub use use_passkey_create::{
    use_passkey_create, CreateOutcome, CreateState, UsePasskeyCreateOptions, UsePasskeyCreateReturn,
};
pub use use_passkey_list::{use_passkey_list, Listing, UsePasskeyListReturn};
pub use use_passkey_login::{
    use_passkey_login, PasskeyOption, Step, UsePasskeyLoginOptions, UsePasskeyLoginReturn, Waiting,
};
pub use use_step_up::{use_step_up, UseStepUpReturn};
