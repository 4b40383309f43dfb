//! Events as the console shows them: times and reasons in words, the operator by email, and
//! the OCSF object the security log would write.

use crate::console::model::EventRow;
use crate::events::audit::StoredEvent;
use crate::store::Store;

/// `2026-12-02 10:14:05 UTC`.
pub fn time_in_words(secs: i64) -> String {
    crate::store::rfc3339(secs)
        .replacen('T', " ", 1)
        .replace('Z', " UTC")
}

/// `2026-12-02 10:14 UTC` (what a table of passkeys and sessions needs).
pub fn minute_in_words(secs: i64) -> String {
    let full = time_in_words(secs);
    match full.rsplit_once(':') {
        Some((minute, rest)) => format!("{minute}{}", rest.trim_start_matches(char::is_numeric)),
        None => full,
    }
}

/// The console's row for a stored event; `actor_email` is the operator's email when known.
pub fn row(stored: &StoredEvent, actor_email: Option<String>) -> EventRow {
    let event = &stored.event;
    EventRow {
        id: stored.id.clone(),
        seq: stored.seq,
        time: time_in_words(stored.occurred_at),
        event_type: event.event_type.as_ref().to_string(),
        outcome: event.outcome.as_ref().to_string(),
        reason: event.reason.map(|r| r.as_ref().to_string()),
        reason_in_words: event.reason.map(|r| r.in_words().to_string()),
        account: event.account.clone(),
        actor: actor_email.or_else(|| event.actor.clone()),
        detail: event.detail.clone(),
        ocsf_json: serde_json::to_string_pretty(&crate::events::security_log::ocsf(stored))
            .unwrap_or_default(),
    }
}

/// Rows for stored events, naming each operator by email (one lookup per operator).
pub async fn rows(store: &Store, stored: &[StoredEvent]) -> Vec<EventRow> {
    let mut emails: std::collections::HashMap<String, Option<String>> = Default::default();
    let mut out = Vec::with_capacity(stored.len());
    for event in stored {
        let actor = match &event.event.actor {
            Some(actor) => {
                if !emails.contains_key(actor) {
                    let email = store
                        .find_account(actor)
                        .await
                        .ok()
                        .flatten()
                        .map(|account| account.email);
                    emails.insert(actor.clone(), email);
                }
                emails.get(actor).cloned().flatten()
            }
            None => None,
        };
        out.push(row(event, actor));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_utc() {
        assert_eq!(time_in_words(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(minute_in_words(3_725), "1970-01-01 01:02 UTC");
    }
}
