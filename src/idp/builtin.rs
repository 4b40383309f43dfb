//! The builtin identity provider: email + password, argon2id, in the app's database.
//!
//! It stands for "the login system you already have". Password hashing is deliberately slow,
//! so it runs on the blocking pool behind a semaphore: a burst of logins queues instead of
//! starving the async workers.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{
    PasswordHash as ParsedHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use sqlx::Row;
use tokio::sync::Semaphore;

use super::{normalize_email, ClassicLogin, Identity, IdentityProvider, IdpError};
use crate::store::{now, Store, StoreError};

pub const ISSUER: &str = "builtin";
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Long enough for any passphrase, short enough that hashing stays bounded.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// OWASP's minimum for argon2id: 19 MiB memory, 2 iterations, 1 lane.
const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
const ARGON2_ITERATIONS: u32 = 2;
const ARGON2_LANES: u32 = 1;

/// A stored PHC-format password hash. Never serialised, never printed.
#[derive(Clone)]
pub struct PasswordHash(String);

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(…)")
    }
}

pub struct BuiltinIdp {
    store: Store,
    /// Compared against when the email is unknown, so both paths cost one argon2 verify.
    dummy_hash: PasswordHash,
    /// One permit per core: at most that many hashes run at once.
    hashing: Arc<Semaphore>,
    /// The running hashes plus those allowed to wait for a core; one more is refused at
    /// once (a flood of sign-ins must not queue without bound).
    admitted: Arc<Semaphore>,
}

/// Password checks that may wait for a core by default (`password-hash-queue`).
pub const DEFAULT_HASH_QUEUE: usize = 64;

fn argon2() -> Argon2<'static> {
    // The parameters are constants within argon2's documented bounds.
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, ARGON2_LANES, None)
        .unwrap_or_else(|_| unreachable!("constant argon2 parameters are valid"));
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_password(password: &str) -> Result<PasswordHash, IdpError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| PasswordHash(hash.to_string()))
        .map_err(|err| IdpError::Internal(format!("hashing failed: {err}")))
}

