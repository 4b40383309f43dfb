//! Passkeys as the Connect components use them, through the app: creating one at the append
//! step, and a passkey login up to its signed result. Each helper takes any [`Site`]: a
//! [`TestApp`](super::TestApp), one instance of several, or the load balancer in front.

use latchkey::connect::api::paths::frontend;
use serde_json::json;

use super::authenticator::{TestPasskey, Tweak};
use super::frontend::{client_info, Answer, Front};
use super::site::Site;

/// Creates a passkey for the session `cookie` the way ConnectAppend does, and leaves the
/// append step.
pub async fn enrol_passkey(app: &impl AsRef<Site>, auth: &mut TestPasskey, cookie: &str) {
    let app = app.as_ref();
    let (status, token, _) = app
        .call_text("passkey_append_token", &[], Some(cookie))
        .await;
    assert_eq!(status, 200, "append token: {token}");
    let front = app.front();
    let (process, _) = front.init("append", &client_info(None)).await;
    let start = front
        .post(
            frontend::APPEND_START,
            Some(&process),
            &json!({ "appendTokenValue": token, "loadedMs": 1 }),
        )
        .await;
    let options = start.ok()["attestationOptions"].as_str().expect("options");
    assert!(!options.is_empty(), "no offer: {start:?}");
    let credential = auth.register(options);
    let finish = front.append_finish(&process, &credential).await;
    finish.ok();
    let res = app
        .call(
            "finish_append",
            &[("next", ""), ("outcome", "created")],
            Some(cookie),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
}

/// A `passkey-login` connect token for `email`, as ConnectLogin gets it.
pub async fn login_token(app: &impl AsRef<Site>, email: &str) -> String {
    let app = app.as_ref();
    let (status, token, _) = app
        .call_text("passkey_login_token", &[("email", email)], None)
        .await;
    assert_eq!(status, 200, "login token: {token}");
    token
}

/// A login process at the passkey service, and login start with `token` (`identifier` is
/// what the person typed): the frontend client, the process id and the answer.
pub async fn start_login(
    app: &impl AsRef<Site>,
    identifier: &str,
    token: &str,
) -> (Front, String, Answer) {
    let front = app.as_ref().front();
    let (process, _) = front.init("login", &client_info(None)).await;
    let start = front
        .post(
            frontend::LOGIN_START,
            Some(&process),
            &json!({ "identifier": identifier, "source": "text-field", "loadedMs": 1,
                    "loginConnectToken": token }),
        )
        .await;
    (front, process, start)
}

/// Login finish with `assertion` in `process`.
pub async fn finish_login(front: &Front, process: &str, assertion: &str) -> Answer {
    front
        .post(
            frontend::LOGIN_FINISH,
            Some(process),
            &json!({ "assertionResponse": assertion, "isConditionalUI": false }),
        )
        .await
}

/// Signs the options of a login start with `auth`, finishes, and returns the signed data.
pub async fn sign_and_finish(
    auth: &mut TestPasskey,
    front: &Front,
    process: &str,
    start: &Answer,
) -> String {
    sign_and_finish_with(auth, front, process, start, &Tweak::default()).await
}

/// [`sign_and_finish`] with the assertion changed by `tweak`.
pub async fn sign_and_finish_with(
    auth: &mut TestPasskey,
    front: &Front,
    process: &str,
    start: &Answer,
    tweak: &Tweak,
) -> String {
    let options = start.ok()["assertionOptions"].as_str().expect("options");
    assert!(!options.is_empty(), "fell back: {start:?}");
    let assertion = auth.login(options, tweak);
    let finish = finish_login(front, process, &assertion).await;
    finish.ok()["signedPasskeyData"]
        .as_str()
        .expect("signed data")
        .to_string()
}

/// Identifier-first passkey login through the frontend API, with this browser's own
/// (platform) authenticator; returns the signed data.
pub async fn passkey_login(app: &impl AsRef<Site>, auth: &mut TestPasskey, email: &str) -> String {
    let token = login_token(app, email).await;
    let (front, process, start) = start_login(app, email, &token).await;
    sign_and_finish(auth, &front, &process, &start).await
}

/// [`passkey_login`] with a passkey from another device (a phone over hybrid: the browser
/// reports `authenticatorAttachment: "cross-platform"`).
pub async fn passkey_login_from_another_device(
    app: &impl AsRef<Site>,
    auth: &mut TestPasskey,
    email: &str,
) -> String {
    let token = login_token(app, email).await;
    let (front, process, start) = start_login(app, email, &token).await;
    let tweak = Tweak {
        attachment: Some("cross-platform"),
        ..Tweak::default()
    };
    sign_and_finish_with(auth, &front, &process, &start, &tweak).await
}

/// `complete_passkey_login` with `signed` data, as ConnectLogin calls it: the status.
pub async fn complete_login(app: &impl AsRef<Site>, signed: &str) -> u16 {
    complete_for(app, signed, "").await.0
}

/// `complete_passkey_login` for the target `next`: status, body (where the browser goes) and
/// headers.
pub async fn complete_for(
    app: &impl AsRef<Site>,
    signed: &str,
    next: &str,
) -> (u16, String, reqwest::header::HeaderMap) {
    app.as_ref()
        .call_text(
            "complete_passkey_login",
            &[("signed_passkey_data", signed), ("next", next)],
            None,
        )
        .await
}
