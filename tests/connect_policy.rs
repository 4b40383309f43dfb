//! What the passkey service accepts by configuration, on SQLite and PostgreSQL: the
//! authenticator policy (which new passkeys are kept), whether user verification is required,
//! and the related origins (which other sites may use the passkeys, and
//! `/.well-known/webauthn`).

mod support;

use latchkey::connect::api::paths::{self, frontend};
use latchkey::connect::service::policy::{AuthenticatorPolicy, PasskeyStorage, Refusal};
use latchkey::events::{EventType, Reason};
use serde_json::Value;
use support::{
    client_info, registration_without, Client, Db, TestApp, TestPasskey, TestService, Transport,
    Tweak, FLAG_USER_VERIFIED,
};
use webauthn_rs::prelude::Uuid;

/// The software authenticator names no provider (all-zero AAGUID) and its passkeys are
/// device-bound (no backup-eligible flag).
const SOFT_AAGUID: Uuid = Uuid::nil();
const GOOGLE: &str = "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4";
const SHOP: &str = "https://shop.example.co.uk";

async fn service_with(db: Db, policy: AuthenticatorPolicy) -> TestService {
    TestService::start_with(db, Transport::InProcess, move |settings| {
        settings.authenticator_policy = policy;
    })
    .await
}

/// Each rule refuses the software authenticator's passkey with its sentence and reason: a
/// 422 `policy_refused`, nothing stored, the browser told the credential is unknown, and a
/// `passkey.creation-failed` event naming the credential.
async fn refused_passkeys_are_not_kept(db: Db) {
    let google = Uuid::parse_str(GOOGLE).unwrap();
    let rules = [
        (
            AuthenticatorPolicy {
                storage: PasskeyStorage::Synced,
                ..AuthenticatorPolicy::default()
            },
            Refusal::DeviceBound,
            Reason::DeviceBoundRefused,
        ),
        (
            AuthenticatorPolicy {
                allowed_providers: Some(vec![google]),
                ..AuthenticatorPolicy::default()
            },
            Refusal::ProviderNotAllowed(SOFT_AAGUID),
            Reason::ProviderNotAllowed,
        ),
        (
            AuthenticatorPolicy {
                refused_providers: vec![SOFT_AAGUID],
                ..AuthenticatorPolicy::default()
            },
            Refusal::ProviderRefused(SOFT_AAGUID),
            Reason::ProviderRefused,
        ),
    ];
    for (policy, refusal, reason) in rules {
        let svc = service_with(db, policy.clone()).await;
        let mut auth = TestPasskey::new();
        let answer = svc.append(&mut auth, "acc_p", &client_info(None)).await;
        assert_eq!(answer.status, 422, "{policy:?}: {answer:?}");
        assert_eq!(answer.error_type(), "policy_refused");
        let providers = latchkey::connect::providers::ProviderDirectory::shipped();
        assert_eq!(
            answer.body["message"],
            refusal.sentence(&providers).as_str()
        );
        assert_eq!(answer.body["data"]["unknownCredential"], true);
        let user = svc.backend.find_user_id("acc_p").await.unwrap().unwrap();
        assert!(svc
            .backend
            .list_credentials(&user)
            .await
            .unwrap()
            .is_empty());
        let events = svc
            .events(EventType::PasskeyCreationFailed, Some(reason))
            .await;
        assert_eq!(events.len(), 1, "{policy:?}");
        let credential_id = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            auth.newest_credential(),
        );
        assert_eq!(
            events[0].event.detail.as_deref(),
            Some(credential_id.as_str())
        );
        assert_eq!(events[0].event.account.as_deref(), Some("acc_p"));
        // No passkey was stored, so none can sign in.
        let (_, start) = svc.login_start("acc_p", &client_info(None)).await;
        assert_eq!(start.ok()["assertionOptions"], "", "{start:?}");
    }
}

