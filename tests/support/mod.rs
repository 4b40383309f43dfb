//! The test harness of every integration test: real databases (a SQLite file, or a fresh
//! PostgreSQL database on the throwaway server that scripts/with-postgres.sh starts), the
//! passkey service under test (in process or on loopback HTTP), the whole app on loopback
//! HTTP, the real binary as a process, one client of the service's frontend API, a software
//! authenticator and a scriptable OpenID provider.
//!
//! A test file says `mod support;` (the name matters: [`on_both_databases!`] refers to
//! `$crate::support`) and takes what it needs from here.
#![allow(dead_code)]

pub mod app;
pub mod authenticator;
pub mod binary;
pub mod cookies;
pub mod db;
pub mod frontend;
pub mod openid_provider;
pub mod passkeys;
pub mod service;
pub mod site;

// The names the tests use; each test file uses some of them.
#[allow(unused_imports)]
pub use self::{
    app::{unique_email, TestApp, PASSWORD},
    authenticator::{
        registration_without, TestPasskey, Tweak, FLAG_USER_PRESENT, FLAG_USER_VERIFIED,
    },
    binary::{free_port, Binary},
    cookies::{
        cookie_named, cookie_pair, location, new_session_cookie, session_cookie, set_cookie_line,
        set_cookie_named,
    },
    db::{Db, TestDb},
    frontend::{client_info, served_by_of, Answer, Front},
    passkeys::{
        complete_for, complete_login, enrol_passkey, finish_login, login_token, passkey_login,
        passkey_login_from_another_device, sign_and_finish, sign_and_finish_with, start_login,
    },
    service::{
        test_config, test_env, Client, TestService, Transport, API_SECRET, CHROME_MAC, ORIGIN,
        PROJECT_ID, RP_ID,
    },
    site::Site,
};

/// Runs each listed test on SQLite and on PostgreSQL, as `#[tokio::test]`s on a
/// multi-threaded runtime (two workers, as many as the machine has cores).
///
/// A test is an `async fn name(db: Db)` in the test file; the macro adds the modules
/// `sqlite` and `postgres` with a `#[tokio::test] async fn name()` each, so nextest lists
/// `sqlite::name` and `postgres::name`.
///
/// With `and_both_transports:` first, each test is an `async fn name(db: Db, transport:
/// Transport)` and runs four times: modules `sqlite_in_process`, `sqlite_http`,
/// `postgres_in_process` and `postgres_http`.
///
/// ```ignore
/// mod support;
///
/// use support::{Db, TestApp, Transport, TestService};
///
/// async fn the_login_page_answers(db: Db) {
///     let app = TestApp::start(db).await;
///     assert_eq!(app.get("/login", None).await.status(), 200);
/// }
///
/// async fn tokens_are_created(db: Db, transport: Transport) {
///     let svc = TestService::start_with(db, transport, |_| {}).await;
///     // ...
/// }
///
/// on_both_databases!(the_login_page_answers);
/// on_both_databases!(and_both_transports: tokens_are_created);
/// ```
#[macro_export]
macro_rules! on_both_databases {
    (@module $module:ident $args:tt $($name:ident)*) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name $args .await
                }
            )*
        }
    };
    (and_both_transports: $($name:ident),* $(,)?) => {
        $crate::on_both_databases!(@module sqlite_in_process
            ($crate::support::Db::Sqlite, $crate::support::Transport::InProcess) $($name)*);
        $crate::on_both_databases!(@module sqlite_http
            ($crate::support::Db::Sqlite, $crate::support::Transport::Http) $($name)*);
        $crate::on_both_databases!(@module postgres_in_process
            ($crate::support::Db::Postgres, $crate::support::Transport::InProcess) $($name)*);
        $crate::on_both_databases!(@module postgres_http
            ($crate::support::Db::Postgres, $crate::support::Transport::Http) $($name)*);
    };
    ($($name:ident),* $(,)?) => {
        $crate::on_both_databases!(@module sqlite ($crate::support::Db::Sqlite) $($name)*);
        $crate::on_both_databases!(@module postgres ($crate::support::Db::Postgres) $($name)*);
    };
}
