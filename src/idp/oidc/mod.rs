//! The OpenID Connect identity provider: Keycloak, Auth0, Cognito, Okta, Entra ID, ...
//!
//! Sign-up and password login happen on the provider's own pages; Latchkey is a relying
//! party using the authorization code flow with PKCE, `state` and `nonce`. Every protocol
//! check (discovery issuer match, ID token signature against the provider's JWKS, `iss`,
//! `aud`, `exp`, `nonce`, allowed algorithms, userinfo `sub` match) is the `openidconnect`
//! crate's; this module wires it up, keeps the provider's metadata fresh and turns answers
//! into an [`Identity`] whose stable half is `(issuer, sub)`.
//!
//! The provider's metadata and keys are fetched at start-up (a failure stops the server with
//! one line) and again before each login is sent to the provider, so a provider that went
//! down is reported on our page instead of as a browser error, and rotated keys are picked up.
//! An ID token signed by a key we have not seen yet triggers one JWKS refetch.

mod backchannel;
pub mod flow;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClient,
    CoreClientAuthMethod, CoreGenderClaim, CoreGrantType, CoreIdToken, CoreIdTokenClaims,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
    CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType, CoreTokenResponse,
};
use openidconnect::{
    AccessTokenHash, AdditionalProviderMetadata, AuthorizationCode, ClaimsVerificationError,
    ClientId, ClientSecret, CsrfToken, EmptyAdditionalClaims, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, JsonWebKeySet, LoginHint, LogoutProviderMetadata, LogoutRequest, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl,
    ProviderMetadata, RedirectUrl, RequestTokenError, Scope, SignatureVerificationError,
    TokenResponse, UserInfoClaims,
};
use serde::{Deserialize, Serialize};
use url::Url;

use http::header::HeaderMap;

use super::{
    normalize_email, ClassicLogin, Identity, IdentityProvider, IdpError, ProviderLogout,
    RedirectFailure, RedirectLogin, RedirectStart,
};
use crate::config::{OidcSettings, Secret};
use crate::store::Store;

/// How long one call to the provider may take (discovery, keys, token, userinfo).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Readiness trusts a discovery this recent; an older one is repeated (a probe every few
/// seconds must not become a discovery every few seconds).
const DISCOVERY_FRESH_FOR: Duration = Duration::from_secs(60);

/// OAuth metadata that OpenID Connect Discovery leaves out: which PKCE methods the provider
/// takes (RFC 8414), and whether it names itself in every authorization response (RFC 9207).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct OAuthMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code_challenge_methods_supported: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    authorization_response_iss_parameter_supported: Option<bool>,
}
impl AdditionalProviderMetadata for OAuthMetadata {}

/// Discovery metadata with `end_session_endpoint` (RP-initiated logout) and PKCE methods.
type Metadata = ProviderMetadata<
    LogoutProviderMetadata<OAuthMetadata>,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// A client built from discovery: authorization endpoint set, token and userinfo endpoints
/// as the provider advertised them.
type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// What we know about the provider right now (replaced as a whole on refresh).
struct Provider {
    metadata: Metadata,
    client: Client,
    /// The CSP `form-action` sources for its login and logout endpoints (computed once per
    /// refresh, read by every response).
    form_action: String,
}

/// An authorization request ready to send the browser to.
pub struct Authorization {
    pub url: Url,
    pub state: Secret,
    pub nonce: Secret,
    pub pkce_verifier: Secret,
}

/// A verified login at the provider.
#[derive(Debug)]
pub struct Verified {
    pub identity: Identity,
    /// The raw ID token, kept with the session for the provider's logout.
    pub id_token: Secret,
    /// The provider's session id (`sid`), when the ID token names one.
    pub sid: Option<String>,
}

pub struct OidcIdp {
    settings: OidcSettings,
    http: reqwest::Client,
    provider: RwLock<Arc<Provider>>,
    /// When the provider last answered discovery (or its keys); `None` once a login found
    /// it unreachable.
    discovered_at: std::sync::Mutex<Option<Instant>>,
    /// Pending logins (state, nonce, PKCE verifier) wait here for the callback.
    store: Store,
    /// The public origin is https (cookie names and flags).
    secure: bool,
}

impl OidcIdp {
    /// Fetches the provider's metadata and keys and checks they can serve our flow.
    pub async fn discover(
        settings: OidcSettings,
        store: Store,
        secure: bool,
    ) -> Result<Self, IdpError> {
        // No redirects: the crate's advice against SSRF through a provider's answers.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|err| IdpError::Internal(format!("HTTP client: {err}")))?;
        let provider = fetch_provider(&settings, &http).await?;
        Ok(Self {
            settings,
            http,
            provider: RwLock::new(Arc::new(provider)),
            discovered_at: std::sync::Mutex::new(Some(Instant::now())),
            store,
            secure,
        })
    }

