//! How people sign in without a passkey, as the login and sign-up pages present it.

use serde::{Deserialize, Serialize};

/// The shape of the IdP's classic login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClassicLogin {
    /// Email + password on our own pages (sign-up too).
    Password,
    /// On an external provider's pages, reached by a redirect.
    Provider {
        /// What the pages call it ("Acme SSO").
        name: String,
        /// Its own sign-up page, if it has one.
        registration_url: Option<String>,
    },
}
