//! The operator console's server side: what its pages read and do.
//!
//! - [`overview`]: adoption figures from daily roll-ups of the audit log, and their CSV.

pub mod overview;
