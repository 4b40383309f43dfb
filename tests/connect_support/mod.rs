//! Not a harness: benches/connect_login.rs includes this file with
//! `#[path = "../tests/connect_support/mod.rs"]`, so it stays until the bench names
//! tests/support/mod.rs instead. The test harness is tests/support/.
#[path = "../support/mod.rs"]
mod support;
pub use support::*;
