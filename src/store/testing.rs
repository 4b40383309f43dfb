//! For the test suites and the load generator, which share it with the library's own unit
//! tests: a fresh database on the throwaway PostgreSQL server that scripts/with-postgres.sh
//! starts. Never called by the server.

/// Creates an empty database on the test PostgreSQL server (`LATCHKEY_TEST_POSTGRES_URL`)
/// and returns its URL. Panics when there is none: a test that needs PostgreSQL cannot run
/// without it.
pub async fn fresh_postgres_database() -> String {
    let admin = std::env::var("LATCHKEY_TEST_POSTGRES_URL").expect(
        "LATCHKEY_TEST_POSTGRES_URL is not set: run the tests through scripts/test.sh or \
         scripts/with-postgres.sh, which start a throwaway PostgreSQL server",
    );
    sqlx::any::install_default_drivers();
    let name = format!("t_{}", crate::random::digits(16));
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin)
        .await
        .expect("connect to the test PostgreSQL server");
    // The name is our own random digits, not input: safe to splice into DDL.
    let create = sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"));
    sqlx::Executor::execute(&mut conn, create)
        .await
        .expect("create a test database");
    let mut url = url::Url::parse(&admin).expect("admin URL");
    url.set_path(&name);
    url.to_string()
}
