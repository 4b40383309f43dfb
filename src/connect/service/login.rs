//! Passkey login (`/v2/connect/login/…`): init (passkey intelligence decides how the page
//! may use passkeys; a conditional-UI challenge), start (identifier-first or one-tap with the
//! user's passkeys, or identifier-less with a discoverable credential), finish (webauthn-rs verifies; the counter is written
//! back with a compare-and-set; signed passkey data is issued).

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{AuthenticationResult, PublicKeyCredential, WebauthnError};

use super::ceremonies::Authentication;
use super::challenges::{Ceremony, Slot, TakenChallenge};
use super::clients::LastLogin;
use super::credentials::{encode_credential_id, CredentialRow, LoginUpdate};
use super::processes::ProcessRow;
use super::signed_data::LoginProof;
use super::users::UserRow;
use super::{ConnectError, ConnectService};
use crate::config::EnumerationProtection;
use crate::connect::api::{
    ConnectTokenType, FallbackError, FallbackOperationError, InitReq, LoginFinishReq,
    LoginFinishRsp, LoginInitRsp, LoginSource, LoginStartReq, LoginStartRsp, PasskeyOperation,
};
use crate::connect::decisions::{self, AccountLogin, AccountLoginFacts, LastLoginHere};
use crate::events::{Event, EventType, Reason};
use webauthn_rs_core::proto::{AllowCredentials, AuthenticatorTransport, Mediation};

/// Fallback codes of login start (`fallbackOperationError.error.code`).
pub const FALLBACK_ROLLOUT_DENIED: &str = "rollout_denied";
/// The service has no passkey for this user. Deliberately the same whether the user is
/// unknown to the service or has deleted every passkey.
pub const FALLBACK_NO_PASSKEY: &str = "no_passkey_available";

/// Serialises WebAuthn options to the JSON string the frontend API carries.
pub(super) fn options_json(options: &impl serde::Serialize) -> Result<String, ConnectError> {
    serde_json::to_string(options).map_err(|err| ConnectError::internal("serialising options", err))
}

/// A WebAuthn failure the client caused: logged with its reason, answered as a 400.
pub(super) fn refused(field: &str, err: &WebauthnError) -> ConnectError {
    tracing::info!(%err, "passkey ceremony refused");
    ConnectError::validation(field, format!("the passkey could not be verified ({err})"))
}

/// `email` when it looks like one, else `username` (Corbado's identifierType).
pub(super) fn identifier_type(display_name: &str) -> &'static str {
    if display_name.contains('@') {
        "email"
    } else {
        "username"
    }
}

/// `local`, `cda` or `security-key`, from the browser's `authenticatorAttachment` and the
/// credential's transports.
fn ceremony_type(attachment: Option<&str>, transports: &[String]) -> &'static str {
    match attachment {
        Some("cross-platform") => {
            let roaming_key = transports
                .iter()
                .any(|t| matches!(t.as_str(), "usb" | "nfc" | "ble"))
                && !transports.iter().any(|t| t == "hybrid");
            if roaming_key {
                "security-key"
            } else {
                "cda"
            }
        }
        _ => "local",
    }
}

fn start_fallback(identifier: &str, code: &str, message: &str) -> LoginStartRsp {
    LoginStartRsp {
        assertion_options: String::new(),
        is_cda: false,
        fallback_operation_error: FallbackOperationError {
            init_fallback: true,
            identifier: Some(identifier.to_string()),
            error: Some(FallbackError {
                code: code.to_string(),
                message: message.to_string(),
            }),
        },
        prefer_immediately_available: None,
    }
}

/// `expected_here`: whether a passkey for this login is likely on this browser (one was made
/// here, or the last passkey login here used this browser's own authenticator). The browser
/// uses it to tell "cancelled" from "this device has no passkey" when the prompt ends without
/// one (WebAuthn reports both the same way).
fn start_options(options: String, is_cda: bool, expected_here: bool) -> LoginStartRsp {
    LoginStartRsp {
        assertion_options: options,
        is_cda,
        fallback_operation_error: FallbackOperationError {
            init_fallback: false,
            identifier: None,
            error: None,
        },
        prefer_immediately_available: Some(expected_here),
    }
}

