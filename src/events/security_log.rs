//! The security log: each stored event as one JSON line in OCSF 1.3 for a SIEM, on stdout or
//! appended to a file (`LATCHKEY_SECURITY_LOG=stdout|<path>`).
//!
//! Logins, logouts and other authentication steps are Authentication (3002); what changes an
//! account (created, enabled, disabled, a passkey added or removed) is Account Change (3001);
//! the service's own changes (settings, audit retention) are Application Lifecycle (6002).
//! Every line carries the event's id and chain hash (`metadata.uid`, `unmapped.chain_hash`):
//! a copy kept by the SIEM anchors the database's audit chain from outside.
//!
//! Written by hand: no maintained Rust crate models OCSF classes; the fields used here are
//! checked against the schema's class definitions in tests/ocsf/.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::audit::StoredEvent;
use super::model::{EventType, Outcome, Reason};

pub const OCSF_VERSION: &str = "1.3.0";

/// Where the lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecurityLogTarget {
    Stdout,
    File(PathBuf),
}

impl std::str::FromStr for SecurityLogTarget {
    type Err = String;
    fn from_str(value: &str) -> Result<Self, String> {
        match value.trim() {
            "" => Err("must be \"stdout\" or a file path".into()),
            "stdout" | "-" => Ok(Self::Stdout),
            path => Ok(Self::File(PathBuf::from(path))),
        }
    }
}

/// Writes OCSF lines. Cheap to clone.
#[derive(Clone)]
pub struct SecurityLog {
    out: Arc<Mutex<Box<dyn Write + Send>>>,
}

impl SecurityLog {
    pub fn open(target: &SecurityLogTarget) -> io::Result<Self> {
        let out: Box<dyn Write + Send> = match target {
            SecurityLogTarget::Stdout => Box::new(io::stdout()),
            SecurityLogTarget::File(path) => Box::new(open_append(path)?),
        };
        Ok(Self {
            out: Arc::new(Mutex::new(out)),
        })
    }

