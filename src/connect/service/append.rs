//! Passkey enrolment (`/v2/connect/append/…`) for a user the backend vouched for with a
//! `passkey-append` connect token. Start asks passkey intelligence whether to offer a passkey
//! at all (rollout, a passkey already on this browser, no platform authenticator) and returns
//! creation options: discoverable credential required, user verification as configured
//! (required by default), no attestation, every passkey of the user excluded. Finish lets webauthn-rs verify and stores
//! the passkey; a credential id that already exists is refused.

use std::collections::BTreeMap;

use webauthn_rs::prelude::{CredentialID, RegisterPublicKeyCredential, Uuid};

use super::ceremonies::Registration;
use super::challenges::{Ceremony, Slot};
use super::clients::LastLogin;
use super::conditional_create;
use super::credentials::{encode_credential_id, CredentialRow};
use super::login::{identifier_type, options_json, refused};
use super::policy::NewPasskey;
use super::{new_id, ConnectError, ConnectService};
use crate::connect::api::{
    AppendFinishReq, AppendFinishRsp, AppendInitRsp, AppendSkipReason, AppendStartReq,
    AppendStartRsp, AppendVariant, ConnectTokenType, InitReq, PasskeyOperation,
    COMPLETION_CONDITIONAL,
};
use crate::connect::decisions::{self, AppendDecision, Browser, BrowserAppendFacts};
use crate::events::{Event, EventType, Reason};

/// The AAGUID of an authenticator, from the authenticator data of a registration that
/// webauthn-rs has already verified; all zeros when it sends none.
fn aaguid_of(registration: &RegisterPublicKeyCredential) -> Uuid {
    use webauthn_rs_core::internals::AuthenticatorData;
    use webauthn_rs_core::proto::Registration;
    let zero = Uuid::nil();
    let Ok(serde_cbor_2::Value::Map(map)) = serde_cbor_2::from_slice::<serde_cbor_2::Value>(
        registration.response.attestation_object.as_ref(),
    ) else {
        return zero;
    };
    let auth_data = map.iter().find_map(|(key, value)| match (key, value) {
        (serde_cbor_2::Value::Text(key), serde_cbor_2::Value::Bytes(bytes))
            if key == "authData" =>
        {
            Some(bytes)
        }
        _ => None,
    });
    auth_data
        .and_then(|bytes| AuthenticatorData::<Registration>::try_from(bytes.as_slice()).ok())
        .and_then(|data| data.acd)
        .map(|acd| Uuid::from_bytes(acd.aaguid))
        .unwrap_or(zero)
}

fn skip(reason: AppendSkipReason) -> AppendStartRsp {
    AppendStartRsp::without_offer(Some(reason))
}

/// A decision's reason as the append API names it.
fn skip_reason(reason: Reason) -> AppendSkipReason {
    match reason {
        Reason::PasskeyOnThisDevice => AppendSkipReason::PasskeyOnThisClient,
        Reason::NoPlatformAuthenticator => AppendSkipReason::NoPlatformAuthenticator,
        _ => AppendSkipReason::RolloutDenied,
    }
}

impl ConnectService {
    /// `POST /v2/connect/append/init`.
    pub async fn append_init(
        &self,
        req: &InitReq,
        user_agent: Option<&str>,
    ) -> Result<AppendInitRsp, ConnectError> {
        let created = self.create_process(req, user_agent).await?;
        Ok(AppendInitRsp {
            process_id: created.id,
            expires_at: created.row.expires_at,
            frontend_api_url: self.frontend_api_url(),
            append_allowed: created.row.append_allowed,
            flags: BTreeMap::new(),
            new_client_env_handle: created.client.new_handle,
        })
    }