impl ConnectService {
    /// The frontend API's base URL as browsers use it.
    pub(super) fn frontend_api_url(&self) -> String {
        self.settings()
            .frontend_url
            .as_str()
            .trim_end_matches('/')
            .to_string()
    }

    /// `POST /v2/connect/login/init`.
    pub async fn login_init(
        &self,
        req: &InitReq,
        user_agent: Option<&str>,
    ) -> Result<LoginInitRsp, ConnectError> {
        let created = self.create_process(req, user_agent).await?;
        let decision = created.login;
        self.record(
            Event::new(EventType::PasskeyDecision)
                .with_reason(decision.reason)
                .with_process(&created.row.id_hash)
                .with_detail(&decision.describe()),
        )
        .await;
        let mut flags = BTreeMap::new();
        flags.insert("login-mode".to_string(), decision.mode.as_ref().to_string());
        let mut conditional_ui_challenge = String::new();
        if created.row.login_allowed && decision.conditional_ui {
            let (mut options, state) = self
                .ceremonies()
                .start_discoverable_login()
                .map_err(|err| ConnectError::internal("starting conditional UI", err))?;
            options.mediation = Some(Mediation::Conditional);
            self.put_challenge(
                &created.row.id_hash,
                Slot::LoginConditional,
                Ceremony::Discoverable,
                None,
                &state,
            )
            .await?;
            conditional_ui_challenge = options_json(&options)?;
            flags.insert("conditional-ui-allowed".to_string(), "true".to_string());
        }
        Ok(LoginInitRsp {
            token: created.id,
            expires_at: created.row.expires_at,
            frontend_api_url: self.frontend_api_url(),
            login_allowed: created.row.login_allowed,
            flags,
            conditional_ui_challenge,
            new_client_env_handle: created.client.new_handle,
        })
    }

    /// `POST /v2/connect/login/start`.
    pub async fn login_start(
        &self,
        process_id: Option<&str>,
        req: &LoginStartReq,
    ) -> Result<LoginStartRsp, ConnectError> {
        let process = self.process(process_id).await?;
        let typed = req.identifier.trim();
        let source = match req.source {
            LoginSource::OneTap => Reason::OneTap,
            _ if typed.is_empty() && req.login_connect_token.is_none() => Reason::Button,
            _ => Reason::Identifier,
        };
        self.record(
            Event::new(EventType::PasskeyLoginStarted)
                .with_reason(source)
                .with_process(&process.id_hash),
        )
        .await;
        // The login page's decision (taken at init) stands; the kill switch counts as it is now.
        let page_refused = if !self.live_settings().current().passkeys_enabled {
            Some(Reason::PasskeysOff)
        } else if !process.login_allowed {
            Some(process.login_refusal.unwrap_or(Reason::RolloutDenied))
        } else {
            None
        };
        if let Some(reason) = page_refused {
            self.fell_back(&process, reason).await;
            return Ok(start_fallback(
                typed,
                FALLBACK_ROLLOUT_DENIED,
                "passkey login is not offered to this client",
            ));
        }
        let identifier = match req.login_connect_token.as_deref() {
            Some(secret) => {
                self.consume_connect_token(
                    "loginConnectToken",
                    secret,
                    ConnectTokenType::PasskeyLogin,
                )
                .await?
                .identifier
            }
            None if typed.is_empty() => return self.start_discoverable(&process).await,
            None if self.settings().require_login_token => {
                return Err(ConnectError::validation(
                    "loginConnectToken",
                    "this service needs a passkey-login connect token from the backend",
                ))
            }
            None => typed.to_string(),
        };
        let user = self.user_by_identifier(&identifier).await?;
        let (credentials, last_login_here) = match &user {
            Some(user) => {
                let last = self.last_login_on(&process.client_hash).await?;
                (
                    self.credentials_of(&user.id).await?,
                    LastLogin::as_seen_by(last.as_ref(), &user.id),
                )
            }
            None => (Vec::new(), LastLoginHere::Other),
        };
        let decision = decisions::account_login(&AccountLoginFacts {
            account_passkeys: credentials.len(),
            passkey_made_here: credentials
                .iter()
                .any(|c| c.created_client == process.client_hash),
            last_login_here,
        });
        let (
            Some(user),
            AccountLogin::Start {
                expected_here,
                cross_device,
                ..
            },
        ) = (user, decision)
        else {
            if self.settings().enumeration_protection == EnumerationProtection::Strict {
                return self.start_decoy(&process, &identifier).await;
            }
            self.fell_back(&process, decision.reason()).await;
            return Ok(start_fallback(
                typed,
                FALLBACK_NO_PASSKEY,
                "no passkey is registered for this user",
            ));
        };
        self.record(
            Event::new(EventType::PasskeyDecision)
                .with_reason(decision.reason())
                .with_process(&process.id_hash)
                .with_account(&user.identifier)
                .with_detail(decision.describe()),
        )
        .await;
        let passkeys: Vec<_> = credentials.iter().map(|c| c.passkey.clone()).collect();
        let (options, state) = self
            .ceremonies()
            .start_login(&passkeys)
            .map_err(|err| ConnectError::internal("starting a passkey login", err))?;
        self.put_challenge(
            &process.id_hash,
            Slot::Login,
            Ceremony::Authentication,
            Some(&user.id),
            &state,
        )
        .await?;
        Ok(start_options(
            options_json(&options)?,
            cross_device,
            expected_here,
        ))
    }

