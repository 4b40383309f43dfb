//! Email notifications to an account's owner when a passkey is added or removed: what
//! happened, when, from which browser and OS, and what to do if it was not them. Plain text
//! and HTML, sent with `lettre` over SMTP (`smtp://` with STARTTLS when offered, or `smtps://`)
//! from the outbox, so a mail server outage delays mail and never loses it.

use std::time::Duration;

use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::audit::StoredEvent;
use super::model::EventType;
use super::outbox::Delivery;
use crate::config::Secret;
use crate::store::Store;

/// How long the mail server has for one message.
const TIMEOUT: Duration = Duration::from_secs(20);

/// What a mail row carries: the facts, never the address (looked up when sending, so an
/// email changed in between is honoured).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailFacts {
    pub event_type: String,
    pub occurred_at: i64,
    pub browser: Option<String>,
    pub os: Option<String>,
    pub ip: Option<String>,
}

impl MailFacts {
    pub fn of(stored: &StoredEvent) -> Self {
        Self {
            event_type: stored.event.event_type.as_ref().to_string(),
            occurred_at: stored.occurred_at,
            browser: stored.event.client.browser.clone(),
            os: stored.event.client.os.clone(),
            ip: stored.event.client.ip.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("LATCHKEY_SMTP_URL: {0}")]
    Url(String),
    #[error("LATCHKEY_MAIL_FROM: {0}")]
    From(String),
}

/// Sends the notifications.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    site: String,
    store: Store,
}

impl Mailer {
    pub fn new(
        url: &str,
        username: Option<&str>,
        password: Option<&Secret>,
        from: &str,
        site: &str,
        store: Store,
    ) -> Result<Self, MailError> {
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|err| MailError::Url(err.to_string()))?
            .timeout(Some(TIMEOUT));
        if let (Some(user), Some(password)) = (username, password) {
            builder = builder.credentials(Credentials::new(
                user.to_string(),
                password.expose().to_string(),
            ));
        }
        let from = from
            .parse::<Mailbox>()
            .map_err(|err| MailError::From(err.to_string()))?;
        Ok(Self {
            transport: builder.build(),
            from,
            site: site.to_string(),
            store,
        })
    }

    /// One attempt; `Err` says why it did not go out.
    pub async fn send(&self, delivery: &Delivery) -> Result<(), String> {
        let facts: MailFacts = serde_json::from_str(&delivery.payload)
            .map_err(|err| format!("unreadable mail row: {err}"))?;
        let Some(to) = recipient(&self.store, &delivery.account).await else {
            // Nobody to tell (the account is gone): nothing to retry.
            tracing::info!(account = %delivery.account, "mail: no address for the account, not sent");
            return Ok(());
        };
        let to = to
            .parse::<Mailbox>()
            .map_err(|err| format!("the account's address {to:?}: {err}"))?;
        let message = compose(&facts, &self.site, self.from.clone(), to)?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|err| format!("SMTP: {err}"))
    }
}

/// The account's email: the app's accounts, else the passkey service's user (whose display
/// name is the email the app gave it).
async fn recipient(store: &Store, account: &str) -> Option<String> {
    if account.is_empty() {
        return None;
    }
    for sql in [
        "SELECT email AS address FROM accounts WHERE id = $1",
        "SELECT display_name AS address FROM connect_users WHERE identifier = $1",
    ] {
        // Either table may be absent (a passkey service alone has no accounts).
        if let Ok(Some(row)) = sqlx::query(sql)
            .bind(account)
            .fetch_optional(store.pool())
            .await
        {
            if let Ok(address) = row.try_get::<String, _>("address") {
                if address.contains('@') {
                    return Some(address);
                }
            }
        }
    }
    None
}

/// The message: subject, plain text and the same in HTML.
pub fn compose(
    facts: &MailFacts,
    site: &str,
    from: Mailbox,
    to: Mailbox,
) -> Result<Message, String> {
    let added = facts.event_type == EventType::PasskeyCreated.as_ref();
    let (subject, what) = if added {
        (
            format!("A passkey was added to your {site} account"),
            "A passkey was added to your account.",
        )
    } else {
        (
            format!("A passkey was removed from your {site} account"),
            "A passkey was removed from your account.",
        )
    };
    let when = format!(
        "{} (UTC)",
        crate::store::rfc3339(facts.occurred_at)
            .replace('T', " ")
            .trim_end_matches('Z')
    );
    let from_where = match (&facts.browser, &facts.os) {
        (Some(browser), Some(os)) => format!("{browser} on {os}"),
        _ => "an unknown browser".to_string(),
    };
    let address = facts.ip.as_deref().unwrap_or("unknown");
    let advice = if added {
        "If this was not you, sign in, open Passkeys, delete the passkey you do not recognise \
         and change your password."
    } else {
        "If this was not you, sign in and change your password: someone else may have access \
         to your account."
    };
    let plain = format!(
        "{what}\n\nWhen: {when}\nBrowser: {from_where}\nAddress: {address}\n\n{advice}\n\n\
         You get this message because it concerns the security of your {site} account.\n"
    );
    let html = format!(
        "<!DOCTYPE html><html><body style=\"font-family: sans-serif\">\
         <p>{what}</p>\
         <table><tr><th align=\"left\">When</th><td>{when}</td></tr>\
         <tr><th align=\"left\">Browser</th><td>{from_where}</td></tr>\
         <tr><th align=\"left\">Address</th><td>{address}</td></tr></table>\
         <p><strong>{advice}</strong></p>\
         <p style=\"color: #555\">You get this message because it concerns the security of \
         your {site} account.</p></body></html>",
        what = escape(what),
        when = escape(&when),
        from_where = escape(&from_where),
        address = escape(address),
        advice = escape(advice),
        site = escape(site),
    );
    Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(plain),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(html),
                ),
        )
        .map_err(|err| format!("composing: {err}"))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_says_what_when_where_and_what_to_do() {
        let facts = MailFacts {
            event_type: "passkey.deleted".into(),
            occurred_at: 1_700_000_000,
            browser: Some("Firefox".into()),
            os: Some("Linux".into()),
            ip: Some("192.0.2.9".into()),
        };
        let message = compose(
            &facts,
            "Example <Shop>",
            "Latchkey <no-reply@example.com>".parse().unwrap(),
            "ann@example.com".parse().unwrap(),
        )
        .unwrap();
        let text = String::from_utf8(message.formatted()).unwrap();
        assert!(text.contains("Subject: A passkey was removed from your Example <Shop> account"));
        assert!(text.contains("2023-11-14 22:13:20 (UTC)"));
        assert!(text.contains("Firefox on Linux"));
        assert!(text.contains("change your password"));
        assert!(text.contains("text/html"));
        assert!(text.contains("Example &lt;Shop&gt;"), "HTML is escaped");
    }
}
