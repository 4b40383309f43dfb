//! The browser's WebAuthn API, reached through wasm-bindgen (no hand-written JavaScript).
//!
//! Options and results travel as JSON strings (webauthn-json form, as the frontend API
//! carries them); `PublicKeyCredential.parse…FromJSON` and `credential.toJSON()` convert.
//!
//! Safari only lets `navigator.credentials` run inside a user gesture, so [`create`] and
//! [`get`] start the ceremony synchronously and return the future to await: fetch options
//! before the click, call these inside the click handler, await afterwards.
//!
//! SSR-safe: on the server (and in browsers without WebAuthn) everything reports
//! [`WebAuthnError::NotSupported`] or "not capable" instead of failing.

use std::future::Future;

/// Why a ceremony did not produce a credential. The variants are the decisions the UI makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebAuthnError {
    /// No WebAuthn here (server side, old browser, insecure context).
    NotSupported,
    /// The user dismissed the dialog or failed verification (`NotAllowedError`): retry.
    Cancelled,
    /// Creation matched `excludeCredentials`: this authenticator already has a passkey.
    AlreadyRegistered,
    /// Our own `AbortController` stopped the request (e.g. conditional UI before a modal).
    Aborted,
    /// Options the browser refused (RP ID / origin mismatch, malformed JSON).
    Invalid(String),
    /// Anything else the browser reported.
    Other(String),
}

impl std::fmt::Display for WebAuthnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotSupported => f.write_str("passkeys are not supported in this browser"),
            Self::Cancelled => f.write_str("the passkey request was cancelled"),
            Self::AlreadyRegistered => {
                f.write_str("this device already has a passkey for this account")
            }
            Self::Aborted => f.write_str("the passkey request was aborted"),
            Self::Invalid(reason) => write!(f, "the passkey request was refused: {reason}"),
            Self::Other(reason) => write!(f, "the passkey request failed: {reason}"),
        }
    }
}

/// What this browser can do, for the service's rollout and append decisions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Capabilities {
    pub webauthn: bool,
    pub platform_authenticator: bool,
    pub conditional_mediation: bool,
    /// The browser can use a phone's passkey over hybrid transport (QR code).
    pub hybrid_transport: bool,
    /// `PublicKeyCredential.signalUnknownCredential` exists.
    pub signal_api: bool,
    /// A passkey can be made without a dialog after a password login (conditional create).
    pub conditional_create: bool,
}

/// How a `get` request is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mediation {
    /// A normal modal request, started by a click.
    Modal,
    /// Conditional UI: passkeys offered in the Email field's autofill.
    Conditional,
}

#[cfg(feature = "hydrate")]
pub use browser::*;

#[cfg(not(feature = "hydrate"))]
pub use inert::*;

/// Takes the inner `publicKey` object out of `{"publicKey": {...}}`, or the object itself.
#[cfg(any(feature = "hydrate", test))]
fn public_key_json(options: &str) -> Result<serde_json::Value, WebAuthnError> {
    let value: serde_json::Value = serde_json::from_str(options)
        .map_err(|err| WebAuthnError::Invalid(format!("options are not JSON: {err}")))?;
    Ok(match value {
        serde_json::Value::Object(mut map) if map.contains_key("publicKey") => {
            map.remove("publicKey").unwrap_or_default()
        }
        other => other,
    })
}

#[cfg(not(feature = "hydrate"))]
mod inert {
    use super::*;

    pub async fn capabilities() -> Capabilities {
        Capabilities::default()
    }

    pub fn create(_options: &str) -> impl Future<Output = Result<String, WebAuthnError>> {
        std::future::ready(Err(WebAuthnError::NotSupported))
    }

    pub fn create_conditional(
        _options: &str,
    ) -> impl Future<Output = Result<String, WebAuthnError>> {
        std::future::ready(Err(WebAuthnError::NotSupported))
    }

    pub fn get(
        _options: &str,
        _mediation: Mediation,
    ) -> impl Future<Output = Result<String, WebAuthnError>> {
        std::future::ready(Err(WebAuthnError::NotSupported))
    }

    pub fn abort_conditional() {}

