//! Every path of the journey produces its events: one table of steps, each with the event
//! types and reasons it must add to the audit log, walked in order against the whole app
//! over real HTTP (passkey service in process, a software authenticator), on both databases.

mod support;

use latchkey::events::{EventFilter, EventType, Reason, StoredEvent};
use serde_json::json;
use support::*;

use EventType::*;

/// One thing a person (or an operator, or an attacker) does.
#[derive(Debug, Clone, Copy)]
enum Step {
    SignUp,
    AppendOffered,
    SkipAppend,
    SignOut,
    WrongPassword,
    RightPassword,
    CreatePasskey,
    PasskeyLogin,
    ReplaySignedData,
    PasskeyFromDeletedList,
    NoPasskeyLeft,
    PasswordFlood,
    Disable,
    DisabledPassword,
    Enable,
    BrowserReportsCancel,
}

/// An event as the table names it: its type and reason.
type Recorded = (EventType, Option<Reason>);

/// The journey, and what each step must record (oldest first).
const JOURNEY: &[(Step, &[Recorded])] = &[
    (
        Step::SignUp,
        &[(AccountCreated, None), (PasswordLoginSucceeded, None)],
    ),
    (
        Step::AppendOffered,
        &[(AppendOffered, Some(Reason::Eligible))],
    ),
    (
        Step::SkipAppend,
        &[(AppendSkipped, Some(Reason::UserSkipped))],
    ),
    (Step::SignOut, &[(SignedOut, None)]),
    (
        Step::WrongPassword,
        &[(PasswordLoginFailed, Some(Reason::WrongCredentials))],
    ),
    (Step::RightPassword, &[(PasswordLoginSucceeded, None)]),
    (
        Step::CreatePasskey,
        &[
            (PasskeyDecision, Some(Reason::Eligible)),
            (PasskeyCreated, None),
        ],
    ),
    (
        Step::PasskeyLogin,
        &[
            (PasskeyDecision, Some(Reason::ConditionalUi)),
            (PasskeyLoginStarted, Some(Reason::Identifier)),
            (PasskeyDecision, Some(Reason::ExpectedElsewhere)),
            (PasskeyLoginCompleted, None),
            // This device's own passkey: the server passes the append step at once.
            (AppendSkipped, Some(Reason::PasskeyOnThisDevice)),
        ],
    ),
    (
        Step::ReplaySignedData,
        &[(TokenRefused, Some(Reason::Replay))],
    ),
    (
        Step::PasskeyFromDeletedList,
        &[
            (PasskeyDecision, Some(Reason::ConditionalUi)),
            (PasskeyLoginStarted, Some(Reason::Identifier)),
            (PasskeyDecision, Some(Reason::ExpectedElsewhere)),
            (PasskeyDeleted, None),
            (PasskeyLoginFailed, Some(Reason::DeletedPasskey)),
        ],
    ),
    (
        Step::NoPasskeyLeft,
        &[
            (PasskeyDecision, Some(Reason::ConditionalUi)),
            (PasskeyLoginStarted, Some(Reason::Identifier)),
            (PasskeyLoginFellBack, Some(Reason::NoPasskey)),
        ],
    ),
    (
        Step::PasswordFlood,
        &[
            (PasswordLoginFailed, Some(Reason::WrongCredentials)),
            (PasswordLoginFailed, Some(Reason::WrongCredentials)),
            (RateLimitHit, Some(Reason::RateLimited)),
            (PasswordLoginFailed, Some(Reason::RateLimited)),
        ],
    ),
    (
        Step::Disable,
        &[
            (AccountDisabled, None),
            (SessionEnded, Some(Reason::Revoked)),
        ],
    ),
    (
        Step::DisabledPassword,
        &[(PasswordLoginFailed, Some(Reason::Disabled))],
    ),
    (Step::Enable, &[(AccountEnabled, None)]),
    (
        Step::BrowserReportsCancel,
        &[
            (PasskeyDecision, Some(Reason::ConditionalUi)),
            (PasskeyLoginFailed, Some(Reason::Cancelled)),
        ],
    ),
];

struct Walk {
    app: TestApp,
    email: String,
    cookie: String,
    auth: TestPasskey,
    signed: String,
}

