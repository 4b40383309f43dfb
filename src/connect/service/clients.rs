//! Clients (browsers) as the service knows them: by the hash of an opaque handle the service
//! issues (`newClientEnvHandle`) and the browser sends back (`clientEnvHandle`). The handle
//! gives a stable rollout bucket and remembers what the last passkey login on this browser
//! looked like (another device via hybrid, or this one) and its recent passkey failures.

use sqlx::Row;

use super::processes::ProcessRow;
use super::{hash, ConnectError, ConnectService};
use crate::connect::decisions::{FailureStreak, LastLoginHere};
use crate::events::{Event, EventType, Reason};
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
    /// Until when passkey login is paused here after repeated failures (unix seconds).
    pub paused_until: i64,
}

/// What the last passkey login on a client was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastLogin {
    pub user_id: String,
    pub cross_device: bool,
}

impl LastLogin {
    /// The last login as far as `user_id` is concerned.
    pub fn as_seen_by(last: Option<&Self>, user_id: &str) -> LastLoginHere {
        match last {
            Some(last) if last.user_id == user_id && last.cross_device => {
                LastLoginHere::ThisAccountFromAnotherDevice
            }
            Some(last) if last.user_id == user_id => LastLoginHere::ThisAccountOnThisDevice,
            _ => LastLoginHere::Other,
        }
    }
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
        let row = sqlx::query(
            "INSERT INTO connect_clients (handle_hash, created_at, last_seen_at,
                 last_login_user_id, last_login_cross_device)
             VALUES ($1, $2, $2, NULL, 0)
             ON CONFLICT (handle_hash) DO UPDATE SET last_seen_at = excluded.last_seen_at
             RETURNING paused_until",
        )
        .bind(&handle_hash)
        .bind(now)
        .fetch_one(self.store().pool())
        .await?;
        Ok(ClientRef {
            hash: handle_hash,
            new_handle,
            paused_until: row.try_get("paused_until")?,
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
        // A passkey login that worked ends any failure streak and pause.
        sqlx::query(
            "UPDATE connect_clients
             SET last_login_user_id = $1, last_login_cross_device = $2, last_seen_at = $3,
                 failure_count = 0, failure_provider = '', paused_until = 0
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

    /// A passkey login failed or was cancelled in `process`: counts it against the browser,
    /// and records the pause when this failure starts one. `provider`: the AAGUID of the
    /// passkeys it was for (empty when unknown). Never fails the request it is part of.
    pub async fn passkey_failed(
        &self,
        process: &ProcessRow,
        provider: &str,
        account: Option<&str>,
    ) {
        let streak = match self
            .record_passkey_failure(&process.client_hash, provider)
            .await
        {
            Ok(streak) => streak,
            Err(err) => {
                tracing::warn!(error = %err, "counting a passkey failure");
                return;
            }
        };
        if streak.count == 0 && streak.paused_at(self.now()) {
            let minutes = self.settings().failure_pause.as_secs() / 60;
            let mut event = Event::new(EventType::PasskeyDecision)
                .with_reason(Reason::PausedAfterFailures)
                .with_process(&process.id_hash)
                .with_detail(&format!(
                    "login: paused on this browser for {minutes} min (the password instead)"
                ));
            if let Some(account) = account {
                event = event.with_account(account);
            }
            self.record(event).await;
        }
    }

    /// The provider (AAGUID) of the passkeys the pending login of `process` asks for, when
    /// they share one; empty for an identifier-less login, mixed providers or none pending.
    /// Also the account they belong to.
    pub async fn pending_login_provider(
        &self,
        process: &ProcessRow,
    ) -> Result<(String, Option<String>), ConnectError> {
        let row = sqlx::query(
            "SELECT user_id FROM connect_challenges WHERE process_hash = $1 AND slot = $2",
        )
        .bind(&process.id_hash)
        .bind(super::challenges::Slot::Login.as_ref())
        .fetch_optional(self.store().pool())
        .await?;
        let user_id: Option<String> = match row {
            Some(row) => row.try_get("user_id")?,
            None => None,
        };
        let Some(user_id) = user_id.filter(|id| !id.is_empty()) else {
            return Ok((String::new(), None));
        };
        let credentials = self.credentials_of(&user_id).await?;
        let provider = match credentials.split_first() {
            Some((first, rest)) if rest.iter().all(|c| c.aaguid == first.aaguid) => {
                first.aaguid.clone()
            }
            _ => String::new(),
        };
        Ok((provider, self.account_of(&user_id).await))
    }

    /// Counts a failed or cancelled passkey login on a client; returns the streak after it
    /// (its `paused_until` moves when this failure starts a pause).
    pub async fn record_passkey_failure(
        &self,
        client_hash: &str,
        provider: &str,
    ) -> Result<FailureStreak, ConnectError> {
        let row = sqlx::query(
            "SELECT failure_count, failure_provider, paused_until FROM connect_clients
             WHERE handle_hash = $1",
        )
        .bind(client_hash)
        .fetch_optional(self.store().pool())
        .await?;
        let Some(row) = row else {
            return Ok(FailureStreak::default());
        };
        let streak = FailureStreak {
            count: u32::try_from(row.try_get::<i64, _>("failure_count")?).unwrap_or(0),
            provider: row.try_get("failure_provider")?,
            paused_until: row.try_get("paused_until")?,
        };
        let pause = i64::try_from(self.settings().failure_pause.as_secs()).unwrap_or(i64::MAX);
        let next = streak.after_failure(provider, self.now(), pause);
        sqlx::query(
            "UPDATE connect_clients
             SET failure_count = $1, failure_provider = $2, paused_until = $3
             WHERE handle_hash = $4",
        )
        .bind(i64::from(next.count))
        .bind(&next.provider)
        .bind(next.paused_until)
        .bind(client_hash)
        .execute(self.store().pool())
        .await?;
        Ok(next)
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