/// The same authenticator is kept where the policy allows it, and refusing a provider leaves
/// other providers alone.
async fn allowed_passkeys_are_kept(db: Db) {
    let google = Uuid::parse_str(GOOGLE).unwrap();
    for policy in [
        AuthenticatorPolicy {
            storage: PasskeyStorage::DeviceBound,
            ..AuthenticatorPolicy::default()
        },
        AuthenticatorPolicy {
            allowed_providers: Some(vec![google, SOFT_AAGUID]),
            ..AuthenticatorPolicy::default()
        },
        AuthenticatorPolicy {
            refused_providers: vec![google],
            ..AuthenticatorPolicy::default()
        },
    ] {
        let svc = service_with(db, policy.clone()).await;
        let mut auth = TestPasskey::new();
        svc.append(&mut auth, "acc_k", &client_info(None))
            .await
            .ok();
        let finish = svc.login(&mut auth, "acc_k", &Tweak::default()).await;
        assert!(
            finish.ok()["signedPasskeyData"].is_string(),
            "{policy:?}: {finish:?}"
        );
    }
}

/// A related origin signs in with the passkeys made on the public origin; any other origin
/// is refused, both by WebAuthn's origin check and by the frontend API's `Origin` check.
async fn related_origins_share_the_passkeys(db: Db) {
    let shop = url::Url::parse(SHOP).unwrap();
    let svc = TestService::start_with(db, Transport::InProcess, move |settings| {
        settings.related_origins = vec![shop];
    })
    .await;
    let mut auth = TestPasskey::new();
    svc.append(&mut auth, "acc_r", &client_info(None))
        .await
        .ok();

    let at_shop = Client {
        front: svc.front.clone().with_origin(SHOP),
        backend: svc.backend.clone(),
    };
    let finish = at_shop
        .login(&mut auth, "acc_r", &Tweak::origin(SHOP))
        .await;
    assert!(finish.ok()["signedPasskeyData"].is_string(), "{finish:?}");

    // An assertion made on an unlisted site is refused even through a listed origin.
    let finish = at_shop
        .login(
            &mut auth,
            "acc_r",
            &Tweak::origin("https://shop.example.de"),
        )
        .await;
    assert_eq!(finish.status, 400, "{finish:?}");
    assert!(finish.body["message"]
        .as_str()
        .unwrap_or_default()
        .contains("could not be verified"));

    // An unlisted site cannot even start.
    let elsewhere = svc.front.clone().with_origin("https://shop.example.de");
    let init = elsewhere
        .post(
            frontend::LOGIN_INIT,
            None,
            &serde_json::json!({ "clientInformation": {}, "flags": {} }),
        )
        .await;
    assert_eq!((init.status, init.error_type()), (403, "invalid_origin"));
}

/// `/.well-known/webauthn` lists the related origins (with a cache lifetime), from the
/// service alone and from an app that mounts it; without any it is a 404.
async fn well_known_webauthn_lists_the_related_origins(db: Db) {
    let shop = url::Url::parse(SHOP).unwrap();
    let svc = TestService::start_with(db, Transport::Http, move |settings| {
        settings.related_origins = vec![shop];
    })
    .await;
    let base = svc.base.clone().unwrap();
    let http = reqwest::Client::new();
    let answer = http
        .get(format!("{base}{}", paths::RELATED_ORIGINS))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    assert_eq!(
        answer.headers()["cache-control"].to_str().unwrap(),
        "public, max-age=300"
    );
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body, serde_json::json!({ "origins": [SHOP] }));

    // The browser's CORS preflight from the related site is answered for that site only.
    let preflight = |origin: &'static str| {
        http.request(
            reqwest::Method::OPTIONS,
            format!("{base}{}", frontend::LOGIN_INIT),
        )
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
    };
    let allowed = preflight(SHOP).await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"]
            .to_str()
            .unwrap(),
        SHOP
    );
    let other = preflight("https://shop.example.de").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());

    // An app with the same settings answers it too: browsers ask the RP ID's host, which is
    // the app, whether the passkey service runs inside it or elsewhere.
    for extra in [
        vec![("LATCHKEY_RELATED_ORIGINS", SHOP)],
        vec![
            ("LATCHKEY_RELATED_ORIGINS", SHOP),
            ("LATCHKEY_CONNECT_URL", base.as_str()),
        ],
    ] {
        let app = TestApp::start_with(db, &extra).await;
        let answer = app.get(paths::RELATED_ORIGINS, None).await;
        assert_eq!(answer.status(), 200, "{extra:?}");
        let body: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(body["origins"][0], SHOP);
    }
    let plain = TestApp::start(db).await;
    let answer = plain.get(paths::RELATED_ORIGINS, None).await;
    assert_eq!(answer.status(), 404);
}