impl Walk {
    async fn run(&mut self, step: Step) {
        let app = &self.app;
        match step {
            Step::SignUp => self.cookie = app.sign_up(&self.email, PASSWORD).await,
            Step::AppendOffered => {
                let status = app
                    .call_status("append_decision", &[("next", "")], Some(&self.cookie))
                    .await;
                assert_eq!(status, 200);
            }
            Step::SkipAppend => assert_eq!(app.skip_append(&self.cookie, false).await, 200),
            Step::SignOut => {
                assert_eq!(
                    app.call_status("sign_out", &[], Some(&self.cookie)).await,
                    200
                );
            }
            Step::WrongPassword => {
                assert_eq!(app.sign_in(&self.email, "not it").await.status(), 401);
            }
            Step::RightPassword => {
                let res = app.sign_in(&self.email, PASSWORD).await;
                self.cookie = session_cookie(&res).expect("session");
            }
            Step::CreatePasskey => enrol_passkey(app, &mut self.auth, &self.cookie).await,
            Step::PasskeyLogin => {
                self.signed = passkey_login(app, &mut self.auth, &self.email).await;
                assert_eq!(complete_login(app, &self.signed).await, 200);
            }
            Step::ReplaySignedData => {
                assert_eq!(complete_login(app, &self.signed).await, 401);
            }
            Step::PasskeyFromDeletedList => {
                // Options fetched, then the passkey is deleted (from another device), then
                // the browser answers the options it has.
                let token = login_token(app, &self.email).await;
                let (front, process, start) = start_login(app, &self.email, &token).await;
                delete_every_passkey(app, &self.email).await;
                let options = start.ok()["assertionOptions"].as_str().expect("options");
                let assertion = self.auth.login(options, &Tweak::default());
                let finish = finish_login(&front, &process, &assertion).await;
                assert_eq!(finish.status, 404);
            }
            Step::NoPasskeyLeft => {
                let token = login_token(app, &self.email).await;
                let (_, _, start) = start_login(app, &self.email, &token).await;
                assert!(start.ok()["fallbackOperationError"].is_object());
            }
            Step::PasswordFlood => {
                // The limit is four attempts per account and address (see the app's env):
                // the wrong and the right password above were two.
                for expected in [401, 401, 429] {
                    let res = app.sign_in(&self.email, "still not it").await;
                    assert_eq!(res.status().as_u16(), expected);
                }
            }
            Step::Disable | Step::Enable => {
                let disable = matches!(step, Step::Disable);
                latchkey::cli::set_account_disabled(&app.state.config, &self.email, disable)
                    .await
                    .expect("account state");
            }
            Step::DisabledPassword => {
                // The flood's limit is per account and address: this comes from elsewhere.
                let res = app
                    .call_with(
                        "sign_in",
                        &[("email", &self.email), ("password", PASSWORD), ("next", "")],
                        &[("x-forwarded-for", "198.51.100.7")],
                    )
                    .await;
                assert_eq!(res.status(), 401);
            }
            Step::BrowserReportsCancel => {
                let front = app.front();
                let (process, _) = front.init("login", &client_info(None)).await;
                let answer = front
                    .post(
                        latchkey::connect::api::paths::frontend::EVENTS,
                        Some(&process),
                        &json!({ "eventType": "login-explicit-abort" }),
                    )
                    .await;
                assert_eq!(answer.status, 204);
            }
        }
    }
}

/// Deletes the account's passkeys the way the backend API does.
async fn delete_every_passkey(app: &TestApp, email: &str) {
    let service = app.state.connect_service.as_ref().expect("in process");
    let account = app
        .state
        .store
        .find_account_by_email(app.state.idp.issuer(), email)
        .await
        .unwrap()
        .expect("account");
    let user = service
        .user_by_identifier(&account.id)
        .await
        .unwrap()
        .expect("passkey user");
    for credential in service.credentials_of(&user.id).await.unwrap() {
        service
            .delete_user_credential(&user.id, &credential.id, None)
            .await
            .expect("delete");
    }
}

/// Whether an event must name its account: all but those recorded before anyone is known
/// (a login's start, a rate limit, a browser's report) or about a passkey no longer stored.
fn names_an_account(e: &latchkey::events::Event) -> bool {
    let anonymous = matches!(
        e.event_type,
        RateLimitHit | PasskeyLoginStarted | PasskeyLoginFellBack
    ) || matches!(e.reason, Some(Reason::Cancelled | Reason::DeletedPasskey))
        // The login page decides before anyone is known.
        || (e.event_type == PasskeyDecision
            && e.detail.as_deref().is_some_and(|d| d.starts_with("login page")));
    !anonymous
}

/// Events after `seq`, oldest first.
async fn events_after(app: &TestApp, seq: i64) -> Vec<StoredEvent> {
    let page = app
        .state
        .events
        .list(&EventFilter::default(), None, 500)
        .await
        .expect("events");
    let mut events: Vec<_> = page.events.into_iter().filter(|e| e.seq > seq).collect();
    events.reverse();
    events
}

async fn every_step_records_its_events(db: Db) {
    let app = TestApp::start_with(
        db,
        &[
            ("LATCHKEY_RATE_LIMIT_SIGN_IN_ACCOUNT_IP", "4/15m"),
            ("LATCHKEY_TRUSTED_PROXIES", "127.0.0.1/32"),
        ],
    )
    .await;
    let auth = TestPasskey::for_origin(&app.origin);
    let mut walk = Walk {
        email: unique_email(),
        cookie: String::new(),
        signed: String::new(),
        auth,
        app,
    };
    // Start-up itself recorded its settings.
    let startup = events_after(&walk.app, 0).await;
    assert_eq!(startup.len(), 1);
    assert_eq!(startup[0].event.event_type, SettingsChanged);
    let mut seen = startup[0].seq;
    for (step, expected) in JOURNEY {
        walk.run(*step).await;
        let events = events_after(&walk.app, seen).await;
        let got: Vec<_> = events
            .iter()
            .map(|e| (e.event.event_type, e.event.reason))
            .collect();
        assert_eq!(&got, expected, "{step:?}");
        for event in &events {
            let e = &event.event;
            if names_an_account(e) {
                assert!(e.account.is_some(), "{step:?}: {e:?} names no account");
            }
            // A browser's requests name it; the backend API's calls and the CLI do not.
            let from_a_browser = !matches!(e.event_type, PasskeyDeleted | TokenRefused)
                && !matches!(step, Step::Disable | Step::Enable);
            if from_a_browser {
                assert_eq!(
                    e.client.browser.as_deref(),
                    Some("Chrome"),
                    "{step:?}: {e:?}"
                );
                assert_eq!(e.client.os.as_deref(), Some("macOS"), "{step:?}: {e:?}");
            }
        }
        seen = events.last().map_or(seen, |e| e.seq);
    }
    let store = walk.app.state.store.clone();
    let verified = latchkey::events::audit::verify(&store)
        .await
        .unwrap()
        .expect("the journey's chain is intact");
    assert_eq!(verified.head_seq, seen);
}

on_both_databases!(every_step_records_its_events);