fn verify_password(password: &str, hash: &PasswordHash) -> bool {
    match ParsedHash::new(&hash.0) {
        Ok(parsed) => argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A user row of the builtin IdP.
struct BuiltinUser {
    id: String,
    hash: PasswordHash,
    disabled: bool,
}

impl BuiltinIdp {
    pub fn new(store: Store) -> Result<Self, IdpError> {
        let dummy_hash = hash_password(&crate::random::token(16))?;
        let permits = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Self {
            store,
            dummy_hash,
            hashing: Arc::new(Semaphore::new(permits)),
            admitted: Arc::new(Semaphore::new(permits + DEFAULT_HASH_QUEUE)),
        })
    }

    /// At most `queue` password checks wait for a core; more are refused as busy.
    pub fn with_hash_queue(mut self, queue: usize) -> Self {
        self.admitted = Arc::new(Semaphore::new(self.hashing.available_permits() + queue));
        self
    }

    /// Runs CPU-heavy hashing off the async workers, at most one per core at a time.
    async fn on_hashing_pool<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, IdpError> {
        let _admitted = self.admitted.try_acquire().map_err(|_| IdpError::Busy)?;
        let _permit = self
            .hashing
            .acquire()
            .await
            .map_err(|_| IdpError::Internal("hashing pool closed".into()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|err| IdpError::Internal(format!("hashing task failed: {err}")))
    }

    async fn find_user(&self, email: &str) -> Result<Option<BuiltinUser>, IdpError> {
        let row = sqlx::query(
            "SELECT id, password_hash, disabled_at FROM builtin_idp_users WHERE email = $1",
        )
        .bind(email)
        .fetch_optional(self.store.pool())
        .await
        .map_err(StoreError::from)?;
        row.map(|row| {
            Ok(BuiltinUser {
                id: row.try_get("id").map_err(StoreError::from)?,
                hash: PasswordHash(row.try_get("password_hash").map_err(StoreError::from)?),
                disabled: row
                    .try_get::<Option<i64>, _>("disabled_at")
                    .map_err(StoreError::from)?
                    .is_some(),
            })
        })
        .transpose()
    }

    /// Disables (or enables) the account of `email`: while disabled, neither its password
    /// nor its passkeys sign anyone in. Returns its subject, or `None` for an unknown email.
    /// Ending its sessions is the caller's part (it knows the app's accounts).
    pub async fn set_disabled(
        &self,
        email: &str,
        disabled: bool,
    ) -> Result<Option<String>, IdpError> {
        let email = normalize_email(email)?;
        let row = sqlx::query(
            "UPDATE builtin_idp_users SET disabled_at = $2 WHERE email = $1 RETURNING id",
        )
        .bind(&email)
        .bind(disabled.then(now))
        .fetch_optional(self.store.pool())
        .await
        .map_err(StoreError::from)?;
        let subject = row
            .map(|row| row.try_get::<String, _>("id"))
            .transpose()
            .map_err(StoreError::from)?;
        if let Some(subject) = &subject {
            tracing::info!(%subject, disabled, "builtin account state changed");
        }
        Ok(subject)
    }
}

fn check_new_password(password: &str) -> Result<(), IdpError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(IdpError::Invalid(format!(
            "Choose a password of at least {MIN_PASSWORD_CHARS} characters."
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(IdpError::Invalid("That password is too long.".into()));
    }
    Ok(())
}

#[async_trait]
impl IdentityProvider for BuiltinIdp {
    fn issuer(&self) -> &str {
        ISSUER
    }

    fn classic_login(&self) -> ClassicLogin {
        ClassicLogin::Password
    }

    async fn sign_up(&self, email: &str, password: &str) -> Result<Identity, IdpError> {
        let email = normalize_email(email)?;
        check_new_password(password)?;
        let password = password.to_string();
        let hash = self
            .on_hashing_pool(move || hash_password(&password))
            .await??;
        let id = crate::random::id("bu");
        // The UNIQUE constraint decides races between two sign-ups for one email.
        let inserted = sqlx::query(
            "INSERT INTO builtin_idp_users (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&id)
        .bind(&email)
        .bind(&hash.0)
        .bind(now())
        .execute(self.store.pool())
        .await
        .map_err(StoreError::from);
        match inserted {
            Ok(_) => Ok(Identity {
                issuer: ISSUER.into(),
                subject: id,
                email,
            }),
            Err(StoreError::Conflict) => Err(IdpError::EmailTaken),
            Err(err) => Err(err.into()),
        }
    }

    async fn sign_in_with_password(
        &self,
        email: &str,
        password: &str,
    ) -> Result<Identity, IdpError> {
        // A malformed email or an over-long password is just a failed login: same answer.
        let email = normalize_email(email).unwrap_or_default();
        let password = if password.len() > MAX_PASSWORD_BYTES {
            String::new()
        } else {
            password.to_string()
        };
        let user = if email.is_empty() {
            None
        } else {
            self.find_user(&email).await?
        };
        // A disabled account costs the same verification and gets the same answer as a
        // wrong password: nothing tells the two apart.
        let (subject, hash, account) = match user {
            Some(user) if user.disabled => (user.id, user.hash, Some(false)),
            Some(user) => (user.id, user.hash, Some(true)),
            None => (String::new(), self.dummy_hash.clone(), None),
        };
        let matches = self
            .on_hashing_pool(move || !password.is_empty() && verify_password(&password, &hash))
            .await?;
        // `account`: Some(active?) for a known email.
        match (account, matches) {
            (Some(true), true) => Ok(Identity {
                issuer: ISSUER.into(),
                subject,
                email,
            }),
            (Some(false), true) => Err(IdpError::AccountDisabled),
            _ => Err(IdpError::InvalidCredentials),
        }
    }

    async fn set_active(&self, identity: &Identity, active: bool) -> Result<(), IdpError> {
        let done = sqlx::query("UPDATE builtin_idp_users SET disabled_at = $2 WHERE id = $1")
            .bind(&identity.subject)
            .bind((!active).then(now))
            .execute(self.store.pool())
            .await
            .map_err(StoreError::from)?;
        if done.rows_affected() == 0 {
            return Err(IdpError::Invalid(
                "no such account at the builtin IdP".into(),
            ));
        }
        tracing::info!(subject = %identity.subject, active, "builtin account state changed");
        Ok(())
    }

    fn can_disable(&self) -> bool {
        true
    }

    async fn is_active(&self, identity: &Identity) -> Result<bool, IdpError> {
        let row = sqlx::query("SELECT disabled_at FROM builtin_idp_users WHERE id = $1")
            .bind(&identity.subject)
            .fetch_optional(self.store.pool())
            .await
            .map_err(StoreError::from)?;
        // A user deleted from the IdP is not active either.
        Ok(match row {
            Some(row) => row
                .try_get::<Option<i64>, _>("disabled_at")
                .map_err(StoreError::from)?
                .is_none(),
            None => false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(
            hash.0.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            hash.0
        );
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert_eq!(format!("{hash:?}"), "PasswordHash(…)");
    }

    #[test]
    fn new_passwords_need_eight_characters() {
        assert!(check_new_password("1234567").is_err());
        assert!(check_new_password("12345678").is_ok());
        assert!(check_new_password("ééééééé").is_err());
        assert!(check_new_password(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
    }
}
