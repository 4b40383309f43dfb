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

/// An operator's block on an account's passkeys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasskeysBlock {
    pub since: i64,
    /// None: until an operator unblocks.
    pub until: Option<i64>,
}

impl PasskeysBlock {
    pub fn holds_at(&self, now: i64) -> bool {
        self.until.is_none_or(|until| now < until)
    }
}

/// How many accounts one console search lists.
pub const SEARCH_LIMIT: i64 = 50;

impl Store {
    /// Accounts whose email starts with `prefix` (any case), in email order; with an empty
    /// prefix, the most recent logins.
    pub async fn search_accounts(&self, prefix: &str) -> Result<Vec<Account>, StoreError> {
        let prefix = prefix.trim().to_lowercase();
        let rows = if prefix.is_empty() {
            sqlx::query(
                "SELECT id, idp, subject, email FROM accounts
                 ORDER BY last_login_at DESC, id LIMIT $1",
            )
            .bind(SEARCH_LIMIT)
            .fetch_all(self.pool())
            .await?
        } else {
            // LIKE with its wildcards escaped: the prefix is matched literally.
            let pattern = format!(
                "{}%",
                prefix
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            sqlx::query(
                "SELECT id, idp, subject, email FROM accounts
                 WHERE lower(email) LIKE $1 ESCAPE '\\'
                 ORDER BY email, id LIMIT $2",
            )
            .bind(pattern)
            .bind(SEARCH_LIMIT)
            .fetch_all(self.pool())
            .await?
        };
        Ok(rows
            .iter()
            .map(Account::from_row)
            .collect::<Result<_, _>>()?)
    }

    /// The account's passkey block, if an operator set one (it may have lapsed: see
    /// [`PasskeysBlock::holds_at`]).
    pub async fn passkeys_block(
        &self,
        account_id: &str,
    ) -> Result<Option<PasskeysBlock>, StoreError> {
        let row = sqlx::query(
            "SELECT passkeys_blocked_at, passkeys_blocked_until FROM accounts WHERE id = $1",
        )
        .bind(account_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let since: Option<i64> = row.try_get("passkeys_blocked_at")?;
        Ok(since.map(|since| PasskeysBlock {
            since,
            until: row.try_get("passkeys_blocked_until").ok().flatten(),
        }))
    }

    /// Whether passkey login and append are blocked for the account now.
    pub async fn passkeys_blocked(&self, account_id: &str, now: i64) -> Result<bool, StoreError> {
        Ok(self
            .passkeys_block(account_id)
            .await?
            .is_some_and(|block| block.holds_at(now)))
    }

    /// Sets (or with `None` lifts) the block; false when there is no such account.
    pub async fn set_passkeys_block(
        &self,
        account_id: &str,
        block: Option<PasskeysBlock>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE accounts SET passkeys_blocked_at = $2, passkeys_blocked_until = $3
             WHERE id = $1",
        )
        .bind(account_id)
        .bind(block.map(|b| b.since))
        .bind(block.and_then(|b| b.until))
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

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