    pub fn settings(&self) -> &OidcSettings {
        &self.settings
    }

    fn provider(&self) -> Arc<Provider> {
        match self.provider.read() {
            Ok(provider) => provider.clone(),
            // A panic while holding the lock cannot leave a half-written Arc behind.
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn replace_provider(&self, provider: Arc<Provider>) {
        match self.provider.write() {
            Ok(mut slot) => *slot = provider,
            Err(poisoned) => *poisoned.into_inner() = provider,
        }
        self.set_discovered_at(Some(Instant::now()));
    }

    fn set_discovered_at(&self, at: Option<Instant>) {
        match self.discovered_at.lock() {
            Ok(mut slot) => *slot = at,
            Err(poisoned) => *poisoned.into_inner() = at,
        }
    }

    /// Whether the last discovery succeeded within [`DISCOVERY_FRESH_FOR`].
    fn discovery_is_fresh(&self) -> bool {
        let at = match self.discovered_at.lock() {
            Ok(at) => *at,
            Err(poisoned) => *poisoned.into_inner(),
        };
        at.is_some_and(|at| at.elapsed() < DISCOVERY_FRESH_FOR)
    }

    /// Refreshes the provider's metadata (which also proves it is up) and builds an
    /// authorization request with fresh `state`, `nonce` and PKCE verifier.
    pub async fn authorization(&self, login_hint: Option<&str>) -> Result<Authorization, IdpError> {
        let provider = match fetch_provider(&self.settings, &self.http).await {
            Ok(provider) => provider,
            Err(err) => {
                // Readiness asks again instead of trusting the last success.
                self.set_discovered_at(None);
                return Err(err);
            }
        };
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = provider
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in self.settings.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        if let Some(hint) = login_hint.filter(|hint| !hint.is_empty()) {
            request = request.set_login_hint(LoginHint::new(hint.to_string()));
        }
        let (url, state, nonce) = request.url();
        self.replace_provider(Arc::new(provider));
        Ok(Authorization {
            url,
            state: Secret::new(state.secret().clone()),
            nonce: Secret::new(nonce.secret().clone()),
            pkce_verifier: Secret::new(verifier.secret().clone()),
        })
    }

    /// Exchanges the code (with the PKCE verifier) and verifies the ID token against the
    /// `nonce` of the request it answers.
    pub async fn verify_login(
        &self,
        code: &str,
        pkce_verifier: &Secret,
        nonce: &Secret,
    ) -> Result<Verified, IdpError> {
        let provider = self.provider();
        let token = provider
            .client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|err| {
                IdpError::Discovery(format!("the provider has no token endpoint: {err}"))
            })?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.expose().to_string()))
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        let id_token = token
            .id_token()
            .ok_or_else(|| IdpError::Rejected("the token response has no ID token".into()))?;
        let nonce = Nonce::new(nonce.expose().to_string());
        let (provider, claims) = match verify_id_token(&provider, id_token, &nonce) {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                // Signed with a key published after our last fetch: the provider rotated.
                let provider = self.refresh_keys(&provider).await?;
                let claims = verify_id_token(&provider, id_token, &nonce).map_err(claims_error)?;
                (provider, claims)
            }
            other => (provider, other.map_err(claims_error)?),
        };
        check_access_token_hash(&provider, &token, id_token, &claims)?;
        let email = self.email_of(&provider, &token, &claims).await?;
        Ok(Verified {
            identity: Identity {
                issuer: self.settings.issuer.clone(),
                subject: claims.subject().to_string(),
                email,
            },
            sid: backchannel::session_id_of(&id_token.to_string()),
            id_token: Secret::new(id_token.to_string()),
        })
    }

    /// The email to show and to find passkeys by: the ID token's `email`, else userinfo's,
    /// else the user name or the subject (display data only; identity is issuer + subject).
    async fn email_of(
        &self,
        provider: &Provider,
        token: &CoreTokenResponse,
        claims: &CoreIdTokenClaims,
    ) -> Result<String, IdpError> {
        let from_token = claims.email().map(|email| email.to_string());
        let email = match from_token {
            Some(email) => Some(email),
            None if provider.client.user_info_url().is_some() => {
                let request = provider
                    .client
                    .user_info(token.access_token().clone(), Some(claims.subject().clone()))
                    .map_err(|err| IdpError::Rejected(format!("userinfo: {err}")))?;
                let info: UserInfoClaims<EmptyAdditionalClaims, CoreGenderClaim> = request
                    .request_async(&self.http)
                    .await
                    .map_err(|err| match err {
                        openidconnect::UserInfoError::Request(err) => {
                            IdpError::Unavailable(format!("userinfo: {}", error_chain(&err)))
                        }
                        other => IdpError::Rejected(format!("userinfo: {}", error_chain(&other))),
                    })?;
                info.email().map(|email| email.to_string())
            }
            None => None,
        };
        let display = email
            .or_else(|| claims.preferred_username().map(|name| name.to_string()))
            .unwrap_or_else(|| claims.subject().to_string());
        Ok(normalize_email(&display).unwrap_or(display))
    }

    async fn refresh_keys(&self, current: &Provider) -> Result<Arc<Provider>, IdpError> {
        let keys = JsonWebKeySet::fetch_async(current.metadata.jwks_uri(), &self.http)
            .await
            .map_err(|err| {
                IdpError::Unavailable(format!(
                    "fetching the provider's keys: {}",
                    error_chain(&err)
                ))
            })?;
        let metadata = current.metadata.clone().set_jwks(keys);
        let provider = Arc::new(provider_from(&self.settings, metadata));
        tracing::info!(issuer = %self.settings.issuer, "fetched the provider's rotated keys");
        self.replace_provider(provider.clone());
        Ok(provider)
    }

    /// Whether every callback must carry `iss` (the provider promised it, RFC 9207), so a
    /// response without it cannot come from this provider.
    pub fn requires_iss(&self) -> bool {
        self.provider()
            .metadata
            .additional_metadata()
            .additional_metadata
            .authorization_response_iss_parameter_supported
            .unwrap_or(false)
    }

    /// Where the browser goes to end its session at the provider too, if the provider
    /// offers RP-initiated logout.
    fn end_session_url(&self, id_token: &str) -> Option<Url> {
        let provider = self.provider();
        let endpoint = provider
            .metadata
            .additional_metadata()
            .end_session_endpoint
            .clone()?;
        let mut request = LogoutRequest::from(endpoint)
            .set_client_id(ClientId::new(self.settings.client_id.clone()))
            .set_post_logout_redirect_uri(PostLogoutRedirectUrl::from_url(
                self.settings.post_logout_redirect_uri.clone(),
            ));
        if let Ok(token) = id_token.parse::<CoreIdToken>() {
            request = request.set_id_token_hint(&token);
        }
        Some(request.http_get_url())
    }
}