    /// Writes one event as one line; a failing write is logged, never fatal.
    pub fn write(&self, event: &StoredEvent) {
        let mut line = ocsf(event).to_string();
        line.push('\n');
        let Ok(mut out) = self.out.lock() else {
            return;
        };
        if let Err(err) = out.write_all(line.as_bytes()).and_then(|()| out.flush()) {
            tracing::error!(error = %err, "could not write the security log");
        }
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// The OCSF class and activity an event type maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OcsfClass {
    pub class_uid: u32,
    pub class_name: &'static str,
    pub category_uid: u32,
    pub category_name: &'static str,
    pub activity_id: u32,
    pub activity_name: &'static str,
}

const IAM: (u32, &str) = (3, "Identity & Access Management");
const APPLICATION: (u32, &str) = (6, "Application Activity");

const fn class(
    (category_uid, category_name): (u32, &'static str),
    class_uid: u32,
    class_name: &'static str,
    activity_id: u32,
    activity_name: &'static str,
) -> OcsfClass {
    OcsfClass {
        class_uid,
        class_name,
        category_uid,
        category_name,
        activity_id,
        activity_name,
    }
}

/// docs/events.md shows this table.
pub fn ocsf_class(event_type: EventType) -> OcsfClass {
    use EventType::*;
    const AUTH: u32 = 3002;
    const ACCOUNT: u32 = 3001;
    const LIFECYCLE: u32 = 6002;
    let auth = |id, name| class(IAM, AUTH, "Authentication", id, name);
    let account = |id, name| class(IAM, ACCOUNT, "Account Change", id, name);
    match event_type {
        PasswordLoginSucceeded
        | PasswordLoginFailed
        | OidcLoginSucceeded
        | OidcLoginFailed
        | PasskeyLoginCompleted
        | PasskeyLoginFailed => auth(1, "Logon"),
        SignedOut | SessionEnded => auth(2, "Logoff"),
        PasskeyLoginStarted | PasskeyLoginFellBack | TokenRefused | RateLimitHit
        | ClientReported => auth(99, "Other"),
        AccountCreated => account(1, "Create"),
        AccountEnabled => account(2, "Enable"),
        AccountDisabled => account(5, "Disable"),
        PasskeysBlocked => account(7, "Lock"),
        PasskeysUnblocked => account(6, "Unlock"),
        PasskeyCreated => account(10, "MFA Factor Enable"),
        PasskeyDeleted => account(11, "MFA Factor Disable"),
        AppendOffered
        | AppendSkipped
        | PasskeyDecision
        | PasskeyCreationFailed
        | PasskeyRenamed => account(99, "Other"),
        SettingsChanged => class(APPLICATION, LIFECYCLE, "Application Lifecycle", 8, "Update"),
        AuditPruned => class(APPLICATION, LIFECYCLE, "Application Lifecycle", 99, "Other"),
    }
}

/// Failures that point at an attack rather than a mistake are Medium; other failures Low.
fn severity(event: &StoredEvent) -> (u32, &'static str) {
    let alarming = matches!(
        event.event.reason,
        Some(
            Reason::Replay
                | Reason::CounterRegression
                | Reason::UserMismatch
                | Reason::BadSignature
                | Reason::RateLimited
        )
    ) || event.event.event_type == EventType::RateLimitHit;
    match (event.event.outcome, alarming) {
        (_, true) => (3, "Medium"),
        (Outcome::Failure, false) => (2, "Low"),
        _ => (1, "Informational"),
    }
}

/// How the person authenticated, for Authentication events.
fn auth_protocol(event_type: EventType) -> Option<(u32, &'static str)> {
    use EventType::*;
    match event_type {
        OidcLoginSucceeded | OidcLoginFailed => Some((4, "OpenID")),
        PasskeyLoginStarted | PasskeyLoginCompleted | PasskeyLoginFailed | PasskeyLoginFellBack => {
            Some((99, "FIDO2 WebAuthn"))
        }
        PasswordLoginSucceeded | PasswordLoginFailed => Some((99, "Password")),
        _ => None,
    }
}

/// The OCSF object for one stored event.
pub fn ocsf(stored: &StoredEvent) -> Value {
    let event = &stored.event;
    let class = ocsf_class(event.event_type);
    let (severity_id, severity) = severity(stored);
    let (status_id, status) = match event.outcome {
        Outcome::Success => (1, "Success"),
        Outcome::Failure => (2, "Failure"),
        Outcome::Info => (99, "Other"),
    };
    let user = match &event.account {
        Some(account) => json!({ "uid": account, "type_id": 1, "type": "User" }),
        None => json!({ "name": "unknown", "type_id": 0, "type": "Unknown" }),
    };
    let mut line = json!({
        "class_uid": class.class_uid,
        "class_name": class.class_name,
        "category_uid": class.category_uid,
        "category_name": class.category_name,
        "activity_id": class.activity_id,
        "activity_name": class.activity_name,
        "type_uid": class.class_uid * 100 + class.activity_id,
        "type_name": format!("{}: {}", class.class_name, class.activity_name),
        "time": stored.occurred_at * 1000,
        "severity_id": severity_id,
        "severity": severity,
        "status_id": status_id,
        "status": status,
        "message": event.event_type.as_ref(),
        "metadata": {
            "version": OCSF_VERSION,
            "uid": stored.id,
            "event_code": event.event_type.as_ref(),
            "log_name": "audit",
            "sequence": stored.seq,
            "product": {
                "name": "Latchkey",
                "vendor_name": "Latchkey",
                "version": env!("CARGO_PKG_VERSION"),
            },
        },
        "unmapped": {
            "chain_hash": stored.hash,
            "credential_id": event.credential,
            "process": event.process,
            "browser": event.client.browser,
            "detail": event.detail,
        },
    });
    let fields = line.as_object_mut().expect("a JSON object literal");
    if let Some(reason) = event.reason {
        fields.insert("status_detail".into(), reason.as_ref().into());
    }
    if let Some(actor) = &event.actor {
        fields.insert(
            "actor".into(),
            json!({ "user": { "uid": actor, "type_id": 2, "type": "Admin" } }),
        );
    }
    let mut endpoint = serde_json::Map::new();
    if let Some(ip) = &event.client.ip {
        endpoint.insert("ip".into(), ip.as_str().into());
    }
    if let Some(os) = &event.client.os {
        endpoint.insert("os".into(), json!({ "name": os, "type_id": 0 }));
    }
    if !endpoint.is_empty() {
        fields.insert("src_endpoint".into(), endpoint.into());
    }
    match class.class_uid {
        6002 => {
            fields.insert(
                "app".into(),
                json!({ "name": "Latchkey", "vendor_name": "Latchkey" }),
            );
        }
        3002 => {
            fields.insert("user".into(), user);
            fields.insert("service".into(), json!({ "name": "Latchkey" }));
            fields.insert("is_remote".into(), true.into());
            if let Some((id, name)) = auth_protocol(event.event_type) {
                fields.insert("auth_protocol_id".into(), id.into());
                fields.insert("auth_protocol".into(), name.into());
                fields.insert("is_mfa".into(), (id == 99 && name != "Password").into());
            }
        }
        _ => {
            fields.insert("user".into(), user);
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::model::{Client, Event};

    fn stored(event: Event) -> StoredEvent {
        StoredEvent {
            seq: 7,
            id: "evt_x".into(),
            occurred_at: 1_700_000_000,
            event,
            prev_hash: "0".repeat(64),
            hash: "a".repeat(64),
        }
    }

    #[test]
    fn a_passkey_login_is_an_authentication_logon_with_mfa() {
        let line = ocsf(&stored(
            Event::new(EventType::PasskeyLoginCompleted)
                .with_account("acc_1")
                .with_client(Client {
                    ip: Some("192.0.2.1".into()),
                    browser: Some("Chrome".into()),
                    os: Some("macOS".into()),
                }),
        ));
        assert_eq!(line["class_uid"], 3002);
        assert_eq!(line["type_uid"], 300201);
        assert_eq!(line["status_id"], 1);
        assert_eq!(line["is_mfa"], true);
        assert_eq!(line["user"]["uid"], "acc_1");
        assert_eq!(line["src_endpoint"]["ip"], "192.0.2.1");
        assert_eq!(line["time"], 1_700_000_000_000i64);
        assert_eq!(line["metadata"]["uid"], "evt_x");
        assert_eq!(line["unmapped"]["chain_hash"], "a".repeat(64));
    }

    #[test]
    fn a_replay_is_a_medium_failure() {
        let line = ocsf(&stored(
            Event::new(EventType::PasskeyLoginFailed).with_reason(Reason::Replay),
        ));
        assert_eq!(line["status_id"], 2);
        assert_eq!(line["severity_id"], 3);
        assert_eq!(line["status_detail"], "replay");
        assert_eq!(line["user"]["type_id"], 0);
    }

    #[test]
    fn passkeys_added_and_removed_are_account_changes() {
        assert_eq!(
            ocsf_class(EventType::PasskeyCreated),
            class(IAM, 3001, "Account Change", 10, "MFA Factor Enable")
        );
        assert_eq!(ocsf_class(EventType::PasskeyDeleted).activity_id, 11);
        assert_eq!(ocsf_class(EventType::AccountDisabled).activity_id, 5);
    }

    #[test]
    fn targets_parse() {
        assert_eq!("stdout".parse(), Ok(SecurityLogTarget::Stdout));
        assert_eq!(
            "/var/log/latchkey.jsonl".parse(),
            Ok(SecurityLogTarget::File("/var/log/latchkey.jsonl".into()))
        );
        assert!("".parse::<SecurityLogTarget>().is_err());
    }
}