    /// Strict enumeration protection, for an identifier without passkeys: options of the
    /// same shape as a real login's, listing decoy credential ids that webauthn-rs derives
    /// from a server secret and the identifier (so repeated queries agree, with a realistic
    /// count and length). No authenticator holds them: the browser finds none and the person
    /// goes on to the password. The challenge is bound to no user, so no answer to it can
    /// succeed.
    async fn start_decoy(
        &self,
        process: &ProcessRow,
        identifier: &str,
    ) -> Result<LoginStartRsp, ConnectError> {
        let (mut options, state) = self
            .ceremonies()
            .start_discoverable_login()
            .map_err(|err| ConnectError::internal("starting a decoy login", err))?;
        // As a real login's are written: no extensions, and the credentials listed with the
        // transports synced passkeys report.
        options.public_key.extensions = None;
        options.public_key.allow_credentials = self
            .decoy_credential_ids(identifier)?
            .into_iter()
            .map(|id| AllowCredentials {
                type_: "public-key".to_string(),
                id,
                transports: Some(vec![
                    AuthenticatorTransport::Internal,
                    AuthenticatorTransport::Hybrid,
                ]),
            })
            .collect();
        self.put_challenge(
            &process.id_hash,
            Slot::Login,
            Ceremony::Authentication,
            Some(""),
            &state,
        )
        .await?;
        // As for an account whose passkeys were all made elsewhere.
        Ok(start_options(options_json(&options)?, false, false))
    }

    /// At least one decoy id for `identifier` (webauthn-rs sometimes draws none, like an
    /// account without passkeys; that answer would differ in shape here).
    fn decoy_credential_ids(&self, identifier: &str) -> Result<Vec<Vec<u8>>, ConnectError> {
        use webauthn_rs::fake::{FakePasskeyDistribution, WebauthnFakeCredentialGenerator};
        let key = Sha256::new()
            .chain_update(b"latchkey decoy credential ids\0")
            .chain_update(self.config().api_secret.expose().as_bytes())
            .finalize();
        let generator = WebauthnFakeCredentialGenerator::<FakePasskeyDistribution>::new(&key)
            .map_err(|err| ConnectError::internal("decoy credential ids", err))?;
        for round in 0u8..8 {
            let ids = generator
                .generate(&[identifier.as_bytes(), &[0, round]].concat())
                .map_err(|err| ConnectError::internal("decoy credential ids", err))?;
            if !ids.is_empty() {
                return Ok(ids.into_iter().map(|id| id.to_vec()).collect());
            }
        }
        Ok(vec![key.to_vec()])
    }

