//! Request middleware: cross-site refusal, session loading + journey guard, error statuses.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderValue};
use axum::http::{Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::state::AppState;
use crate::error::AppError;
use crate::journey::{decide_as, Decision, Operator};
use crate::routes::{Endpoint, Guard, Page};
use crate::session::CurrentSession;
use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;

/// State-changing requests must come from our own origin (see [`crate::serving::is_same_origin`]).
pub async fn refuse_cross_site(State(app): State<AppState>, req: Request, next: Next) -> Response {
    if is_safe_method(req.method()) {
        return next.run(req).await;
    }
    let headers = req.headers();
    if crate::serving::is_same_origin(headers, &app.config.origin) {
        next.run(req).await
    } else {
        tracing::warn!(
            method = %req.method(),
            path = %req.uri().path(),
            origin = ?headers.get(header::ORIGIN),
            "refused a cross-site request"
        );
        AppError::ForeignOrigin.into_response()
    }
}

fn is_safe_method(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// What the journey guard needs: the app, and the 404 answer of an unknown address.
#[derive(Clone)]
pub struct GuardState {
    pub app: AppState,
    pub not_found: NotFound,
}

/// Answers a request exactly as the site answers an address that does not exist: the
/// router's own fallback, asked for a path no page has. Used where something must look
/// absent (the console, to everyone but operators).
#[derive(Clone)]
pub struct NotFound(pub axum::Router);

impl NotFound {
    /// A path no page, file or endpoint has.
    const UNKNOWN_PATH: &'static str = "/not-found";

    pub async fn answer(&self, mut req: Request) -> Response {
        use tower::ServiceExt;
        *req.uri_mut() = Uri::from_static(Self::UNKNOWN_PATH);
        *req.method_mut() = Method::GET;
        *req.body_mut() = Body::empty();
        match self.0.clone().oneshot(req).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }
}

/// Whether the session is an operator's, and how recent its login is.
pub fn operator_of(app: &AppState, current: &CurrentSession) -> Operator {
    match &current.0 {
        Some(session) if app.config.is_operator(session.email()) => {
            if app.sessions.is_recent_login(session) {
                Operator::Recent
            } else {
                Operator::Stale
            }
        }
        _ => Operator::No,
    }
}

/// Loads the session named by the cookie into the request, and applies the journey guard to
/// page requests: a redirect status with no body, before any page is rendered. The console
/// (pages, CSV, server functions) answers everyone but operators with the 404 page.
pub async fn session_and_guard(
    State(GuardState { app, not_found }): State<GuardState>,
    mut req: Request,
    next: Next,
) -> Response {
    // Static assets and the health check never need the session: skip the store lookup.
    if Endpoint::is_sessionless(req.uri().path()) {
        return next.run(req).await;
    }
    let resolved = match app.sessions.resolve(req.headers()).await {
        Ok(resolved) => resolved,
        Err(err) => return AppError::internal("loading the session", err).into_response(),
    };
    let current = CurrentSession(resolved.session);
    let clear_cookie = resolved.clear_cookie.then(|| app.sessions.clear_cookie());

    let mut response = match guard(&req, &current, || operator_of(&app, &current)) {
        Decision::Redirect(location) => redirect(&location),
        Decision::NotFound => not_found.answer(req).await,
        Decision::Allow => {
            req.extensions_mut().insert(current);
            next.run(req).await
        }
    };
    if let Some(cookie) = clear_cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// What happens to a request: page requests follow the journey; the console's pages and
/// server functions exist for operators only, whatever the method. `operator_of` is asked
/// for console paths only.
fn guard(
    req: &Request,
    current: &CurrentSession,
    operator_of: impl FnOnce() -> Operator,
) -> Decision {
    let uri = req.uri();
    let path = uri.path();
    let console =
        path.starts_with(Endpoint::AdminApi.path()) || Page::guard_of(path) == Guard::Operator;
    // Only the console asks who is an operator (no work on every other request).
    let operator = if console { operator_of() } else { Operator::No };
    if console && operator == Operator::No {
        return Decision::NotFound;
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD)
        || path.starts_with(Endpoint::AdminApi.path())
    {
        // Server functions check the rest themselves (a stale login: "confirm it's you").
        return Decision::Allow;
    }
    decide_as(
        path,
        uri.query().unwrap_or_default(),
        current.state(),
        operator,
    )
}

/// A `303 See Other` to `location`.
pub(super) fn redirect(location: &str) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// Server-function errors leave the framework as `500`; give each its real status (400 for bad
/// input, 401, 409, …) from the error itself, so every error is answered the same way whether
/// it came from our code or from argument decoding. Plain form posts are redirects and are
/// left alone.
pub async fn server_fn_error_status(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        return AppError::Internal.into_response();
    };
    if let Ok(err) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status =
            StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if let Some(seconds) = err.retry_after() {
            parts
                .headers
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Error bodies are a code and a sentence; anything larger is not one of ours.
const MAX_ERROR_BODY: usize = 16 * 1024;
