//! Rate limits on everything an anonymous client can reach: how many password sign-ins,
//! sign-ups, passkey login starts, passkey-service calls and OpenID redirects one client
//! (by IP), one account on one client (identifier and IP) and one account everywhere
//! (identifier alone, a slower ceiling) may make.
//!
//! The algorithm is governor's GCRA. Its state lives in memory when one process serves a
//! SQLite database ([`memory`]), and in the database when several instances share
//! PostgreSQL ([`shared`]), so a limit reached through one instance holds at the others.
//! Limits never lock an account: they slow one kind of attempt down, for a while, and the
//! buckets of password and passkey attempts are separate, so a throttled password never
//! blocks a passkey login.

mod memory;
mod rate;
mod shared;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

pub use rate::Rate;

use crate::config::DatabaseKind;
use crate::store::Store;

/// One limit: what it counts, and by which key.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, strum::AsRefStr, strum::VariantArray, strum::EnumString,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Rule {
    /// Password sign-ins from one IP.
    SignInIp,
    /// Password sign-ins for one account from one IP.
    SignInAccountIp,
    /// Password sign-ins for one account from anywhere (the slower ceiling).
    SignInAccount,
    /// Sign-ups from one IP.
    SignUpIp,
    /// Passkey login starts (login tokens) from one IP.
    PasskeyLoginIp,
    /// Passkey login starts for one account from one IP.
    PasskeyLoginAccountIp,
    /// Calls to the passkey service's frontend API from one IP (init, start, finish, events).
    FrontendApiIp,
    /// Calls to the passkey service's backend API from one IP.
    BackendApiIp,
    /// Logins sent to, or coming back from, the OpenID provider, from one IP.
    OidcIp,
}

/// The configured rate of every rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitSettings {
    pub rates: HashMap<Rule, Rate>,
}

impl RateLimitSettings {
    pub fn rate(&self, rule: Rule) -> Option<Rate> {
        self.rates.get(&rule).copied()
    }
}

/// A request over a limit: which one, and how long to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exceeded {
    pub rule: Rule,
    pub retry_after: Duration,
    /// The first refusal of this bucket in [`REPORT_EVERY`] (on this instance): what is
    /// worth recording. A flood is refused at the cost of a check, not of a write each.
    pub first: bool,
}

/// A bucket's refusals are reported at most once in this long.
pub const REPORT_EVERY: Duration = Duration::from_secs(60);
/// Buckets remembered for [`Exceeded::first`] before old ones are forgotten.
const REPORTED_CAP: usize = 10_000;

/// Checks requests against the limits; cheap to clone.
#[derive(Clone)]
pub struct Limiter {
    inner: Arc<Inner>,
}

struct Inner {
    settings: RateLimitSettings,
    state: State,
    /// When each refused bucket was last reported.
    reported: std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>,
}

enum State {
    Memory(memory::MemoryState),
    Shared(shared::SharedState),
}

impl Limiter {
    /// State in memory for SQLite (one process), in the database for PostgreSQL (several
    /// instances).
    pub async fn new(
        settings: RateLimitSettings,
        store: &Store,
    ) -> Result<Self, crate::store::StoreError> {
        let state = match store.kind() {
            DatabaseKind::Sqlite => State::Memory(memory::MemoryState::new(&settings)),
            DatabaseKind::Postgres => {
                State::Shared(shared::SharedState::open(store.clone()).await?)
            }
        };
        Ok(Self {
            inner: Arc::new(Inner {
                settings,
                state,
                reported: Default::default(),
            }),
        })
    }

    /// Counts one request under `rule` for `key` (an IP, `email|ip`, an email), or says how
    /// long to wait. A rule without a rate is not limited.
    pub async fn check(&self, rule: Rule, key: &str) -> Result<(), Exceeded> {
        let Some(rate) = self.inner.settings.rate(rule) else {
            return Ok(());
        };
        let key = bucket_key(rule, key);
        let verdict = match &self.inner.state {
            State::Memory(state) => state.check(rule, &key),
            State::Shared(state) => state.check(rate.quota(), &key).await,
        };
        verdict.map_err(|retry_after| {
            crate::operations::metrics::rate_limit_hit(rule.as_ref());
            let first = self.first_refusal(&key);
            if first {
                tracing::info!(rule = rule.as_ref(), ?retry_after, "rate limit hit");
            }
            Exceeded {
                rule,
                retry_after,
                first,
            }
        })
    }

    /// Whether `bucket` was not refused in the last [`REPORT_EVERY`]; notes this refusal.
    fn first_refusal(&self, bucket: &str) -> bool {
        let Ok(mut reported) = self.inner.reported.lock() else {
            return true;
        };
        let now = std::time::Instant::now();
        if reported.len() >= REPORTED_CAP {
            reported.retain(|_, at| now.duration_since(*at) < REPORT_EVERY);
        }
        match reported.get(bucket) {
            Some(at) if now.duration_since(*at) < REPORT_EVERY => false,
            _ => {
                reported.insert(bucket.to_string(), now);
                true
            }
        }
    }

    /// Counts one request under each of `checks`, stopping at the first that is over.
    pub async fn check_all(&self, checks: &[(Rule, &str)]) -> Result<(), Exceeded> {
        for (rule, key) in checks {
            self.check(*rule, key).await?;
        }
        Ok(())
    }

    /// Forgets buckets that are full again (they carry no information).
    pub async fn purge(&self) -> Result<u64, crate::store::StoreError> {
        match &self.inner.state {
            State::Memory(state) => {
                state.purge();
                Ok(0)
            }
            State::Shared(state) => state.purge().await,
        }
    }
}

/// The key of one bucket: the rule and what it counts, hashed, so that the shared table holds
/// no email or IP address in the clear.
fn bucket_key(rule: Rule, key: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(rule.as_ref().as_bytes());
    hash.update([0]);
    hash.update(key.as_bytes());
    format!("{:x}", hash.finalize())
}

/// `email|ip`: the key of the account-on-one-client rules.
pub fn account_and_ip(email: &str, ip: std::net::IpAddr) -> String {
    format!("{email}|{ip}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_keys_separate_rules_and_hide_what_they_count() {
        let a = bucket_key(Rule::SignInIp, "192.0.2.1");
        assert_eq!(a.len(), 64);
        assert!(!a.contains("192"));
        assert_ne!(a, bucket_key(Rule::SignUpIp, "192.0.2.1"));
        assert_eq!(a, bucket_key(Rule::SignInIp, "192.0.2.1"));
    }

    /// Only a bucket's first refusal in a while is worth an event: a flood costs checks,
    /// not writes.
    #[tokio::test]
    async fn only_the_first_refusal_of_a_bucket_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/limits.db", dir.path().display());
        let store = Store::open(&url).await.unwrap();
        let settings = RateLimitSettings {
            rates: [(Rule::SignInIp, Rate::parse("1/1h").unwrap())].into(),
        };
        let limiter = Limiter::new(settings, &store).await.unwrap();
        assert!(limiter.check(Rule::SignInIp, "192.0.2.1").await.is_ok());
        let refusals: Vec<bool> =
            futures::future::join_all((0..3).map(|_| limiter.check(Rule::SignInIp, "192.0.2.1")))
                .await
                .into_iter()
                .map(|r| r.unwrap_err().first)
                .collect();
        assert_eq!(refusals, [true, false, false]);
        // Another bucket has its own first.
        assert!(limiter.check(Rule::SignInIp, "192.0.2.2").await.is_ok());
        assert!(
            limiter
                .check(Rule::SignInIp, "192.0.2.2")
                .await
                .unwrap_err()
                .first
        );
    }
}