    /// Identifier-less login ("Sign in with a passkey"): a modal request for any discoverable
    /// credential of this RP.
    async fn start_discoverable(
        &self,
        process: &ProcessRow,
    ) -> Result<LoginStartRsp, ConnectError> {
        let (options, state) = self
            .ceremonies()
            .start_discoverable_login()
            .map_err(|err| ConnectError::internal("starting a passkey login", err))?;
        self.put_challenge(
            &process.id_hash,
            Slot::Login,
            Ceremony::Discoverable,
            None,
            &state,
        )
        .await?;
        let expected_here = self
            .last_login_on(&process.client_hash)
            .await?
            .is_some_and(|last| !last.cross_device)
            || self.any_created_on(&process.client_hash).await?;
        Ok(start_options(options_json(&options)?, false, expected_here))
    }

    /// `POST /v2/connect/login/finish`.
    pub async fn login_finish(
        &self,
        process_id: Option<&str>,
        req: &LoginFinishReq,
    ) -> Result<LoginFinishRsp, ConnectError> {
        const FIELD: &str = "assertionResponse";
        let process = self.process(process_id).await?;
        if req.is_conditional_ui {
            // The autofill pick is where a conditional-UI login starts.
            self.record(
                Event::new(EventType::PasskeyLoginStarted)
                    .with_reason(Reason::ConditionalUi)
                    .with_process(&process.id_hash),
            )
            .await;
        }
        let raw: serde_json::Value = serde_json::from_str(&req.assertion_response)
            .map_err(|_| ConnectError::validation(FIELD, "is not a JSON PublicKeyCredential"))?;
        let attachment = raw
            .get("authenticatorAttachment")
            .and_then(|v| v.as_str())
            .map(str::to_string);
        let credential: PublicKeyCredential = serde_json::from_value(raw).map_err(|err| {
            ConnectError::validation(FIELD, format!("is not a PublicKeyCredential: {err}"))
        })?;
        let slot = if req.is_conditional_ui {
            Slot::LoginConditional
        } else {
            Slot::Login
        };
        let Some(challenge) = self.take_challenge(&process.id_hash, slot).await? else {
            // Finished already (a replayed assertion), expired, or never started.
            self.record(
                Event::new(EventType::PasskeyLoginFailed)
                    .with_reason(Reason::Replay)
                    .with_process(&process.id_hash)
                    .with_detail("no pending challenge"),
            )
            .await;
            return Err(ConnectError::validation(
                FIELD,
                "no passkey login is pending in this process (it expired, was already \
                 finished, or was never started)",
            ));
        };
        let (user, stored, result) = match challenge.ceremony {
            Ceremony::Authentication => {
                self.finish_known_user(&process, &challenge, &credential)
                    .await?
            }
            Ceremony::Discoverable => {
                self.finish_discoverable(&process, &challenge, &credential)
                    .await?
            }
            Ceremony::Registration => {
                return Err(ConnectError::internal(
                    "login finish",
                    "a registration challenge in a login slot",
                ))
            }
        };
        match self.record_login(&stored, &result).await? {
            LoginUpdate::Written => {}
            LoginUpdate::CounterRegression {
                stored: old,
                presented,
            } => {
                return Err(self
                    .counter_regression(
                        &process,
                        &stored,
                        &format!("stored {old}, presented {presented}"),
                    )
                    .await);
            }
        }
        // Unknown when the browser reported no attachment (older browsers).
        let from_another_device = match attachment.as_deref() {
            Some("cross-platform") => Some(true),
            Some("platform") => Some(false),
            _ => None,
        };
        let cross_device = from_another_device == Some(true);
        let signed_passkey_data = self
            .issue_signed_data(LoginProof {
                process_id_hash: &process.id_hash,
                user_id: &user.id,
                identifier: &user.identifier,
                credential_id: &stored.id,
                challenge_id: &challenge.id,
                is_cui: req.is_conditional_ui,
                cross_device: from_another_device,
            })
            .await?;
        self.record_last_login(&process.client_hash, &user.id, cross_device)
            .await?;
        tracing::info!(user = %user.id, credential = %stored.id, cui = req.is_conditional_ui, "passkey login");
        let signal_details = self.signal_details(&user, &self.credentials_of(&user.id).await?);
        self.record(
            Event::new(EventType::PasskeyLoginCompleted)
                .with_account(&user.identifier)
                .with_credential(&stored.id)
                .with_process(&process.id_hash),
        )
        .await;
        Ok(LoginFinishRsp {
            signed_passkey_data,
            session: String::new(),
            passkey_operation: Some(PasskeyOperation {
                operation_type: "verify".to_string(),
                identifier_value: user.display_name.clone(),
                identifier_type: identifier_type(&user.display_name).to_string(),
                ceremony_type: ceremony_type(attachment.as_deref(), &stored.transports).to_string(),
                aaguid_details: Some(self.settings().providers.details(&stored.aaguid)),
            }),
            fallback_operation_error: None,
            signal_details,
        })
    }

