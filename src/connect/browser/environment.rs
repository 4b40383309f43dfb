//! What a component tells the passkey service about this browser, and the small browser
//! services the components share (the client handle in `localStorage`, navigation, time).
//!
//! Inert on the server: components only call these from effects and event handlers, which
//! run after hydration.

use std::collections::BTreeMap;
use std::future::Future;

use leptos::prelude::Effect;

use super::webauthn::Capabilities;
use crate::connect::api::{ClientInformation, InitReq};

/// `localStorage` key of the opaque handle the service gives this browser
/// (`newClientEnvHandle`); it lets the service tell "a passkey made on this browser".
const CLIENT_HANDLE_KEY: &str = "latchkey.clientEnvHandle";

/// Runs `task` once, in the browser after hydration (effects never run on the server).
pub fn after_hydration(task: impl Future<Output = ()> + 'static) {
    let mut task = Some(task);
    Effect::new(move |_| {
        if let Some(task) = task.take() {
            leptos::task::spawn_local(task);
        }
    });
}

/// The init request for a frontend-API process, from what the browser can do.
pub fn init_request(capabilities: Capabilities) -> InitReq {
    let mut reported = BTreeMap::new();
    reported.insert(
        "conditionalGet".to_string(),
        capabilities.conditional_mediation,
    );
    reported.insert(
        "userVerifyingPlatformAuthenticator".to_string(),
        capabilities.platform_authenticator,
    );
    reported.insert("hybridTransport".to_string(), capabilities.hybrid_transport);
    reported.insert(
        "signalUnknownCredential".to_string(),
        capabilities.signal_api,
    );
    reported.insert(
        "conditionalCreate".to_string(),
        capabilities.conditional_create,
    );
    InitReq {
        client_information: ClientInformation {
            client_env_handle: browser::load(CLIENT_HANDLE_KEY),
            can_use_passkeys: Some(capabilities.webauthn),
            is_user_verifying_platform_authenticator_available: capabilities
                .webauthn
                .then_some(capabilities.platform_authenticator),
            is_conditional_mediation_available: Some(capabilities.conditional_mediation),
            client_capabilities: capabilities.webauthn.then_some(reported),
            ..ClientInformation::default()
        },
        ..InitReq::default()
    }
}

/// Keeps the handle an init answer issued for this browser.
pub fn remember_client_handle(handle: Option<&str>) {
    if let Some(handle) = handle.filter(|h| !h.is_empty()) {
        browser::store(CLIENT_HANDLE_KEY, handle);
    }
}

/// A click on one of the sign-in card's buttons that came before hydration, kept by the
/// page's early-click script (the `data-early` attribute names the button).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EarlyClick {
    Continue,
    /// "Continue as …" for the remembered account at this position.
    OneTap(usize),
    Passkey,
}

impl EarlyClick {
    /// The `data-early` value of the button.
    pub fn name(self) -> String {
        match self {
            Self::Continue => "continue".into(),
            Self::OneTap(position) => format!("one-tap-{position}"),
            Self::Passkey => "passkey".into(),
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name {
            "continue" => Some(Self::Continue),
            "passkey" => Some(Self::Passkey),
            _ => name
                .strip_prefix("one-tap-")
                .and_then(|position| position.parse().ok())
                .map(Self::OneTap),
        }
    }
}

/// The clicks kept before hydration, oldest first (each is returned once), and from now on
/// the script lets clicks through to the app.
pub fn take_early_clicks() -> Vec<EarlyClick> {
    // Whoever takes the kept clicks handles the next ones: the page's early-click script
    // must stop keeping them first (it would keep them where nobody reads them).
    mark_hydrated();
    browser::take_early_clicks()
        .iter()
        .filter_map(|name| EarlyClick::from_name(name))
        .collect()
}

/// Tells the page's early-click script that the app is interactive: clicks now reach the
/// app's own handlers (set once the page is hydrated, and before kept clicks are taken).
pub fn mark_hydrated() {
    browser::mark_hydrated();
}

/// The current value of the form field with this id (what was typed before hydration).
pub fn field_value(id: &str) -> Option<String> {
    browser::field_value(id)
}

/// A full page load of `path` (same origin): the server applies the journey guard to it with
/// the session the last call set.
pub fn go_to(path: &str) {
    browser::assign(path);
}

/// Milliseconds since the epoch (what the frontend API calls `loadedMs`).
pub fn now_ms() -> i64 {
    browser::now_ms()
}

/// A date for people: the browser's locale format of `ms` (epoch milliseconds), or the
/// day part of `rfc3339` where there is no browser.
pub fn format_date(ms: i64, rfc3339: &str) -> String {
    browser::locale_date(ms).unwrap_or_else(|| rfc3339.get(..10).unwrap_or(rfc3339).to_string())
}

/// How long ago `then_ms` was, in words, for the last week ("just now", "5 minutes ago",
/// "yesterday", "3 days ago"); `None` beyond that (or for a time in the future): say the
/// date instead.
pub fn time_ago(then_ms: i64, now_ms: i64) -> Option<String> {
    const MINUTE: i64 = 60;
    const HOUR: i64 = 60 * MINUTE;
    const DAY: i64 = 24 * HOUR;
    let seconds = (now_ms - then_ms) / 1000;
    let count = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit} ago")
        } else {
            format!("{n} {unit}s ago")
        }
    };
    Some(match seconds {
        s if s < 0 => return None,
        s if s < MINUTE => "just now".to_string(),
        s if s < HOUR => count(s / MINUTE, "minute"),
        s if s < DAY => count(s / HOUR, "hour"),
        s if s < 2 * DAY => "yesterday".to_string(),
        s if s < 7 * DAY => count(s / DAY, "day"),
        _ => return None,
    })
}

