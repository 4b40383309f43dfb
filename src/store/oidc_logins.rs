//! Rows of `oidc_logins`: OpenID Connect authorization requests in flight. The flow around
//! them (state, browser binding, PKCE) lives in `crate::idp::oidc::flow`.

use sqlx::Row;

use super::{Store, StoreError};
use crate::config::Secret;

/// What the callback needs to finish one authorization request. Never serialised; `Debug`
/// hides the nonce and the PKCE verifier.
#[derive(Clone, PartialEq, Eq)]
pub struct PendingLogin {
    /// Hash of the value in the browser's binding cookie.
    pub browser_hash: String,
    pub nonce: Secret,
    pub pkce_verifier: Secret,
    /// Where the journey goes after the append step (already checked by `safe_next`).
    pub next: String,
    /// The email the person typed before going to the provider ("" if none).
    pub login_hint: String,
    pub expires_at: i64,
}

impl std::fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLogin")
            .field("next", &self.next)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl Store {
    pub async fn insert_oidc_login(
        &self,
        state_hash: &str,
        login: &PendingLogin,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO oidc_logins (state_hash, browser_hash, nonce, pkce_verifier, next_path,
                                      login_hint, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(state_hash)
        .bind(&login.browser_hash)
        .bind(login.nonce.expose())
        .bind(login.pkce_verifier.expose())
        .bind(&login.next)
        .bind(&login.login_hint)
        .bind(now)
        .bind(login.expires_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Removes and returns the request for `state_hash`: a `state` is usable exactly once,
    /// even by two callbacks racing. An expired row is removed and not returned.
    pub async fn take_oidc_login(
        &self,
        state_hash: &str,
        now: i64,
    ) -> Result<Option<PendingLogin>, StoreError> {
        let row = sqlx::query(
            "DELETE FROM oidc_logins WHERE state_hash = $1
             RETURNING browser_hash, nonce, pkce_verifier, next_path, login_hint, expires_at",
        )
        .bind(state_hash)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let login = PendingLogin {
            browser_hash: row.try_get("browser_hash")?,
            nonce: Secret::new(row.try_get::<String, _>("nonce")?),
            pkce_verifier: Secret::new(row.try_get::<String, _>("pkce_verifier")?),
            next: row.try_get("next_path")?,
            login_hint: row.try_get("login_hint")?,
            expires_at: row.try_get("expires_at")?,
        };
        Ok((login.expires_at > now).then_some(login))
    }

    /// Deletes requests nobody came back for; run periodically.
    pub async fn purge_oidc_logins(&self, now: i64) -> Result<u64, StoreError> {
        let mut purged = 0;
        for sql in [
            "DELETE FROM oidc_logins WHERE expires_at <= $1",
            "DELETE FROM oidc_logout_tokens WHERE expires_at <= $1",
        ] {
            purged += sqlx::query(sql)
                .bind(now)
                .execute(self.pool())
                .await?
                .rows_affected();
        }
        Ok(purged)
    }

    /// Records a back-channel logout token's `jti` (hashed) until `expires_at`; false when it
    /// was seen before (a replay).
    pub async fn first_use_of_logout_token(
        &self,
        jti_hash: &str,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO oidc_logout_tokens (jti_hash, expires_at) VALUES ($1, $2)
             ON CONFLICT (jti_hash) DO NOTHING",
        )
        .bind(jti_hash)
        .bind(expires_at)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
