//! How the web app reaches the passkey service's backend API: one trait, two
//! implementations. [`InProcessBackend`] calls the service mounted in this process (the
//! default, no network hop); [`HttpBackend`] speaks the backend API over HTTP to a separate
//! Latchkey passkey service (or a Corbado-compatible one) at `LATCHKEY_CONNECT_URL`. Both
//! answer the same way, errors included; one contract test suite checks that.

use std::time::Duration;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use url::Url;

use super::api::paths::{self, backend as bp};
use super::api::{
    ConnectToken, ConnectTokenCreateReq, ConnectTokenData, ConnectTokenList, ConnectTokenStatus,
    ConnectTokenType, ConnectTokenUpdateReq, Credential, CredentialList, ErrorRsp, ErrorType,
    IdentifierList, ListQuery, SignedPasskeyClaims, VerificationResult, VerifySignedDataReq,
    VerifySignedDataRsp,
};
use super::service::{ConnectError, ConnectService};
use crate::config::Secret;

/// A failed backend API call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// The service answered with an error (Corbado's `errorRsp`).
    #[error("passkey service refused the request ({status} {error_type}): {message}")]
    Api {
        status: u16,
        error_type: String,
        message: String,
    },
    /// The service could not be reached, or answered something that is not its API.
    #[error("passkey service unavailable: {0}")]
    Unavailable(String),
}

impl BackendError {
    pub fn error_type(&self) -> Option<ErrorType> {
        match self {
            Self::Api { error_type, .. } => error_type.parse().ok(),
            Self::Unavailable(_) => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.error_type() == Some(ErrorType::NotFound)
    }
}

impl From<ConnectError> for BackendError {
    fn from(err: ConnectError) -> Self {
        let body = err.to_body();
        Self::Api {
            status: body.http_status_code,
            error_type: body.error.error_type,
            message: body.message,
        }
    }
}

#[async_trait]
pub trait ConnectBackend: Send + Sync {
    /// `POST /v2/connectTokens`
    async fn create_connect_token(
        &self,
        req: &ConnectTokenCreateReq,
    ) -> Result<ConnectToken, BackendError>;

    /// `GET /v2/connectTokens`
    async fn list_connect_tokens(
        &self,
        query: &ListQuery,
    ) -> Result<ConnectTokenList, BackendError>;

    /// `PATCH /v2/connectTokens/{id}`
    async fn set_connect_token_status(
        &self,
        id: &str,
        status: ConnectTokenStatus,
    ) -> Result<(), BackendError>;

    /// `DELETE /v2/connectTokens/{id}`
    async fn delete_connect_token(&self, id: &str) -> Result<(), BackendError>;

    /// `POST /v2/passkey/verifySignedData`: `username` is the identifier the app expects.
    async fn verify_signed_data(
        &self,
        signed_passkey_data: &str,
        username: &str,
    ) -> Result<VerificationResult, BackendError>;

    /// The service's user id (`usr-…`) for an identifier (`GET /v2/identifiers`); `None`
    /// when the service has never seen it.
    async fn find_user_id(&self, identifier: &str) -> Result<Option<String>, BackendError>;

    /// `GET /v2/users/{userID}/credentials`
    async fn list_credentials(&self, user_id: &str) -> Result<Vec<Credential>, BackendError>;

    /// `DELETE /v2/users/{userID}/credentials/{credentialID}`; `actor` is the operator who
    /// asked (sent as `X-Latchkey-Actor`, recorded with the `passkey.deleted` event).
    async fn delete_credential(
        &self,
        user_id: &str,
        credential_id: &str,
        actor: Option<&str>,
    ) -> Result<(), BackendError>;
}

/// A connect token's secret for one user and action (what the browser gets).
pub async fn connect_token_secret(
    backend: &dyn ConnectBackend,
    token_type: ConnectTokenType,
    identifier: &str,
    display_name: &str,
) -> Result<String, BackendError> {
    let token = backend
        .create_connect_token(&ConnectTokenCreateReq {
            token_type,
            data: ConnectTokenData {
                identifier: identifier.to_string(),
                display_name: (token_type == ConnectTokenType::PasskeyAppend)
                    .then(|| display_name.to_string()),
            },
            max_lifetime_in_seconds: None,
        })
        .await?;
    token.secret.ok_or_else(|| {
        BackendError::Unavailable("the connect token came without its secret".into())
    })
}

/// Whether the passkey behind signed passkey data came from another device (Latchkey's
/// `crossDevice` claim; `None` from services without it). Read without verifying: call it
/// only after [`ConnectBackend::verify_signed_data`] accepted this very token.
pub fn cross_device_of(signed_passkey_data: &str) -> Option<bool> {
    jsonwebtoken::dangerous::insecure_decode::<SignedPasskeyClaims>(signed_passkey_data)
        .ok()
        .and_then(|data| data.claims.cross_device)
}

/// The identifier signed passkey data *claims* to be for, read WITHOUT verifying anything:
/// only to learn whom to pass to [`ConnectBackend::verify_signed_data`] after a conditional-UI
/// login, where the app did not know the user beforehand. Never trust it otherwise.
pub fn claimed_identifier(signed_passkey_data: &str) -> Option<String> {
    jsonwebtoken::dangerous::insecure_decode::<SignedPasskeyClaims>(signed_passkey_data)
        .ok()
        .map(|data| data.claims.webauthn_id)
}

/// The passkey service in this process.
#[derive(Clone, Debug)]
pub struct InProcessBackend {
    service: ConnectService,
}

impl InProcessBackend {
    pub fn new(service: ConnectService) -> Self {
        Self { service }
    }
}

#[async_trait]
impl ConnectBackend for InProcessBackend {
    async fn create_connect_token(
        &self,
        req: &ConnectTokenCreateReq,
    ) -> Result<ConnectToken, BackendError> {
        Ok(self.service.create_connect_token(req).await?)
    }