#[async_trait]
impl IdentityProvider for OidcIdp {
    fn issuer(&self) -> &str {
        &self.settings.issuer
    }

    fn classic_login(&self) -> ClassicLogin {
        ClassicLogin::Provider {
            name: self.settings.display_name.clone(),
            registration_url: self
                .settings
                .registration_url
                .as_ref()
                .map(|url| url.to_string()),
        }
    }

    /// Without JavaScript, login and logout are form posts that the server redirects to the
    /// provider, and `form-action` covers redirects.
    fn form_action_sources(&self) -> Option<String> {
        Some(self.provider().form_action.clone())
    }

    async fn start_redirect(
        &self,
        headers: &HeaderMap,
        login_hint: Option<&str>,
        next: &str,
    ) -> Result<RedirectStart, IdpError> {
        let hint = login_hint.and_then(|email| normalize_email(email).ok());
        flow::begin(self, headers, hint.as_deref(), next).await
    }

    async fn finish_redirect(
        &self,
        headers: &HeaderMap,
        query: &HashMap<String, String>,
    ) -> Result<RedirectLogin, RedirectFailure> {
        let params = flow::CallbackParams::from_query(query);
        flow::finish(self, headers, params)
            .await
            .map_err(|failure| RedirectFailure {
                status: failure.error.status(),
                message: failure.error.message(&self.settings.display_name),
                reason: failure.error.to_string(),
                login_hint: failure.login_hint,
                next: failure.next,
            })
    }

    fn logout_url(&self, id_token: Option<&str>) -> Option<String> {
        self.end_session_url(id_token?).map(String::from)
    }

    fn reverify_after(&self) -> Option<Duration> {
        self.settings.reverify_after
    }

    async fn verify_logout_token(&self, token: &str) -> Result<ProviderLogout, IdpError> {
        backchannel::verify(self, token).await
    }

    /// Ready while discovery is fresh; otherwise discovers again (and keeps the answer).
    async fn readiness(&self) -> Result<(), IdpError> {
        if self.discovery_is_fresh() {
            return Ok(());
        }
        let provider = fetch_provider(&self.settings, &self.http)
            .await
            .inspect_err(|_| self.set_discovered_at(None))?;
        self.replace_provider(Arc::new(provider));
        Ok(())
    }
}

