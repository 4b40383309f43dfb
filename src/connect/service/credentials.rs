//! Stored passkeys: webauthn-rs's serialised `Passkey` plus the columns lists and checks need
//! (credential id, AAGUID, transports, backup flags, sign counter, where and when created,
//! last used). After each login the counter, flags and last-used time are written with a
//! compare-and-set on the counter, so a racing older assertion can never move it backwards.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sqlx::any::AnyRow;
use sqlx::Row;
use webauthn_rs::prelude::{AuthenticationResult, Passkey};

use super::{rfc3339, ConnectError, ConnectService};
use crate::connect::api::Credential;
use crate::connect::providers::ProviderDirectory;
use crate::store::{flag, StoreError};

#[derive(Debug, Clone)]
pub struct CredentialRow {
    /// `cre-…`
    pub id: String,
    pub user_id: String,
    /// The WebAuthn credential id, base64url without padding.
    pub credential_id: String,
    pub passkey: Passkey,
    pub aaguid: String,
    pub transports: Vec<String>,
    pub backup_eligible: bool,
    pub backup_state: bool,
    pub sign_count: i64,
    pub created_at: i64,
    pub created_browser: String,
    pub created_os: String,
    /// Hash of the client (browser) it was created on.
    pub created_client: String,
    pub last_used_at: Option<i64>,
    /// What its owner called it ("Rename"); empty: named after its provider.
    pub name: String,
}

const COLUMNS: &str = "id, user_id, credential_id, passkey, aaguid, transports, backup_eligible,
    backup_state, sign_count, created_at, created_browser, created_os, created_client, last_used_at,
    name";

impl CredentialRow {
    fn from_row(row: &AnyRow) -> Result<Self, ConnectError> {
        let passkey: String = row.try_get("passkey")?;
        let transports: String = row.try_get("transports")?;
        Ok(Self {
            id: row.try_get("id")?,
            user_id: row.try_get("user_id")?,
            credential_id: row.try_get("credential_id")?,
            passkey: serde_json::from_str(&passkey)
                .map_err(|err| ConnectError::internal("stored passkey", err))?,
            aaguid: row.try_get("aaguid")?,
            transports: serde_json::from_str(&transports)
                .map_err(|err| ConnectError::internal("stored transports", err))?,
            backup_eligible: row.try_get::<i64, _>("backup_eligible")? != 0,
            backup_state: row.try_get::<i64, _>("backup_state")? != 0,
            sign_count: row.try_get("sign_count")?,
            created_at: row.try_get("created_at")?,
            created_browser: row.try_get("created_browser")?,
            created_os: row.try_get("created_os")?,
            created_client: row.try_get("created_client")?,
            last_used_at: row.try_get("last_used_at")?,
            name: row.try_get("name")?,
        })
    }

    /// The backend API's view of this passkey.
    pub fn to_api(&self, providers: &ProviderDirectory) -> Credential {
        let last_used = self.last_used_at.unwrap_or_default();
        Credential {
            id: self.id.clone(),
            credential_id: self.credential_id.clone(),
            attestation_type: "none".to_string(),
            transport: self.transports.clone(),
            backup_eligible: self.backup_eligible,
            backup_state: self.backup_state,
            authenticator_aaguid: self.aaguid.clone(),
            aaguid_details: providers.details(&self.aaguid),
            name: self.name.clone(),
            source_os: self.created_os.clone(),
            source_browser: self.created_browser.clone(),
            last_used: self.last_used_at.map(rfc3339).unwrap_or_default(),
            last_used_ms: last_used * 1000,
            created: rfc3339(self.created_at),
            created_ms: self.created_at * 1000,
            status: "active".to_string(),
        }
    }
}

/// The credential id of a passkey in its stored (base64url) form.
pub fn encode_credential_id(raw: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(raw)
}

/// How a login's result was written back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginUpdate {
    Written,
    /// The assertion's counter is not above the stored one: a cloned authenticator or a
    /// replay. Nothing was written.
    CounterRegression {
        stored: i64,
        presented: i64,
    },
}

