//! Webhooks, as the Standard Webhooks specification defines them: a JSON body
//! `{"type", "timestamp", "data"}` POSTed with the headers `webhook-id` (the outbox row's id,
//! the same on every retry), `webhook-timestamp` (unix seconds of the attempt) and
//! `webhook-signature` (`v1,` and the base64 HMAC-SHA256 of `id.timestamp.body` under the
//! `whsec_…` secret, computed by the specification's own `standardwebhooks` crate).
//! Any 2xx answer is a delivery; anything else, or no answer within [`TIMEOUT`], is retried.

use std::time::Duration;

use serde_json::json;

use super::audit::StoredEvent;
use super::outbox::Delivery;
use crate::config::Secret;

/// How long a receiver has to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The body of the webhook for `stored`.
pub fn body(stored: &StoredEvent) -> String {
    let event = &stored.event;
    json!({
        "type": event.event_type.as_ref(),
        "timestamp": crate::store::rfc3339(stored.occurred_at),
        "data": {
            "eventId": stored.id,
            "sequence": stored.seq,
            "outcome": event.outcome.as_ref(),
            "reason": event.reason.map(|r| r.as_ref().to_string()),
            "accountId": event.account,
            "credentialId": event.credential,
            "processId": event.process,
            "client": {
                "ip": event.client.ip,
                "browser": event.client.browser,
                "os": event.client.os,
            },
            "detail": event.detail,
            "actorId": event.actor,
        },
    })
    .to_string()
}

/// Why a secret is not a Standard Webhooks secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be whsec_ followed by base64 (at least 24 bytes): {0}")]
pub struct BadSecret(String);

/// Signs and sends webhooks.
#[derive(Clone)]
pub struct WebhookSender {
    client: reqwest::Client,
    signer: std::sync::Arc<standardwebhooks::Webhook>,
}

impl WebhookSender {
    pub fn new(secret: &Secret) -> Result<Self, BadSecret> {
        check_secret(secret.expose())?;
        let signer = standardwebhooks::Webhook::new(secret.expose())
            .map_err(|err| BadSecret(err.to_string()))?;
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|err| BadSecret(err.to_string()))?;
        Ok(Self {
            client,
            signer: std::sync::Arc::new(signer),
        })
    }

    /// One attempt; `Err` says why it did not go through.
    pub async fn send(&self, delivery: &Delivery, now: i64) -> Result<(), String> {
        let signature = self
            .signer
            .sign(&delivery.id, now, delivery.payload.as_bytes())
            .map_err(|err| format!("signing: {err}"))?;
        let answer = self
            .client
            .post(&delivery.target)
            .header("content-type", "application/json")
            .header("webhook-id", &delivery.id)
            .header("webhook-timestamp", now.to_string())
            .header("webhook-signature", signature)
            .body(delivery.payload.clone())
            .send()
            .await
            .map_err(|err| format!("no answer: {err}"))?;
        if answer.status().is_success() {
            Ok(())
        } else {
            Err(format!("answered {}", answer.status()))
        }
    }
}

/// `whsec_` and standard base64 of at least 24 bytes (the specification asks for 24 to 64).
pub fn check_secret(secret: &str) -> Result<(), BadSecret> {
    use base64::Engine;
    let encoded = secret
        .strip_prefix("whsec_")
        .ok_or_else(|| BadSecret("no whsec_ prefix".into()))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| BadSecret("not base64".into()))?;
    if bytes.len() < 24 {
        return Err(BadSecret(format!("{} bytes", bytes.len())));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::model::{Event, EventType};

    #[test]
    fn secrets_are_checked() {
        assert!(check_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_ok());
        assert!(check_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(check_secret("whsec_c2hvcnQ=").is_err());
        assert!(check_secret("whsec_not base64!").is_err());
    }

    #[test]
    fn the_body_has_the_specifications_shape() {
        let stored = StoredEvent {
            seq: 3,
            id: "evt_a".into(),
            occurred_at: 1_700_000_000,
            event: Event::new(EventType::PasskeyCreated)
                .with_account("acc_1")
                .with_credential("cre-1"),
            prev_hash: String::new(),
            hash: String::new(),
        };
        let body: serde_json::Value = serde_json::from_str(&body(&stored)).unwrap();
        assert_eq!(body["type"], "passkey.created");
        assert_eq!(body["timestamp"], "2023-11-14T22:13:20Z");
        assert_eq!(body["data"]["accountId"], "acc_1");
        assert_eq!(body["data"]["credentialId"], "cre-1");
    }
}
