//! Users of the passkey service: known only by the backend's `identifier`, created on the
//! first passkey append. The WebAuthn user handle is a random UUID, never the identifier, so
//! authenticators hold no app data.

use sqlx::any::AnyRow;
use sqlx::Row;
use webauthn_rs::prelude::Uuid;

use super::credentials::{encode_credential_id, CredentialRow};
use super::{new_id, ConnectError, ConnectService};
use crate::connect::api::SignalDetails;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    /// `usr-…`
    pub id: String,
    pub identifier: String,
    pub webauthn_user_id: Uuid,
    pub display_name: String,
    pub created_at: i64,
}

const COLUMNS: &str = "id, identifier, webauthn_user_id, display_name, created_at";

impl UserRow {
    fn from_row(row: &AnyRow) -> Result<Self, ConnectError> {
        let handle: String = row.try_get("webauthn_user_id")?;
        Ok(Self {
            id: row.try_get("id")?,
            identifier: row.try_get("identifier")?,
            webauthn_user_id: Uuid::parse_str(&handle)
                .map_err(|err| ConnectError::internal("stored user handle", err))?,
            display_name: row.try_get("display_name")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

impl ConnectService {
    /// What the browser's Signal API needs after a login of `user`: their passkeys and name;
    /// `None` when they have none (an empty list would tell a password manager to drop every
    /// passkey of the user).
    pub(super) fn signal_details(
        &self,
        user: &UserRow,
        credentials: &[CredentialRow],
    ) -> Option<SignalDetails> {
        if credentials.is_empty() {
            return None;
        }
        Some(SignalDetails {
            rp_id: self.config().rp_id.clone(),
            user_id: encode_credential_id(user.webauthn_user_id.as_bytes()),
            all_accepted_credential_ids: credentials
                .iter()
                .map(|c| c.credential_id.clone())
                .collect(),
            name: user.display_name.clone(),
        })
    }

    async fn user_where(&self, column: &str, value: &str) -> Result<Option<UserRow>, ConnectError> {
        // `column` is one of our own constant names below, never input.
        let sql = format!("SELECT {COLUMNS} FROM connect_users WHERE {column} = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(value)
            .fetch_optional(self.store().pool())
            .await?;
        row.as_ref().map(UserRow::from_row).transpose()
    }

    pub async fn user_by_identifier(
        &self,
        identifier: &str,
    ) -> Result<Option<UserRow>, ConnectError> {
        self.user_where("identifier", identifier).await
    }

    pub async fn user_by_id(&self, id: &str) -> Result<Option<UserRow>, ConnectError> {
        self.user_where("id", id).await
    }

    pub async fn user_by_webauthn_id(&self, handle: Uuid) -> Result<Option<UserRow>, ConnectError> {
        self.user_where("webauthn_user_id", &handle.to_string())
            .await
    }

    /// The user with this identifier, created if new; the display name is kept current.
    /// Safe under concurrency: two first appends for one identifier create one user.
    pub async fn ensure_user(
        &self,
        identifier: &str,
        display_name: &str,
    ) -> Result<UserRow, ConnectError> {
        sqlx::query(
            "INSERT INTO connect_users (id, identifier, webauthn_user_id, display_name, created_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (identifier) DO UPDATE SET display_name = excluded.display_name",
        )
        .bind(new_id("usr"))
        .bind(identifier)
        .bind(Uuid::new_v4().to_string())
        .bind(display_name)
        .bind(self.now())
        .execute(self.store().pool())
        .await?;
        self.user_by_identifier(identifier)
            .await?
            .ok_or_else(|| ConnectError::internal("ensure user", "the user vanished"))
    }
}