    /// The stored credential the response names; unknown credentials are a 404 (the client
    /// reads it as "this passkey was deleted").
    async fn presented_credential(
        &self,
        process: &ProcessRow,
        credential: &PublicKeyCredential,
    ) -> Result<CredentialRow, ConnectError> {
        let id = encode_credential_id(credential.get_credential_id());
        if let Some(stored) = self.credential_by_credential_id(&id).await? {
            return Ok(stored);
        }
        let reason = if self.events().was_deleted(&id).await {
            Reason::DeletedPasskey
        } else {
            Reason::UnknownCredential
        };
        self.record(
            Event::new(EventType::PasskeyLoginFailed)
                .with_reason(reason)
                .with_process(&process.id_hash)
                .with_detail(&id),
        )
        .await;
        Err(ConnectError::not_found(
            "this passkey is not registered (any more)",
        ))
    }

    /// Identifier-first or one-tap: the challenge is bound to a user, and the passkey must be
    /// one of theirs.
    async fn finish_known_user(
        &self,
        process: &ProcessRow,
        challenge: &TakenChallenge,
        credential: &PublicKeyCredential,
    ) -> Result<(UserRow, CredentialRow, AuthenticationResult), ConnectError> {
        let stored = self.presented_credential(process, credential).await?;
        let user_id = challenge.user_id.as_deref().unwrap_or_default();
        if stored.user_id != user_id {
            return Err(self
                .user_mismatch(process, &stored, "credential of another user")
                .await);
        }
        let state: Authentication = serde_json::from_str(&challenge.state)
            .map_err(|err| ConnectError::internal("stored login state", err))?;
        let result = match self.ceremonies().finish_login(credential, &state) {
            Ok(result) => result,
            Err(err) => return Err(self.login_refused(process, &stored, &err).await),
        };
        let user = self
            .user_by_id(&stored.user_id)
            .await?
            .ok_or_else(|| ConnectError::not_found("this passkey's user no longer exists"))?;
        Ok((user, stored, result))
    }

    /// Conditional UI or identifier-less: the user comes from the credential's user handle,
    /// and must be the credential's owner.
    async fn finish_discoverable(
        &self,
        process: &ProcessRow,
        challenge: &TakenChallenge,
        credential: &PublicKeyCredential,
    ) -> Result<(UserRow, CredentialRow, AuthenticationResult), ConnectError> {
        let handle = self
            .ceremonies()
            .identify(credential)
            .map_err(|err| refused("assertionResponse", &err))?;
        let stored = self.presented_credential(process, credential).await?;
        let user = self.user_by_webauthn_id(handle).await?;
        let user = match user {
            Some(user) if user.id == stored.user_id => user,
            _ => {
                return Err(self
                    .user_mismatch(process, &stored, "user handle mismatch")
                    .await)
            }
        };
        let state: Authentication = serde_json::from_str(&challenge.state)
            .map_err(|err| ConnectError::internal("stored login state", err))?;
        let result =
            match self
                .ceremonies()
                .finish_discoverable_login(credential, &state, &stored.passkey)
            {
                Ok(result) => result,
                Err(err) => return Err(self.login_refused(process, &stored, &err).await),
            };
        Ok((user, stored, result))
    }

