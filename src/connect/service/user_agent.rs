//! Browser and OS names for the passkey list ("created in Chrome on macOS"), from the
//! `User-Agent` header and the client's high-entropy hints. Display data only: nothing is
//! decided on it.

use crate::connect::api::JavaScriptHighEntropy;

/// `(browser, os)`, each "Unknown" when not recognised.
pub fn describe(user_agent: &str, hints: Option<&JavaScriptHighEntropy>) -> (String, String) {
    let browser = browser(user_agent).unwrap_or("Unknown").to_string();
    let os = hints
        .and_then(|h| os_from_platform(&h.platform))
        .or_else(|| os(user_agent))
        .unwrap_or("Unknown")
        .to_string();
    (browser, os)
}

fn browser(ua: &str) -> Option<&'static str> {
    // Order matters: most browsers also claim to be Chrome and Safari.
    const BROWSERS: &[(&str, &str)] = &[
        ("Edg/", "Edge"),
        ("EdgA/", "Edge"),
        ("EdgiOS/", "Edge"),
        ("OPR/", "Opera"),
        ("SamsungBrowser/", "Samsung Internet"),
        ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"),
        ("CriOS/", "Chrome"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ];
    BROWSERS
        .iter()
        .find(|(marker, _)| ua.contains(marker))
        .map(|(_, name)| *name)
}

fn os(ua: &str) -> Option<&'static str> {
    const SYSTEMS: &[(&str, &str)] = &[
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Android", "Android"),
        ("CrOS", "ChromeOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Macintosh", "macOS"),
        ("Linux", "Linux"),
    ];
    SYSTEMS
        .iter()
        .find(|(marker, _)| ua.contains(marker))
        .map(|(_, name)| *name)
}

/// `navigator.userAgentData.platform` values.
fn os_from_platform(platform: &str) -> Option<&'static str> {
    match platform.trim() {
        "Windows" => Some("Windows"),
        "macOS" => Some("macOS"),
        "Android" => Some("Android"),
        "Chrome OS" | "ChromeOS" => Some("ChromeOS"),
        "Linux" => Some("Linux"),
        "iOS" => Some("iOS"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_user_agents_are_named() {
        let cases = [
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                ("Chrome", "macOS"),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
                ("Edge", "Windows"),
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
                ("Safari", "iOS"),
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
                ("Firefox", "Linux"),
            ),
            (
                "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
                ("Chrome", "Android"),
            ),
        ];
        for (ua, (browser, os)) in cases {
            assert_eq!(
                describe(ua, None),
                (browser.to_string(), os.to_string()),
                "{ua}"
            );
        }
        assert_eq!(
            describe("curl/8.0", None),
            ("Unknown".to_string(), "Unknown".to_string())
        );
    }

    #[test]
    fn platform_hints_win_over_the_user_agent() {
        let hints = JavaScriptHighEntropy {
            platform: "Windows".into(),
            platform_version: "15.0.0".into(),
            mobile: false,
        };
        let ua =
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0.0.0 Safari/537.36";
        assert_eq!(describe(ua, Some(&hints)).1, "Windows");
    }
}
