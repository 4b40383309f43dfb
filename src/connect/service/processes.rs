//! Frontend-API processes: every component starts with an init that creates one; the browser
//! sends its id in `X-Corbado-Process-ID` on every later step. The store keeps the id's hash,
//! the rollout decisions taken at init, and what the client said about itself.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::clients::ClientRef;
use super::{hash, ConnectError, ConnectService};
use crate::connect::api::{ClientInformation, InitReq};
use crate::connect::decisions::{self, Browser, LoginPageDecision, LoginPageFacts};
use crate::events::Reason;
use crate::store::flag;

/// The longest process id we look up (ours are 43 characters).
const MAX_PROCESS_ID_LEN: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessRow {
    pub id_hash: String,
    pub client_hash: String,
    pub login_allowed: bool,
    /// Why the login page offered no passkey login (when `login_allowed` is false).
    pub login_refusal: Option<Reason>,
    pub append_allowed: bool,
    pub manage_allowed: bool,
    /// What the client said about a user-verifying platform authenticator: `Some(false)`
    /// only when it said there is none.
    pub platform_authenticator: Option<bool>,
    /// The client said it can do conditional create (`getClientCapabilities`).
    pub conditional_create: bool,
    pub browser: String,
    pub os: String,
    pub created_at: i64,
    pub expires_at: i64,
}

impl ProcessRow {
    fn from_row(row: &AnyRow) -> Result<Self, ConnectError> {
        let platform: i64 = row.try_get("platform_authenticator")?;
        Ok(Self {
            id_hash: row.try_get("id_hash")?,
            client_hash: row.try_get("client_hash")?,
            login_allowed: row.try_get::<i64, _>("login_allowed")? != 0,
            login_refusal: row
                .try_get::<String, _>("login_refusal")?
                .parse::<Reason>()
                .ok(),
            append_allowed: row.try_get::<i64, _>("append_allowed")? != 0,
            manage_allowed: row.try_get::<i64, _>("manage_allowed")? != 0,
            platform_authenticator: match platform {
                0 => Some(false),
                1 => Some(true),
                _ => None,
            },
            conditional_create: row.try_get::<i64, _>("conditional_create")? != 0,
            browser: row.try_get("browser")?,
            os: row.try_get("os")?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
        })
    }
}

/// A process just created by an init step.
#[derive(Debug, Clone)]
pub struct NewProcess {
    /// The id the browser keeps (`token` / `processID`).
    pub id: String,
    pub row: ProcessRow,
    pub client: ClientRef,
    /// How the login page may use passkeys in this browser (for a login process).
    pub login: LoginPageDecision,
}

/// What the browser said about itself, for passkey intelligence.
fn browser_facts(info: &ClientInformation) -> Browser {
    let capability = |name: &str| {
        info.client_capabilities
            .as_ref()
            .and_then(|caps| caps.get(name).copied())
    };
    Browser {
        platform_authenticator: platform_authenticator(info),
        hybrid: capability("hybridTransport"),
        conditional_mediation: info
            .is_conditional_mediation_available
            .or_else(|| capability("conditionalGet")),
        conditional_create: capability("conditionalCreate"),
    }
}

fn platform_authenticator(info: &ClientInformation) -> Option<bool> {
    info.is_user_verifying_platform_authenticator_available
        .or_else(|| {
            info.client_capabilities
                .as_ref()
                .and_then(|caps| caps.get("userVerifyingPlatformAuthenticator").copied())
        })
}

impl ConnectService {
    /// Creates a process for an init request: resolves the client, takes the rollout
    /// decisions, and notes browser and OS.
    pub async fn create_process(
        &self,
        req: &InitReq,
        user_agent: Option<&str>,
    ) -> Result<NewProcess, ConnectError> {
        let info = &req.client_information;
        let client = self
            .resolve_client(info.client_env_handle.as_deref())
            .await?;
        let decisions = self.rollout_for(&client.hash);
        let now = self.now();
        let browser = browser_facts(info);
        let login = decisions::login_page(&LoginPageFacts {
            passkeys_enabled: self.live_settings().current().passkeys_enabled,
            in_rollout: decisions.login,
            browser,
            paused: client.paused_until > now,
            remembered_accounts: info.remembered_accounts.unwrap_or(0),
        });
        let login_allowed = login.mode != decisions::LoginMode::None;
        let (browser_name, os) = super::user_agent::describe(
            user_agent.unwrap_or_default(),
            info.java_script_high_entropy.as_ref(),
        );
        let id = crate::random::token(32);
        let row = ProcessRow {
            id_hash: hash(&id),
            client_hash: client.hash.clone(),
            login_allowed,
            login_refusal: (!login_allowed).then_some(login.reason),
            append_allowed: decisions.append,
            manage_allowed: decisions.manage,
            platform_authenticator: platform_authenticator(info),
            conditional_create: browser.conditional_create == Some(true),
            browser: browser_name,
            os,
            created_at: now,
            expires_at: now + self.settings().process_lifetime.as_secs() as i64,
        };
        sqlx::query(
            "INSERT INTO connect_processes (id_hash, client_hash, login_allowed, login_refusal,
                 append_allowed, manage_allowed, platform_authenticator, conditional_create,
                 browser, os, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&row.id_hash)
        .bind(&row.client_hash)
        .bind(flag(row.login_allowed))
        .bind(
            row.login_refusal
                .map(|r| r.as_ref().to_string())
                .unwrap_or_default(),
        )
        .bind(flag(row.append_allowed))
        .bind(flag(row.manage_allowed))
        .bind(match row.platform_authenticator {
            Some(false) => 0_i64,
            Some(true) => 1,
            None => -1,
        })
        .bind(flag(row.conditional_create))
        .bind(&row.browser)
        .bind(&row.os)
        .bind(row.created_at)
        .bind(row.expires_at)
        .execute(self.store().pool())
        .await?;
        Ok(NewProcess {
            id,
            row,
            client,
            login,
        })
    }

    /// The live process named by the `X-Corbado-Process-ID` header.
    pub async fn process(&self, id: Option<&str>) -> Result<ProcessRow, ConnectError> {
        let missing = || ConnectError::not_found("process not found or expired; start with init");
        let id = id
            .map(str::trim)
            .filter(|id| !id.is_empty() && id.len() <= MAX_PROCESS_ID_LEN)
            .ok_or_else(missing)?;
        let row = sqlx::query(
            "SELECT id_hash, client_hash, login_allowed, login_refusal, append_allowed,
                    manage_allowed, platform_authenticator, conditional_create, browser, os,
                    created_at, expires_at
             FROM connect_processes WHERE id_hash = $1",
        )
        .bind(hash(id))
        .fetch_optional(self.store().pool())
        .await?;
        let process = row.as_ref().map(ProcessRow::from_row).transpose()?;
        match process {
            Some(process) if process.expires_at > self.now() => Ok(process),
            _ => Err(missing()),
        }
    }

    /// Ends a process (and its pending challenges). False when it did not exist.
    pub async fn clear_process(&self, id: &str) -> Result<bool, ConnectError> {
        if id.len() > MAX_PROCESS_ID_LEN {
            return Ok(false);
        }
        let id_hash = hash(id);
        // Challenges go with their process (explicitly, so it does not hinge on the
        // database enforcing the foreign key).
        sqlx::query("DELETE FROM connect_challenges WHERE process_hash = $1")
            .bind(&id_hash)
            .execute(self.store().pool())
            .await?;
        let done = sqlx::query("DELETE FROM connect_processes WHERE id_hash = $1")
            .bind(&id_hash)
            .execute(self.store().pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
