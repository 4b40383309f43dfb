//! Passkey management: the frontend's list and delete (`/v2/connect/manage/…`, each with its
//! own connect token) and the backend's user, identifier and credential calls.

use std::collections::BTreeMap;

use super::credentials::{encode_credential_id, CredentialRow};
use super::tokens::{paging, paging_of};
use super::users::UserRow;
use super::{ConnectError, ConnectService};
use crate::connect::api::{
    passkey_name, ConnectTokenType, CredentialList, Identifier, IdentifierList, InitReq, ListQuery,
    ManageDeleteReq, ManageDeleteRsp, ManageInitRsp, ManageListReq, ManageListRsp, ManageRenameReq,
    ManageRenameRsp, PasskeyItem,
};
use crate::events::{Event, EventType};

impl ConnectService {
    /// `POST /v2/connect/manage/init`.
    pub async fn manage_init(
        &self,
        req: &InitReq,
        user_agent: Option<&str>,
    ) -> Result<ManageInitRsp, ConnectError> {
        let created = self.create_process(req, user_agent).await?;
        Ok(ManageInitRsp {
            process_id: created.id,
            expires_at: created.row.expires_at,
            frontend_api_url: self.frontend_api_url(),
            manage_allowed: created.row.manage_allowed,
            flags: BTreeMap::new(),
            new_client_env_handle: created.client.new_handle,
        })
    }

    /// `POST /v2/connect/manage/list`.
    pub async fn manage_list(
        &self,
        process_id: Option<&str>,
        req: &ManageListReq,
    ) -> Result<ManageListRsp, ConnectError> {
        let process = self.process(process_id).await?;
        let grant = self
            .consume_connect_token(
                "connectToken",
                &req.connect_token,
                ConnectTokenType::PasskeyList,
            )
            .await?;
        let (user_id, webauthn_user_id, webauthn_user_name, credentials) =
            match self.user_by_identifier(&grant.identifier).await? {
                Some(user) => {
                    let credentials = self.credentials_of(&user.id).await?;
                    let handle = encode_credential_id(user.webauthn_user_id.as_bytes());
                    (user.id, handle, user.display_name, credentials)
                }
                // A user who never made a passkey has an empty list.
                None => (String::new(), String::new(), String::new(), Vec::new()),
            };
        let passkeys = credentials
            .iter()
            .map(|c| {
                let mut tags = Vec::new();
                if c.backup_state {
                    tags.push("synced".to_string());
                }
                if c.transports.iter().any(|t| t == "hybrid") {
                    tags.push("hybrid".to_string());
                }
                PasskeyItem {
                    credential: c.to_api(&self.settings().providers),
                    tags,
                    created_on_this_client: c.created_client == process.client_hash,
                }
            })
            .collect();
        Ok(ManageListRsp {
            passkeys,
            rp_id: self.config().rp_id.clone(),
            user_id,
            webauthn_user_id,
            webauthn_user_name,
            signal_all_accepted_credentials: true,
        })
    }

    /// The user a `connectToken` of `kind` is for (spending it); `not_found` when they never
    /// made a passkey.
    async fn token_owner(
        &self,
        token: &str,
        kind: ConnectTokenType,
    ) -> Result<UserRow, ConnectError> {
        let grant = self
            .consume_connect_token("connectToken", token, kind)
            .await?;
        self.user_by_identifier(&grant.identifier)
            .await?
            .ok_or_else(|| ConnectError::not_found("this user has no such passkey"))
    }

    /// `POST /v2/connect/manage/rename` (a Latchkey extension): the name is checked with the
    /// browser's own rule ([`passkey_name`]) and stored trimmed.
    pub async fn manage_rename(
        &self,
        process_id: Option<&str>,
        req: &ManageRenameReq,
    ) -> Result<ManageRenameRsp, ConnectError> {
        self.process(process_id).await?;
        let name =
            passkey_name(&req.name).map_err(|message| ConnectError::validation("name", message))?;
        let user = self
            .token_owner(&req.connect_token, ConnectTokenType::PasskeyRename)
            .await?;
        let not_found = || ConnectError::not_found("this user has no such passkey");
        let renamed = self
            .rename_credential_of(&user.id, &req.credential_id, &name)
            .await?
            .ok_or_else(not_found)?;
        tracing::info!(user = %user.id, credential = %renamed.id, "passkey renamed by its user");
        self.record(
            Event::new(EventType::PasskeyRenamed)
                .with_account(&user.identifier)
                .with_credential(&renamed.id)
                .with_detail(&renamed.credential_id),
        )
        .await;
        Ok(ManageRenameRsp {
            credential_id: req.credential_id.clone(),
            name,
        })
    }

