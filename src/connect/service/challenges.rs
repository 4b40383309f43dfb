//! Pending WebAuthn ceremonies. The server keeps webauthn-rs's state (with the challenge)
//! here, bound to a process, a slot, a ceremony kind and (except for discoverable logins) a
//! user, with an expiry. A finish step takes it with `DELETE … RETURNING`, so exactly one of
//! any number of concurrent finishes gets it; the challenge is never taken from the client.

use sqlx::Row;

use super::{new_id, ConnectError, ConnectService, CHALLENGE_LIFETIME_SECS};

/// Which step of which component a challenge belongs to. A new start in a slot replaces
/// the challenge pending there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::AsRefStr)]
#[strum(serialize_all = "kebab-case")]
pub enum Slot {
    Append,
    /// The automatic upgrade's conditional create, beside the offer's own challenge.
    AppendConditional,
    /// Identifier-first, one-tap, or the explicit identifier-less button.
    Login,
    /// Conditional UI (autofill), offered by login init.
    #[strum(serialize = "login-cui")]
    LoginConditional,
}

/// The kind of webauthn-rs state stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::AsRefStr, strum::EnumString)]
#[strum(serialize_all = "lowercase")]
pub enum Ceremony {
    /// `PasskeyRegistration`
    Registration,
    /// `PasskeyAuthentication` (the user is known; allowCredentials lists their passkeys).
    Authentication,
    /// `DiscoverableAuthentication` (the user comes from the credential's user handle).
    Discoverable,
}

/// A challenge taken by a finish step.
#[derive(Debug, Clone)]
pub struct TakenChallenge {
    /// `was-…`
    pub id: String,
    pub ceremony: Ceremony,
    pub user_id: Option<String>,
    /// webauthn-rs's state, as JSON.
    pub state: String,
}

impl ConnectService {
    /// Stores a ceremony's state in its slot (replacing what was pending there) and returns
    /// the challenge id and its expiry.
    pub async fn put_challenge(
        &self,
        process_hash: &str,
        slot: Slot,
        ceremony: Ceremony,
        user_id: Option<&str>,
        state: &impl serde::Serialize,
    ) -> Result<(String, i64), ConnectError> {
        let state = serde_json::to_string(state)
            .map_err(|err| ConnectError::internal("serialising ceremony state", err))?;
        let id = new_id("was");
        let now = self.now();
        let expires_at = now + CHALLENGE_LIFETIME_SECS;
        sqlx::query(
            "INSERT INTO connect_challenges (id, process_hash, slot, ceremony, user_id, state,
                 created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (process_hash, slot) DO UPDATE SET
                 id = excluded.id, ceremony = excluded.ceremony, user_id = excluded.user_id,
                 state = excluded.state, created_at = excluded.created_at,
                 expires_at = excluded.expires_at",
        )
        .bind(&id)
        .bind(process_hash)
        .bind(slot.as_ref())
        .bind(ceremony.as_ref())
        .bind(user_id)
        .bind(state)
        .bind(now)
        .bind(expires_at)
        .execute(self.store().pool())
        .await?;
        Ok((id, expires_at))
    }

    /// Takes (deletes and returns) the challenge pending in a slot. `None` when there is none,
    /// it expired, or another request took it first.
    pub async fn take_challenge(
        &self,
        process_hash: &str,
        slot: Slot,
    ) -> Result<Option<TakenChallenge>, ConnectError> {
        let row = sqlx::query(
            "DELETE FROM connect_challenges WHERE process_hash = $1 AND slot = $2
             RETURNING id, ceremony, user_id, state, expires_at",
        )
        .bind(process_hash)
        .bind(slot.as_ref())
        .fetch_optional(self.store().pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let expires_at: i64 = row.try_get("expires_at")?;
        if expires_at <= self.now() {
            return Ok(None);
        }
        let ceremony: String = row.try_get("ceremony")?;
        Ok(Some(TakenChallenge {
            id: row.try_get("id")?,
            ceremony: ceremony
                .parse()
                .map_err(|_| ConnectError::internal("stored ceremony", ceremony))?,
            user_id: row.try_get("user_id")?,
            state: row.try_get("state")?,
        }))
    }
}
