//! Login through an external OpenID provider, over real HTTP: the app as relying party against
//! the scriptable provider of `support::openid_provider`. The good path end to end, every way
//! a callback or the provider's answer can be wrong (none makes a session or an account),
//! key rotation, the provider going down, start-up checks, logout at the provider, and the
//! single use of a pending login in the store.
#![cfg(feature = "ssr")]

mod support;

use latchkey::config::Secret;
use latchkey::events::{EventFilter, EventType, Reason};
use latchkey::server::StartError;
use latchkey::session::AuthMethod;
use latchkey::store::oidc_logins::PendingLogin;
use latchkey::store::{now, Store};
use serde_json::Value;
use support::openid_provider::{self, Behaviour, Discovery, Flaw, OpenIdProvider, CLIENT_ID};
use support::*;
use url::Url;

const EMAIL: &str = "ada@example.com";

/// The app with the provider as its identity provider.
struct Rig {
    op: OpenIdProvider,
    app: TestApp,
}

async fn rig(db: Db) -> Rig {
    let op = OpenIdProvider::start().await;
    let env = openid_provider::client_env(&op.issuer);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = TestApp::start_with(db, &env).await;
    op.register_client(&app.origin);
    Rig { op, app }
}

impl Rig {
    /// What the audit log recorded, oldest first (start-up's settings left out): type,
    /// reason and whether it names an account.
    async fn recorded(&self) -> Vec<(EventType, Option<Reason>, bool)> {
        let page = self
            .app
            .state
            .events
            .list(&EventFilter::default(), None, 500)
            .await
            .expect("events");
        page.events
            .iter()
            .rev()
            .filter(|e| e.event.event_type != EventType::SettingsChanged)
            .map(|e| {
                (
                    e.event.event_type,
                    e.event.reason,
                    e.event.account.is_some(),
                )
            })
            .collect()
    }
}

/// A browser that `sign_in` sent to the provider.
struct Outbound {
    authorize: Url,
    /// `latchkey_oidc=<value>`: the cookie binding the login to this browser.
    binding: String,
}

/// The browser back from the provider: the callback it was sent to, and its binding cookie.
struct Return {
    callback: Url,
    binding: String,
}

impl Return {
    /// The callback as the provider wrote it (path and query, for [`TestApp::get`]).
    fn path(&self) -> String {
        format!(
            "{}?{}",
            self.callback.path(),
            self.callback.query().unwrap_or("")
        )
    }

    /// The callback with the query parameter `key` replaced by `value` (or removed).
    fn with(&self, key: &str, value: Option<&str>) -> String {
        let mut url = self.callback.clone();
        let mut pairs: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| k != key)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if let Some(value) = value {
            pairs.push((key.into(), value.into()));
        }
        url.query_pairs_mut().clear().extend_pairs(pairs);
        format!("{}?{}", url.path(), url.query().unwrap_or(""))
    }

    fn param(&self, key: &str) -> String {
        query_param(&self.callback, key).unwrap_or_else(|| panic!("no {key} in {}", self.callback))
    }
}