/// When something happened, for people: how long ago within the last week, else the date.
pub fn when_in_words(ms: i64, rfc3339: &str) -> String {
    match browser::now_ms() {
        0 => None,
        now => time_ago(ms, now),
    }
    .unwrap_or_else(|| format!("on {}", format_date(ms, rfc3339)))
}

/// The `rpId` of WebAuthn request options in their JSON form (for the Signal API).
pub fn rp_id_of(options: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(options).ok()?;
    let public_key = value.get("publicKey").unwrap_or(&value);
    public_key
        .get("rpId")
        .and_then(|id| id.as_str())
        .map(str::to_string)
}

/// The credential `id` of a `PublicKeyCredential` in its JSON form.
pub fn credential_id_of(credential: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(credential).ok()?;
    value
        .get("id")
        .and_then(|id| id.as_str())
        .map(str::to_string)
}

#[cfg(feature = "hydrate")]
mod browser {
    pub fn load(key: &str) -> Option<String> {
        let storage = web_sys::window()?.local_storage().ok()??;
        storage.get_item(key).ok()?
    }

    pub fn store(key: &str, value: &str) {
        // Private modes may refuse storage; the service then sees a new browser each time.
        if let Some(Ok(Some(storage))) = web_sys::window().map(|w| w.local_storage()) {
            let _ = storage.set_item(key, value);
        }
    }

    pub fn assign(path: &str) {
        if let Some(window) = web_sys::window() {
            let _ = window.location().assign(path);
        }
    }

    pub fn now_ms() -> i64 {
        js_sys::Date::now() as i64
    }

    pub fn mark_hydrated() {
        if let Some(window) = web_sys::window() {
            let _ = js_sys::Reflect::set(
                &window,
                &wasm_bindgen::JsValue::from_str("__latchkeyHydrated"),
                &wasm_bindgen::JsValue::TRUE,
            );
        }
    }

    /// Reads and empties `window.__latchkeyEarly` (see `app::EARLY_CLICKS`).
    pub fn take_early_clicks() -> Vec<String> {
        use wasm_bindgen::JsCast;
        let Some(window) = web_sys::window() else {
            return Vec::new();
        };
        let key = wasm_bindgen::JsValue::from_str("__latchkeyEarly");
        let Ok(kept) = js_sys::Reflect::get(&window, &key) else {
            return Vec::new();
        };
        let _ = js_sys::Reflect::set(&window, &key, &js_sys::Array::new());
        // The script marked the buttons it held; the app shows its own waiting state now.
        if let Some(document) = window.document() {
            let marked = document.get_elements_by_class_name("is-waiting");
            while let Some(element) = marked.item(0) {
                let _ = element.class_list().remove_1("is-waiting");
            }
        }
        kept.dyn_into::<js_sys::Array>()
            .map(|names| names.iter().filter_map(|name| name.as_string()).collect())
            .unwrap_or_default()
    }

