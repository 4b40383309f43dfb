//! Accounts: the app's record of a person, keyed by (identity provider, subject).

use sqlx::any::AnyRow;
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

impl Account {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: row.try_get("id")?,
            idp: row.try_get("idp")?,
            subject: row.try_get("subject")?,
            email: row.try_get("email")?,
        })
    }
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
        Ok(Account::from_row(&row)?)
    }

    pub async fn find_account(&self, id: &str) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query("SELECT id, idp, subject, email FROM accounts WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.as_ref().map(Account::from_row).transpose()?)
    }
}

/// What the person chose at the append step (see `migrations/app/0002_append_preferences.sql`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppendPreferences {
    /// "Don't ask again".
    pub opt_out: bool,
    /// No offer before this time (unix seconds) after a plain "Skip"; 0 = none.
    pub snoozed_until: i64,
    /// When "Don't ask again" was chosen (unknown for choices made before it was recorded).
    pub opted_out_at: Option<i64>,
}

impl Store {
    /// The account a person signs in to with `email` at the identity provider `idp`, if any.
    /// Emails are display data: when several accounts of one IdP share one (an OIDC provider
    /// that lets emails move), the most recently used wins.
    pub async fn find_account_by_email(
        &self,
        idp: &str,
        email: &str,
    ) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query(
            "SELECT id, idp, subject, email FROM accounts WHERE idp = $1 AND email = $2
             ORDER BY last_login_at DESC LIMIT 1",
        )
        .bind(idp)
        .bind(email)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(Account::from_row).transpose()?)
    }

    /// The account an IdP's subject is.
    pub async fn find_account_by_subject(
        &self,
        idp: &str,
        subject: &str,
    ) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query(
            "SELECT id, idp, subject, email FROM accounts WHERE idp = $1 AND subject = $2",
        )
        .bind(idp)
        .bind(subject)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(Account::from_row).transpose()?)
    }

    /// Records a login made at the identity provider itself (not with a passkey).
    pub async fn record_idp_login(&self, account_id: &str, at: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE accounts SET last_idp_login_at = $2 WHERE id = $1")
            .bind(account_id)
            .bind(at)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// When the person last signed in at the identity provider itself, if ever.
    pub async fn last_idp_login(&self, account_id: &str) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query("SELECT last_idp_login_at FROM accounts WHERE id = $1")
            .bind(account_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row
            .map(|row| row.try_get::<Option<i64>, _>("last_idp_login_at"))
            .transpose()?
            .flatten())
    }

    pub async fn append_preferences(
        &self,
        account_id: &str,
    ) -> Result<AppendPreferences, StoreError> {
        let row = sqlx::query(
            "SELECT append_opt_out, append_snoozed_until, append_opt_out_at FROM accounts
             WHERE id = $1",
        )
        .bind(account_id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            Ok(AppendPreferences {
                opt_out: row.try_get::<i64, _>("append_opt_out")? != 0,
                snoozed_until: row.try_get("append_snoozed_until")?,
                opted_out_at: row.try_get("append_opt_out_at")?,
            })
        })
        .transpose()
        .map(Option::unwrap_or_default)
    }

    /// Records a "Skip" at the append step in one statement: "Don't ask again" (`opt_out`)
    /// is only ever switched on, and dated each time it is chosen; `snoozed_until`, when
    /// given, replaces the snooze.
    pub async fn record_append_skip(
        &self,
        account_id: &str,
        opt_out: bool,
        snoozed_until: Option<i64>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE accounts SET
                 append_opt_out = CASE WHEN $2 = 1 THEN 1 ELSE append_opt_out END,
                 append_opt_out_at = CASE WHEN $2 = 1 THEN $4 ELSE append_opt_out_at END,
                 append_snoozed_until = COALESCE($3, append_snoozed_until)
             WHERE id = $1",
        )
        .bind(account_id)
        .bind(super::flag(opt_out))
        .bind(snoozed_until)
        .bind(super::now())
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