fn query_param(url: &Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

impl Rig {
    /// `sign_in` as the hydrated login page calls it: the browser is sent to the provider.
    async fn send_to_provider(&self, email: &str, next: &str) -> (Outbound, reqwest::Response) {
        let res = self
            .app
            .call("sign_in", &[("email", email), ("next", next)], None)
            .await;
        assert_eq!(res.status(), 200, "sign_in");
        let authorize = Url::parse(&location(&res).expect("a redirect")).expect("a URL");
        let binding = set_cookie_named(res.headers(), "latchkey_oidc").expect("a binding cookie");
        let outbound = Outbound {
            authorize,
            binding: cookie_pair(&binding),
        };
        (outbound, res)
    }

    /// The provider approves the login and sends the browser back.
    async fn approve(&self, outbound: Outbound) -> Return {
        let res = TestApp::client()
            .get(outbound.authorize)
            .send()
            .await
            .expect("GET /authorize");
        assert_eq!(res.status(), 303, "the provider approves");
        let callback = Url::parse(&location(&res).expect("a redirect")).expect("a URL");
        assert_eq!(
            callback.as_str().split('?').next(),
            Some(format!("{}/auth/callback", self.app.origin).as_str())
        );
        Return {
            callback,
            binding: outbound.binding,
        }
    }

    /// Signs in as [`EMAIL`] up to the provider's redirect back to us.
    async fn back_from_provider(&self) -> Return {
        let (outbound, _) = self.send_to_provider(EMAIL, "").await;
        self.approve(outbound).await
    }

    async fn callback(&self, path: &str, cookie: Option<&str>) -> reqwest::Response {
        self.app.get(path, cookie).await
    }

    /// A whole login; returns the session cookie.
    async fn log_in(&self) -> String {
        let back = self.back_from_provider().await;
        let res = self.callback(&back.path(), Some(&back.binding)).await;
        assert_eq!(res.status(), 303, "the callback logs in");
        session_cookie(&res).expect("a session cookie")
    }

    async fn count(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(self.app.state.store.pool())
            .await
            .expect("count")
    }

    async fn accounts(&self) -> i64 {
        self.count("SELECT COUNT(*) FROM accounts").await
    }

    /// A refused callback: an error page with `status`, no session, no new account.
    /// Returns the page.
    async fn assert_refused(&self, res: reqwest::Response, status: u16, accounts: i64) -> String {
        assert_eq!(res.status(), status);
        assert_eq!(session_cookie(&res), None, "no session cookie");
        let page = res.text().await.expect("a page");
        assert!(page.contains(r#"role="alert""#), "{page}");
        assert_eq!(self.accounts().await, accounts, "no account was created");
        page
    }

    async fn account(&self, email: &str) -> latchkey::store::accounts::Account {
        self.app
            .state
            .store
            .find_account_by_email(&self.op.issuer, email)
            .await
            .expect("store")
            .expect("an account")
    }
}

/// A login with the provider answering as `change` says: the callback is refused (400).
async fn refused_when(db: Db, change: impl FnOnce(&mut Behaviour)) -> (Rig, String) {
    let rig = rig(db).await;
    rig.op.behave(change);
    let back = rig.back_from_provider().await;
    let res = rig.callback(&back.path(), Some(&back.binding)).await;
    let page = rig.assert_refused(res, 400, 0).await;
    (rig, page)
}

async fn refused_id_token(db: Db, flaw: Flaw) {
    refused_when(db, |b| b.flaw = Some(flaw)).await;
}

// ------------------------------------------------------------------ the good path

async fn login_goes_through_the_provider_to_the_append_step(db: Db) {
    let rig = rig(db).await;
    let (outbound, res) = rig.send_to_provider("Ada@Example.com", "/passkeys").await;

    // The authorization request: code flow with PKCE, state, nonce and the email as hint.
    let url = &outbound.authorize;
    assert_eq!(
        url.as_str().split('?').next(),
        Some(rig.op.endpoint("/authorize").as_str())
    );
    let param = |key| query_param(url, key).unwrap_or_else(|| panic!("no {key} in {url}"));
    assert_eq!(param("response_type"), "code");
    assert_eq!(param("client_id"), CLIENT_ID);
    assert_eq!(
        param("redirect_uri"),
        format!("{}/auth/callback", rig.app.origin)
    );
    assert!(param("scope").split(' ').any(|s| s == "openid"));
    assert_eq!(param("code_challenge_method"), "S256");
    assert_eq!(param("login_hint"), EMAIL);
    for secret in ["state", "nonce", "code_challenge"] {
        assert!(param(secret).len() >= 22, "{secret} is long and random");
    }
    let line = set_cookie_named(res.headers(), "latchkey_oidc").unwrap();
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(line.contains(flag), "{line} lacks {flag}");
    }

    let back = rig.approve(outbound).await;
    let seen = rig
        .op
        .log()
        .authorize
        .pop()
        .expect("the provider saw the request");
    assert_eq!(seen.login_hint.as_deref(), Some(EMAIL));
    assert_eq!(back.param("state"), seen.state);
    assert_eq!(back.param("iss"), rig.op.issuer);

    let res = rig.callback(&back.path(), Some(&back.binding)).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res).as_deref(), Some("/append?next=/passkeys"));
    let session = session_cookie(&res).expect("a session cookie");
    let cleared = set_cookie_named(res.headers(), "latchkey_oidc").expect("binding cleared");
    assert!(
        cleared.starts_with("latchkey_oidc=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );

    // The account is the provider's subject at the provider's issuer.
    let account = rig.account(EMAIL).await;
    assert_eq!(account.idp, rig.op.issuer);
    assert_eq!(account.subject, Behaviour::default().user.sub);
    let info: Value = rig
        .app
        .call("session", &[], Some(&session))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["email"], EMAIL);
    // Like every login, the session starts at the append step.
    let res = rig.app.get("/dashboard", Some(&session)).await;
    assert_eq!(location(&res).as_deref(), Some("/append?next=/dashboard"));
    assert_eq!(
        rig.recorded().await,
        [(EventType::OidcLoginSucceeded, None, true)]
    );
}

async fn a_provider_login_replaces_the_session_the_browser_had(db: Db) {
    let rig = rig(db).await;
    let old = rig.log_in().await;
    let back = rig.back_from_provider().await;
    let res = rig
        .callback(&back.path(), Some(&format!("{old}; {}", back.binding)))
        .await;
    let new = session_cookie(&res).expect("a new session");
    assert_ne!(new, old);
    let res = rig.app.get("/append", Some(&old)).await;
    assert_eq!(
        location(&res).as_deref(),
        Some("/login"),
        "the old one is gone"
    );
}

async fn an_unsafe_next_does_not_survive_the_round_trip(db: Db) {
    let rig = rig(db).await;
    let (outbound, _) = rig.send_to_provider(EMAIL, "https://evil.example/").await;
    let back = rig.approve(outbound).await;
    let res = rig.callback(&back.path(), Some(&back.binding)).await;
    assert_eq!(location(&res).as_deref(), Some("/append"));
}

async fn the_email_comes_from_userinfo_when_the_id_token_has_none(db: Db) {
    let rig = rig(db).await;
    rig.op.behave(|b| {
        b.email_in_id_token = false;
        b.user.email = Some("grace@example.com".into());
    });
    rig.log_in().await;
    assert_eq!(rig.op.log().userinfo_calls, 1);
    assert_eq!(
        rig.account("grace@example.com").await.subject,
        Behaviour::default().user.sub
    );
}

async fn the_email_is_display_data_and_the_subject_is_the_identity(db: Db) {
    let rig = rig(db).await;
    rig.log_in().await;
    let first = rig.account(EMAIL).await;
    // The person changed their email at the provider: same account, new email.
    rig.op
        .behave(|b| b.user.email = Some("ada.lovelace@example.com".into()));
    rig.log_in().await;
    let again = rig.account("ada.lovelace@example.com").await;
    assert_eq!(again.id, first.id);
    assert_eq!(rig.accounts().await, 1);
}

async fn two_subjects_with_one_email_are_two_accounts(db: Db) {
    let rig = rig(db).await;
    rig.log_in().await;
    rig.op.behave(|b| b.user.sub = "sub-someone-else".into());
    rig.log_in().await;
    assert_eq!(
        rig.count("SELECT COUNT(*) FROM accounts WHERE email = 'ada@example.com'")
            .await,
        2
    );
}

// ------------------------------------------------------------------ callbacks that are not ours

async fn a_tampered_state_is_refused(db: Db) {
    let rig = rig(db).await;
    let back = rig.back_from_provider().await;
    let forged = latchkey::random::token(32);
    let res = rig
        .callback(&back.with("state", Some(&forged)), Some(&back.binding))
        .await;
    let page = rig.assert_refused(res, 400, 0).await;
    assert!(page.contains("expired or was already used"), "{page}");
    assert_eq!(
        rig.recorded().await,
        [(
            EventType::OidcLoginFailed,
            Some(Reason::CallbackRefused),
            false
        )]
    );
}

async fn a_callback_without_state_is_refused(db: Db) {
    let rig = rig(db).await;
    let back = rig.back_from_provider().await;
    let res = rig
        .callback(&back.with("state", None), Some(&back.binding))
        .await;
    rig.assert_refused(res, 400, 0).await;
}

async fn a_callback_in_another_browser_is_refused(db: Db) {
    let rig = rig(db).await;
    let back = rig.back_from_provider().await;
    let res = rig.callback(&back.path(), None).await;
    let page = rig.assert_refused(res, 400, 0).await;
    assert!(page.contains("another browser"), "{page}");
}

async fn a_callback_with_another_binding_cookie_is_refused(db: Db) {
    let rig = rig(db).await;
    let back = rig.back_from_provider().await;
    let other = format!("latchkey_oidc={}", latchkey::random::token(32));
    let res = rig.callback(&back.path(), Some(&other)).await;
    rig.assert_refused(res, 400, 0).await;
    // The state was used up by that attempt: the right browser cannot finish it either.
    let res = rig.callback(&back.path(), Some(&back.binding)).await;
    rig.assert_refused(res, 400, 0).await;
}

async fn a_replayed_callback_is_refused(db: Db) {
    let rig = rig(db).await;
    let back = rig.back_from_provider().await;
    let res = rig.callback(&back.path(), Some(&back.binding)).await;
    assert_eq!(res.status(), 303);
    let res = rig.callback(&back.path(), Some(&back.binding)).await;
    let page = rig.assert_refused(res, 400, 1).await;
    assert!(page.contains("expired or was already used"), "{page}");
}

async fn a_callback_naming_another_issuer_is_refused(db: Db) {
    let rig = rig(db).await;
    let back = rig.back_from_provider().await;
    let res = rig
        .callback(
            &back.with("iss", Some("https://evil.example")),
            Some(&back.binding),
        )
        .await;
    rig.assert_refused(res, 400, 0).await;
}

async fn a_callback_without_the_promised_issuer_is_refused(db: Db) {
    // The provider advertises authorization_response_iss_parameter_supported (RFC 9207).
    let rig = rig(db).await;
    let back = rig.back_from_provider().await;
    let res = rig
        .callback(&back.with("iss", None), Some(&back.binding))
        .await;
    rig.assert_refused(res, 400, 0).await;
}

async fn a_cancelled_login_says_so(db: Db) {
    let rig = rig(db).await;
    let back = rig.back_from_provider().await;
    let denied = format!(
        "/auth/callback?error=access_denied&state={}&iss={}",
        back.param("state"),
        back.param("iss")
    );
    let res = rig.callback(&denied, Some(&back.binding)).await;
    let page = rig.assert_refused(res, 400, 0).await;
    assert!(
        page.contains("Signing in at Test SSO was cancelled."),
        "{page}"
    );
    // The way back keeps the email.
    assert!(page.contains("/login?email=ada%40example.com"), "{page}");
}

async fn a_callback_without_code_is_refused(db: Db) {
    let rig = rig(db).await;
    let back = rig.back_from_provider().await;
    let res = rig
        .callback(&back.with("code", None), Some(&back.binding))
        .await;
    rig.assert_refused(res, 400, 0).await;
}

// ------------------------------------------------------------------ answers that are not good

async fn an_id_token_with_another_nonce_is_refused(db: Db) {
    refused_id_token(db, Flaw::WrongNonce).await;
}

async fn an_id_token_for_another_client_is_refused(db: Db) {
    refused_id_token(db, Flaw::WrongAudience).await;
}

async fn an_id_token_from_another_issuer_is_refused(db: Db) {
    refused_id_token(db, Flaw::WrongIssuer).await;
}

async fn an_expired_id_token_is_refused(db: Db) {
    refused_id_token(db, Flaw::Expired).await;
}

async fn an_id_token_with_a_bad_signature_is_refused(db: Db) {
    refused_id_token(db, Flaw::BadSignature).await;
}

async fn an_unsigned_id_token_is_refused(db: Db) {
    refused_id_token(db, Flaw::Unsigned).await;
}

async fn an_id_token_whose_at_hash_does_not_match_is_refused(db: Db) {
    refused_id_token(db, Flaw::WrongAtHash).await;
}

async fn an_id_token_signed_by_an_unknown_key_is_refused_after_one_key_refetch(db: Db) {
    let rig = rig(db).await;
    rig.op.behave(|b| b.flaw = Some(Flaw::UnknownKey));
    let back = rig.back_from_provider().await;
    let fetches = rig.op.log().jwks_fetches;
    let res = rig.callback(&back.path(), Some(&back.binding)).await;
    rig.assert_refused(res, 400, 0).await;
    assert_eq!(rig.op.log().jwks_fetches, fetches + 1);
}

async fn userinfo_about_another_subject_is_refused(db: Db) {
    let (rig, _) = refused_when(db, |b| {
        b.email_in_id_token = false;
        b.userinfo_sub = Some("sub-mallory".into());
    })
    .await;
    assert_eq!(rig.op.log().userinfo_calls, 1);
}

async fn a_token_endpoint_error_is_refused(db: Db) {
    refused_when(db, |b| b.token_error = Some("invalid_client".into())).await;
}

async fn a_code_someone_else_already_redeemed_is_refused(db: Db) {
    let rig = rig(db).await;
    let back = rig.back_from_provider().await;
    // Someone with the client's credentials, but not the PKCE verifier, tries the code first.
    let res = TestApp::client()
        .post(rig.op.endpoint("/token"))
        .basic_auth(CLIENT_ID, Some(openid_provider::CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &back.param("code")),
            ("redirect_uri", &format!("{}/auth/callback", rig.app.origin)),
            ("code_verifier", &latchkey::random::token(32)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_grant");
    let res = rig.callback(&back.path(), Some(&back.binding)).await;
    rig.assert_refused(res, 400, 0).await;
}

// ------------------------------------------------------------------ keys and availability

async fn a_key_rotated_during_a_login_is_fetched_once_and_accepted(db: Db) {
    let rig = rig(db).await;
    // The app fetched key A when it sent the browser off; the provider then moves to key B.
    let (outbound, _) = rig.send_to_provider(EMAIL, "").await;
    rig.op.rotate_key();
    let back = rig.approve(outbound).await;
    let fetches = rig.op.log().jwks_fetches;
    let res = rig.callback(&back.path(), Some(&back.binding)).await;
    assert_eq!(res.status(), 303, "the token signed with B is accepted");
    assert!(session_cookie(&res).is_some());
    assert_eq!(rig.op.log().jwks_fetches, fetches + 1, "one refetch");
    // The next login works with B too.
    rig.log_in().await;
}

async fn with_the_provider_down_sign_in_says_so_and_passkeys_still_work(db: Db) {
    let mut rig = rig(db).await;
    rig.log_in().await;
    let ready = TestApp::client()
        .get(format!("{}/readyz", rig.app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200, "discovery is fresh");
    rig.op.stop().await;

    let res = rig
        .app
        .call("sign_in", &[("email", EMAIL), ("next", "")], None)
        .await;
    assert_eq!(res.status(), 503);
    assert!(set_cookie_named(res.headers(), "latchkey_oidc").is_none());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "idp_unreachable");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("Test SSO") && message.contains("passkey"),
        "{message}"
    );
    assert_eq!(rig.count("SELECT COUNT(*) FROM oidc_logins").await, 0);
    // Readiness names the provider (the login above found it down).
    let res = TestApp::client()
        .get(format!("{}/readyz", rig.app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    let readiness: Value = res.json().await.unwrap();
    assert_eq!(
        readiness["checks"],
        serde_json::json!([
            {"part": "database", "status": "ok"},
            {"part": "migrations", "status": "ok"},
            {"part": "identity-provider", "status": "discovery failed"},
        ])
    );

    // The passkey login does not need the provider.
    let res = rig
        .app
        .call("passkey_login_token", &[("email", EMAIL)], None)
        .await;
    assert_eq!(res.status(), 200);
    let token: Value = res.json().await.unwrap();
    assert!(!token.as_str().unwrap_or_default().is_empty(), "{token}");
}

async fn with_the_provider_down_at_the_callback_the_page_says_so(db: Db) {
    let mut rig = rig(db).await;
    let back = rig.back_from_provider().await;
    rig.op.stop().await;
    let res = rig.callback(&back.path(), Some(&back.binding)).await;
    let page = rig.assert_refused(res, 503, 0).await;
    assert!(page.contains("passkey"), "{page}");
    assert_eq!(
        rig.recorded().await,
        [(
            EventType::OidcLoginFailed,
            Some(Reason::ProviderUnreachable),
            false
        )]
    );
}

// ------------------------------------------------------------------ start-up

/// Builds the app state for a provider at `issuer`; start-up must fail. Returns the line the
/// server prints.
async fn start_up_failure(db: Db, issuer: &str) -> String {
    let db = TestDb::new(db).await;
    let env = openid_provider::client_env(issuer);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let config = test_config(&db.url, db.dir.path(), &env);
    let err = TestApp::build_state(config)
        .await
        .err()
        .expect("start-up fails");
    assert!(matches!(err, StartError::Oidc(_)), "{err}");
    err.to_string()
}

async fn start_up_failure_with(db: Db, discovery: Discovery) -> (OpenIdProvider, String) {
    let op = OpenIdProvider::start().await;
    op.behave(|b| b.discovery = discovery);
    let message = start_up_failure(db, &op.issuer).await;
    assert!(message.contains(&op.issuer), "{message}");
    (op, message)
}

async fn start_up_fails_when_nobody_answers_at_the_issuer(db: Db) {
    let issuer = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port())
    };
    let message = start_up_failure(db, &issuer).await;
    assert!(
        message.contains(&format!("cannot reach the OpenID provider at {issuer}")),
        "{message}"
    );
}

async fn start_up_fails_when_discovery_is_unavailable(db: Db) {
    let (_, message) = start_up_failure_with(db, Discovery::Unavailable).await;
    assert!(message.contains("503"), "{message}");
}

async fn start_up_refuses_discovery_for_another_issuer(db: Db) {
    let (_, message) = start_up_failure_with(db, Discovery::OtherIssuer).await;
    assert!(
        message.contains("https://other-provider.example"),
        "{message}"
    );
}

async fn start_up_refuses_a_provider_without_the_code_flow(db: Db) {
    let (_, message) = start_up_failure_with(db, Discovery::NoCodeFlow).await;
    assert!(
        message.contains("does not offer the authorization code flow"),
        "{message}"
    );
}

// ------------------------------------------------------------------ sign-out

async fn sign_out_ends_the_session_at_the_provider_too(db: Db) {
    let rig = rig(db).await;
    let session = rig.log_in().await;
    let id_token = rig.op.log().id_tokens.pop().expect("an ID token");

    let res = rig.app.call("sign_out", &[], Some(&session)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(session_cookie(&res).as_deref(), Some("latchkey_session="));
    let logout = Url::parse(&location(&res).expect("a redirect")).unwrap();
    assert_eq!(
        logout.as_str().split('?').next(),
        Some(rig.op.endpoint("/logout").as_str())
    );
    assert_eq!(query_param(&logout, "id_token_hint"), Some(id_token));
    assert_eq!(
        query_param(&logout, "client_id").as_deref(),
        Some(CLIENT_ID)
    );
    let back = format!("{}/login", rig.app.origin);
    assert_eq!(
        query_param(&logout, "post_logout_redirect_uri"),
        Some(back.clone())
    );

    // The session is gone here, and the provider sends the browser back to our login.
    let res = rig.app.get("/dashboard", Some(&session)).await;
    assert_eq!(location(&res).as_deref(), Some("/login?next=/dashboard"));
    let res = TestApp::client().get(logout).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), Some(back));
}

async fn sign_out_of_a_session_without_an_id_token_goes_to_login(db: Db) {
    let rig = rig(db).await;
    rig.log_in().await;
    // A passkey login of the same account: no ID token to end anything at the provider with.
    let account = rig.account(EMAIL).await;
    let (_, cookie) = rig
        .app
        .state
        .sessions
        .start(&account.id, &account.email, AuthMethod::Passkey, None)
        .await
        .unwrap();
    let session = cookie_pair(cookie.to_str().unwrap());
    let res = rig.app.call("sign_out", &[], Some(&session)).await;
    assert_eq!(location(&res).as_deref(), Some("/login"));
}

async fn sign_out_goes_to_login_when_the_provider_offers_no_logout(db: Db) {
    let rig = rig(db).await;
    // Sending a login to the provider refreshes its metadata: no end_session_endpoint now.
    rig.op.behave(|b| b.end_session = false);
    let session = rig.log_in().await;
    let res = rig.app.call("sign_out", &[], Some(&session)).await;
    assert_eq!(location(&res).as_deref(), Some("/login"));
    let res = rig.app.get("/dashboard", Some(&session)).await;
    assert_eq!(location(&res).as_deref(), Some("/login?next=/dashboard"));
}

// ------------------------------------------------------------------ the store

fn pending_login(expires_at: i64) -> PendingLogin {
    PendingLogin {
        browser_hash: "browser-hash".into(),
        nonce: Secret::new("nonce".to_string()),
        pkce_verifier: Secret::new("verifier".to_string()),
        next: "/passkeys".into(),
        login_hint: EMAIL.into(),
        expires_at,
    }
}

async fn open_store(db: &TestDb) -> Store {
    Store::open(&db.url).await.expect("open store")
}

async fn a_pending_login_is_taken_once_even_by_racing_callbacks(db: Db) {
    let db = TestDb::new(db).await;
    let store = open_store(&db).await;
    let login = pending_login(now() + 600);
    store
        .insert_oidc_login("state-hash", &login, now())
        .await
        .unwrap();
    let takes = (0..16).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.take_oidc_login("state-hash", now()).await })
    });
    let mut taken = Vec::new();
    for take in takes.collect::<Vec<_>>() {
        if let Some(login) = take.await.unwrap().unwrap() {
            taken.push(login);
        }
    }
    assert_eq!(taken, vec![login], "exactly one callback gets the login");
}

