//! How a passkey is named for people, from its provider's name (the server looks the AAGUID
//! up in `connect::providers`) and where it was made. Shared by the server and the browser.

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
    use super::display_name;

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
}
