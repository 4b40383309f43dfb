//! The authenticator policy: which new passkeys the service keeps (`passkey-providers-allowed`,
//! `passkey-providers-refused`, `passkey-storage`). Append finish checks it after webauthn-rs
//! has verified the registration and before anything is stored, so a refused passkey leaves
//! no row behind (the browser is then told the service does not know the credential).
//!
//! Latchkey asks for no attestation, so a provider's AAGUID is what the authenticator *says*
//! it is: the policy steers honest providers, it does not prove where a key lives. Whether a
//! passkey syncs comes from the backup-eligible flag, which is equally self-reported.

use webauthn_rs::prelude::Uuid;

use crate::connect::providers::ProviderDirectory;
use crate::events::Reason;

/// Which passkeys are kept by how they are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PasskeyStorage {
    /// Synced and device-bound passkeys alike (the default).
    #[default]
    Any,
    /// Only passkeys that sync across devices (backup eligible); security keys and other
    /// device-bound ones are refused.
    Synced,
    /// Only device-bound passkeys (security keys, some platform authenticators); synced ones
    /// are refused.
    DeviceBound,
}

impl PasskeyStorage {
    /// The setting's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Any => "any",
            Self::Synced => "synced",
            Self::DeviceBound => "device-bound",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::Any, Self::Synced, Self::DeviceBound]
            .into_iter()
            .find(|storage| storage.as_str() == value)
    }
}

/// The policy, as configured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthenticatorPolicy {
    /// Only these providers, when set.
    pub allowed_providers: Option<Vec<Uuid>>,
    /// Never these providers.
    pub refused_providers: Vec<Uuid>,
    pub storage: PasskeyStorage,
}

/// Why a new passkey was not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// An allow list is set and the provider is not on it.
    ProviderNotAllowed(Uuid),
    /// The provider is on the refuse list.
    ProviderRefused(Uuid),
    /// Only synced passkeys are kept and this one is device-bound.
    DeviceBound,
    /// Only device-bound passkeys are kept and this one syncs.
    Synced,
}

/// What the policy looks at in a new passkey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewPasskey {
    pub aaguid: Uuid,
    pub backup_eligible: bool,
}

impl AuthenticatorPolicy {
    /// Whether anything is restricted (the console says "any passkey" otherwise).
    pub fn is_open(&self) -> bool {
        self == &Self::default()
    }

    /// The first rule the passkey breaks, if any: the provider lists first (they name the
    /// provider, the more useful sentence), then storage.
    pub fn check(&self, passkey: NewPasskey) -> Result<(), Refusal> {
        if self.refused_providers.contains(&passkey.aaguid) {
            return Err(Refusal::ProviderRefused(passkey.aaguid));
        }
        if let Some(allowed) = &self.allowed_providers {
            if !allowed.contains(&passkey.aaguid) {
                return Err(Refusal::ProviderNotAllowed(passkey.aaguid));
            }
        }
        match (self.storage, passkey.backup_eligible) {
            (PasskeyStorage::Synced, false) => Err(Refusal::DeviceBound),
            (PasskeyStorage::DeviceBound, true) => Err(Refusal::Synced),
            _ => Ok(()),
        }
    }

    /// The policy in a few lines, for the console and the start-up log.
    pub fn describe(&self, providers: &ProviderDirectory) -> Vec<String> {
        let names = |ids: &[Uuid]| {
            ids.iter()
                .map(|id| provider_label(*id, providers))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut lines = Vec::new();
        match &self.allowed_providers {
            Some(allowed) => lines.push(format!("Only passkeys from: {}", names(allowed))),
            None => lines.push("Passkeys from any provider".to_string()),
        }
        if !self.refused_providers.is_empty() {
            lines.push(format!(
                "Refused providers: {}",
                names(&self.refused_providers)
            ));
        }
        lines.push(
            match self.storage {
                PasskeyStorage::Any => "Synced and device-bound passkeys",
                PasskeyStorage::Synced => "Only synced passkeys (device-bound ones are refused)",
                PasskeyStorage::DeviceBound => {
                    "Only device-bound passkeys (synced ones are refused)"
                }
            }
            .to_string(),
        );
        lines.push("User verification (PIN or biometrics) required".to_string());
        lines
    }
}

/// "Google Password Manager (ea9b8d66-…)", or the bare AAGUID when the provider is unknown.
fn provider_label(id: Uuid, providers: &ProviderDirectory) -> String {
    let id = id.to_string();
    match providers.name(&id) {
        Some(name) => format!("{name} ({id})"),
        None => id,
    }
}

impl Refusal {
    /// The one sentence the person reads.
    pub fn sentence(&self, providers: &ProviderDirectory) -> String {
        match self {
            Self::ProviderNotAllowed(id) | Self::ProviderRefused(id) => {
                match providers.name(&id.to_string()) {
                    Some(name) => format!(
                        "This site does not accept passkeys saved in {name}; choose another \
                         password manager or a security key."
                    ),
                    None => "This site does not accept passkeys from this provider; choose \
                             another password manager or a security key."
                        .to_string(),
                }
            }
            Self::DeviceBound => "This site accepts only passkeys that sync across your \
                                  devices; save it in your password manager instead."
                .to_string(),
            Self::Synced => "This site accepts only passkeys that stay on one device, such \
                             as a security key."
                .to_string(),
        }
    }

