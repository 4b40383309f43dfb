//! Events: what browsers report (`POST /v2/connect/events`) and what the service records about
//! itself (a refused counter regression, a credential presented for the wrong user).

use sqlx::Row;

use super::{new_id, ConnectError, ConnectService};
use crate::connect::api::{EventCreateReq, EVENT_TYPES};

/// Events the service records itself.
pub const COUNTER_REGRESSION: &str = "counter-regression";
pub const CREDENTIAL_USER_MISMATCH: &str = "credential-user-mismatch";

const MAX_MESSAGE_LEN: usize = 512;

/// Who an event is about.
#[derive(Debug, Clone, Default)]
pub struct EventSubject<'a> {
    pub process_hash: Option<&'a str>,
    pub user_id: Option<&'a str>,
    pub credential_id: Option<&'a str>,
}

/// A stored event (for operators and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    pub event_type: String,
    pub user_id: Option<String>,
    pub credential_id: Option<String>,
    pub message: String,
    pub created_at: i64,
}

impl ConnectService {
    pub async fn record_event(
        &self,
        event_type: &str,
        subject: EventSubject<'_>,
        message: &str,
    ) -> Result<(), ConnectError> {
        let message: String = message.chars().take(MAX_MESSAGE_LEN).collect();
        sqlx::query(
            "INSERT INTO connect_events (id, event_type, process_hash, user_id, credential_id,
                 message, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(new_id("evt"))
        .bind(event_type)
        .bind(subject.process_hash)
        .bind(subject.user_id)
        .bind(subject.credential_id)
        .bind(message)
        .bind(self.now())
        .execute(self.store().pool())
        .await?;
        Ok(())
    }

    /// `POST /v2/connect/events`: a browser's report within a live process.
    pub async fn client_event(
        &self,
        process_id: Option<&str>,
        req: &EventCreateReq,
    ) -> Result<(), ConnectError> {
        let process = self.process(process_id).await?;
        if !EVENT_TYPES.contains(&req.event_type.as_str()) {
            return Err(ConnectError::validation(
                "eventType",
                format!("{:?} is not a known event type", req.event_type),
            ));
        }
        let message = match (&req.message, &req.challenge) {
            (Some(m), Some(c)) => format!("{m} (challenge {c})"),
            (Some(m), None) => m.clone(),
            (None, Some(c)) => format!("challenge {c}"),
            (None, None) => String::new(),
        };
        self.record_event(
            &req.event_type,
            EventSubject {
                process_hash: Some(&process.id_hash),
                ..EventSubject::default()
            },
            &message,
        )
        .await
    }

    /// The newest events of one type, newest first.
    pub async fn events_of_type(
        &self,
        event_type: &str,
        limit: i64,
    ) -> Result<Vec<EventRow>, ConnectError> {
        let rows = sqlx::query(
            "SELECT event_type, user_id, credential_id, message, created_at FROM connect_events
             WHERE event_type = $1 ORDER BY created_at DESC, id LIMIT $2",
        )
        .bind(event_type)
        .bind(limit)
        .fetch_all(self.store().pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(EventRow {
                    event_type: row.try_get("event_type")?,
                    user_id: row.try_get("user_id")?,
                    credential_id: row.try_get("credential_id")?,
                    message: row.try_get("message")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }
}
