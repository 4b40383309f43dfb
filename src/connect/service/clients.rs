//! Clients (browsers) as the service knows them: by the hash of an opaque handle the service
//! issues (`newClientEnvHandle`) and the browser sends back (`clientEnvHandle`). The handle
//! gives a stable rollout bucket and remembers what the last passkey login on this browser
//! looked like (another device via hybrid, or this one).

use sqlx::Row;

use super::{hash, ConnectError, ConnectService};
use crate::store::flag;

/// Handles longer than this are not ours and are ignored.
const MAX_HANDLE_LEN: usize = 128;

/// The client of a frontend-API request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRef {
    /// SHA-256 of the handle.
    pub hash: String,
    /// Set when the service just issued the handle: the browser must keep it.
    pub new_handle: Option<String>,
}

/// What the last passkey login on a client was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastLogin {
    pub user_id: String,
    pub cross_device: bool,
}

fn usable(handle: &str) -> bool {
    !handle.is_empty()
        && handle.len() <= MAX_HANDLE_LEN
        && handle
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl ConnectService {
    /// The client for a handle the browser sent, or a new client with a fresh handle.
    pub async fn resolve_client(&self, handle: Option<&str>) -> Result<ClientRef, ConnectError> {
        let (handle, new_handle) = match handle.filter(|h| usable(h)) {
            Some(handle) => (handle.to_string(), None),
            None => {
                let handle = format!("ceh1_{}", crate::random::token(24));
                (handle.clone(), Some(handle))
            }
        };
        let handle_hash = hash(&handle);
        let now = self.now();
        sqlx::query(
            "INSERT INTO connect_clients (handle_hash, created_at, last_seen_at,
                 last_login_user_id, last_login_cross_device)
             VALUES ($1, $2, $2, NULL, 0)
             ON CONFLICT (handle_hash) DO UPDATE SET last_seen_at = excluded.last_seen_at",
        )
        .bind(&handle_hash)
        .bind(now)
        .execute(self.store().pool())
        .await?;
        Ok(ClientRef {
            hash: handle_hash,
            new_handle,
        })
    }

    pub async fn last_login_on(
        &self,
        client_hash: &str,
    ) -> Result<Option<LastLogin>, ConnectError> {
        let row = sqlx::query(
            "SELECT last_login_user_id, last_login_cross_device FROM connect_clients
             WHERE handle_hash = $1",
        )
        .bind(client_hash)
        .fetch_optional(self.store().pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let user_id: Option<String> = row.try_get("last_login_user_id")?;
        let cross_device = row.try_get::<i64, _>("last_login_cross_device")? != 0;
        Ok(user_id.map(|user_id| LastLogin {
            user_id,
            cross_device,
        }))
    }

    pub async fn record_last_login(
        &self,
        client_hash: &str,
        user_id: &str,
        cross_device: bool,
    ) -> Result<(), ConnectError> {
        sqlx::query(
            "UPDATE connect_clients
             SET last_login_user_id = $1, last_login_cross_device = $2, last_seen_at = $3
             WHERE handle_hash = $4",
        )
        .bind(user_id)
        .bind(flag(cross_device))
        .bind(self.now())
        .bind(client_hash)
        .execute(self.store().pool())
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_plain_short_handles_are_accepted() {
        assert!(super::usable("ceh1_abc-DEF_123"));
        assert!(!super::usable(""));
        assert!(!super::usable("has space"));
        assert!(!super::usable(&"x".repeat(200)));
    }
}
