//! A rate as operators write it: `10/15m` is ten requests per fifteen minutes (a burst of
//! ten, then one more every ninety seconds).

use std::num::NonZeroU32;
use std::time::Duration;

use governor::Quota;

/// `count` requests per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: NonZeroU32,
    pub period: Duration,
}

impl Rate {
    /// `N/P` where `P` is a number with `s`, `m`, `h` or `d` (a bare unit means one).
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad =
            || format!("{text:?} is not a rate like 10/15m (count/period, period in s, m, h or d)");
        let (count, period) = text.trim().split_once('/').ok_or_else(bad)?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        let count = NonZeroU32::new(count).ok_or_else(bad)?;
        let period = period.trim();
        let unit_at = period.len().checked_sub(1).ok_or_else(bad)?;
        let (amount, unit) = period.split_at(unit_at);
        let amount: u64 = if amount.is_empty() {
            1
        } else {
            amount.parse().map_err(|_| bad())?
        };
        let unit_secs = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => return Err(bad()),
        };
        let secs = amount
            .checked_mul(unit_secs)
            .filter(|s| (1..=7 * 86_400).contains(s))
            .ok_or_else(|| format!("{text:?}: the period must be from 1s to 7d"))?;
        Ok(Self {
            count,
            period: Duration::from_secs(secs),
        })
    }

    /// The GCRA quota: a burst of `count`, refilled evenly over `period`.
    pub fn quota(self) -> Quota {
        let interval = self.period / self.count.get();
        Quota::with_period(interval.max(Duration::from_nanos(1)))
            .unwrap_or_else(|| Quota::per_second(self.count))
            .allow_burst(self.count)
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.period.as_secs();
        let (amount, unit) = match secs {
            s if s % 86_400 == 0 => (s / 86_400, "d"),
            s if s % 3600 == 0 => (s / 3600, "h"),
            s if s % 60 == 0 => (s / 60, "m"),
            s => (s, "s"),
        };
        write!(f, "{}/{amount}{unit}", self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_and_print_back() {
        for (text, count, secs) in [
            ("10/15m", 10, 900),
            ("30/1m", 30, 60),
            ("5/h", 5, 3600),
            (" 100 / 1d ", 100, 86_400),
            ("1/30s", 1, 30),
        ] {
            let rate = Rate::parse(text).unwrap();
            assert_eq!(
                (rate.count.get(), rate.period.as_secs()),
                (count, secs),
                "{text}"
            );
        }
        assert_eq!(Rate::parse("10/15m").unwrap().to_string(), "10/15m");
        assert_eq!(Rate::parse("5/h").unwrap().to_string(), "5/1h");
        for bad in [
            "", "10", "0/1m", "x/1m", "10/", "10/1x", "10/0s", "10/8d", "-1/1m",
        ] {
            assert!(Rate::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_quota_is_a_burst_refilled_over_the_period() {
        let quota = Rate::parse("10/15m").unwrap().quota();
        assert_eq!(quota.burst_size().get(), 10);
        assert_eq!(quota.replenish_interval(), Duration::from_secs(90));
    }
}