    /// `POST /v2/connect/append/start`.
    pub async fn append_start(
        &self,
        process_id: Option<&str>,
        req: &AppendStartReq,
    ) -> Result<AppendStartRsp, ConnectError> {
        let process = self.process(process_id).await?;
        let grant = self
            .consume_connect_token(
                "appendTokenValue",
                &req.append_token_value,
                ConnectTokenType::PasskeyAppend,
            )
            .await?;
        let passkeys_enabled = self.live_settings().current().passkeys_enabled;
        let person_asked = req.force_passkey_append.unwrap_or(false);
        let record = |decision: AppendDecision| {
            self.record(
                Event::new(EventType::PasskeyDecision)
                    .with_reason(decision.reason())
                    .with_process(&process.id_hash)
                    .with_account(&grant.identifier)
                    .with_detail(decision.describe()),
            )
        };
        // Switched off or outside the rollout: no account lookups (and no user row) at all.
        if let Some(decision @ AppendDecision::Skip(reason)) = decisions::append_without_account(
            passkeys_enabled,
            process.append_allowed,
            person_asked,
        ) {
            record(decision).await;
            return Ok(skip(skip_reason(reason)));
        }
        let user = self
            .ensure_user(&grant.identifier, &grant.display_name)
            .await?;
        let credentials = self.credentials_of(&user.id).await?;
        // After a password login too, the browser's password manager learns which of the
        // user's passkeys the site still accepts.
        let signal_details = self.signal_details(&user, &credentials);
        let last = self.last_login_on(&process.client_hash).await?;
        let decision = decisions::append_on_browser(&BrowserAppendFacts {
            passkeys_enabled,
            in_rollout: process.append_allowed,
            person_asked,
            browser: Browser {
                platform_authenticator: process.platform_authenticator,
                conditional_create: Some(process.conditional_create),
                ..Browser::default()
            },
            passkey_made_here: credentials
                .iter()
                .any(|c| c.created_client == process.client_hash),
            last_login_here: LastLogin::as_seen_by(last.as_ref(), &user.id),
            account_passkeys: credentials.len(),
            automatic_upgrade: self.settings().automatic_upgrade,
        });
        record(decision).await;
        let (variant, automatic) = match decision {
            AppendDecision::Offer {
                after_hybrid,
                automatic,
                ..
            } => (
                if after_hybrid {
                    AppendVariant::AfterHybrid
                } else {
                    AppendVariant::Default
                },
                automatic,
            ),
            AppendDecision::Skip(reason) => {
                return Ok(AppendStartRsp {
                    signal_details,
                    ..skip(skip_reason(reason))
                })
            }
        };
        let exclude: Vec<CredentialID> = credentials
            .iter()
            .map(|c| c.passkey.cred_id().clone())
            .collect();
        let (options, state) = self
            .ceremonies()
            .start_registration(
                user.webauthn_user_id,
                &user.display_name,
                exclude.clone(),
                false,
            )
            .map_err(|err| ConnectError::internal("starting a passkey registration", err))?;
        let (_, expires_at) = self
            .put_challenge(
                &process.id_hash,
                Slot::Append,
                Ceremony::Registration,
                Some(&user.id),
                &state,
            )
            .await?;
        // The automatic upgrade gets a challenge of its own: its ceremony accepts what the
        // offer's must not (no presence, no verification).
        let conditional_attestation_options = if automatic {
            let (options, state) = self
                .ceremonies()
                .start_registration(user.webauthn_user_id, &user.display_name, exclude, true)
                .map_err(|err| ConnectError::internal("starting a conditional create", err))?;
            self.put_challenge(
                &process.id_hash,
                Slot::AppendConditional,
                Ceremony::Registration,
                Some(&user.id),
                &state,
            )
            .await?;
            options_json(&options)?
        } else {
            String::new()
        };
        Ok(AppendStartRsp {
            attestation_options: options_json(&options)?,
            variant,
            is_restricted_browser: false,
            auto_append: false,
            conditional_append: automatic,
            conditional_attestation_options,
            expires_ms: expires_at * 1000,
            custom_data: None,
            reason: None,
            signal_details,
        })
    }