    pub fn signal_unknown_credential(_rp_id: &str, _credential_id: &str) -> bool {
        false
    }

    pub fn signal_user_passkeys(_details: &crate::connect::api::SignalDetails) {}
}

#[cfg(feature = "hydrate")]
mod browser {
    use js_sys::{Function, Object, Promise, Reflect, JSON};
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{AbortController, DomException};

    use super::*;

    fn public_key_credential() -> Option<Object> {
        let window = web_sys::window()?;
        Reflect::get(&window, &"PublicKeyCredential".into())
            .ok()
            .filter(|value| !value.is_undefined() && !value.is_null())
            .map(JsCast::unchecked_into)
    }

    /// Calls `PublicKeyCredential.<name>(args…)` if the browser has it.
    fn call_static(name: &str, args: &[JsValue]) -> Option<Result<JsValue, JsValue>> {
        let class = public_key_credential()?;
        let function = Reflect::get(&class, &name.into())
            .ok()?
            .dyn_into::<Function>()
            .ok()?;
        let array: js_sys::Array = args.iter().collect();
        Some(function.apply(&class, &array))
    }

    async fn static_bool(name: &str) -> bool {
        match call_static(name, &[]) {
            Some(Ok(promise)) => match promise.dyn_into::<Promise>() {
                Ok(promise) => JsFuture::from(promise)
                    .await
                    .map(|v| v.is_truthy())
                    .unwrap_or(false),
                Err(_) => false,
            },
            _ => false,
        }
    }

    pub async fn capabilities() -> Capabilities {
        let Some(class) = public_key_credential() else {
            return Capabilities::default();
        };
        let has = |name: &str| {
            Reflect::get(&class, &name.into())
                .map(|v| v.is_function())
                .unwrap_or(false)
        };
        // Newer browsers answer everything at once; older ones only the two classic checks.
        if let Some(reported) = client_capabilities().await {
            let flag = |name: &str| {
                Reflect::get(&reported, &name.into())
                    .map(|v| v.is_truthy())
                    .unwrap_or(false)
            };
            return Capabilities {
                webauthn: true,
                platform_authenticator: flag("userVerifyingPlatformAuthenticator")
                    || flag("passkeyPlatformAuthenticator"),
                conditional_mediation: flag("conditionalGet"),
                hybrid_transport: flag("hybridTransport"),
                signal_api: has("signalUnknownCredential"),
                conditional_create: flag("conditionalCreate"),
            };
        }
        Capabilities {
            webauthn: true,
            platform_authenticator: static_bool("isUserVerifyingPlatformAuthenticatorAvailable")
                .await,
            conditional_mediation: has("isConditionalMediationAvailable")
                && static_bool("isConditionalMediationAvailable").await,
            hybrid_transport: false,
            signal_api: has("signalUnknownCredential"),
            conditional_create: false,
        }
    }

    /// `PublicKeyCredential.getClientCapabilities()` where the browser has it.
    async fn client_capabilities() -> Option<JsValue> {
        let promise = call_static("getClientCapabilities", &[])?
            .ok()?
            .dyn_into::<Promise>()
            .ok()?;
        JsFuture::from(promise)
            .await
            .ok()
            .filter(JsValue::is_object)
    }

    fn credentials() -> Result<web_sys::CredentialsContainer, WebAuthnError> {
        web_sys::window()
            .map(|window| window.navigator().credentials())
            .ok_or(WebAuthnError::NotSupported)
    }

    /// `PublicKeyCredential.parse{Creation,Request}OptionsFromJSON(options.publicKey)`.
    fn parse_options(parser: &str, options: &str) -> Result<JsValue, WebAuthnError> {
        let json = public_key_json(options)?;
        let text =
            serde_json::to_string(&json).map_err(|err| WebAuthnError::Invalid(err.to_string()))?;
        let object = JSON::parse(&text)
            .map_err(|_| WebAuthnError::Invalid("options are not JSON".into()))?;
        match call_static(parser, &[object]) {
            Some(Ok(parsed)) => Ok(parsed),
            Some(Err(err)) => Err(classify(err)),
            None => Err(WebAuthnError::NotSupported),
        }
    }