    async fn list_connect_tokens(
        &self,
        query: &ListQuery,
    ) -> Result<ConnectTokenList, BackendError> {
        Ok(self.service.list_connect_tokens(query).await?)
    }

    async fn set_connect_token_status(
        &self,
        id: &str,
        status: ConnectTokenStatus,
    ) -> Result<(), BackendError> {
        Ok(self.service.set_connect_token_status(id, status).await?)
    }

    async fn delete_connect_token(&self, id: &str) -> Result<(), BackendError> {
        Ok(self.service.delete_connect_token(id).await?)
    }

    async fn verify_signed_data(
        &self,
        signed_passkey_data: &str,
        username: &str,
    ) -> Result<VerificationResult, BackendError> {
        Ok(self
            .service
            .verify_signed_data(&VerifySignedDataReq {
                signed_passkey_data: signed_passkey_data.to_string(),
                username: username.to_string(),
            })
            .await?)
    }

    async fn find_user_id(&self, identifier: &str) -> Result<Option<String>, BackendError> {
        let list = self
            .service
            .list_identifiers(&identifier_query(identifier))
            .await?;
        Ok(list.identifiers.into_iter().next().map(|i| i.user_id))
    }

    async fn list_credentials(&self, user_id: &str) -> Result<Vec<Credential>, BackendError> {
        Ok(self
            .service
            .list_user_credentials(user_id)
            .await?
            .credentials)
    }

    async fn delete_credential(
        &self,
        user_id: &str,
        credential_id: &str,
        actor: Option<&str>,
    ) -> Result<(), BackendError> {
        Ok(self
            .service
            .delete_user_credential(user_id, credential_id, actor)
            .await?)
    }
}

fn identifier_query(identifier: &str) -> ListQuery {
    ListQuery {
        filters: vec![format!("identifierValue:eq:{identifier}")],
        ..ListQuery::default()
    }
}

/// The backend API of a passkey service at a base URL (without `/v2`), over HTTP.
#[derive(Clone)]
pub struct HttpBackend {
    client: reqwest::Client,
    base: Url,
    project_id: String,
    api_secret: Secret,
}

impl std::fmt::Debug for HttpBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpBackend")
            .field("base", &self.base.as_str())
            .field("project_id", &self.project_id)
            .finish_non_exhaustive()
    }
}

impl HttpBackend {
    pub fn new(base: Url, project_id: String, api_secret: Secret) -> Result<Self, BackendError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|err| BackendError::Unavailable(format!("HTTP client: {err}")))?;
        Ok(Self {
            client,
            base,
            project_id,
            api_secret,
        })
    }

    /// `path` (one of [`paths::backend`], parameters filled) below the base URL, which may
    /// have a path of its own.
    fn url(&self, path: &str) -> Result<Url, BackendError> {
        let base = self.base.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}{path}"))
            .map_err(|err| BackendError::Unavailable(format!("passkey service URL: {err}")))
    }

    fn request(&self, method: reqwest::Method, url: Url) -> reqwest::RequestBuilder {
        self.client
            .request(method, url)
            .basic_auth(&self.project_id, Some(self.api_secret.expose()))
            .header(reqwest::header::ACCEPT, "application/json")
    }

    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, BackendError> {
        let response = request
            .send()
            .await
            .map_err(|err| BackendError::Unavailable(err.without_url().to_string()))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|err| BackendError::Unavailable(err.without_url().to_string()))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|err| {
                BackendError::Unavailable(format!("unexpected answer ({status}): {err}"))
            });
        }
        match serde_json::from_slice::<ErrorRsp>(&bytes) {
            Ok(body) => Err(BackendError::Api {
                status: status.as_u16(),
                error_type: body.error.error_type,
                message: body.message,
            }),
            Err(_) => Err(BackendError::Unavailable(format!(
                "unexpected answer ({status})"
            ))),
        }
    }
}