    /// The event's reason code.
    pub fn reason(&self) -> Reason {
        match self {
            Self::ProviderNotAllowed(_) => Reason::ProviderNotAllowed,
            Self::ProviderRefused(_) => Reason::ProviderRefused,
            Self::DeviceBound => Reason::DeviceBoundRefused,
            Self::Synced => Reason::SyncedRefused,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOGLE: &str = "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4";
    const ONE_PASSWORD: &str = "bada5566-a7aa-401f-bd96-45619a55120d";
    const UNKNOWN: &str = "01020304-0506-0708-090a-0b0c0d0e0f10";

    fn id(text: &str) -> Uuid {
        Uuid::parse_str(text).unwrap()
    }

    fn passkey(aaguid: &str, backup_eligible: bool) -> NewPasskey {
        NewPasskey {
            aaguid: id(aaguid),
            backup_eligible,
        }
    }

    /// Every rule, as a table: policy, passkey → kept or the refusal.
    #[test]
    fn the_policy_keeps_or_refuses_each_passkey_for_one_reason() {
        let open = AuthenticatorPolicy::default();
        let only_google = AuthenticatorPolicy {
            allowed_providers: Some(vec![id(GOOGLE)]),
            ..AuthenticatorPolicy::default()
        };
        let no_google = AuthenticatorPolicy {
            refused_providers: vec![id(GOOGLE)],
            ..AuthenticatorPolicy::default()
        };
        let synced = AuthenticatorPolicy {
            storage: PasskeyStorage::Synced,
            ..AuthenticatorPolicy::default()
        };
        let device_bound = AuthenticatorPolicy {
            storage: PasskeyStorage::DeviceBound,
            ..AuthenticatorPolicy::default()
        };
        let google_and_device_bound = AuthenticatorPolicy {
            allowed_providers: Some(vec![id(GOOGLE), id(ONE_PASSWORD)]),
            storage: PasskeyStorage::DeviceBound,
            ..AuthenticatorPolicy::default()
        };
        let nil = Uuid::nil().to_string();
        let table: &[(&AuthenticatorPolicy, NewPasskey, Result<(), Refusal>)] = &[
            (&open, passkey(GOOGLE, true), Ok(())),
            (&open, passkey(&nil, false), Ok(())),
            (&only_google, passkey(GOOGLE, true), Ok(())),
            (
                &only_google,
                passkey(ONE_PASSWORD, false),
                Err(Refusal::ProviderNotAllowed(id(ONE_PASSWORD))),
            ),
            // An authenticator that names no provider is not on any allow list.
            (
                &only_google,
                passkey(&nil, true),
                Err(Refusal::ProviderNotAllowed(Uuid::nil())),
            ),
            (
                &no_google,
                passkey(GOOGLE, true),
                Err(Refusal::ProviderRefused(id(GOOGLE))),
            ),
            (&no_google, passkey(UNKNOWN, true), Ok(())),
            (&synced, passkey(GOOGLE, true), Ok(())),
            (
                &synced,
                passkey(ONE_PASSWORD, false),
                Err(Refusal::DeviceBound),
            ),
            (&device_bound, passkey(ONE_PASSWORD, false), Ok(())),
            (&device_bound, passkey(GOOGLE, true), Err(Refusal::Synced)),
            // Both rules apply: the provider is allowed, its storage is not.
            (
                &google_and_device_bound,
                passkey(GOOGLE, true),
                Err(Refusal::Synced),
            ),
            (
                &google_and_device_bound,
                passkey(ONE_PASSWORD, false),
                Ok(()),
            ),
        ];
        for (policy, new, expected) in table {
            assert_eq!(policy.check(*new), *expected, "{policy:?} {new:?}");
        }
    }

    #[test]
    fn refusals_say_why_in_one_sentence_naming_a_known_provider() {
        let providers = ProviderDirectory::shipped();
        let named = Refusal::ProviderRefused(id(GOOGLE)).sentence(&providers);
        assert!(named.contains("Google Password Manager"), "{named}");
        let unnamed = Refusal::ProviderNotAllowed(id(UNKNOWN)).sentence(&providers);
        assert!(unnamed.contains("this provider"), "{unnamed}");
        for refusal in [
            Refusal::ProviderRefused(id(GOOGLE)),
            Refusal::ProviderNotAllowed(id(UNKNOWN)),
            Refusal::DeviceBound,
            Refusal::Synced,
        ] {
            let sentence = refusal.sentence(&providers);
            assert_eq!(sentence.matches('.').count(), 1, "{sentence}");
            assert!(sentence.ends_with('.'), "{sentence}");
        }
        assert_eq!(
            Refusal::Synced.reason().as_ref(),
            "synced-refused",
            "event reason code"
        );
    }

    #[test]
    fn the_policy_describes_itself_for_the_console() {
        let providers = ProviderDirectory::shipped();
        assert!(AuthenticatorPolicy::default().is_open());
        assert_eq!(
            AuthenticatorPolicy::default().describe(&providers)[..2],
            [
                "Passkeys from any provider".to_string(),
                "Synced and device-bound passkeys".to_string()
            ]
        );
        let strict = AuthenticatorPolicy {
            allowed_providers: Some(vec![id(ONE_PASSWORD)]),
            refused_providers: vec![id(UNKNOWN)],
            storage: PasskeyStorage::DeviceBound,
        };
        assert!(!strict.is_open());
        let lines = strict.describe(&providers);
        assert_eq!(
            lines[0],
            format!("Only passkeys from: 1Password ({ONE_PASSWORD})")
        );
        assert_eq!(lines[1], format!("Refused providers: {UNKNOWN}"));
        assert!(lines[2].starts_with("Only device-bound"));
        for storage in ["any", "synced", "device-bound"] {
            assert_eq!(PasskeyStorage::parse(storage).unwrap().as_str(), storage);
        }
        assert_eq!(PasskeyStorage::parse("Synced"), None);
    }
}
