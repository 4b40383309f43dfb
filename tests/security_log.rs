//! The security log for SIEMs: a journey with the log in a file, every line checked against
//! the OCSF schema fragments of its class (tests/ocsf/), one line per audit event, each
//! carrying that event's id, place and chain hash.

mod support;

use std::collections::HashMap;
use std::path::Path;

use latchkey::events::EventFilter;
use serde_json::{json, Value};
use support::*;

fn schema(class_uid: u64) -> jsonschema::Validator {
    let name = match class_uid {
        3001 => "account_change",
        3002 => "authentication",
        6002 => "application_lifecycle",
        other => panic!("a class the security log should not write: {other}"),
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/ocsf/{name}.schema.json"));
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("a valid schema")
}

fn problems(validator: &jsonschema::Validator, line: &Value) -> Vec<String> {
    validator
        .iter_errors(line)
        .map(|err| format!("{} at {}", err, err.instance_path))
        .collect()
}

async fn a_journeys_lines_are_valid_ocsf_and_match_the_audit_log(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("security.jsonl");
    let app = TestApp::start_with(
        db,
        &[
            ("LATCHKEY_SECURITY_LOG", log.to_str().unwrap()),
            ("LATCHKEY_RATE_LIMIT_SIGN_IN_ACCOUNT_IP", "3/15m"),
        ],
    )
    .await;
    let email = unique_email();
    let mut auth = TestPasskey::for_origin(&app.origin);
    let cookie = app.sign_up(&email, PASSWORD).await;
    enrol_passkey(&app, &mut auth, &cookie).await;
    assert_eq!(app.call_status("sign_out", &[], Some(&cookie)).await, 200);
    let signed = passkey_login(&app, &mut auth, &email).await;
    assert_eq!(complete_login(&app, &signed).await, 200);
    for _ in 0..4 {
        app.sign_in(&email, "wrong").await;
    }
    let config = &app.state.config;
    latchkey::cli::set_account_disabled(config, &email, true)
        .await
        .unwrap();
    latchkey::cli::set_account_disabled(config, &email, false)
        .await
        .unwrap();

    let lines: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    let audit = app
        .state
        .events
        .list(&EventFilter::default(), None, 500)
        .await
        .unwrap()
        .events;
    assert_eq!(lines.len(), audit.len(), "one line per event");
    let by_id: HashMap<&str, _> = audit.iter().map(|e| (e.id.as_str(), e)).collect();
    let mut classes = HashMap::new();
    for line in &lines {
        let class = line["class_uid"].as_u64().expect("class_uid");
        let found = problems(&schema(class), line);
        assert!(found.is_empty(), "{line}\n{found:#?}");
        let stored = by_id[line["metadata"]["uid"].as_str().unwrap()];
        assert_eq!(line["metadata"]["sequence"], stored.seq);
        assert_eq!(line["unmapped"]["chain_hash"], stored.hash.as_str());
        assert_eq!(line["message"], stored.event.event_type.as_ref());
        *classes.entry(class).or_insert(0) += 1;
    }
    // Logins and logouts, account changes (sign-up, passkey, disable, enable), the settings.
    assert!(classes[&3002] >= 6, "{classes:?}");
    assert!(classes[&3001] >= 4, "{classes:?}");
    assert_eq!(classes[&6002], 1, "{classes:?}");
    let types: Vec<&str> = lines
        .iter()
        .map(|l| l["message"].as_str().unwrap())
        .collect();
    for expected in [
        "account.created",
        "passkey.created",
        "passkey-login.completed",
        "session.signed-out",
        "password-login.failed",
        "rate-limit.hit",
        "account.disabled",
        "account.enabled",
    ] {
        assert!(types.contains(&expected), "{expected} missing: {types:?}");
    }
    // No secret in any line: not the password, not the signed data, not the session cookie.
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains(PASSWORD));
    assert!(!text.contains(&signed));
    assert!(!text.contains(cookie.split('=').nth(1).unwrap()));
}

on_both_databases!(a_journeys_lines_are_valid_ocsf_and_match_the_audit_log);

/// The fragments are not vacuous: a line without its user, with a foreign attribute, or
/// with an activity its class does not have is refused.
#[test]
fn the_schema_fragments_refuse_what_ocsf_refuses() {
    let good = json!({
        "class_uid": 3002, "category_uid": 3, "activity_id": 1, "type_uid": 300201,
        "time": 1_700_000_000_000i64, "severity_id": 1,
        "metadata": { "version": "1.3.0", "product": { "vendor_name": "Latchkey" } },
        "user": { "uid": "acc_1" }, "service": { "name": "Latchkey" }
    });
    let auth = schema(3002);
    assert!(problems(&auth, &good).is_empty());
    let broken = |change: &dyn Fn(&mut Value)| {
        let mut line = good.clone();
        change(&mut line);
        line
    };
    for bad in [
        broken(&|l| {
            l.as_object_mut().unwrap().remove("user");
        }),
        broken(&|l| l["invented"] = json!(true)),
        broken(&|l| l["activity_id"] = json!(11)),
        broken(&|l| l["type_uid"] = json!(300101)),
        broken(&|l| {
            l.as_object_mut().unwrap().remove("service");
        }),
        broken(&|l| l["src_endpoint"] = json!({ "ip": "not an address" })),
        broken(&|l| {
            l["metadata"].as_object_mut().unwrap().remove("product");
        }),
    ] {
        assert!(!problems(&auth, &bad).is_empty(), "accepted: {bad}");
    }
}