#[async_trait]
impl ConnectBackend for HttpBackend {
    async fn create_connect_token(
        &self,
        req: &ConnectTokenCreateReq,
    ) -> Result<ConnectToken, BackendError> {
        let url = self.url(bp::CONNECT_TOKENS)?;
        self.send(self.request(reqwest::Method::POST, url).json(req))
            .await
    }

    async fn list_connect_tokens(
        &self,
        query: &ListQuery,
    ) -> Result<ConnectTokenList, BackendError> {
        let url = self.url(bp::CONNECT_TOKENS)?;
        self.send(
            self.request(reqwest::Method::GET, url)
                .query(&query.to_pairs()),
        )
        .await
    }

    async fn set_connect_token_status(
        &self,
        id: &str,
        status: ConnectTokenStatus,
    ) -> Result<(), BackendError> {
        let url = self.url(&paths::fill(bp::CONNECT_TOKEN, &[("id", id)]))?;
        self.send::<serde_json::Value>(
            self.request(reqwest::Method::PATCH, url)
                .json(&ConnectTokenUpdateReq { status }),
        )
        .await
        .map(drop)
    }

    async fn delete_connect_token(&self, id: &str) -> Result<(), BackendError> {
        let url = self.url(&paths::fill(bp::CONNECT_TOKEN, &[("id", id)]))?;
        self.send::<serde_json::Value>(self.request(reqwest::Method::DELETE, url))
            .await
            .map(drop)
    }

    async fn verify_signed_data(
        &self,
        signed_passkey_data: &str,
        username: &str,
    ) -> Result<VerificationResult, BackendError> {
        let url = self.url(bp::VERIFY_SIGNED_DATA)?;
        let body = VerifySignedDataReq {
            signed_passkey_data: signed_passkey_data.to_string(),
            username: username.to_string(),
        };
        let answer: VerifySignedDataRsp = self
            .send(self.request(reqwest::Method::POST, url).json(&body))
            .await?;
        Ok(answer.verification_result)
    }

    async fn find_user_id(&self, identifier: &str) -> Result<Option<String>, BackendError> {
        let url = self.url(bp::IDENTIFIERS)?;
        let list: IdentifierList = self
            .send(
                self.request(reqwest::Method::GET, url)
                    .query(&identifier_query(identifier).to_pairs()),
            )
            .await?;
        Ok(list.identifiers.into_iter().next().map(|i| i.user_id))
    }

    async fn list_credentials(&self, user_id: &str) -> Result<Vec<Credential>, BackendError> {
        let url = self.url(&paths::fill(bp::USER_CREDENTIALS, &[("user_id", user_id)]))?;
        let list: CredentialList = self.send(self.request(reqwest::Method::GET, url)).await?;
        Ok(list.credentials)
    }

    async fn delete_credential(
        &self,
        user_id: &str,
        credential_id: &str,
        actor: Option<&str>,
    ) -> Result<(), BackendError> {
        let url = self.url(&paths::fill(
            bp::USER_CREDENTIAL,
            &[("user_id", user_id), ("credential_id", credential_id)],
        ))?;
        let mut request = self.request(reqwest::Method::DELETE, url);
        if let Some(actor) = actor {
            request = request.header(bp::ACTOR_HEADER, actor);
        }
        self.send::<serde_json::Value>(request).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_a_base_path_and_encode_segments() {
        let backend = HttpBackend::new(
            Url::parse("http://127.0.0.1:4000/passkeys/").unwrap(),
            "pro-1".into(),
            Secret::new("x"),
        )
        .unwrap();
        assert_eq!(
            backend
                .url(&paths::fill(
                    bp::USER_CREDENTIAL,
                    &[("user_id", "usr-1"), ("credential_id", "a/b")]
                ))
                .unwrap()
                .as_str(),
            "http://127.0.0.1:4000/passkeys/v2/users/usr-1/credentials/a%2Fb"
        );
    }

    #[test]
    fn claimed_identifier_reads_without_verifying() {
        let (signer, _) = crate::connect::service::Signer::generate();
        let claims = SignedPasskeyClaims {
            iss: "pro-1".into(),
            sub: "usr-1".into(),
            exp: 0,
            nbf: 0,
            iat: 0,
            jti: "j".into(),
            process_id: "p".into(),
            username: "acc_9".into(),
            credential: "cre-1".into(),
            challenge_id: "was-1".into(),
            webauthn_id: "acc_9".into(),
            is_cui: true,
            cross_device: None,
        };
        let token = signer.sign(&claims).unwrap();
        assert_eq!(claimed_identifier(&token).as_deref(), Some("acc_9"));
        assert_eq!(claimed_identifier("garbage"), None);
    }
}
