//! A software authenticator for tests: webauthn-authenticator-rs's `SoftPasskey` does the
//! keys and signatures; this wrapper plays the browser (client data, `toJSON()` form) and
//! keeps each credential's user handle as a resident credential would.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::AuthenticatorBackendHashedClientData;
use webauthn_rs::prelude::{
    CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse,
};
use webauthn_rs_core::proto::{AllowCredentials, UserVerificationPolicy};

/// The origin the authenticator's browser reports unless told otherwise.
pub const DEFAULT_ORIGIN: &str = "http://localhost:3000";

/// Changes a test authenticator makes to one assertion, each breaking one WebAuthn rule.
#[derive(Debug, Clone, Default)]
pub struct Tweak {
    pub origin: Option<String>,
    pub client_data_type: Option<String>,
    pub rp_id: Option<String>,
    pub challenge: Option<Vec<u8>>,
    pub without_user_verification: bool,
    /// Answer with this credential (one the authenticator holds) whatever was asked.
    pub credential: Option<Vec<u8>>,
    pub user_handle: Option<Vec<u8>>,
    /// `authenticatorAttachment` to report (`platform` when unset).
    pub attachment: Option<&'static str>,
}

/// One flaw at a time, for the tests of each check.
impl Tweak {
    pub fn challenge(challenge: Vec<u8>) -> Self {
        Self {
            challenge: Some(challenge),
            ..Self::default()
        }
    }

    pub fn origin(origin: &str) -> Self {
        Self {
            origin: Some(origin.into()),
            ..Self::default()
        }
    }

    pub fn rp_id(rp_id: &str) -> Self {
        Self {
            rp_id: Some(rp_id.into()),
            ..Self::default()
        }
    }

    pub fn client_data_type(kind: &str) -> Self {
        Self {
            client_data_type: Some(kind.into()),
            ..Self::default()
        }
    }

    pub fn without_user_verification() -> Self {
        Self {
            without_user_verification: true,
            ..Self::default()
        }
    }
}

/// A software authenticator: `SoftPasskey` does the keys and signatures; this wrapper builds
/// the client data as a browser does and keeps each credential's user handle, as a resident
/// (discoverable) credential would, so discoverable logins work too. (`SoftPasskey` itself
/// refuses `requireResidentKey` and returns no user handle.)
pub struct TestPasskey {
    soft: SoftPasskey,
    origin: String,
    /// Credential id → user handle, oldest first.
    credentials: Vec<(Vec<u8>, Vec<u8>)>,
    /// The last creation options received (to check what the service asked for).
    pub last_creation_options: Option<Value>,
}

fn client_data(kind: &str, challenge: &[u8], origin: &str) -> Vec<u8> {
    json!({
        "type": kind,
        "challenge": URL_SAFE_NO_PAD.encode(challenge),
        "origin": origin,
        "crossOrigin": false,
    })
    .to_string()
    .into_bytes()
}

impl Default for TestPasskey {
    fn default() -> Self {
        Self::new()
    }
}

impl TestPasskey {
    pub fn new() -> Self {
        Self {
            // "falsify UV": the soft token reports user verification when asked for it.
            soft: SoftPasskey::new(true),
            origin: DEFAULT_ORIGIN.to_string(),
            credentials: Vec::new(),
            last_creation_options: None,
        }
    }

    /// An authenticator in a browser on another origin than [`DEFAULT_ORIGIN`].
    pub fn for_origin(origin: &str) -> Self {
        Self {
            origin: origin.to_string(),
            ..Self::new()
        }
    }

    /// The newest credential's id.
    pub fn newest_credential(&self) -> Vec<u8> {
        self.credentials.last().expect("a credential").0.clone()
    }

    pub fn credential_ids(&self) -> Vec<Vec<u8>> {
        self.credentials.iter().map(|(id, _)| id.clone()).collect()
    }

    pub fn user_handle_of(&self, credential: &[u8]) -> Vec<u8> {
        self.credentials
            .iter()
            .find(|(id, _)| id == credential)
            .expect("a credential of this authenticator")
            .1
            .clone()
    }

