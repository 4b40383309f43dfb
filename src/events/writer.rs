//! Group commit: one task per [`super::Events`] writes the events that are waiting together,
//! in one transaction that takes the chain's head once. Under load this turns a transaction
//! (and a wait on the head's lock) per event into one per batch; alone, an event is written
//! as before. Every caller still waits for its own event's commit, so nothing is reported
//! recorded before it is.

use tokio::sync::{mpsc, oneshot};

use super::audit::{self, AuditError, StoredEvent};
use super::model::Event;
use super::outbox;
use super::Routes;
use crate::store::Store;

/// The most events one transaction writes.
const MAX_BATCH: usize = 64;

/// An event waiting to be written, and where its outcome goes.
struct Pending {
    occurred_at: i64,
    event: Event,
    reply: oneshot::Sender<Result<Written, AuditError>>,
}

/// An event as committed, and whether outbox rows were written with it.
pub(super) struct Written {
    pub stored: StoredEvent,
    pub queued_outgoing: bool,
}

/// The door to the writer task. Dropping every clone ends the task once its queue is empty.
#[derive(Clone)]
pub(super) struct Writer {
    queue: mpsc::UnboundedSender<Pending>,
}

impl Writer {
    /// Starts the writer task on the current runtime.
    pub fn spawn(store: Store, routes: Routes) -> Self {
        let (queue, waiting) = mpsc::unbounded_channel();
        tokio::spawn(run(store, routes, waiting));
        Self { queue }
    }

    /// Writes `event` (with the outbox rows it calls for) and returns it as committed.
    pub async fn write(&self, occurred_at: i64, event: Event) -> Result<Written, AuditError> {
        let (reply, outcome) = oneshot::channel();
        let pending = Pending {
            occurred_at,
            event,
            reply,
        };
        if self.queue.send(pending).is_err() {
            return Err(AuditError::WriterStopped);
        }
        outcome.await.unwrap_or(Err(AuditError::WriterStopped))
    }
}

async fn run(store: Store, routes: Routes, mut waiting: mpsc::UnboundedReceiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while waiting.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let outcome = {
            let events: Vec<(i64, &Event)> =
                batch.iter().map(|p| (p.occurred_at, &p.event)).collect();
            write_batch(&store, &routes, &events).await
        };
        match outcome {
            Ok(written) => {
                for (pending, written) in batch.drain(..).zip(written) {
                    let _ = pending.reply.send(Ok(written));
                }
            }
            Err(err) if batch.len() == 1 => {
                if let Some(pending) = batch.pop() {
                    let _ = pending.reply.send(Err(err.into()));
                }
            }
            // One event the database refuses must not take the others with it: each is
            // tried alone, and answers for itself.
            Err(_) => {
                for pending in batch.drain(..) {
                    let single = [(pending.occurred_at, &pending.event)];
                    let outcome = write_batch(&store, &routes, &single)
                        .await
                        .map_err(AuditError::from)
                        .and_then(|written| {
                            written.into_iter().next().ok_or(AuditError::WriterStopped)
                        });
                    let _ = pending.reply.send(outcome);
                }
            }
        }
    }
}

/// Writes `events` and their outbox rows in one transaction (all or none).
async fn write_batch(
    store: &Store,
    routes: &Routes,
    events: &[(i64, &Event)],
) -> Result<Vec<Written>, sqlx::Error> {
    let mut tx = store.pool().begin().await?;
    let stored = audit::append_all_in(&mut tx, events).await?;
    let mut written = Vec::with_capacity(stored.len());
    for stored in stored {
        // What must leave the system is written with the event, or neither is.
        let outgoing = routes.outgoing(&stored);
        outbox::enqueue(&mut tx, &stored, &outgoing).await?;
        written.push(Written {
            stored,
            queued_outgoing: !outgoing.is_empty(),
        });
    }
    tx.commit().await?;
    Ok(written)
}
