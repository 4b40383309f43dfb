//! Rows of the `sessions` table. The policy (timeouts, cookies) lives in `crate::session`.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{flag, Store, StoreError};
use crate::config::Secret;

/// A stored session joined with its account. Holds no token: only its keyed hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub id_hash: String,
    pub account_id: String,
    pub email: String,
    pub auth_method: String,
    pub append_pending: bool,
    pub created_at: i64,
    pub authenticated_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    /// The provider's ID token: kept server side, never printed.
    pub idp_id_token: Option<Secret>,
    /// The provider's session id (`sid`), for a back-channel logout that names it.
    pub idp_sid: Option<String>,
    /// Where the login was made (the console's account page shows it).
    pub client_ip: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
}

/// A session row with its account's current email: a literal, so queries can `concat!` their
/// conditions to it at compile time.
macro_rules! select_session {
    () => {
        "SELECT s.id_hash, s.account_id, a.email, s.auth_method, s.append_pending,
                s.created_at, s.authenticated_at, s.last_seen_at, s.expires_at,
                s.idp_id_token, s.idp_sid, s.client_ip, s.browser, s.os
         FROM sessions s JOIN accounts a ON a.id = s.account_id"
    };
}

impl SessionRow {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id_hash: row.try_get("id_hash")?,
            account_id: row.try_get("account_id")?,
            email: row.try_get("email")?,
            auth_method: row.try_get("auth_method")?,
            append_pending: row.try_get::<i64, _>("append_pending")? != 0,
            created_at: row.try_get("created_at")?,
            authenticated_at: row.try_get("authenticated_at")?,
            last_seen_at: row.try_get("last_seen_at")?,
            expires_at: row.try_get("expires_at")?,
            idp_id_token: row
                .try_get::<Option<String>, _>("idp_id_token")?
                .map(Secret::new),
            idp_sid: row.try_get("idp_sid")?,
            client_ip: row.try_get("client_ip")?,
            browser: row.try_get("browser")?,
            os: row.try_get("os")?,
        })
    }
}

impl Store {
    pub async fn insert_session(&self, row: &SessionRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, account_id, auth_method, append_pending,
                                   created_at, authenticated_at, last_seen_at, expires_at,
                                   idp_id_token, idp_sid, client_ip, browser, os)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(&row.id_hash)
        .bind(&row.account_id)
        .bind(&row.auth_method)
        .bind(flag(row.append_pending))
        .bind(row.created_at)
        .bind(row.authenticated_at)
        .bind(row.last_seen_at)
        .bind(row.expires_at)
        .bind(row.idp_id_token.as_ref().map(Secret::expose))
        .bind(row.idp_sid.as_deref())
        .bind(row.client_ip.as_deref())
        .bind(row.browser.as_deref())
        .bind(row.os.as_deref())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn find_session(&self, id_hash: &str) -> Result<Option<SessionRow>, StoreError> {
        let row = sqlx::query(concat!(select_session!(), " WHERE s.id_hash = $1"))
            .bind(id_hash)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.as_ref().map(SessionRow::from_row).transpose()?)
    }

    pub async fn touch_session(&self, id_hash: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1")
            .bind(id_hash)
            .bind(now)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The person proved it is them again: the login counts as new for the
    /// re-authentication window. False when the session no longer exists.
    pub async fn set_authenticated_at(&self, id_hash: &str, now: i64) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE sessions SET authenticated_at = $2 WHERE id_hash = $1")
            .bind(id_hash)
            .bind(now)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks the append step as passed; false when the session no longer exists.
    pub async fn clear_append_pending(&self, id_hash: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE sessions SET append_pending = 0 WHERE id_hash = $1")
            .bind(id_hash)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends every session of the accounts of one IdP subject (the IdP disabled or logged
    /// out that person); how many ended.
    pub async fn delete_sessions_of_subject(
        &self,
        idp: &str,
        subject: &str,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM sessions WHERE account_id IN
             (SELECT id FROM accounts WHERE idp = $1 AND subject = $2)",
        )
        .bind(idp)
        .bind(subject)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }

    /// The live sessions of one account, the most recently seen first (expired ones that the
    /// purge has not removed yet are left out).
    pub async fn sessions_of_account(
        &self,
        account_id: &str,
        now: i64,
        idle_cutoff: i64,
    ) -> Result<Vec<SessionRow>, StoreError> {
        let rows = sqlx::query(concat!(
            select_session!(),
            " WHERE s.account_id = $1 AND s.expires_at > $2 AND s.last_seen_at > $3
                 ORDER BY s.last_seen_at DESC LIMIT 100"
        ))
        .bind(account_id)
        .bind(now)
        .bind(idle_cutoff)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(SessionRow::from_row)
            .collect::<Result<_, _>>()?)
    }

    /// Ends every session of one account ("Sign out everywhere"); how many ended.
    pub async fn delete_sessions_of_account(&self, account_id: &str) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE account_id = $1")
            .bind(account_id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }

    /// Ends the sessions of one provider session (`sid`) of one IdP; how many ended.
    pub async fn delete_sessions_of_provider_session(
        &self,
        idp: &str,
        sid: &str,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM sessions WHERE idp_sid = $2 AND account_id IN
             (SELECT id FROM accounts WHERE idp = $1)",
        )
        .bind(idp)
        .bind(sid)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }

    pub async fn delete_session(&self, id_hash: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes sessions past their absolute expiry or idle for longer than allowed.
    /// Deletes expired sessions; returns the account of each.
    pub async fn purge_sessions(
        &self,
        now: i64,
        idle_cutoff: i64,
    ) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2
             RETURNING account_id",
        )
        .bind(now)
        .bind(idle_cutoff)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .filter_map(|row| row.try_get("account_id").ok())
            .collect())
    }
}
