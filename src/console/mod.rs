//! The operator console (docs/console.md): what its pages show ([`model`], both builds), and
//! on the server what they read and do.
//!
//! - [`overview`]: adoption figures from daily roll-ups of the audit log, and their CSV;
//! - [`charts`]: the Overview's charts as SVG;
//! - [`access`]: who is an operator, for the server functions;
//! - [`accounts`]: an account as support sees it, and what an operator may do to it;
//! - [`settings`]: the Settings form against the run-time settings;
//! - [`events`]: the Events page's rows.

pub mod model;

#[cfg(feature = "ssr")]
pub mod access;
#[cfg(feature = "ssr")]
pub mod accounts;
#[cfg(feature = "ssr")]
pub mod charts;
#[cfg(feature = "ssr")]
pub mod events;
#[cfg(feature = "ssr")]
pub mod overview;
#[cfg(feature = "ssr")]
pub mod settings;