    async fn login_refused(
        &self,
        process: &ProcessRow,
        stored: &CredentialRow,
        err: &WebauthnError,
    ) -> ConnectError {
        if matches!(err, WebauthnError::CredentialPossibleCompromise) {
            return self
                .counter_regression(process, stored, "counter not above the stored value")
                .await;
        }
        let mut event = Event::new(EventType::PasskeyLoginFailed)
            .with_reason(Reason::Invalid)
            .with_credential(&stored.id)
            .with_process(&process.id_hash)
            .with_detail(&err.to_string());
        let account = self.account_of(&stored.user_id).await;
        if let Some(account) = &account {
            event = event.with_account(account);
        }
        self.record(event).await;
        self.passkey_failed(process, &stored.aaguid, account.as_deref())
            .await;
        refused("assertionResponse", err)
    }

    /// Records and refuses a counter that did not move forward (a cloned authenticator or a
    /// replayed assertion).
    async fn counter_regression(
        &self,
        process: &ProcessRow,
        stored: &CredentialRow,
        detail: &str,
    ) -> ConnectError {
        tracing::warn!(credential = %stored.id, user = %stored.user_id, detail, "passkey counter regression refused");
        self.refuse_recorded(
            Reason::CounterRegression,
            process,
            stored,
            detail,
            "the passkey's signature counter went backwards; it may have been cloned",
        )
        .await
    }

    async fn user_mismatch(
        &self,
        process: &ProcessRow,
        stored: &CredentialRow,
        detail: &str,
    ) -> ConnectError {
        tracing::warn!(credential = %stored.id, detail, "passkey presented for the wrong user");
        self.refuse_recorded(
            Reason::UserMismatch,
            process,
            stored,
            detail,
            "this passkey does not belong to the user being signed in",
        )
        .await
    }

    /// `passkey-login.fell-back`: this attempt goes on to the password.
    async fn fell_back(&self, process: &ProcessRow, reason: Reason) {
        self.record(
            Event::new(EventType::PasskeyLoginFellBack)
                .with_reason(reason)
                .with_process(&process.id_hash),
        )
        .await;
    }

    /// Records a refused assertion as an event, then answers it as a validation error.
    async fn refuse_recorded(
        &self,
        reason: Reason,
        process: &ProcessRow,
        stored: &CredentialRow,
        detail: &str,
        message: &str,
    ) -> ConnectError {
        let mut event = Event::new(EventType::PasskeyLoginFailed)
            .with_reason(reason)
            .with_credential(&stored.id)
            .with_process(&process.id_hash)
            .with_detail(detail);
        let account = self.account_of(&stored.user_id).await;
        if let Some(account) = &account {
            event = event.with_account(account);
        }
        self.record(event).await;
        self.passkey_failed(process, &stored.aaguid, account.as_deref())
            .await;
        ConnectError::validation("assertionResponse", message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceremony_types_follow_the_attachment_and_transports() {
        assert_eq!(ceremony_type(Some("platform"), &[]), "local");
        assert_eq!(ceremony_type(None, &["internal".into()]), "local");
        assert_eq!(
            ceremony_type(
                Some("cross-platform"),
                &["hybrid".into(), "internal".into()]
            ),
            "cda"
        );
        assert_eq!(
            ceremony_type(Some("cross-platform"), &["usb".into(), "nfc".into()]),
            "security-key"
        );
    }

    #[test]
    fn identifier_types() {
        assert_eq!(identifier_type("a@example.com"), "email");
        assert_eq!(identifier_type("acc_123"), "username");
    }
}
