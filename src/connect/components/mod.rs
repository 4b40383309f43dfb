//! The Connect components: `ConnectLogin`, `ConnectAppend` and `ConnectPasskeyList`, the
//! markup around the passkey hooks ([`crate::connect::hooks`]).

pub mod append;
pub mod login;
pub mod passkey_list;
pub mod step_up;