async fn an_expired_pending_login_is_refused_and_removed(db: Db) {
    let db = TestDb::new(db).await;
    let store = open_store(&db).await;
    let t = now();
    store
        .insert_oidc_login("expired", &pending_login(t - 1), t - 601)
        .await
        .unwrap();
    store
        .insert_oidc_login("live", &pending_login(t + 600), t)
        .await
        .unwrap();
    assert_eq!(store.take_oidc_login("expired", t).await.unwrap(), None);
    // Refused and gone: a purge finds nothing left to remove, the live login is untouched.
    assert_eq!(store.purge_oidc_logins(t).await.unwrap(), 0);
    assert!(store.take_oidc_login("live", t).await.unwrap().is_some());
}

/// What a back-channel logout token says, as a provider signs it: for `sub` and/or `sid`.
fn logout_claims(rig: &Rig, sub: Option<&str>, sid: Option<&str>) -> Value {
    let mut claims = serde_json::json!({
        "iss": rig.op.issuer,
        "aud": CLIENT_ID,
        "iat": now(),
        "exp": now() + 120,
        "jti": latchkey::random::token(12),
        "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
    });
    if let Some(sub) = sub {
        claims["sub"] = serde_json::json!(sub);
    }
    if let Some(sid) = sid {
        claims["sid"] = serde_json::json!(sid);
    }
    claims
}

