//! A small scriptable OpenID provider, in process, for the relying-party tests.
//!
//! Why it exists: the browser tests use a real provider (npm `oidc-provider`,
//! end2end/oidc/provider.mjs), which is the right judge of the good path but cannot be made
//! to issue broken or hostile answers, and these tests need exactly those: ID tokens with
//! the wrong nonce, audience, issuer or signature, unsigned or expired ones, a userinfo
//! answer about someone else, a discovery document for another issuer, rotated keys.
//!
//! For the good path it behaves like a real provider: discovery, an `/authorize` that
//! approves the configured user at once (no login page) and sends the browser back with
//! `code`, `state` and `iss`, a `/token` endpoint that checks client authentication
//! (`client_secret_basic`), the redirect URI and PKCE (S256) and uses each code up on the
//! first attempt, ES256 ID tokens (P-256 keys, published at `/jwks`), `/userinfo` for the
//! bearer token, and RP-initiated logout at `/logout`. A test scripts the next answers with
//! [`OpenIdProvider::behave`] and reads what the provider saw with [`OpenIdProvider::log`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use url::Url;

/// The one client registered at the provider (plain ASCII, so `client_secret_basic`'s
/// URL-encoding leaves it unchanged).
pub const CLIENT_ID: &str = "latchkey-test";
pub const CLIENT_SECRET: &str = "test-client-secret-0123456789";
/// How the app names the provider on its pages.
pub const DISPLAY_NAME: &str = "Test SSO";

/// The person signed in at the provider: `/authorize` approves them without asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub sub: String,
    pub email: Option<String>,
}

/// What is wrong with the ID tokens the provider issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flaw {
    /// `nonce` is not the one of the authorization request.
    WrongNonce,
    /// `aud` names another client.
    WrongAudience,
    /// `iss` names another provider.
    WrongIssuer,
    /// `exp` (and `iat`) lie in the past.
    Expired,
    /// Signed by a key the JWKS does not have, under a `kid` it does not have either.
    UnknownKey,
    /// Signed by another key under the published key's `kid`.
    BadSignature,
    /// `alg: none`, no signature.
    Unsigned,
    /// `at_hash` is the hash of another access token.
    WrongAtHash,
}

/// How the discovery document reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Discovery {
    #[default]
    Normal,
    /// 503, as a provider in maintenance answers.
    Unavailable,
    /// `issuer` is another provider's.
    OtherIssuer,
    /// `response_types_supported` lacks `code` (implicit flow only).
    NoCodeFlow,
}

/// The knobs: how the provider answers from now on.
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// Who `/authorize` approves.
    pub user: User,
    pub flaw: Option<Flaw>,
    /// Put `at_hash` in ID tokens.
    pub at_hash: bool,
    /// Put the user's email in ID tokens (else only `/userinfo` has it).
    pub email_in_id_token: bool,
    /// `/userinfo` answers about this `sub` instead of the token's.
    pub userinfo_sub: Option<String>,
    /// `/token` refuses every request with this OAuth error.
    pub token_error: Option<String>,
    pub discovery: Discovery,
    /// Advertise `end_session_endpoint` (RP-initiated logout).
    pub end_session: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            user: User {
                sub: "sub-ada-0001".into(),
                email: Some("ada@example.com".into()),
            },
            flaw: None,
            at_hash: true,
            email_in_id_token: true,
            userinfo_sub: None,
            token_error: None,
            discovery: Discovery::Normal,
            end_session: true,
        }
    }
}

/// An authorization request as `/authorize` received it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AuthorizeRequest {
    pub response_type: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: String,
    pub nonce: String,
    pub code_challenge: String,
    pub code_challenge_method: String,
    pub login_hint: Option<String>,
}

/// What the provider saw and issued.
#[derive(Debug, Clone, Default)]
pub struct Log {
    pub authorize: Vec<AuthorizeRequest>,
    /// Every ID token `/token` issued, oldest first.
    pub id_tokens: Vec<String>,
    /// The provider session id (`sid`) of each of those ID tokens.
    pub sids: Vec<String>,
    pub discovery_fetches: usize,
    pub jwks_fetches: usize,
    pub userinfo_calls: usize,
}

