//! The passkey service's HTTP surfaces: the frontend API under `/v2/connect/…` (browsers;
//! `Origin` checked, CORS for the configured origin), the backend API under `/v2/…` (servers;
//! HTTP Basic with the project id and API secret), and the public key at
//! `/.well-known/jwks.json`. Every error is Corbado's `errorRsp`; malformed JSON is a clear
//! 400, never a panic.

mod backend_handlers;
mod frontend_handlers;

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::Method;
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{ConnectError, ConnectService};
use crate::connect::api::paths::{
    self, backend as bp, frontend as fp, PROCESS_HEADER, PROJECT_ID_HEADER,
};
use crate::connect::api::{GenericRsp, ListQuery, RequestData};
use crate::events::Client;
use crate::limits::Rule;
use crate::serving::ClientIp;

/// Request bodies larger than this are refused.
const MAX_BODY_BYTES: usize = 64 * 1024;

tokio::task_local! {
    static REQUEST: RequestMeta;
}

#[derive(Clone)]
struct RequestMeta {
    id: String,
    started: Instant,
    /// The browser calling the frontend API (backend calls come from the app's server, whose
    /// address says nothing about the person).
    client: Option<Client>,
}

/// The browser behind the frontend-API request being served, for events.
pub(crate) fn request_client() -> Client {
    REQUEST
        .try_with(|meta| meta.client.clone())
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// `requestData` and `runtime` for the response being built (a fresh id outside requests).
pub(crate) fn request_meta() -> (RequestData, f64) {
    let (id, runtime) = REQUEST
        .try_with(|meta| (meta.id.clone(), meta.started.elapsed().as_secs_f64()))
        .unwrap_or_else(|_| (super::new_id("req"), 0.0));
    (
        RequestData {
            request_id: id,
            link: None,
        },
        runtime,
    )
}

async fn with_request_meta(req: Request, next: Next) -> Response {
    let client = req.uri().path().starts_with(fp::PREFIX).then(|| {
        let ip = req.extensions().get::<ClientIp>().copied();
        Client::from_request(req.headers(), ip.unwrap_or(ClientIp::UNKNOWN))
    });
    let meta = RequestMeta {
        id: super::new_id("req"),
        started: Instant::now(),
        client,
    };
    REQUEST.scope(meta, next.run(req)).await
}

/// Corbado's `genericRsp` with status 200.
pub(crate) fn ok_generic() -> axum::Json<GenericRsp> {
    let (request_data, runtime) = request_meta();
    axum::Json(GenericRsp {
        http_status_code: 200,
        message: "OK".to_string(),
        request_data,
        runtime,
    })
}

/// The routes, for any router state (they carry the service as their own state).
pub fn router<S: Clone + Send + Sync + 'static>(service: ConnectService) -> Router<S> {
    use backend_handlers as back;
    use frontend_handlers as front;
    let frontend = Router::new()
        .route(fp::LOGIN_INIT, post(front::login_init))
        .route(fp::LOGIN_START, post(front::login_start))
        .route(fp::LOGIN_FINISH, post(front::login_finish))
        .route(fp::APPEND_INIT, post(front::append_init))
        .route(fp::APPEND_START, post(front::append_start))
        .route(fp::APPEND_FINISH, post(front::append_finish))
        .route(fp::MANAGE_INIT, post(front::manage_init))
        .route(fp::MANAGE_LIST, post(front::manage_list))
        .route(fp::MANAGE_DELETE, post(front::manage_delete))
        .route(fp::MANAGE_RENAME, post(front::manage_rename))
        .route(fp::PROCESS_CLEAR, post(front::process_clear))
        .route(fp::EVENTS, post(front::events))
        // Before the layers, so that they wrap the 405 answers too (CORS preflights).
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(
            (service.clone(), Rule::FrontendApiIp),
            rate_limit,
        ))
        .layer(from_fn_with_state(service.clone(), frontend_guard))
        .layer(cors(&service));
    let backend = Router::new()
        .route(
            bp::CONNECT_TOKENS,
            post(back::create_connect_token).get(back::list_connect_tokens),
        )
        .route(
            bp::CONNECT_TOKEN,
            patch(back::patch_connect_token).delete(back::delete_connect_token),
        )
        .route(bp::VERIFY_SIGNED_DATA, post(back::verify_signed_data))
        .route(
            bp::VERIFY_SIGNED_DATA_PLURAL,
            post(back::verify_signed_data),
        )
        .route(bp::IDENTIFIERS, get(back::list_identifiers))
        .route(bp::EVENTS, get(back::list_events))
        .route(bp::USER_CREDENTIALS, get(back::list_user_credentials))
        .route(
            bp::USER_CREDENTIAL,
            axum::routing::delete(back::delete_user_credential),
        )
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(service.clone(), basic_auth))
        .layer(from_fn_with_state(
            (service.clone(), Rule::BackendApiIp),
            rate_limit,
        ));
    let public = Router::new()
        .route(paths::JWKS, get(jwks))
        .route(paths::RELATED_ORIGINS, get(related_origins))
        .method_not_allowed_fallback(method_not_allowed);
    Router::new()
        .merge(frontend)
        .merge(backend)
        .merge(public)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(from_fn(with_request_meta))
        .with_state(service)
}