/// The provider posting a logout token, server to server (no cookie, no Origin).
async fn post_logout_token(rig: &Rig, token: &str) -> reqwest::Response {
    TestApp::client()
        .post(format!("{}/auth/backchannel-logout", rig.app.base))
        .form(&[("logout_token", token)])
        .send()
        .await
        .expect("POST")
}

/// Whether the session behind `cookie` is still alive.
async fn alive(rig: &Rig, cookie: &str) -> bool {
    let res = rig.app.get("/dashboard", Some(cookie)).await;
    !location(&res).is_some_and(|to| to.starts_with("/login"))
}

/// A logout token naming a provider session ends exactly that app session; one naming only
/// the subject ends all of them.
async fn back_channel_logout_ends_the_named_sessions(db: Db) {
    let rig = rig(db).await;
    let first = rig.log_in().await;
    let second = rig.log_in().await;
    let sids = rig.op.log().sids;
    assert_eq!(sids.len(), 2);
    let sub = Behaviour::default().user.sub;

    let token = rig
        .op
        .logout_token(&logout_claims(&rig, Some(&sub), Some(&sids[0])), false);
    let res = post_logout_token(&rig, &token).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert!(!alive(&rig, &first).await, "the named session ended");
    assert!(alive(&rig, &second).await, "the other session lives on");

    let token = rig
        .op
        .logout_token(&logout_claims(&rig, Some(&sub), None), false);
    assert_eq!(post_logout_token(&rig, &token).await.status(), 200);
    assert!(
        !alive(&rig, &second).await,
        "every session of the subject ended"
    );
    let ended: Vec<_> = rig
        .recorded()
        .await
        .into_iter()
        .filter(|(ty, _, _)| *ty == EventType::SessionEnded)
        .collect();
    assert_eq!(
        ended,
        [(
            EventType::SessionEnded,
            Some(Reason::BackchannelLogout),
            true
        ); 2]
    );
}