    /// `navigator.credentials.create()` with the service's creation options; returns the
    /// credential as JSON (`toJSON()` form).
    pub fn register(&mut self, options_json: &str) -> String {
        self.last_creation_options = serde_json::from_str(options_json).ok();
        let options: CreationChallengeResponse =
            serde_json::from_str(options_json).expect("creation options");
        let mut options = options.public_key;
        let user_handle = options.user.id.to_vec();
        if let Some(selection) = options.authenticator_selection.as_mut() {
            selection.require_resident_key = false;
            selection.resident_key = None;
        }
        let data = client_data("webauthn.create", &options.challenge, &self.origin);
        let hash = Sha256::digest(&data).to_vec();
        let mut credential: RegisterPublicKeyCredential =
            AuthenticatorBackendHashedClientData::perform_register(
                &mut self.soft,
                hash,
                options,
                60_000,
            )
            .expect("soft passkey registers");
        credential.response.client_data_json = data;
        self.credentials
            .push((credential.raw_id.to_vec(), user_handle));
        let mut json = serde_json::to_value(&credential).expect("JSON");
        json["authenticatorAttachment"] = json!("platform");
        // As Chromium's `toJSON()` reports them.
        json["response"]["transports"] = json!(["hybrid", "internal"]);
        json.to_string()
    }

    /// `navigator.credentials.get()` with the service's request options (after `tweak`);
    /// returns the assertion as JSON.
    pub fn login(&mut self, options_json: &str, tweak: &Tweak) -> String {
        let options: RequestChallengeResponse =
            serde_json::from_str(options_json).expect("request options");
        let mut options = options.public_key;
        let chosen = match &tweak.credential {
            Some(id) => id.clone(),
            None if options.allow_credentials.is_empty() => self.newest_credential(),
            None => options
                .allow_credentials
                .iter()
                .map(|c| c.id.to_vec())
                .find(|id| self.credentials.iter().any(|(mine, _)| mine == id))
                .expect("the authenticator holds an allowed credential"),
        };
        options.allow_credentials = vec![AllowCredentials {
            type_: "public-key".to_string(),
            id: chosen.clone(),
            transports: None,
        }];
        if tweak.without_user_verification {
            options.user_verification = UserVerificationPolicy::Preferred;
        }
        if let Some(rp_id) = &tweak.rp_id {
            options.rp_id = rp_id.clone();
        }
        let challenge = tweak
            .challenge
            .clone()
            .unwrap_or_else(|| options.challenge.to_vec());
        let data = client_data(
            tweak.client_data_type.as_deref().unwrap_or("webauthn.get"),
            &challenge,
            tweak.origin.as_deref().unwrap_or(&self.origin),
        );
        let hash = Sha256::digest(&data).to_vec();
        let mut assertion: PublicKeyCredential =
            AuthenticatorBackendHashedClientData::perform_auth(
                &mut self.soft,
                hash,
                options,
                60_000,
            )
            .expect("soft passkey signs");
        assertion.response.client_data_json = data;
        assertion.response.user_handle = Some(
            tweak
                .user_handle
                .clone()
                .unwrap_or_else(|| self.user_handle_of(&chosen)),
        );
        let mut json = serde_json::to_value(&assertion).expect("JSON");
        json["authenticatorAttachment"] = json!(tweak.attachment.unwrap_or("platform"));
        json.to_string()
    }
}

/// The user present flag of authenticator data.
pub const FLAG_USER_PRESENT: u8 = 0x01;
/// The user verified flag of authenticator data.
pub const FLAG_USER_VERIFIED: u8 = 0x04;

/// A registration (`register`'s JSON) as a browser passes it on with attestation "none"
/// (browsers drop any other statement when the options ask for none, as ours do), with the
/// authenticator-data `flags` in `cleared` unset: an authenticator that did not check
/// presence or verification.
pub fn registration_without(response: &str, cleared: u8) -> String {
    use serde_cbor_2::Value as Cbor;
    let mut json: Value = serde_json::from_str(response).expect("registration JSON");
    let encoded = json["response"]["attestationObject"]
        .as_str()
        .expect("attestationObject");
    let decoded = URL_SAFE_NO_PAD.decode(encoded).expect("base64url");
    let Cbor::Map(mut object) = serde_cbor_2::from_slice(&decoded).expect("CBOR") else {
        panic!("the attestation object is not a map")
    };
    match object.get_mut(&Cbor::Text("authData".into())) {
        Some(Cbor::Bytes(data)) => data[32] &= !cleared,
        other => panic!("no authenticator data: {other:?}"),
    }
    object.insert(Cbor::Text("fmt".into()), Cbor::Text("none".into()));
    object.insert(Cbor::Text("attStmt".into()), Cbor::Map(Default::default()));
    let bytes = serde_cbor_2::to_vec(&Cbor::Map(object)).expect("CBOR");
    json["response"]["attestationObject"] = json!(URL_SAFE_NO_PAD.encode(bytes));
    json.to_string()
}
