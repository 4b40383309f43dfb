//! The cost of one rate-limit check per request: in memory (one process on SQLite) and, when
//! `LATCHKEY_TEST_POSTGRES_URL` names a PostgreSQL server (scripts/with-postgres.sh), shared
//! through the database. Run: `scripts/with-postgres.sh cargo bench --features ssr --bench
//! limiter`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashMap;

use criterion::{criterion_group, criterion_main, Criterion};
use latchkey::limits::{Limiter, Rate, RateLimitSettings, Rule};
use latchkey::store::Store;
use support::{Db, TestDb};

fn settings() -> RateLimitSettings {
    // High enough that the benchmark never hits the limit: it measures the check itself.
    let rate = Rate::parse("1000000000/1s").expect("rate");
    RateLimitSettings {
        rates: HashMap::from([(Rule::SignInIp, rate)]),
    }
}

fn check(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut group = c.benchmark_group("rate-limit check");
    let mut stores = vec![("in memory (SQLite deployments)", Db::Sqlite)];
    if std::env::var_os("LATCHKEY_TEST_POSTGRES_URL").is_some() {
        stores.push(("shared through PostgreSQL", Db::Postgres));
    }
    for (name, db) in stores {
        let (limiter, _db) = rt.block_on(async {
            let db = TestDb::new(db).await;
            let store = Store::connect(&db.url).await.expect("store");
            (Limiter::new(settings(), &store).await.expect("limiter"), db)
        });
        let mut n = 0u64;
        group.bench_function(name, |b| {
            b.to_async(&rt).iter(|| {
                n += 1;
                let key = format!("198.51.100.{}", n % 250);
                let limiter = limiter.clone();
                async move {
                    limiter
                        .check(Rule::SignInIp, &key)
                        .await
                        .expect("under the limit")
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, check);
criterion_main!(benches);