/// Every check of a logout token: refused with 400 `invalid_request`, and nothing ends.
async fn back_channel_logout_tokens_are_checked(db: Db) {
    let rig = rig(db).await;
    let cookie = rig.log_in().await;
    let sub = Behaviour::default().user.sub;
    let good = logout_claims(&rig, Some(&sub), None);
    let with = |change: &dyn Fn(&mut Value)| {
        let mut claims = good.clone();
        change(&mut claims);
        claims
    };
    let cases: Vec<(&str, String)> = vec![
        ("a forged signature", rig.op.logout_token(&good, true)),
        (
            "another audience",
            rig.op
                .logout_token(&with(&|c| c["aud"] = "another-client".into()), false),
        ),
        (
            "another issuer",
            rig.op
                .logout_token(&with(&|c| c["iss"] = "https://evil.example".into()), false),
        ),
        (
            "no events claim",
            rig.op.logout_token(
                &with(&|c| {
                    c.as_object_mut().unwrap().remove("events");
                }),
                false,
            ),
        ),
        (
            "neither sub nor sid",
            rig.op.logout_token(
                &with(&|c| {
                    c.as_object_mut().unwrap().remove("sub");
                }),
                false,
            ),
        ),
        (
            "a nonce (an ID token)",
            rig.op
                .logout_token(&with(&|c| c["nonce"] = "n".into()), false),
        ),
        (
            "issued an hour ago",
            rig.op
                .logout_token(&with(&|c| c["iat"] = (now() - 3600).into()), false),
        ),
        ("not a JWT", "garbage".to_string()),
        ("empty", String::new()),
    ];
    for (what, token) in cases {
        let res = post_logout_token(&rig, &token).await;
        assert_eq!(res.status(), 400, "{what}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request", "{what}: {body}");
        assert!(alive(&rig, &cookie).await, "{what} ended nothing");
    }
    // Replayed: the same token (same jti) works once.
    let token = rig.op.logout_token(&good, false);
    assert_eq!(post_logout_token(&rig, &token).await.status(), 200);
    assert!(!alive(&rig, &cookie).await);
    let again = rig.log_in().await;
    assert_eq!(
        post_logout_token(&rig, &token).await.status(),
        400,
        "a replay"
    );
    assert!(alive(&rig, &again).await, "the replay ended nothing");
    let refused: Vec<_> = rig
        .recorded()
        .await
        .into_iter()
        .filter(|(ty, _, _)| *ty == EventType::TokenRefused)
        .map(|(_, reason, _)| reason)
        .collect();
    // The nine refusals above (the empty one never reaches the check), then the replay.
    let mut expected = vec![Some(Reason::Invalid); 8];
    expected.push(Some(Reason::Replay));
    assert_eq!(refused, expected);
}