/// The service alone (`latchkey connect-service`): its routes, the operations endpoints
/// (health, readiness, metrics) and a JSON 404 for anything else.
pub fn standalone_router(service: ConnectService, operations: Router) -> Router {
    let trusted = service.config().protection.trusted_proxies.clone();
    router(service)
        .merge(operations)
        .fallback(|| async { ConnectError::not_found("no such endpoint") })
        .layer(from_fn_with_state(
            trusted,
            crate::serving::remember_client_ip,
        ))
}

async fn method_not_allowed() -> ConnectError {
    ConnectError::MethodNotAllowed
}

async fn jwks(State(service): State<ConnectService>) -> Response {
    let mut response = axum::Json(service.signer().jwks()).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

async fn related_origins(State(service): State<ConnectService>) -> Response {
    related_origins_document(&service.config().settings.related_origins)
}

/// `/.well-known/webauthn`: the related origins, for browsers deciding whether another site
/// may use this RP ID (WebAuthn Level 3, "related origin requests"). Without any, 404, which
/// browsers read as "no related origins". The app answers it itself when the passkey service
/// runs elsewhere, since browsers ask the RP ID's host.
pub fn related_origins_document(related: &[url::Url]) -> Response {
    if related.is_empty() {
        return ConnectError::not_found("no related origins are configured").into_response();
    }
    let origins: Vec<String> = related
        .iter()
        .map(|origin| origin.origin().ascii_serialization())
        .collect();
    let mut response = axum::Json(serde_json::json!({ "origins": origins })).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

/// Browsers may call the frontend API from the app's origin and its related origins only (a
/// separate service, or a related site, needs CORS for it; in process the app's own calls are
/// same-origin and CORS does nothing).
fn cors(service: &ConnectService) -> tower_http::cors::CorsLayer {
    let layer = tower_http::cors::CorsLayer::new()
        .allow_methods([Method::POST])
        .allow_headers([
            header::CONTENT_TYPE,
            HeaderName::from_static(PROCESS_HEADER),
            HeaderName::from_static(PROJECT_ID_HEADER),
            HeaderName::from_static("x-corbado-sdk"),
            HeaderName::from_static("x-corbado-client-timezone"),
        ])
        .max_age(std::time::Duration::from_secs(600));
    let origins: Vec<HeaderValue> = service
        .config()
        .accepted_origins()
        .filter_map(|origin| HeaderValue::from_str(&origin).ok())
        .collect();
    layer.allow_origin(origins)
}

/// Frontend API: a state-changing request must come from the public origin or a related
/// origin (a request without `Origin` only when the browser marks it same-origin), and a
/// project id header, if sent, must be ours.
async fn frontend_guard(
    State(service): State<ConnectService>,
    req: Request,
    next: Next,
) -> Response {
    if req.method() == Method::OPTIONS {
        return next.run(req).await;
    }
    let headers = req.headers();
    let accepted = service
        .config()
        .accepted_origins()
        .any(|origin| crate::serving::is_same_origin(headers, &origin));
    if !accepted {
        tracing::warn!(path = %req.uri().path(), origin = ?headers.get(header::ORIGIN), "frontend API: foreign origin refused");
        return ConnectError::InvalidOrigin.into_response();
    }
    if let Some(project) = headers.get(PROJECT_ID_HEADER) {
        if project.as_bytes() != service.config().project_id.as_bytes() {
            return ConnectError::ProjectIdMismatch.into_response();
        }
    }
    next.run(req).await
}

/// Counts the request under `rule` for the client's address; over the limit, Corbado's
/// `rate_limited` (429 with `Retry-After`). The address comes from the app's (or the
/// standalone service's) client-IP layer; preflights are not counted.
async fn rate_limit(
    State((service, rule)): State<(ConnectService, Rule)>,
    req: Request,
    next: Next,
) -> Response {
    if req.method() == Method::OPTIONS {
        return next.run(req).await;
    }
    let ip = req
        .extensions()
        .get::<ClientIp>()
        .copied()
        .unwrap_or(ClientIp::UNKNOWN);
    match service.limiter().check(rule, &ip.0.to_string()).await {
        Ok(()) => next.run(req).await,
        Err(exceeded) => {
            if exceeded.first {
                service
                    .record(crate::events::Event::rate_limit_hit(exceeded.rule))
                    .await;
            }
            ConnectError::RateLimited(
                crate::error::RetryAfter::from_duration(exceeded.retry_after).seconds,
            )
            .into_response()
        }
    }
}

/// Backend API: HTTP Basic with the project id and the API secret, compared in constant time.
async fn basic_auth(State(service): State<ConnectService>, req: Request, next: Next) -> Response {
    let config = service.config();
    if credentials_match(
        req.headers(),
        &config.project_id,
        config.api_secret.expose(),
    ) {
        next.run(req).await
    } else {
        tracing::info!(path = %req.uri().path(), "backend API: wrong or missing credentials");
        ConnectError::Login.into_response()
    }
}

fn credentials_match(headers: &HeaderMap, project_id: &str, secret: &str) -> bool {
    let Some((user, password)) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| STANDARD.decode(v.trim()).ok())
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|v| {
            v.split_once(':')
                .map(|(u, p)| (u.to_string(), p.to_string()))
        })
    else {
        return false;
    };
    // Hash first so the comparison does not depend on lengths; evaluate both halves.
    let same = |a: &str, b: &str| Sha256::digest(a.as_bytes()).ct_eq(&Sha256::digest(b.as_bytes()));
    bool::from(same(&user, project_id) & same(&password, secret))
}