    /// `POST /v2/connect/append/finish`.
    pub async fn append_finish(
        &self,
        process_id: Option<&str>,
        req: &AppendFinishReq,
    ) -> Result<AppendFinishRsp, ConnectError> {
        const FIELD: &str = "attestationResponse";
        let process = self.process(process_id).await?;
        let registration: RegisterPublicKeyCredential =
            serde_json::from_str(&req.attestation_response).map_err(|err| {
                ConnectError::validation(FIELD, format!("is not a PublicKeyCredential: {err}"))
            })?;
        let automatic = req.completion_type.as_deref() == Some(COMPLETION_CONDITIONAL);
        let slot = if automatic {
            Slot::AppendConditional
        } else {
            Slot::Append
        };
        let challenge = self
            .take_challenge(&process.id_hash, slot)
            .await?
            .ok_or_else(|| {
                ConnectError::validation(
                    FIELD,
                    "no passkey creation is pending in this process (it expired, was already \
                     finished, or was never started)",
                )
            })?;
        let state: Registration = serde_json::from_str(&challenge.state)
            .map_err(|err| ConnectError::internal("stored registration state", err))?;
        let passkey = if automatic {
            conditional_create::finish(self.ceremonies(), &registration, &state)?
        } else {
            self.ceremonies()
                .finish_registration(&registration, &state)
                .map_err(|err| refused(FIELD, &err))?
        };
        let user_id = challenge.user_id.as_deref().unwrap_or_default();
        let user = self
            .user_by_id(user_id)
            .await?
            .ok_or_else(|| ConnectError::internal("append finish", "the user vanished"))?;
        let details = webauthn_rs::prelude::Credential::from(passkey.clone());
        let aaguid = aaguid_of(&registration);
        let credential_id = encode_credential_id(passkey.cred_id());
        let new = NewPasskey {
            aaguid,
            backup_eligible: details.backup_eligible,
        };
        if let Err(refusal) = self.settings().authenticator_policy.check(new) {
            tracing::info!(user = %user.id, %aaguid, ?refusal, "new passkey refused by the authenticator policy");
            self.record(
                Event::new(EventType::PasskeyCreationFailed)
                    .with_reason(refusal.reason())
                    .with_account(&user.identifier)
                    .with_process(&process.id_hash)
                    .with_detail(&credential_id),
            )
            .await;
            let unknown_credential = self
                .credential_by_credential_id(&credential_id)
                .await?
                .is_none();
            return Err(ConnectError::PolicyRefused {
                message: refusal.sentence(&self.settings().providers),
                unknown_credential,
            });
        }
        // Transports are display hints (tags, ceremony type). webauthn-rs keeps them only
        // from attested registrations; with attestation "none" take what the browser said.
        let transports = details
            .transports
            .clone()
            .or_else(|| registration.response.transports.clone())
            .iter()
            .flatten()
            .filter_map(|t| serde_json::to_value(t).ok())
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        let row = CredentialRow {
            id: new_id("cre"),
            user_id: user.id.clone(),
            credential_id,
            aaguid: aaguid.to_string(),
            transports,
            backup_eligible: details.backup_eligible,
            backup_state: details.backup_state,
            sign_count: i64::from(details.counter),
            created_at: self.now(),
            created_browser: process.browser.clone(),
            created_os: process.os.clone(),
            created_client: process.client_hash.clone(),
            last_used_at: None,
            name: String::new(),
            passkey,
        };
        self.insert_credential(&row).await?;
        tracing::info!(user = %user.id, credential = %row.id, automatic, "passkey created");
        let mut created = Event::new(EventType::PasskeyCreated)
            .with_account(&user.identifier)
            .with_credential(&row.id)
            .with_process(&process.id_hash)
            .with_detail(&row.credential_id);
        if automatic {
            created = created.with_reason(Reason::Automatic);
        }
        self.record(created).await;
        Ok(AppendFinishRsp {
            passkey_operation: PasskeyOperation {
                operation_type: "append".to_string(),
                identifier_value: user.display_name.clone(),
                identifier_type: identifier_type(&user.display_name).to_string(),
                ceremony_type: "local".to_string(),
                aaguid_details: Some(self.settings().providers.details(&row.aaguid)),
            },
        })
    }
}
