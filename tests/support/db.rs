//! Real test databases: a SQLite file in a temporary folder, or a fresh database on the
//! throwaway PostgreSQL server that scripts/with-postgres.sh starts.

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A database URL for one test, plus the folder that holds its files.
pub struct TestDb {
    pub url: String,
    pub dir: tempfile::TempDir,
}

impl TestDb {
    pub async fn new(db: Db) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = match db {
            Db::Sqlite => format!("sqlite://{}/latchkey.db", dir.path().display()),
            Db::Postgres => fresh_postgres_database().await,
        };
        Self { url, dir }
    }
}

/// Creates an empty database on the test PostgreSQL server and returns its URL.
pub async fn fresh_postgres_database() -> String {
    let admin = std::env::var("LATCHKEY_TEST_POSTGRES_URL").expect(
        "LATCHKEY_TEST_POSTGRES_URL is not set: run the tests through scripts/test.sh or \
         scripts/with-postgres.sh, which start a throwaway PostgreSQL server",
    );
    sqlx::any::install_default_drivers();
    let name = format!("t_{}", latchkey::random::digits(16));
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