/// A JSON body: not JSON → `invalid_json`; JSON of the wrong shape → `validation_error`.
pub(crate) struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ConnectError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes =
            Bytes::from_request(req, state)
                .await
                .map_err(|err| ConnectError::Validation {
                    field: None,
                    message: format!("the request body could not be read: {err}"),
                })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ConnectError::InvalidJson("the body is empty".to_string()));
        }
        // Syntax first (is it JSON at all?), then shape: serde's own classification calls
        // some shape errors syntax errors.
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|err| ConnectError::InvalidJson(err.to_string()))?;
        serde_json::from_value(value)
            .map(ApiJson)
            .map_err(|err| ConnectError::Validation {
                field: None,
                message: err.to_string(),
            })
    }
}

/// Corbado's list query (`sort`, repeated `filter[]`, `page`, `pageSize`).
pub(crate) fn parse_list_query(raw: Option<&str>) -> Result<ListQuery, ConnectError> {
    let mut query = ListQuery::default();
    let number = |field: &str, value: &str| {
        value
            .parse::<u32>()
            .map_err(|_| ConnectError::validation(field, format!("{value:?} is not a number")))
    };
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "sort" => query.sort = Some(value.into_owned()),
            "filter[]" | "filter" => query.filters.push(value.into_owned()),
            "page" => query.page = Some(number("page", &value)?),
            "pageSize" => query.page_size = Some(number("pageSize", &value)?),
            other => return Err(ConnectError::validation(other, "unknown query parameter")),
        }
    }
    Ok(query)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {}", STANDARD.encode(value))).unwrap(),
        );
        headers
    }

    #[test]
    fn basic_credentials_must_match_both_halves() {
        assert!(credentials_match(
            &basic("pro-1:s3cret:with:colons"),
            "pro-1",
            "s3cret:with:colons"
        ));
        assert!(!credentials_match(&basic("pro-1:wrong"), "pro-1", "s3cret"));
        assert!(!credentials_match(
            &basic("pro-2:s3cret"),
            "pro-1",
            "s3cret"
        ));
        assert!(!credentials_match(&basic("pro-1"), "pro-1", "s3cret"));
        assert!(!credentials_match(&HeaderMap::new(), "pro-1", "s3cret"));
        let mut bearer = HeaderMap::new();
        bearer.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer s3cret"),
        );
        assert!(!credentials_match(&bearer, "pro-1", "s3cret"));
    }

    #[test]
    fn list_queries_take_repeated_filters() {
        let query = parse_list_query(Some(
            "filter%5B%5D=tokenType:eq:passkey-append&filter[]=status:eq:initial&page=2&pageSize=5&sort=expires:desc",
        ))
        .unwrap();
        assert_eq!(query.filters.len(), 2);
        assert_eq!(query.page, Some(2));
        assert_eq!(query.page_size, Some(5));
        assert_eq!(query.sort.as_deref(), Some("expires:desc"));
        assert!(parse_list_query(Some("page=two")).is_err());
        assert!(parse_list_query(Some("limit=3")).is_err());
    }
}