async fn fetch_provider(
    settings: &OidcSettings,
    http: &reqwest::Client,
) -> Result<Provider, IdpError> {
    let issuer = IssuerUrl::new(settings.issuer.clone())
        .map_err(|err| IdpError::Discovery(format!("issuer {:?}: {err}", settings.issuer)))?;
    let metadata = Metadata::discover_async(issuer, http)
        .await
        .map_err(|err| match err {
            openidconnect::DiscoveryError::Request(err) => IdpError::Unavailable(format!(
                "cannot reach the OpenID provider at {}: {}",
                settings.issuer,
                error_chain(&err)
            )),
            other => IdpError::Discovery(format!(
                "the OpenID provider at {} answered discovery with something we cannot use: {}",
                settings.issuer,
                error_chain(&other)
            )),
        })?;
    check_metadata(settings, &metadata)?;
    Ok(provider_from(settings, metadata))
}

/// Refuses a provider that cannot do what we rely on, with the reason.
fn check_metadata(settings: &OidcSettings, metadata: &Metadata) -> Result<(), IdpError> {
    let problem = |what: &str| {
        IdpError::Discovery(format!("the OpenID provider at {} {what}", settings.issuer))
    };
    let code_flow = metadata
        .response_types_supported()
        .iter()
        .any(|types| types.as_slice() == [CoreResponseType::Code]);
    if !code_flow {
        return Err(problem("does not offer the authorization code flow"));
    }
    if metadata.token_endpoint().is_none() {
        return Err(problem("has no token endpoint"));
    }
    let pkce = &metadata
        .additional_metadata()
        .additional_metadata
        .code_challenge_methods_supported;
    if let Some(methods) = pkce {
        if !methods.iter().any(|method| method == "S256") {
            return Err(problem("does not support PKCE with S256"));
        }
    }
    if metadata.jwks().keys().is_empty() {
        return Err(problem("publishes no signing keys (jwks_uri is empty)"));
    }
    Ok(())
}

fn provider_from(settings: &OidcSettings, metadata: Metadata) -> Provider {
    let client = CoreClient::from_provider_metadata(
        metadata.clone(),
        ClientId::new(settings.client_id.clone()),
        settings
            .client_secret
            .as_ref()
            .map(|secret| ClientSecret::new(secret.expose().to_string())),
    )
    .set_redirect_uri(RedirectUrl::from_url(settings.redirect_uri.clone()));
    let logout = metadata
        .additional_metadata()
        .end_session_endpoint
        .as_ref()
        .map(|endpoint| endpoint.url());
    let mut origins: Vec<String> = std::iter::once(metadata.authorization_endpoint().url())
        .chain(logout)
        .map(|url| url.origin().ascii_serialization())
        .collect();
    origins.dedup();
    Provider {
        metadata,
        client,
        form_action: origins.join(" "),
    }
}

fn verify_id_token(
    provider: &Provider,
    id_token: &CoreIdToken,
    nonce: &Nonce,
) -> Result<CoreIdTokenClaims, ClaimsVerificationError> {
    id_token
        .claims(&provider.client.id_token_verifier(), nonce)
        .cloned()
}

/// `at_hash`, when the provider sends it, must match the access token we got with it.
fn check_access_token_hash(
    provider: &Provider,
    token: &CoreTokenResponse,
    id_token: &CoreIdToken,
    claims: &CoreIdTokenClaims,
) -> Result<(), IdpError> {
    let Some(expected) = claims.access_token_hash() else {
        return Ok(());
    };
    let verifier = provider.client.id_token_verifier();
    let rejected = |why: String| IdpError::Rejected(format!("at_hash: {why}"));
    let alg = id_token
        .signing_alg()
        .map_err(|err| rejected(err.to_string()))?;
    let key = id_token
        .signing_key(&verifier)
        .map_err(|err| rejected(err.to_string()))?;
    let actual = AccessTokenHash::from_token(token.access_token(), alg, key)
        .map_err(|err| rejected(err.to_string()))?;
    if actual != *expected {
        return Err(rejected("does not match the access token".into()));
    }
    Ok(())
}

fn token_error<RE: std::error::Error + 'static>(
    err: RequestTokenError<
        RE,
        openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
    >,
) -> IdpError {
    match err {
        RequestTokenError::ServerResponse(response) => {
            IdpError::Rejected(format!("the token endpoint refused the code: {}", response))
        }
        RequestTokenError::Request(err) => {
            IdpError::Unavailable(format!("token endpoint: {}", error_chain(&err)))
        }
        other => IdpError::Rejected(format!("token endpoint: {}", error_chain(&other))),
    }
}

fn claims_error(err: ClaimsVerificationError) -> IdpError {
    IdpError::Rejected(format!("ID token: {}", error_chain(&err)))
}

/// An error and its causes on one line ("Request failed: error sending request: …").
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut line = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    line
}
