//! The WebAuthn ceremonies, as webauthn-rs's passkey API runs them, with one thing it fixes
//! and we make a setting: whether the person must be verified (`require-user-verification`,
//! on by default; off asks for verification as "preferred" and accepts a touch).
//!
//! webauthn-rs's `Webauthn` always asks for user verification, so these call the same
//! webauthn-rs-core builders it calls (same extensions, algorithms and flags; only the policy
//! differs) and keep the states in its JSON shape (`{"rs": …}`, `{"ast": …}`), so challenges
//! stored by either read the same. Verification itself stays webauthn-rs-core's. One rule of
//! webauthn-rs-core holds whatever the setting: a passkey that verified the person when it was
//! made must verify them at every login (no silent downgrade).

use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    AuthenticationResult, Credential, CredentialID, Passkey, PublicKeyCredential,
    RegisterPublicKeyCredential, Uuid, WebauthnError,
};
use webauthn_rs_core::proto::{
    AttestationConveyancePreference, AuthenticationState, COSEAlgorithm, CreationChallengeResponse,
    CredProtect, CredentialProtectionPolicy, RegistrationState, RequestAuthenticationExtensions,
    RequestChallengeResponse, RequestRegistrationExtensions, ResidentKeyRequirement,
    UserVerificationPolicy,
};
use webauthn_rs_core::WebauthnCore;

/// A pending registration (the JSON of webauthn-rs's `PasskeyRegistration`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Registration {
    rs: RegistrationState,
}

/// A pending login, for a known user or discoverable (the JSON of webauthn-rs's
/// `PasskeyAuthentication` and `DiscoverableAuthentication`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Authentication {
    ast: AuthenticationState,
}

/// The relying party's ceremonies with its user-verification rule.
pub struct Ceremonies {
    core: WebauthnCore,
    policy: UserVerificationPolicy,
}

impl Ceremonies {
    /// `require_user_verification`: the `require-user-verification` setting.
    pub fn new(core: WebauthnCore, require_user_verification: bool) -> Self {
        Self {
            core,
            policy: if require_user_verification {
                UserVerificationPolicy::Required
            } else {
                UserVerificationPolicy::Preferred
            },
        }
    }

    /// What logins and the offer's registrations ask for.
    pub fn policy(&self) -> UserVerificationPolicy {
        self.policy
    }

    /// Creation options for a discoverable passkey for `user_id`, every passkey in `exclude`
    /// excluded. `conditional`: for the automatic upgrade, which asks for no verification
    /// whatever the setting (the browser asks the authenticator for none).
    pub fn start_registration(
        &self,
        user_id: Uuid,
        name: &str,
        exclude: Vec<CredentialID>,
        conditional: bool,
    ) -> Result<(CreationChallengeResponse, Registration), WebauthnError> {
        let policy = if conditional {
            UserVerificationPolicy::Preferred
        } else {
            self.policy()
        };
        let extensions = RequestRegistrationExtensions {
            cred_protect: Some(CredProtect {
                credential_protection_policy: CredentialProtectionPolicy::UserVerificationRequired,
                enforce_credential_protection_policy: Some(false),
            }),
            uvm: Some(true),
            cred_props: Some(true),
            min_pin_length: None,
            hmac_create_secret: None,
        };
        let builder = self
            .core
            .new_challenge_register_builder(user_id.as_bytes(), name, name)?
            .attestation(AttestationConveyancePreference::None)
            .credential_algorithms(COSEAlgorithm::secure_algs())
            .require_resident_key(true)
            .authenticator_attachment(None)
            .user_verification_policy(policy)
            .reject_synchronised_authenticators(false)
            .exclude_credentials(Some(exclude))
            .hints(None)
            .extensions(Some(extensions));
        let (mut options, rs) = self.core.generate_challenge_register(builder)?;
        // Conditional UI, one-tap and the identifier-less button all need a discoverable
        // credential.
        if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
            selection.resident_key = Some(ResidentKeyRequirement::Required);
            selection.require_resident_key = true;
        }
        Ok((options, Registration { rs }))
    }

    pub fn finish_registration(
        &self,
        registration: &RegisterPublicKeyCredential,
        state: &Registration,
    ) -> Result<Passkey, WebauthnError> {
        self.core
            .register_credential(registration, &state.rs, None)
            .map(Passkey::from)
    }

    /// Request options listing `passkeys` (identifier-first and one-tap).
    pub fn start_login(
        &self,
        passkeys: &[Passkey],
    ) -> Result<(RequestChallengeResponse, Authentication), WebauthnError> {
        let credentials = passkeys.iter().cloned().map(Credential::from).collect();
        let builder = self
            .core
            .new_challenge_authenticate_builder(credentials, Some(self.policy()))?
            .extensions(None)
            .allow_backup_eligible_upgrade(true)
            .hints(None);
        let (options, ast) = self.core.generate_challenge_authenticate(builder)?;
        Ok((options, Authentication { ast }))
    }

    /// Request options for any discoverable passkey of this RP (autofill, the passkey
    /// button, decoys). Modal: callers that want autofill say so in the browser.
    pub fn start_discoverable_login(
        &self,
    ) -> Result<(RequestChallengeResponse, Authentication), WebauthnError> {
        let builder = self
            .core
            .new_challenge_authenticate_builder(Vec::new(), Some(self.policy()))?
            .extensions(Some(RequestAuthenticationExtensions {
                appid: None,
                uvm: Some(true),
                hmac_get_secret: None,
            }))
            .allow_backup_eligible_upgrade(false)
            .hints(None);
        let (options, ast) = self.core.generate_challenge_authenticate(builder)?;
        Ok((options, Authentication { ast }))
    }

    /// The user handle (webauthn user id) a discoverable login names; verified later, with
    /// the rest, against the passkey it names.
    pub fn identify(&self, credential: &PublicKeyCredential) -> Result<Uuid, WebauthnError> {
        credential
            .get_user_unique_id()
            .and_then(|bytes| Uuid::from_slice(bytes).ok())
            .ok_or(WebauthnError::InvalidUserUniqueId)
    }

    /// Verifies a login for a known user against its state.
    pub fn finish_login(
        &self,
        credential: &PublicKeyCredential,
        state: &Authentication,
    ) -> Result<AuthenticationResult, WebauthnError> {
        self.core.authenticate_credential(credential, &state.ast)
    }

    /// Verifies a discoverable login against its state and the passkey it named.
    pub fn finish_discoverable_login(
        &self,
        credential: &PublicKeyCredential,
        state: &Authentication,
        passkey: &Passkey,
    ) -> Result<AuthenticationResult, WebauthnError> {
        let stored = Credential::from(passkey.clone());
        self.core
            .authenticate_single_credential(credential, &state.ast, &stored)
    }
}