/// A provider running on 127.0.0.1 until [`OpenIdProvider::stop`] or drop.
pub struct OpenIdProvider {
    /// `http://127.0.0.1:<port>`, exactly as discovery writes it.
    pub issuer: String,
    op: Shared,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

type Shared = Arc<Mutex<Op>>;

impl OpenIdProvider {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the OpenID provider");
        let port = listener.local_addr().expect("addr").port();
        let issuer = format!("http://127.0.0.1:{port}");
        let op: Shared = Arc::new(Mutex::new(Op::new(issuer.clone())));
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/authorize", get(authorize))
            .route("/token", axum::routing::post(token))
            .route("/userinfo", get(userinfo))
            .route("/jwks", get(jwks))
            .route("/logout", get(end_session))
            .with_state(op.clone());
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .expect("the OpenID provider's server");
        });
        Self {
            issuer,
            op,
            shutdown: Some(shutdown),
            server: Some(server),
        }
    }

    /// Registers the app at `origin` as the client: its callback and its logout return.
    pub fn register_client(&self, origin: &str) {
        let mut op = self.lock();
        op.redirect_uri = format!("{origin}/auth/callback");
        op.post_logout_redirect_uri = format!("{origin}/login");
    }

    /// Changes how the provider answers from now on.
    pub fn behave(&self, change: impl FnOnce(&mut Behaviour)) {
        change(&mut self.lock().behaviour);
    }

    pub fn log(&self) -> Log {
        self.lock().log.clone()
    }

    /// The URL of one of the provider's endpoints (`/authorize`, `/logout`, ...).
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// A back-channel logout token with `claims`, signed by the provider's current key
    /// (`signed_elsewhere`: by another key under the same key id, a forged signature).
    pub fn logout_token(&self, claims: &Value, signed_elsewhere: bool) -> String {
        let op = self.lock();
        if signed_elsewhere {
            Key::generate().sign_as(&op.key.kid, claims)
        } else {
            op.key.sign_as(&op.key.kid, claims)
        }
    }

    /// Publishes a new signing key in place of the current one and signs with it from now on.
    pub fn rotate_key(&self) {
        let mut op = self.lock();
        op.key = Key::generate();
        op.published = vec![op.key.clone()];
    }

    /// Stops listening and closes every connection: the provider is down.
    pub async fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("the OpenID provider stopped");
        }
    }

    fn lock(&self) -> MutexGuard<'_, Op> {
        self.op.lock().expect("the OpenID provider's state")
    }
}

impl Drop for OpenIdProvider {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// The app's environment for an OpenID provider at `issuer` with the test client.
pub fn client_env(issuer: &str) -> Vec<(&'static str, String)> {
    vec![
        ("LATCHKEY_IDP", "oidc".into()),
        ("LATCHKEY_IDP_ISSUER", issuer.into()),
        ("LATCHKEY_IDP_CLIENT_ID", CLIENT_ID.into()),
        ("LATCHKEY_IDP_CLIENT_SECRET", CLIENT_SECRET.into()),
        ("LATCHKEY_IDP_NAME", DISPLAY_NAME.into()),
    ]
}

// ------------------------------------------------------------------ state and tokens

/// An issued code: what the token request must match, and whom it is for.
struct Grant {
    redirect_uri: String,
    nonce: String,
    code_challenge: String,
    user: User,
}

struct Op {
    issuer: String,
    behaviour: Behaviour,
    redirect_uri: String,
    post_logout_redirect_uri: String,
    /// Signs the ID tokens.
    key: Key,
    /// What `/jwks` publishes.
    published: Vec<Key>,
    codes: HashMap<String, Grant>,
    access_tokens: HashMap<String, User>,
    log: Log,
}

impl Op {
    fn new(issuer: String) -> Self {
        let key = Key::generate();
        Self {
            issuer,
            behaviour: Behaviour::default(),
            redirect_uri: String::new(),
            post_logout_redirect_uri: String::new(),
            published: vec![key.clone()],
            key,
            codes: HashMap::new(),
            access_tokens: HashMap::new(),
            log: Log::default(),
        }
    }

