//! The passkey service's wire format: Corbado Connect's backend and frontend API shapes
//! (docs/passkey-service.md), as plain serde structs shared by the service, the HTTP client
//! of the backend API and the browser components.
//!
//! Field names follow Corbado exactly (`camelCase`, `processID`, `credentialID`, ...). Where
//! we add something Corbado does not document, the field is optional and says so. One
//! module per surface: [`common`] (envelopes, errors, paging), [`backend`], [`frontend`],
//! and the endpoint [`paths`].

pub mod backend;
pub mod common;
pub mod frontend;
pub mod paths;

pub use backend::*;
pub use common::*;
pub use frontend::*;
