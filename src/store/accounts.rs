//! Accounts: the app's record of a person, keyed by (identity provider, subject).

use sqlx::Row;

use super::{now, Store, StoreError};

/// One person as the app knows them. `id` is the stable identifier handed to the passkey
/// service; the email is display data that the IdP may change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub idp: String,
    pub subject: String,
    pub email: String,
}

impl Store {
    /// Finds or creates the account for an IdP identity and records the login.
    pub async fn upsert_account(
        &self,
        idp: &str,
        subject: &str,
        email: &str,
    ) -> Result<Account, StoreError> {
        let now = now();
        let row = sqlx::query(
            "INSERT INTO accounts (id, idp, subject, email, created_at, last_login_at)
             VALUES ($1, $2, $3, $4, $5, $5)
             ON CONFLICT (idp, subject)
             DO UPDATE SET email = excluded.email, last_login_at = excluded.last_login_at
             RETURNING id, idp, subject, email",
        )
        .bind(crate::random::id("acc"))
        .bind(idp)
        .bind(subject)
        .bind(email)
        .bind(now)
        .fetch_one(self.pool())
        .await?;
        Ok(Account {
            id: row.try_get("id")?,
            idp: row.try_get("idp")?,
            subject: row.try_get("subject")?,
            email: row.try_get("email")?,
        })
    }

    pub async fn find_account(&self, id: &str) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query("SELECT id, idp, subject, email FROM accounts WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.map(|row| {
            Ok(Account {
                id: row.try_get("id")?,
                idp: row.try_get("idp")?,
                subject: row.try_get("subject")?,
                email: row.try_get("email")?,
            })
        })
        .transpose()
    }
}