    /// `POST /v2/connect/manage/delete`.
    pub async fn manage_delete(
        &self,
        process_id: Option<&str>,
        req: &ManageDeleteReq,
    ) -> Result<ManageDeleteRsp, ConnectError> {
        self.process(process_id).await?;
        let user = self
            .token_owner(&req.connect_token, ConnectTokenType::PasskeyDelete)
            .await?;
        let not_found = || ConnectError::not_found("this user has no such passkey");
        let deleted = self
            .delete_credential_of(&user.id, &req.credential_id)
            .await?
            .ok_or_else(not_found)?;
        tracing::info!(user = %user.id, credential = %deleted.id, "passkey deleted by its user");
        self.record(passkey_deleted(&user.identifier, &deleted))
            .await;
        Ok(ManageDeleteRsp {
            credential_id: req.credential_id.clone(),
        })
    }

    /// `GET /v2/identifiers`: the only filter is `identifierValue:eq:<identifier>` (the
    /// backend's way from its user id to ours).
    pub async fn list_identifiers(
        &self,
        query: &ListQuery,
    ) -> Result<IdentifierList, ConnectError> {
        let (page, size) = paging(query)?;
        let mut value = None;
        for filter in &query.filters {
            match filter.strip_prefix("identifierValue:eq:") {
                Some(v) => value = Some(v.to_string()),
                None => {
                    return Err(ConnectError::validation(
                        "filter[]",
                        format!("{filter:?}: only identifierValue:eq:<value> is supported"),
                    ))
                }
            }
        }
        let value = value.ok_or_else(|| {
            ConnectError::validation("filter[]", "identifierValue:eq:<value> is required")
        })?;
        let user = self.user_by_identifier(&value).await?;
        let total = i64::from(user.is_some());
        let identifiers: Vec<Identifier> = match user {
            Some(user) if page == 1 => vec![Identifier {
                identifier_id: format!("ide-{}", user.id.trim_start_matches("usr-")),
                identifier_type: "username".to_string(),
                value: user.identifier,
                status: "verified".to_string(),
                user_id: user.id,
            }],
            _ => Vec::new(),
        };
        Ok(IdentifierList {
            paging: paging_of(page, size, total),
            identifiers,
        })
    }

    /// `GET /v2/users/{userID}/credentials`.
    pub async fn list_user_credentials(
        &self,
        user_id: &str,
    ) -> Result<CredentialList, ConnectError> {
        let user = self
            .user_by_id(user_id)
            .await?
            .ok_or_else(|| ConnectError::not_found("user not found"))?;
        let credentials: Vec<_> = self
            .credentials_of(&user.id)
            .await?
            .iter()
            .map(|c| c.to_api(&self.settings().providers))
            .collect();
        let total = credentials.len() as i64;
        Ok(CredentialList {
            credentials,
            paging: paging_of(1, u32::try_from(total.max(1)).unwrap_or(u32::MAX), total),
        })
    }

    /// `DELETE /v2/users/{userID}/credentials/{credentialID}`.
    /// `actor`: the operator who asked, when one did (recorded with the event).
    pub async fn delete_user_credential(
        &self,
        user_id: &str,
        credential_id: &str,
        actor: Option<&str>,
    ) -> Result<(), ConnectError> {
        match self.delete_credential_of(user_id, credential_id).await? {
            Some(deleted) => {
                tracing::info!(user = %user_id, credential = %deleted.id, "passkey deleted by the backend");
                let account = self.account_of(user_id).await.unwrap_or_default();
                let mut event = passkey_deleted(&account, &deleted);
                if let Some(actor) = actor {
                    event = event.with_actor(actor);
                }
                self.record(event).await;
                Ok(())
            }
            None => Err(ConnectError::not_found("this user has no such passkey")),
        }
    }
}

/// `passkey.deleted`; the detail is the WebAuthn credential id, so that a later login with
/// that passkey is told apart from one with a passkey never registered.
fn passkey_deleted(account: &str, deleted: &CredentialRow) -> Event {
    Event::new(EventType::PasskeyDeleted)
        .with_account(account)
        .with_credential(&deleted.id)
        .with_detail(&deleted.credential_id)
}
