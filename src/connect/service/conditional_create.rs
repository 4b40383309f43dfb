//! Automatic passkey upgrade: the registration ceremony for conditional create
//! (`navigator.credentials.create({mediation: "conditional"})`), which the browser's password
//! manager completes without a dialog right after it filled a password.
//!
//! Two things differ from the modal ceremony, as WebAuthn Level 3 says they must: the browser
//! asks the authenticator for neither user presence nor user verification, so the options ask
//! for verification as "preferred" ([`Ceremonies::start_registration`] with `conditional`)
//! and the relying party skips the user-present check (§7.1, step "if mediation is not
//! conditional, verify that UP is set"). webauthn-rs 0.6 has no switch for that step, so [`mark_present`] sets the UP flag before webauthn-rs verifies the
//! rest, and only where that changes no signed claim: the challenge was issued for conditional
//! create (its own slot), and the attestation format is `none`, which signs nothing (with any
//! other format the flags are covered by a signature and stay as the authenticator wrote them).
//! Everything else (challenge, origin, RP ID hash, algorithm, excluded credentials) is
//! webauthn-rs's usual check.

use serde_cbor_2::Value;
use webauthn_rs::prelude::{Passkey, RegisterPublicKeyCredential};

use super::ceremonies::{Ceremonies, Registration};
use super::ConnectError;

/// The User Present bit of the authenticator data's flags.
const FLAG_USER_PRESENT: u8 = 0x01;
/// The flags byte follows the 32-byte RP ID hash.
const FLAGS_OFFSET: usize = 32;

/// Verifies a conditional create's registration against its state (started with
/// [`Ceremonies::start_registration`] for a conditional create).
pub fn finish(
    ceremonies: &Ceremonies,
    registration: &RegisterPublicKeyCredential,
    state: &Registration,
) -> Result<Passkey, ConnectError> {
    let registration = mark_present(registration)?;
    ceremonies
        .finish_registration(&registration, state)
        .map_err(|err| super::login::refused("attestationResponse", &err))
}

/// The registration with the UP flag set in its authenticator data, for attestation `none`
/// only (see the module's note); any other format is refused.
pub fn mark_present(
    registration: &RegisterPublicKeyCredential,
) -> Result<RegisterPublicKeyCredential, ConnectError> {
    let invalid = |why: &str| ConnectError::validation("attestationResponse", why);
    let object: Value = serde_cbor_2::from_slice(registration.response.attestation_object.as_ref())
        .map_err(|_| invalid("the attestation object is not CBOR"))?;
    let Value::Map(mut map) = object else {
        return Err(invalid("the attestation object is not a map"));
    };
    let text = |key: &str| Value::Text(key.to_string());
    if map.get(&text("fmt")) != Some(&text("none")) {
        return Err(invalid(
            "a passkey made without a dialog must come with attestation \"none\"",
        ));
    }
    let Some(Value::Bytes(auth_data)) = map.get_mut(&text("authData")) else {
        return Err(invalid("the attestation object has no authenticator data"));
    };
    let Some(flags) = auth_data.get_mut(FLAGS_OFFSET) else {
        return Err(invalid("the authenticator data is too short"));
    };
    *flags |= FLAG_USER_PRESENT;
    let bytes = serde_cbor_2::to_vec(&Value::Map(map))
        .map_err(|err| ConnectError::internal("re-encoding the attestation object", err))?;
    let mut marked = registration.clone();
    marked.response.attestation_object = bytes;
    Ok(marked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn registration_with(object: &Value) -> RegisterPublicKeyCredential {
        let bytes = serde_cbor_2::to_vec(object).unwrap();
        serde_json::from_value(serde_json::json!({
            "id": "AAAA",
            "rawId": "AAAA",
            "type": "public-key",
            "extensions": {},
            "response": {
                "attestationObject": base64url(&bytes),
                "clientDataJSON": "e30",
            },
        }))
        .unwrap()
    }

    fn base64url(bytes: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn object(fmt: &str, flags: u8) -> Value {
        let mut auth_data = vec![0u8; 37];
        auth_data[FLAGS_OFFSET] = flags;
        let mut map = BTreeMap::new();
        map.insert(Value::Text("fmt".into()), Value::Text(fmt.into()));
        map.insert(Value::Text("authData".into()), Value::Bytes(auth_data));
        map.insert(Value::Text("attStmt".into()), Value::Map(BTreeMap::new()));
        Value::Map(map)
    }

    fn flags_of(registration: &RegisterPublicKeyCredential) -> u8 {
        let Value::Map(map) =
            serde_cbor_2::from_slice(registration.response.attestation_object.as_ref()).unwrap()
        else {
            panic!("not a map")
        };
        match map.get(&Value::Text("authData".into())) {
            Some(Value::Bytes(data)) => data[FLAGS_OFFSET],
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn presence_is_marked_for_attestation_none_only() {
        // UP clear, backup flags set: only UP changes.
        let marked = mark_present(&registration_with(&object("none", 0x18))).unwrap();
        assert_eq!(flags_of(&marked), 0x19);
        // An attestation that signs the authenticator data is left alone, and refused.
        assert!(mark_present(&registration_with(&object("packed", 0x00))).is_err());
        // Not an attestation object at all.
        let mut broken = registration_with(&object("none", 0));
        broken.response.attestation_object = vec![0xff, 0x00];
        assert!(mark_present(&broken).is_err());
        // Authenticator data too short to hold flags.
        let mut short = BTreeMap::new();
        short.insert(Value::Text("fmt".into()), Value::Text("none".into()));
        short.insert(Value::Text("authData".into()), Value::Bytes(vec![0; 8]));
        assert!(mark_present(&registration_with(&Value::Map(short))).is_err());
    }
}