    pub fn field_value(id: &str) -> Option<String> {
        use wasm_bindgen::JsCast;
        let element = web_sys::window()?.document()?.get_element_by_id(id)?;
        Some(
            element
                .dyn_into::<web_sys::HtmlInputElement>()
                .ok()?
                .value(),
        )
    }

    pub fn locale_date(ms: i64) -> Option<String> {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
        let options = js_sys::Object::new();
        for (key, value) in [("year", "numeric"), ("month", "short"), ("day", "numeric")] {
            js_sys::Reflect::set(&options, &key.into(), &value.into()).ok()?;
        }
        date.to_locale_date_string("default", &options)
            .as_string()
            .filter(|s| !s.is_empty() && s != "Invalid Date")
    }
}

#[cfg(not(feature = "hydrate"))]
mod browser {
    pub fn load(_key: &str) -> Option<String> {
        None
    }

    pub fn store(_key: &str, _value: &str) {}

    pub fn assign(_path: &str) {}

    pub fn mark_hydrated() {}

    pub fn now_ms() -> i64 {
        0
    }

    pub fn take_early_clicks() -> Vec<String> {
        Vec::new()
    }

    pub fn field_value(_id: &str) -> Option<String> {
        None
    }

    pub fn locale_date(_ms: i64) -> Option<String> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_request_reports_capabilities() {
        let req = init_request(Capabilities {
            webauthn: true,
            platform_authenticator: true,
            conditional_mediation: false,
            hybrid_transport: false,
            signal_api: true,
            conditional_create: true,
        });
        let info = &req.client_information;
        assert_eq!(
            info.is_user_verifying_platform_authenticator_available,
            Some(true)
        );
        assert_eq!(info.is_conditional_mediation_available, Some(false));
        let reported = info.client_capabilities.as_ref().unwrap();
        assert!(reported["signalUnknownCredential"]);
        assert!(reported["conditionalCreate"]);
    }

    #[test]
    fn no_webauthn_says_so_without_guessing_the_rest() {
        let req = init_request(Capabilities::default());
        let info = &req.client_information;
        assert_eq!(info.can_use_passkeys, Some(false));
        assert_eq!(
            info.is_user_verifying_platform_authenticator_available,
            None
        );
        assert_eq!(info.client_capabilities, None);
    }

    #[test]
    fn early_clicks_round_trip_through_their_names() {
        for click in [
            EarlyClick::Continue,
            EarlyClick::Passkey,
            EarlyClick::OneTap(0),
            EarlyClick::OneTap(2),
        ] {
            assert_eq!(EarlyClick::from_name(&click.name()), Some(click));
        }
        assert_eq!(EarlyClick::OneTap(1).name(), "one-tap-1");
        for unknown in ["", "one-tap", "one-tap-x", "one-tap--1", "other"] {
            assert_eq!(EarlyClick::from_name(unknown), None, "{unknown}");
        }
    }

    #[test]
    fn recent_times_are_said_relative_to_now() {
        let now = 1_000_000_000_000;
        let ago = |seconds: i64| time_ago(now - seconds * 1000, now);
        assert_eq!(ago(5).as_deref(), Some("just now"));
        assert_eq!(ago(60).as_deref(), Some("1 minute ago"));
        assert_eq!(ago(125).as_deref(), Some("2 minutes ago"));
        assert_eq!(ago(3 * 3600 + 5).as_deref(), Some("3 hours ago"));
        assert_eq!(ago(30 * 3600).as_deref(), Some("yesterday"));
        assert_eq!(ago(3 * 86_400).as_deref(), Some("3 days ago"));
        assert_eq!(ago(8 * 86_400), None, "a week on: the date");
        assert_eq!(ago(-60), None, "a clock ahead: the date");
    }

    #[test]
    fn dates_fall_back_to_the_day() {
        assert_eq!(format_date(0, "2026-11-25T17:00:00Z"), "2026-11-25");
        assert_eq!(format_date(0, ""), "");
    }

    #[test]
    fn ids_are_read_from_json_forms() {
        assert_eq!(
            rp_id_of(r#"{"publicKey":{"rpId":"example.com"}}"#).as_deref(),
            Some("example.com")
        );
        assert_eq!(rp_id_of(r#"{"rpId":"a.b"}"#).as_deref(), Some("a.b"));
        assert_eq!(rp_id_of("nope"), None);
        assert_eq!(
            credential_id_of(r#"{"id":"abc","rawId":"abc"}"#).as_deref(),
            Some("abc")
        );
    }
}
