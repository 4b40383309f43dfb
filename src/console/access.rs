//! Who may use the console: an operator (`admin-emails`) whose session has passed the append
//! step and whose login is within the re-authentication window. The request guard answers
//! everyone else's page requests and server-function calls with the 404 page; each server
//! function checks again here, so none can be reached past the guard by mistake.

use crate::error::AppError;
use crate::journey::{Operator, SessionState};
use crate::server::context::{app, current_session};
use crate::server::middleware::operator_of;
use crate::server::AppState;
use crate::session::Session;

/// The operator making this request.
pub struct OperatorRequest {
    pub app: AppState,
    pub session: Session,
}

impl OperatorRequest {
    /// The operator's account id: the actor of what they do.
    pub fn actor(&self) -> &str {
        self.session.account_id()
    }
}

/// The operator behind this server-function call, or the error its caller gets: not found
/// for anyone who is not an operator (the console does not exist for them), "confirm it's
/// you" for an operator whose login is too old.
pub fn require_operator() -> Result<OperatorRequest, AppError> {
    let app = app()?;
    let current = current_session();
    match (operator_of(&app, &current), current.state()) {
        (Operator::No, _) | (_, SessionState::Anonymous) => Err(AppError::NotFound),
        (_, SessionState::AppendPending) => Err(AppError::AppendPending),
        (Operator::Stale, _) => Err(AppError::ReauthRequired),
        (Operator::Recent, SessionState::Active) => {
            let session = current.0.ok_or(AppError::NotFound)?;
            Ok(OperatorRequest { app, session })
        }
    }
}
