//! Provider names for authenticator AAGUIDs (names only, no icons), after the community list
//! of passkey provider AAGUIDs. An AAGUID not in the table (or all zeros, as many security
//! keys and software authenticators send) has no name.

const PROVIDERS: &[(&str, &str)] = &[
    (
        "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4",
        "Google Password Manager",
    ),
    ("adce0002-35bc-c60a-648b-0b25f1f05503", "Chrome on Mac"),
    ("b5397666-4885-aa6b-cebf-e52262a439a2", "Chromium Browser"),
    ("771b48fd-d3d4-4f74-9232-fc157ab0507a", "Edge on Mac"),
    ("08987058-cadc-4b81-b6e1-30de50dcbe96", "Windows Hello"),
    ("9ddd1817-af5a-4672-a2b9-3e3dd95000a9", "Windows Hello"),
    ("6028b017-b1d4-4c02-b4b3-afcdafc96bb2", "Windows Hello"),
    ("fbfc3007-154e-4ecc-8c0b-6e020557d7bd", "iCloud Keychain"),
    (
        "dd4ec289-e01d-41c9-bb89-70fa845d4bf2",
        "iCloud Keychain (Managed)",
    ),
    ("bada5566-a7aa-401f-bd96-45619a55120d", "1Password"),
    ("d548826e-79b4-db40-a3d8-11116f7e8349", "Bitwarden"),
    ("531126d6-e717-415c-9320-3d9aa6981239", "Dashlane"),
    ("b84e4048-15dc-4dd0-8640-f4f60813c8af", "NordPass"),
    ("0ea242b4-43c4-4a1b-8b17-dd6d0b6baec6", "Keeper"),
    ("fdb141b2-5d84-443e-8a35-4698c205a502", "KeePassXC"),
    ("53414d53-554e-4700-0000-000000000000", "Samsung Pass"),
    ("cb69481e-8ff7-4039-93ec-0a2729a154a8", "YubiKey 5 Series"),
    (
        "2fc0579f-8113-47ea-b116-bb5a8db9202a",
        "YubiKey 5 Series with NFC",
    ),
];

/// The provider's name for an AAGUID in its usual hyphenated form (any case).
pub fn provider_name(aaguid: &str) -> Option<&'static str> {
    let aaguid = aaguid.trim().to_ascii_lowercase();
    PROVIDERS
        .iter()
        .find(|(id, _)| *id == aaguid)
        .map(|(_, name)| *name)
}

/// What an unknown provider is called.
pub const UNKNOWN_PROVIDER: &str = "Passkey";

/// The name people see for a passkey: its provider's; when the provider is unknown,
/// "Passkey · Chrome on Linux" (where it was made), so that two such passkeys can be told
/// apart.
pub fn display_name(provider: &str, browser: &str, os: &str) -> String {
    if !provider.is_empty() && provider != UNKNOWN_PROVIDER {
        return provider.to_string();
    }
    match (browser, os) {
        ("", "") => UNKNOWN_PROVIDER.to_string(),
        (browser, "") => format!("{UNKNOWN_PROVIDER} · {browser}"),
        ("", os) => format!("{UNKNOWN_PROVIDER} · {os}"),
        (browser, os) => format!("{UNKNOWN_PROVIDER} · {browser} on {os}"),
    }
}

#[cfg(test)]
mod tests {
    use super::{display_name, provider_name};

    #[test]
    fn unknown_providers_are_named_by_where_they_were_made() {
        assert_eq!(
            display_name("iCloud Keychain", "Safari", "macOS"),
            "iCloud Keychain"
        );
        assert_eq!(
            display_name("Passkey", "Chrome", "Linux"),
            "Passkey · Chrome on Linux"
        );
        assert_eq!(display_name("", "Firefox", ""), "Passkey · Firefox");
        assert_eq!(display_name("Passkey", "", "Android"), "Passkey · Android");
        assert_eq!(display_name("", "", ""), "Passkey");
    }

    #[test]
    fn known_providers_have_names_and_others_none() {
        assert_eq!(
            provider_name("EA9B8D66-4D01-1D21-3CE4-B6B48CB575D4"),
            Some("Google Password Manager")
        );
        assert_eq!(
            provider_name("fbfc3007-154e-4ecc-8c0b-6e020557d7bd"),
            Some("iCloud Keychain")
        );
        assert_eq!(provider_name("00000000-0000-0000-0000-000000000000"), None);
        assert_eq!(provider_name("not an aaguid"), None);
    }

    #[test]
    fn table_has_no_duplicate_or_malformed_ids() {
        let mut seen = std::collections::HashSet::new();
        for (id, name) in super::PROVIDERS {
            assert_eq!(id.len(), 36, "{id}");
            assert_eq!(id.to_ascii_lowercase(), *id);
            assert!(!name.is_empty());
            assert!(seen.insert(*id), "duplicate {id}");
        }
    }
}
