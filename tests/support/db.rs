//! Real test databases: a SQLite file in a temporary folder, or a fresh database on the
//! throwaway PostgreSQL server that scripts/with-postgres.sh starts.

pub use latchkey::store::testing::fresh_postgres_database;

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
