//! Events: what happened, recorded once and proven unedited.
//!
//! - [`model`]: the event types, outcomes and reason codes (docs/events.md lists them);
//! - [`audit`]: the hash-chained audit log in the database, its verification, retention and
//!   reading back;
//! - [`security_log`]: each stored event as one OCSF JSON line for a SIEM;
//! - [`outbox`]: webhook calls and emails owed because of an event, written with it;
//!   [`delivery`] sends them ([`webhooks`], [`mail`]).
//!
//! [`Events`] is the one door: the app and the passkey service both record through it, each
//! into its own database's chain (one chain when they share the database).

pub mod audit;
pub mod delivery;
pub mod mail;
pub mod model;
pub mod outbox;
pub mod security_log;
pub mod webhooks;
mod writer;

use std::sync::Arc;

use sqlx::migrate::Migrator;

pub use audit::{AuditError, EventFilter, EventPage, StoredEvent};
pub use model::{Client, Event, EventType, Outcome, Reason};
pub use security_log::SecurityLog;

use crate::store::{Store, StoreError};

/// The audit log's tables.
pub fn migrations() -> Migrator {
    sqlx::migrate!("./migrations/events")
}

/// Records events. Cheap to clone.
#[derive(Clone)]
pub struct Events {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    sinks: Sinks,
    /// Writes the events (group commit).
    writer: writer::Writer,
    /// Wakes the delivery worker when rows were added to the outbox.
    outbox_filled: tokio::sync::Notify,
}

/// Where events go besides the audit log.
#[derive(Clone, Default)]
pub struct Sinks {
    pub security_log: Option<SecurityLog>,
    pub routes: Routes,
}

/// Which events leave the system, and to where (through the outbox).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routes {
    pub webhook_urls: Vec<String>,
    /// Only these types go to the webhooks (all when `None`).
    pub webhook_events: Option<Vec<EventType>>,
    /// Mail the account's owner about [`outbox::MAILED`] events.
    pub mail: bool,
}

impl Routes {
    /// The outbox rows `stored` calls for.
    fn outgoing(&self, stored: &StoredEvent) -> Vec<outbox::Outgoing> {
        let ty = stored.event.event_type;
        let mut out = Vec::new();
        let wanted = self
            .webhook_events
            .as_ref()
            .is_none_or(|types| types.contains(&ty));
        if wanted && !self.webhook_urls.is_empty() {
            let body = webhooks::body(stored);
            out.extend(self.webhook_urls.iter().map(|url| outbox::Outgoing {
                channel: outbox::Channel::Webhook,
                target: url.clone(),
                payload: body.clone(),
            }));
        }
        if self.mail && outbox::MAILED.contains(&ty) && stored.event.account.is_some() {
            out.push(outbox::Outgoing {
                channel: outbox::Channel::Mail,
                target: String::new(),
                payload: serde_json::to_string(&mail::MailFacts::of(stored)).unwrap_or_default(),
            });
        }
        out
    }
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events").finish_non_exhaustive()
    }
}

impl Events {
    /// Events stored in `store` (its audit tables are created if need be), and sent on to
    /// `sinks`.
    pub async fn open(store: Store, sinks: Sinks) -> Result<Self, StoreError> {
        store.migrate(migrations()).await?;
        let writer = writer::Writer::spawn(store.clone(), sinks.routes.clone());
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                sinks,
                writer,
                outbox_filled: tokio::sync::Notify::new(),
            }),
        })
    }

    /// Resolves when rows were added to the outbox since the last call.
    pub async fn outbox_filled(&self) {
        self.inner.outbox_filled.notified().await;
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Records `event` now. What happened has happened: a failure to record it is logged
    /// and does not undo or refuse the action (the database being down fails it anyway).
    pub async fn record(&self, event: Event) -> Option<StoredEvent> {
        self.record_at(crate::store::now(), event).await
    }

    /// [`Events::record`] at a given time (the passkey service's clock, which tests move).
    pub async fn record_at(&self, now: i64, event: Event) -> Option<StoredEvent> {
        match self.try_record_at(now, event).await {
            Ok(stored) => Some(stored),
            Err(err) => {
                tracing::error!(error = %err, "could not record an event");
                None
            }
        }
    }

    /// Records `event` and says whether it could.
    pub async fn try_record_at(&self, now: i64, event: Event) -> Result<StoredEvent, AuditError> {
        let writer::Written {
            stored,
            queued_outgoing,
        } = self.inner.writer.write(now, event).await?;
        crate::operations::metrics::event_recorded(stored.event.event_type);
        if queued_outgoing {
            self.inner.outbox_filled.notify_one();
        }
        tracing::debug!(
            event = stored.event.event_type.as_ref(),
            outcome = stored.event.outcome.as_ref(),
            reason = stored.event.reason.map(|r| r.as_ref().to_string()),
            seq = stored.seq,
            "event recorded"
        );
        if let Some(log) = &self.inner.sinks.security_log {
            log.write(&stored);
        }
        Ok(stored)
    }

    /// Events matching `filter`, newest first (see [`audit::list`]).
    pub async fn list(
        &self,
        filter: &EventFilter,
        cursor: Option<i64>,
        limit: u32,
    ) -> Result<EventPage, AuditError> {
        audit::list(&self.inner.store, filter, cursor, limit).await
    }

    /// Whether a passkey with this WebAuthn credential id was deleted (a `passkey.deleted`
    /// event names it); false when that cannot be read.
    pub async fn was_deleted(&self, webauthn_credential_id: &str) -> bool {
        let found = sqlx::query(
            "SELECT seq FROM audit_events WHERE event_type = $1 AND detail = $2 LIMIT 1",
        )
        .bind(EventType::PasskeyDeleted.as_ref())
        .bind(webauthn_credential_id)
        .fetch_optional(self.inner.store.pool())
        .await;
        matches!(found, Ok(Some(_)))
    }
}