impl ConnectService {
    /// Stores a new passkey. A credential id that already exists is refused (`AlreadyExists`).
    pub async fn insert_credential(&self, row: &CredentialRow) -> Result<(), ConnectError> {
        let passkey = serde_json::to_string(&row.passkey)
            .map_err(|err| ConnectError::internal("serialising a passkey", err))?;
        let transports = serde_json::to_string(&row.transports)
            .map_err(|err| ConnectError::internal("serialising transports", err))?;
        let result = sqlx::query(
            "INSERT INTO connect_credentials (id, user_id, credential_id, passkey, aaguid,
                 transports, backup_eligible, backup_state, sign_count, created_at,
                 created_browser, created_os, created_client, last_used_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(&row.id)
        .bind(&row.user_id)
        .bind(&row.credential_id)
        .bind(passkey)
        .bind(&row.aaguid)
        .bind(transports)
        .bind(flag(row.backup_eligible))
        .bind(flag(row.backup_state))
        .bind(row.sign_count)
        .bind(row.created_at)
        .bind(&row.created_browser)
        .bind(&row.created_os)
        .bind(&row.created_client)
        .bind(row.last_used_at)
        .execute(self.store().pool())
        .await;
        match result.map_err(StoreError::from) {
            Ok(_) => Ok(()),
            Err(StoreError::Conflict) => Err(ConnectError::AlreadyExists(
                "this passkey is already registered".into(),
            )),
            Err(err) => Err(err.into()),
        }
    }

    pub async fn credential_by_credential_id(
        &self,
        credential_id: &str,
    ) -> Result<Option<CredentialRow>, ConnectError> {
        let sql = format!("SELECT {COLUMNS} FROM connect_credentials WHERE credential_id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(credential_id)
            .fetch_optional(self.store().pool())
            .await?;
        row.as_ref().map(CredentialRow::from_row).transpose()
    }

    /// A user's passkeys, oldest first.
    pub async fn credentials_of(&self, user_id: &str) -> Result<Vec<CredentialRow>, ConnectError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM connect_credentials WHERE user_id = $1 ORDER BY created_at, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .fetch_all(self.store().pool())
            .await?;
        rows.iter().map(CredentialRow::from_row).collect()
    }

    /// Whether any passkey (of any user) was created on the browser `client_hash`.
    pub async fn any_created_on(&self, client_hash: &str) -> Result<bool, ConnectError> {
        let found =
            sqlx::query("SELECT 1 FROM connect_credentials WHERE created_client = $1 LIMIT 1")
                .bind(client_hash)
                .fetch_optional(self.store().pool())
                .await?;
        Ok(found.is_some())
    }

    /// Deletes one of a user's passkeys, named by its `cre-…` id or its credential id.
    /// Returns the deleted row; `None` when the user has no such passkey.
    pub async fn delete_credential_of(
        &self,
        user_id: &str,
        id_or_credential_id: &str,
    ) -> Result<Option<CredentialRow>, ConnectError> {
        let sql = format!(
            "DELETE FROM connect_credentials
             WHERE user_id = $1 AND (id = $2 OR credential_id = $2)
             RETURNING {COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .bind(id_or_credential_id)
            .fetch_optional(self.store().pool())
            .await?;
        row.as_ref().map(CredentialRow::from_row).transpose()
    }

    /// Gives one of the user's passkeys a name (by its `cre-…` id or WebAuthn credential id);
    /// `None` when the user has no such passkey.
    pub async fn rename_credential_of(
        &self,
        user_id: &str,
        id_or_credential_id: &str,
        name: &str,
    ) -> Result<Option<CredentialRow>, ConnectError> {
        let sql = format!(
            "UPDATE connect_credentials SET name = $3
             WHERE user_id = $1 AND (id = $2 OR credential_id = $2)
             RETURNING {COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .bind(id_or_credential_id)
            .bind(name)
            .fetch_optional(self.store().pool())
            .await?;
        row.as_ref().map(CredentialRow::from_row).transpose()
    }

    /// Writes a successful login back to the credential: counter, backup flags, the updated
    /// passkey and last-used time, with a compare-and-set on the counter. A counter that does
    /// not move forward (when either side is non-zero) is a regression and is not written.
    pub async fn record_login(
        &self,
        credential: &CredentialRow,
        result: &AuthenticationResult,
    ) -> Result<LoginUpdate, ConnectError> {
        let presented = i64::from(result.counter());
        let mut current = credential.clone();
        // A few rounds: each lost race re-reads the row and re-checks the counter.
        for _ in 0..5 {
            if (presented != 0 || current.sign_count != 0) && presented <= current.sign_count {
                return Ok(LoginUpdate::CounterRegression {
                    stored: current.sign_count,
                    presented,
                });
            }
            let mut passkey = current.passkey.clone();
            passkey.update_credential(result);
            let json = serde_json::to_string(&passkey)
                .map_err(|err| ConnectError::internal("serialising a passkey", err))?;
            let done = sqlx::query(
                "UPDATE connect_credentials
                 SET passkey = $1, sign_count = $2, backup_state = $3, backup_eligible = $4,
                     last_used_at = $5
                 WHERE id = $6 AND sign_count = $7",
            )
            .bind(json)
            .bind(presented)
            .bind(flag(result.backup_state()))
            .bind(flag(result.backup_eligible() || current.backup_eligible))
            .bind(self.now())
            .bind(&current.id)
            .bind(current.sign_count)
            .execute(self.store().pool())
            .await?;
            if done.rows_affected() == 1 {
                return Ok(LoginUpdate::Written);
            }
            current = match self
                .credential_by_credential_id(&current.credential_id)
                .await?
            {
                Some(row) => row,
                None => {
                    return Err(ConnectError::not_found(
                        "the passkey was deleted during the login",
                    ))
                }
            };
        }
        Err(ConnectError::internal(
            "recording a login",
            "too many concurrent updates of one credential",
        ))
    }
}
