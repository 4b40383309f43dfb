//! The passkey ceremonies as Leptos hooks, one per file, in the shape of leptos-use: a
//! `use_…(options)` function returning a struct of signals plus the actions a component
//! wires to its buttons. The state machines' decisions are pure functions with unit tests;
//! the components around them are markup.
//!
//! SSR behaviour, for every hook: the initial state is returned and nothing runs on the
//! server; the browser starts the hook's frontend-API process after hydration.

pub mod use_passkey_create;
pub mod use_passkey_list;
pub mod use_passkey_login;
pub mod use_step_up;

pub use use_passkey_create::{
    use_passkey_create, CreateOutcome, CreateState, UsePasskeyCreateOptions, UsePasskeyCreateReturn,
};
pub use use_passkey_list::{use_passkey_list, Listing, Notice, UsePasskeyListReturn};
pub use use_passkey_login::{
    use_passkey_login, Step, UsePasskeyLoginOptions, UsePasskeyLoginReturn,
};
pub use use_step_up::{use_step_up, UseStepUpReturn};