    fn id_token(&self, grant: &Grant, access_token: &str) -> String {
        let behaviour = &self.behaviour;
        let flaw = behaviour.flaw;
        let now = latchkey::store::now();
        let mut claims = json!({
            "iss": self.issuer,
            "sub": grant.user.sub,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": grant.nonce,
            "sid": format!("sid-{}", latchkey::random::token(8)),
        });
        if let (true, Some(email)) = (behaviour.email_in_id_token, &grant.user.email) {
            claims["email"] = json!(email);
            claims["email_verified"] = json!(true);
        }
        if behaviour.at_hash || flaw == Some(Flaw::WrongAtHash) {
            let hashed = if flaw == Some(Flaw::WrongAtHash) {
                "another-access-token"
            } else {
                access_token
            };
            claims["at_hash"] = json!(at_hash(hashed));
        }
        match flaw {
            Some(Flaw::WrongNonce) => claims["nonce"] = json!("a-different-nonce"),
            Some(Flaw::WrongAudience) => claims["aud"] = json!("another-client"),
            Some(Flaw::WrongIssuer) => claims["iss"] = json!("https://evil.example"),
            Some(Flaw::Expired) => {
                claims["iat"] = json!(now - 900);
                claims["exp"] = json!(now - 600);
            }
            _ => {}
        }
        match flaw {
            Some(Flaw::Unsigned) => jwt(&json!({ "alg": "none", "typ": "JWT" }), &claims, None),
            Some(Flaw::UnknownKey) => Key::generate().sign_as("not-published", &claims),
            Some(Flaw::BadSignature) => Key::generate().sign_as(&self.key.kid, &claims),
            _ => self.key.sign_as(&self.key.kid, &claims),
        }
    }
}

/// A P-256 signing key with its key id.
#[derive(Clone)]
struct Key {
    kid: String,
    signing: SigningKey,
}

impl Key {
    fn generate() -> Self {
        loop {
            // Almost every 32 random bytes are a valid scalar.
            if let Ok(signing) = SigningKey::from_slice(&latchkey::random::bytes::<32>()) {
                return Self {
                    kid: latchkey::random::token(8),
                    signing,
                };
            }
        }
    }

    fn jwk(&self) -> Value {
        let point = self.signing.verifying_key().to_encoded_point(false);
        json!({
            "kty": "EC",
            "crv": "P-256",
            "kid": self.kid,
            "alg": "ES256",
            "use": "sig",
            "x": b64(point.x().expect("uncompressed point")),
            "y": b64(point.y().expect("uncompressed point")),
        })
    }

    /// An ES256 JWT signed by this key, its header naming `kid`.
    fn sign_as(&self, kid: &str, claims: &Value) -> String {
        let header = json!({ "alg": "ES256", "typ": "JWT", "kid": kid });
        jwt(&header, claims, Some(&self.signing))
    }
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn jwt(header: &Value, claims: &Value, key: Option<&SigningKey>) -> String {
    let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
    let signature = key
        .map(|key| {
            let signature: Signature = key.sign(input.as_bytes());
            b64(signature.to_bytes())
        })
        .unwrap_or_default();
    format!("{input}.{signature}")
}

/// OpenID Connect Core 3.1.3.6 for ES256: the left half of SHA-256, base64url.
fn at_hash(access_token: &str) -> String {
    b64(&Sha256::digest(access_token.as_bytes())[..16])
}

/// RFC 7636 S256.
fn pkce_challenge(verifier: &str) -> String {
    b64(Sha256::digest(verifier.as_bytes()))
}

// ------------------------------------------------------------------ endpoints

fn lock(op: &Shared) -> MutexGuard<'_, Op> {
    op.lock().expect("the OpenID provider's state")
}

async fn discovery(State(op): State<Shared>) -> Response {
    let mut op = lock(&op);
    op.log.discovery_fetches += 1;
    let issuer = op.issuer.clone();
    let behaviour = &op.behaviour;
    let response_types = match behaviour.discovery {
        Discovery::Unavailable => {
            return (StatusCode::SERVICE_UNAVAILABLE, "down for maintenance").into_response()
        }
        Discovery::NoCodeFlow => json!(["id_token", "id_token token"]),
        Discovery::Normal | Discovery::OtherIssuer => json!(["code"]),
    };
    let mut document = json!({
        "issuer": if behaviour.discovery == Discovery::OtherIssuer {
            "https://other-provider.example".to_string()
        } else {
            issuer.clone()
        },
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": response_types,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "grant_types_supported": ["authorization_code"],
        "scopes_supported": ["openid", "email", "profile"],
        "authorization_response_iss_parameter_supported": true,
    });
    if behaviour.end_session {
        document["end_session_endpoint"] = json!(format!("{issuer}/logout"));
    }
    Json(document).into_response()
}

async fn jwks(State(op): State<Shared>) -> Json<Value> {
    let mut op = lock(&op);
    op.log.jwks_fetches += 1;
    Json(json!({ "keys": op.published.iter().map(Key::jwk).collect::<Vec<_>>() }))
}

/// Approves the configured user at once. An unknown client or redirect URI gets an error
/// page, never a redirect; a malformed request is sent back with `error=invalid_request`.
async fn authorize(State(op): State<Shared>, Query(request): Query<AuthorizeRequest>) -> Response {
    let mut op = lock(&op);
    op.log.authorize.push(request.clone());
    if request.client_id != CLIENT_ID || request.redirect_uri != op.redirect_uri {
        return (StatusCode::BAD_REQUEST, "unknown client or redirect_uri").into_response();
    }
    let mut back = Url::parse(&request.redirect_uri).expect("registered redirect URI");
    let well_formed = request.response_type == "code"
        && request.scope.split(' ').any(|scope| scope == "openid")
        && request.code_challenge_method == "S256"
        && !request.code_challenge.is_empty();
    if well_formed {
        let code = latchkey::random::token(24);
        let grant = Grant {
            redirect_uri: request.redirect_uri.clone(),
            nonce: request.nonce.clone(),
            code_challenge: request.code_challenge.clone(),
            user: op.behaviour.user.clone(),
        };
        op.codes.insert(code.clone(), grant);
        back.query_pairs_mut().append_pair("code", &code);
    } else {
        back.query_pairs_mut()
            .append_pair("error", "invalid_request");
    }
    back.query_pairs_mut()
        .append_pair("state", &request.state)
        .append_pair("iss", &op.issuer);
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, back.to_string())],
    )
        .into_response()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TokenRequest {
    grant_type: String,
    code: String,
    redirect_uri: String,
    code_verifier: String,
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (status, Json(json!({ "error": error }))).into_response()
}

