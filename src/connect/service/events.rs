//! What the passkey service records in the audit log: passkeys created and deleted, passkey
//! logins completed or refused (and why), connect tokens refused, and what browsers report on
//! `POST /v2/connect/events` (their Corbado names mapped onto the event model).
//!
//! The service records facts about passkeys; the app records facts about accounts and
//! sessions. In process they share one database, so one chain holds both.

use super::{ConnectError, ConnectService};
use crate::connect::api::{AuditEvent, EventCreateReq, EventList, EVENT_TYPES};
use crate::events::audit::MAX_PAGE;
use crate::events::{Event, EventFilter, EventType, Reason, StoredEvent};

/// The most events one process (one page's ceremonies) may report: a misbehaving page cannot
/// flood the audit log, whatever the rate limit allows.
pub const MAX_CLIENT_EVENTS_PER_PROCESS: i64 = 50;

impl ConnectService {
    /// Records `event` at the service's clock, with the browser of the request being served
    /// (if it came through the frontend API).
    pub(crate) async fn record(&self, event: Event) {
        let event = event.with_client(super::http::request_client());
        self.events().record_at(self.now(), event).await;
    }

    /// The app's account id for a service user (its identifier), when the user still exists.
    pub(crate) async fn account_of(&self, user_id: &str) -> Option<String> {
        match self.user_by_id(user_id).await {
            Ok(user) => user.map(|user| user.identifier),
            Err(_) => None,
        }
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
        if !self.count_client_event(&process.id_hash).await? {
            return Err(ConnectError::validation(
                "eventType",
                "this process has reported all the events it may",
            ));
        }
        let (event_type, reason) = client_event_model(&req.event_type);
        // The browser's own name first: the model's type is coarser. (A challenge it may
        // send is not kept: events hold no ceremony material.)
        let detail = match &req.message {
            Some(message) => format!("{}: {message}", req.event_type),
            None => req.event_type.clone(),
        };
        let mut event = Event::new(event_type)
            .with_process(&process.id_hash)
            .with_detail(&detail);
        if let Some(reason) = reason {
            event = event.with_reason(reason);
        }
        self.record(event).await;
        // A cancelled or failed prompt counts towards pausing passkey login on this browser.
        if event_type == EventType::PasskeyLoginFailed {
            let (provider, account) = self.pending_login_provider(&process).await?;
            self.passkey_failed(&process, &provider, account.as_deref())
                .await;
        }
        Ok(())
    }

    /// `GET /v2/events?identifier=&types=a,b&since=&until=&cursor=&limit=`: the audit log,
    /// newest first. `since` (inclusive) and `until` (exclusive) are unix seconds; `limit`
    /// defaults to 50 (at most 500).
    pub async fn list_events(&self, raw_query: Option<&str>) -> Result<EventList, ConnectError> {
        let mut filter = EventFilter::default();
        let (mut cursor, mut limit) = (None, 50);
        let number = |field: &str, value: &str| {
            value
                .parse::<i64>()
                .map_err(|_| ConnectError::validation(field, format!("{value:?} is not a number")))
        };
        for (key, value) in url::form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes()) {
            match key.as_ref() {
                "identifier" => filter.account = Some(value.into_owned()),
                "types" => {
                    for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                        let ty = name.parse::<EventType>().map_err(|_| {
                            ConnectError::validation(
                                "types",
                                format!("{name:?} is not an event type"),
                            )
                        })?;
                        filter.types.push(ty);
                    }
                }
                "since" => filter.since = Some(number("since", &value)?),
                "until" => filter.until = Some(number("until", &value)?),
                "cursor" => cursor = Some(number("cursor", &value)?),
                "limit" => {
                    limit = u32::try_from(number("limit", &value)?)
                        .ok()
                        .filter(|n| (1..=MAX_PAGE).contains(n))
                        .ok_or_else(|| {
                            ConnectError::validation("limit", format!("must be 1 to {MAX_PAGE}"))
                        })?;
                }
                other => return Err(ConnectError::validation(other, "unknown query parameter")),
            }
        }
        let page = self
            .events()
            .list(&filter, cursor, limit)
            .await
            .map_err(|err| ConnectError::internal("reading events", err))?;
        Ok(EventList {
            events: page.events.iter().map(to_api).collect(),
            next_cursor: page.next_cursor.map(|seq| seq.to_string()),
        })
    }

    /// Counts one more browser event for the process; false once it has used its share.
    async fn count_client_event(&self, process_hash: &str) -> Result<bool, ConnectError> {
        let counted = sqlx::query(
            "UPDATE connect_processes SET client_events = client_events + 1
             WHERE id_hash = $1 AND client_events < $2",
        )
        .bind(process_hash)
        .bind(MAX_CLIENT_EVENTS_PER_PROCESS)
        .execute(self.store().pool())
        .await?;
        Ok(counted.rows_affected() == 1)
    }
}

fn to_api(stored: &StoredEvent) -> AuditEvent {
    let event = &stored.event;
    AuditEvent {
        id: stored.id.clone(),
        sequence: stored.seq,
        occurred_at: stored.occurred_at,
        event_type: event.event_type.as_ref().to_string(),
        outcome: event.outcome.as_ref().to_string(),
        reason: event.reason.map(|r| r.as_ref().to_string()),
        identifier: event.account.clone(),
        credential_id: event.credential.clone(),
        client_ip: event.client.ip.clone(),
        browser: event.client.browser.clone(),
        os: event.client.os.clone(),
        process_id: event.process.clone(),
        detail: event.detail.clone(),
    }
}

/// The event type and reason a browser's Corbado event name stands for.
pub fn client_event_model(name: &str) -> (EventType, Option<Reason>) {
    use EventType::*;
    match name {
        "login-explicit-abort" => (PasskeyLoginFailed, Some(Reason::Cancelled)),
        "login-error" | "login-error-untyped" | "login-error-unexpected" => {
            (PasskeyLoginFailed, None)
        }
        "login-no-credentials" => (PasskeyLoginFellBack, Some(Reason::NoPasskey)),
        "append-explicit-abort" => (PasskeyCreationFailed, Some(Reason::Cancelled)),
        "append-credential-exists" => (PasskeyCreationFailed, Some(Reason::ExistsOnAuthenticator)),
        "append-error" | "append-error-unexpected" => (PasskeyCreationFailed, None),
        _ => (ClientReported, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_browser_event_name_has_a_model() {
        for name in EVENT_TYPES {
            let (event_type, _) = client_event_model(name);
            // Only names with no better type stay generic.
            if name.starts_with("login-explicit") || name.starts_with("append-explicit") {
                assert_ne!(event_type, EventType::ClientReported, "{name}");
            }
        }
        assert_eq!(
            client_event_model("append-credential-exists"),
            (
                EventType::PasskeyCreationFailed,
                Some(Reason::ExistsOnAuthenticator)
            )
        );
        assert_eq!(
            client_event_model("login-one-tap-switch"),
            (EventType::ClientReported, None)
        );
    }
}