/// The user-verification rule asked for in creation options.
fn asked_verification(options: &str) -> String {
    let options: Value = serde_json::from_str(options).expect("options");
    options["publicKey"]["authenticatorSelection"]["userVerification"]
        .as_str()
        .or_else(|| options["publicKey"]["userVerification"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// `require-user-verification`: on (the default) a passkey made or used without verifying the
/// person is refused; off, presence is enough, except for a passkey that verified the person
/// when it was made (no silent downgrade).
async fn user_verification_is_required_unless_switched_off(db: Db) {
    let strict = TestService::start(db).await;
    let mut auth = TestPasskey::new();
    let (process, start) = strict.append_start("acc_v", &client_info(None), true).await;
    let options = start.ok()["attestationOptions"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(asked_verification(&options), "required");
    let unverified = registration_without(&auth.register(&options), FLAG_USER_VERIFIED);
    assert_eq!(
        strict
            .front
            .append_finish(&process, &unverified)
            .await
            .status,
        400
    );

    let relaxed = TestService::start_with(db, Transport::InProcess, |settings| {
        settings.require_user_verification = false;
    })
    .await;
    let mut touch_only = TestPasskey::new();
    let (process, start) = relaxed
        .append_start("acc_w", &client_info(None), true)
        .await;
    let options = start.ok()["attestationOptions"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(asked_verification(&options), "preferred");
    let unverified = registration_without(&touch_only.register(&options), FLAG_USER_VERIFIED);
    relaxed
        .front
        .append_finish(&process, &unverified)
        .await
        .ok();
    let (process, start) = relaxed.login_start("acc_w", &client_info(None)).await;
    let options = start.ok()["assertionOptions"].as_str().unwrap().to_string();
    assert_eq!(asked_verification(&options), "preferred");
    let touch = Tweak {
        without_user_verification: true,
        ..Tweak::default()
    };
    let assertion = touch_only.login(&options, &touch);
    relaxed.login_finish(&process, &assertion, false).await.ok();

    // A passkey that verified the person when it was made (its authenticator always asks
    // for the PIN) keeps needing it.
    let mut verifying = TestPasskey::new();
    let (process, start) = relaxed
        .append_start("acc_x", &client_info(None), true)
        .await;
    let options = start.ok()["attestationOptions"].as_str().unwrap().replace(
        "\"userVerification\":\"preferred\"",
        "\"userVerification\":\"required\"",
    );
    let verified = verifying.register(&options);
    relaxed.front.append_finish(&process, &verified).await.ok();
    let (process, start) = relaxed.login_start("acc_x", &client_info(None)).await;
    let options = start.ok()["assertionOptions"].as_str().unwrap().to_string();
    let assertion = verifying.login(&options, &touch);
    assert_eq!(
        relaxed
            .login_finish(&process, &assertion, false)
            .await
            .status,
        400
    );
}

on_both_databases!(
    refused_passkeys_are_not_kept,
    allowed_passkeys_are_kept,
    related_origins_share_the_passkeys,
    well_known_webauthn_lists_the_related_origins,
    user_verification_is_required_unless_switched_off,
);
