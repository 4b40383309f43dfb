//! The outbox worker: claims due rows, sends each through its channel, and records the
//! outcome. Every instance runs one; leases keep them from sending the same row (see
//! [`super::outbox`]). It wakes when an event adds rows, and once a second for retries.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::mail::Mailer;
use super::outbox::{self, Channel, Delivery};
use super::webhooks::WebhookSender;
use super::Events;

/// How the rows leave. A channel without a sender leaves its rows waiting (and says so).
#[derive(Clone, Default)]
pub struct Senders {
    pub webhook: Option<WebhookSender>,
    pub mail: Option<Mailer>,
}

impl Senders {
    /// The senders the configuration asks for. Says once at start-up what is off.
    pub fn from_settings(
        settings: &crate::config::EventSettings,
        site: &str,
        store: &crate::store::Store,
    ) -> Result<Self, String> {
        let webhook = settings
            .webhooks
            .as_ref()
            .map(|w| WebhookSender::new(&w.secret))
            .transpose()
            .map_err(|err| format!("LATCHKEY_WEBHOOK_SECRET: {err}"))?;
        let mail = match &settings.mail {
            Some(mail) => Some(
                Mailer::new(
                    mail.smtp_url.as_str(),
                    mail.username.as_deref(),
                    mail.password.as_ref(),
                    &mail.from,
                    site,
                    store.clone(),
                )
                .map_err(|err| err.to_string())?,
            ),
            None => {
                tracing::info!("mail notifications are off: LATCHKEY_SMTP_URL is not set");
                None
            }
        };
        Ok(Self { webhook, mail })
    }
}

/// Delivered and given-up rows are kept this long (for operators), then purged.
const KEEP_DONE_SECS: i64 = 7 * 24 * 3600;

/// Runs the worker until [`Worker::stop`]. With nothing configured to send, no rows are
/// ever queued, and the worker does not poll the database at all.
pub fn spawn(events: Events, senders: Senders) -> Worker {
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let in_hand = InHand::default();
    let store = events.store().clone();
    if senders.webhook.is_none() && senders.mail.is_none() {
        return Worker {
            stop: stop_tx,
            task: tokio::spawn(async {}),
            in_hand,
            store,
        };
    }
    let held = in_hand.clone();
    let task = tokio::spawn(async move {
        let mut last_purge = 0;
        while !*stop_rx.borrow() {
            let now = crate::store::now();
            match run_batch(&events, &senders, now, &held).await {
                // A full batch: more may be due right away.
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(err) => tracing::warn!(%err, "outbox: claiming rows failed"),
            }
            if now - last_purge > 3600 {
                last_purge = now;
                if let Err(err) = outbox::purge(events.store(), now - KEEP_DONE_SECS).await {
                    tracing::warn!(%err, "outbox: purge failed");
                }
            }
            tokio::select! {
                () = events.outbox_filled() => {}
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stop_rx.changed() => {}
            }
        }
    });
    Worker {
        stop: stop_tx,
        task,
        in_hand,
        store,
    }
}

/// The ids of the rows the worker has claimed and not yet settled.
type InHand = Arc<Mutex<Vec<String>>>;

/// A running outbox worker.
pub struct Worker {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    in_hand: InHand,
    store: crate::store::Store,
}

impl Worker {
    /// Lets the batch in hand finish within `deadline`, then stops. Rows of a batch that
    /// outlasts it are given back (their leases released) so another instance sends them at
    /// once: at least once, and no delay for the instance being replaced.
    pub async fn stop(mut self, deadline: Duration) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(deadline, &mut self.task).await.is_ok() {
            return;
        }
        self.task.abort();
        let ids = match self.in_hand.lock() {
            Ok(ids) => ids.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        match outbox::release(&self.store, &ids).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(rows = n, "outbox: gave back rows still being sent"),
            Err(err) => {
                tracing::warn!(%err, "outbox: giving back rows failed; their leases run out")
            }
        }
    }
}

/// Claims and sends one batch; returns how many rows it handled.
pub async fn run_once(events: &Events, senders: &Senders, now: i64) -> Result<usize, sqlx::Error> {
    run_batch(events, senders, now, &InHand::default()).await
}

async fn run_batch(
    events: &Events,
    senders: &Senders,
    now: i64,
    in_hand: &InHand,
) -> Result<usize, sqlx::Error> {
    let claimed = outbox::claim(events.store(), now).await?;
    let handled = claimed.len();
    set_in_hand(in_hand, claimed.iter().map(|d| d.id.clone()).collect());
    // Rows of different accounts go out side by side; each account has at most one here.
    let sends = claimed.into_iter().map(|delivery| async move {
        let outcome = send(senders, &delivery, now).await;
        let store = events.store();
        let written = match &outcome {
            Ok(()) => outbox::delivered(store, &delivery.id, crate::store::now()).await,
            Err(error) => {
                tracing::info!(id = %delivery.id, channel = delivery.channel.as_ref(), %error, "outbox: delivery failed; will retry");
                outbox::failed(store, &delivery, error, crate::store::now()).await
            }
        };
        if let Err(err) = written {
            // The lease runs out and the row is tried again: at least once.
            tracing::warn!(%err, id = %delivery.id, "outbox: could not record a delivery");
        }
    });
    futures::future::join_all(sends).await;
    set_in_hand(in_hand, Vec::new());
    Ok(handled)
}

fn set_in_hand(in_hand: &InHand, ids: Vec<String>) {
    match in_hand.lock() {
        Ok(mut held) => *held = ids,
        Err(poisoned) => *poisoned.into_inner() = ids,
    }
}

async fn send(senders: &Senders, delivery: &Delivery, now: i64) -> Result<(), String> {
    match delivery.channel {
        Channel::Webhook => match &senders.webhook {
            Some(sender) => sender.send(delivery, now).await,
            None => Err("webhooks are not configured on this instance".into()),
        },
        Channel::Mail => match &senders.mail {
            Some(mailer) => mailer.send(delivery).await,
            None => Err("mail is not configured on this instance".into()),
        },
    }
}