/// `idp-reverify-days`: a passkey login makes a session only while the last login at the
/// provider is recent; after that it sends the browser to the provider (email as the hint),
/// whose login then makes the session. Off by default.
async fn passkey_logins_go_back_to_the_provider_after_the_reverify_period(db: Db) {
    let op = OpenIdProvider::start().await;
    let mut env = openid_provider::client_env(&op.issuer);
    env.push(("LATCHKEY_IDP_REVERIFY_DAYS", "7".to_string()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = TestApp::start_with(db, &env).await;
    op.register_client(&app.origin);
    let rig = Rig { op, app };
    let cookie = rig.log_in().await;
    let mut key = TestPasskey::for_origin(&rig.app.origin);
    enrol_passkey(&rig.app, &mut key, &cookie).await;

    let app = &rig.app;
    let complete = |signed: String| async move {
        app.call_text(
            "complete_passkey_login",
            &[("signed_passkey_data", &signed), ("next", "/passkeys")],
            None,
        )
        .await
    };
    // The provider saw the person today: the passkey alone makes the session.
    let signed = passkey_login(&rig.app, &mut key, EMAIL).await;
    let (status, target, headers) = complete(signed).await;
    // (This device's own passkey: the append step is passed with the login.)
    assert_eq!((status, target.as_str()), (200, "/passkeys"));
    assert!(new_session_cookie(&headers).is_some());

    // Eight days later the passkey login goes on to the provider, and makes no session.
    sqlx::query("UPDATE accounts SET last_idp_login_at = last_idp_login_at - 8 * 86400")
        .execute(rig.app.state.store.pool())
        .await
        .unwrap();
    let signed = passkey_login(&rig.app, &mut key, EMAIL).await;
    let (status, target, headers) = complete(signed).await;
    assert_eq!(status, 200, "{target}");
    let authorize = Url::parse(&target).expect("the provider's authorization URL");
    assert!(
        target.starts_with(&rig.op.endpoint("/authorize")),
        "{target}"
    );
    assert_eq!(
        query_param(&authorize, "login_hint").as_deref(),
        Some(EMAIL)
    );
    assert!(
        new_session_cookie(&headers).is_none(),
        "no session before the provider's login"
    );
    assert!(
        cookie_named(&headers, "latchkey_oidc").is_some(),
        "the login is bound to the browser"
    );
}

on_both_databases!(
    passkey_logins_go_back_to_the_provider_after_the_reverify_period,
    back_channel_logout_ends_the_named_sessions,
    back_channel_logout_tokens_are_checked,
    login_goes_through_the_provider_to_the_append_step,
    a_provider_login_replaces_the_session_the_browser_had,
    an_unsafe_next_does_not_survive_the_round_trip,
    the_email_comes_from_userinfo_when_the_id_token_has_none,
    the_email_is_display_data_and_the_subject_is_the_identity,
    two_subjects_with_one_email_are_two_accounts,
    a_tampered_state_is_refused,
    a_callback_without_state_is_refused,
    a_callback_in_another_browser_is_refused,
    a_callback_with_another_binding_cookie_is_refused,
    a_replayed_callback_is_refused,
    a_callback_naming_another_issuer_is_refused,
    a_callback_without_the_promised_issuer_is_refused,
    a_cancelled_login_says_so,
    a_callback_without_code_is_refused,
    an_id_token_with_another_nonce_is_refused,
    an_id_token_for_another_client_is_refused,
    an_id_token_from_another_issuer_is_refused,
    an_expired_id_token_is_refused,
    an_id_token_with_a_bad_signature_is_refused,
    an_unsigned_id_token_is_refused,
    an_id_token_whose_at_hash_does_not_match_is_refused,
    an_id_token_signed_by_an_unknown_key_is_refused_after_one_key_refetch,
    userinfo_about_another_subject_is_refused,
    a_token_endpoint_error_is_refused,
    a_code_someone_else_already_redeemed_is_refused,
    a_key_rotated_during_a_login_is_fetched_once_and_accepted,
    with_the_provider_down_sign_in_says_so_and_passkeys_still_work,
    with_the_provider_down_at_the_callback_the_page_says_so,
    start_up_fails_when_nobody_answers_at_the_issuer,
    start_up_fails_when_discovery_is_unavailable,
    start_up_refuses_discovery_for_another_issuer,
    start_up_refuses_a_provider_without_the_code_flow,
    sign_out_ends_the_session_at_the_provider_too,
    sign_out_of_a_session_without_an_id_token_goes_to_login,
    sign_out_goes_to_login_when_the_provider_offers_no_logout,
    a_pending_login_is_taken_once_even_by_racing_callbacks,
    an_expired_pending_login_is_refused_and_removed,
);