    fn set(target: &Object, key: &str, value: &JsValue) -> Result<(), WebAuthnError> {
        Reflect::set(target, &key.into(), value)
            .map(|_| ())
            .map_err(|_| WebAuthnError::Other("cannot build the request".into()))
    }

    /// Maps a rejected promise to the decision the UI makes.
    fn classify(err: JsValue) -> WebAuthnError {
        match err.dyn_ref::<DomException>() {
            Some(dom) => match dom.name().as_str() {
                "NotAllowedError" => WebAuthnError::Cancelled,
                "InvalidStateError" => WebAuthnError::AlreadyRegistered,
                "AbortError" => WebAuthnError::Aborted,
                "NotSupportedError" => WebAuthnError::NotSupported,
                "SecurityError" | "TypeError" | "SyntaxError" => {
                    WebAuthnError::Invalid(dom.message())
                }
                other => WebAuthnError::Other(format!("{other}: {}", dom.message())),
            },
            None => WebAuthnError::Other(err.as_string().unwrap_or_else(|| "unknown error".into())),
        }
    }

    /// `JSON.stringify(credential.toJSON())`.
    fn credential_json(credential: JsValue) -> Result<String, WebAuthnError> {
        if credential.is_null() || credential.is_undefined() {
            return Err(WebAuthnError::Cancelled);
        }
        let to_json = Reflect::get(&credential, &"toJSON".into())
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
            .ok_or(WebAuthnError::NotSupported)?;
        let json = to_json.call0(&credential).map_err(classify)?;
        JSON::stringify(&json)
            .map(String::from)
            .map_err(|_| WebAuthnError::Other("cannot encode the credential".into()))
    }

    thread_local! {
        /// The page's pending conditional request (autofill, or the automatic upgrade's
        /// create), if any: a page has at most one.
        static CONDITIONAL: std::cell::RefCell<Option<AbortController>> =
            const { std::cell::RefCell::new(None) };
    }

    /// Stops the pending conditional request. Browsers run one WebAuthn request at a time,
    /// so [`create`] and modal [`get`] call this first.
    pub fn abort_conditional() {
        if let Some(controller) = CONDITIONAL.with(|slot| slot.borrow_mut().take()) {
            controller.abort();
        }
    }

    /// Starts `navigator.credentials.create` now (inside the click: browsers want the user
    /// gesture) and returns its result, or why it could not start.
    pub fn create(options: &str) -> impl Future<Output = Result<String, WebAuthnError>> {
        settle(start_create(options))
    }

    /// Starts a conditional create (`mediation: "conditional"`): the password manager makes
    /// the passkey without a dialog if it just filled this account's password, else the
    /// request fails or stays pending. Abortable through [`abort_conditional`].
    pub fn create_conditional(
        options: &str,
    ) -> impl Future<Output = Result<String, WebAuthnError>> {
        settle(start_create_with(options, Mediation::Conditional))
    }

    fn start_create(options: &str) -> Result<Promise, WebAuthnError> {
        start_create_with(options, Mediation::Modal)
    }

    fn start_create_with(options: &str, mediation: Mediation) -> Result<Promise, WebAuthnError> {
        let public_key = parse_options("parseCreationOptionsFromJSON", options)?;
        abort_conditional();
        let request = Object::new();
        set(&request, "publicKey", &public_key)?;
        if mediation == Mediation::Conditional {
            let controller = AbortController::new().map_err(classify)?;
            set(&request, "signal", controller.signal().as_ref())?;
            set(&request, "mediation", &"conditional".into())?;
            CONDITIONAL.with(|slot| *slot.borrow_mut() = Some(controller));
        }
        credentials()?
            .create_with_options(request.unchecked_ref())
            .map_err(classify)
    }

    /// Starts `navigator.credentials.get` now and returns its result. A conditional request
    /// stays abortable through [`abort_conditional`].
    pub fn get(
        options: &str,
        mediation: Mediation,
    ) -> impl Future<Output = Result<String, WebAuthnError>> {
        settle(start_get(options, mediation))
    }