/// The authorization code grant. Any attempt uses the code up, so a code that was tried
/// once (rightly or not) is `invalid_grant` from then on.
async fn token(
    State(op): State<Shared>,
    headers: HeaderMap,
    Form(request): Form<TokenRequest>,
) -> Response {
    let mut op = lock(&op);
    if let Some(error) = op.behaviour.token_error.clone() {
        return oauth_error(StatusCode::BAD_REQUEST, &error);
    }
    let expected = format!(
        "Basic {}",
        STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        != Some(&expected)
    {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    if request.grant_type != "authorization_code" {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let Some(grant) = op.codes.remove(&request.code) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    if grant.redirect_uri != request.redirect_uri
        || pkce_challenge(&request.code_verifier) != grant.code_challenge
    {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    let access_token = latchkey::random::token(24);
    op.access_tokens
        .insert(access_token.clone(), grant.user.clone());
    let id_token = op.id_token(&grant, &access_token);
    if let Some(sid) = id_token
        .split('.')
        .nth(1)
        .and_then(|payload| URL_SAFE_NO_PAD.decode(payload).ok())
        .and_then(|json| serde_json::from_slice::<Value>(&json).ok())
        .and_then(|claims| claims["sid"].as_str().map(str::to_string))
    {
        op.log.sids.push(sid);
    }
    op.log.id_tokens.push(id_token.clone());
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": id_token,
        })),
    )
        .into_response()
}

async fn userinfo(State(op): State<Shared>, headers: HeaderMap) -> Response {
    let mut op = lock(&op);
    op.log.userinfo_calls += 1;
    let user = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .and_then(|token| op.access_tokens.get(token))
        .cloned();
    let Some(user) = user else {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")],
        )
            .into_response();
    };
    let mut claims = json!({ "sub": op.behaviour.userinfo_sub.clone().unwrap_or(user.sub) });
    if let Some(email) = user.email {
        claims["email"] = json!(email);
        claims["email_verified"] = json!(true);
    }
    Json(claims).into_response()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LogoutRequest {
    id_token_hint: Option<String>,
    client_id: Option<String>,
    post_logout_redirect_uri: Option<String>,
}

/// RP-initiated logout: back to the registered page when the request names the client and
/// one of our ID tokens, else the provider's own "signed out" page.
async fn end_session(State(op): State<Shared>, Query(request): Query<LogoutRequest>) -> Response {
    let op = lock(&op);
    let ours = request
        .id_token_hint
        .as_ref()
        .is_some_and(|token| op.log.id_tokens.contains(token))
        && request.client_id.as_deref() == Some(CLIENT_ID);
    match request.post_logout_redirect_uri {
        Some(uri) if ours && uri == op.post_logout_redirect_uri => {
            (StatusCode::SEE_OTHER, [(header::LOCATION, uri)]).into_response()
        }
        _ => (StatusCode::OK, "You are signed out.").into_response(),
    }
}
