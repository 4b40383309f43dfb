//! Limits kept in this process: governor's keyed limiter, one per rule.

use std::collections::HashMap;
use std::time::Duration;

use governor::clock::Clock;
use governor::DefaultKeyedRateLimiter;
use strum::VariantArray;

use super::{RateLimitSettings, Rule};

pub(super) struct MemoryState {
    limiters: HashMap<Rule, DefaultKeyedRateLimiter<String>>,
}

impl MemoryState {
    pub fn new(settings: &RateLimitSettings) -> Self {
        let limiters = Rule::VARIANTS
            .iter()
            .filter_map(|rule| {
                let rate = settings.rate(*rule)?;
                Some((*rule, governor::RateLimiter::keyed(rate.quota())))
            })
            .collect();
        Self { limiters }
    }

    pub fn check(&self, rule: Rule, key: &str) -> Result<(), Duration> {
        let Some(limiter) = self.limiters.get(&rule) else {
            return Ok(());
        };
        limiter
            .check_key(&key.to_string())
            .map_err(|not_until| not_until.wait_time_from(limiter.clock().now()))
    }

    pub fn purge(&self) {
        for limiter in self.limiters.values() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Rate;

    #[test]
    fn each_rule_and_key_has_its_own_bucket() {
        let settings = RateLimitSettings {
            rates: [
                (Rule::SignInIp, Rate::parse("2/1h").unwrap()),
                (Rule::SignUpIp, Rate::parse("1/1h").unwrap()),
            ]
            .into(),
        };
        let state = MemoryState::new(&settings);
        assert!(state.check(Rule::SignInIp, "a").is_ok());
        assert!(state.check(Rule::SignInIp, "a").is_ok());
        let wait = state.check(Rule::SignInIp, "a").unwrap_err();
        assert!(
            wait > Duration::from_secs(1700) && wait <= Duration::from_secs(1800),
            "{wait:?}"
        );
        assert!(state.check(Rule::SignInIp, "b").is_ok());
        assert!(state.check(Rule::SignUpIp, "a").is_ok());
        // A rule without a rate is not limited.
        for _ in 0..10 {
            assert!(state.check(Rule::OidcIp, "a").is_ok());
        }
    }
}