    fn start_get(options: &str, mediation: Mediation) -> Result<Promise, WebAuthnError> {
        let public_key = parse_options("parseRequestOptionsFromJSON", options)?;
        let request = Object::new();
        set(&request, "publicKey", &public_key)?;
        abort_conditional();
        if mediation == Mediation::Conditional {
            let controller = AbortController::new().map_err(classify)?;
            set(&request, "signal", controller.signal().as_ref())?;
            set(&request, "mediation", &"conditional".into())?;
            CONDITIONAL.with(|slot| *slot.borrow_mut() = Some(controller));
        }
        credentials()?
            .get_with_options(request.unchecked_ref())
            .map_err(classify)
    }

    /// The credential a started request resolves to, as JSON.
    async fn settle(started: Result<Promise, WebAuthnError>) -> Result<String, WebAuthnError> {
        let credential = JsFuture::from(started?).await.map_err(classify)?;
        credential_json(credential)
    }

    fn signal(name: &str, fields: &[(&str, JsValue)]) -> bool {
        let argument = Object::new();
        for (key, value) in fields {
            if Reflect::set(&argument, &(*key).into(), value).is_err() {
                return false;
            }
        }
        match call_static(name, &[argument.into()]) {
            Some(Ok(promise)) => {
                // Fire and forget: the Signal API reports nothing useful back.
                if let Ok(promise) = promise.dyn_into::<Promise>() {
                    wasm_bindgen_futures::spawn_local(async move {
                        let _ = JsFuture::from(promise).await;
                    });
                }
                true
            }
            _ => false,
        }
    }

    /// Tells the authenticator that the server no longer knows this credential.
    /// False where the Signal API does not exist.
    pub fn signal_unknown_credential(rp_id: &str, credential_id: &str) -> bool {
        signal(
            "signalUnknownCredential",
            &[
                ("rpId", rp_id.into()),
                ("credentialId", credential_id.into()),
            ],
        )
    }

    /// Tells the authenticator the full list of this user's credentials the server accepts.
    fn signal_all_accepted_credentials(
        rp_id: &str,
        user_id: &str,
        credential_ids: &[String],
    ) -> bool {
        let ids: js_sys::Array = credential_ids
            .iter()
            .map(|id| JsValue::from_str(id))
            .collect();
        signal(
            "signalAllAcceptedCredentials",
            &[
                ("rpId", rp_id.into()),
                ("userId", user_id.into()),
                ("allAcceptedCredentialIds", ids.into()),
            ],
        )
    }

    /// Both signals, after a login or a change on `/passkeys`: the passkeys the site accepts,
    /// and the account's name.
    pub fn signal_user_passkeys(details: &crate::connect::api::SignalDetails) {
        signal_all_accepted_credentials(
            &details.rp_id,
            &details.user_id,
            &details.all_accepted_credential_ids,
        );
        signal_current_user_details(
            &details.rp_id,
            &details.user_id,
            &details.name,
            &details.name,
        );
    }

    /// Tells the authenticator the account's current name (what its passkey picker shows).
    fn signal_current_user_details(
        rp_id: &str,
        user_id: &str,
        name: &str,
        display_name: &str,
    ) -> bool {
        signal(
            "signalCurrentUserDetails",
            &[
                ("rpId", rp_id.into()),
                ("userId", user_id.into()),
                ("name", name.into()),
                ("displayName", display_name.into()),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_unwrapped_from_public_key() {
        let inner = public_key_json(r#"{"publicKey":{"challenge":"abc"}}"#).unwrap();
        assert_eq!(inner["challenge"], "abc");
        let bare = public_key_json(r#"{"challenge":"abc"}"#).unwrap();
        assert_eq!(bare["challenge"], "abc");
        assert!(matches!(
            public_key_json("nope"),
            Err(WebAuthnError::Invalid(_))
        ));
    }

    #[tokio::test]
    async fn the_server_side_is_inert() {
        assert_eq!(capabilities().await, Capabilities::default());
        assert!(matches!(
            create("{}").await,
            Err(WebAuthnError::NotSupported)
        ));
        assert!(matches!(
            get("{}", Mediation::Modal).await,
            Err(WebAuthnError::NotSupported)
        ));
        assert!(!signal_unknown_credential("localhost", "abc"));
    }
}
