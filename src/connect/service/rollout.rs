//! Gradual rollout: a kill switch and, per component, the share of clients that get passkeys.
//! A client's bucket (0–99) comes from a hash of its handle, so the decision is stable for a
//! browser across visits and the same on every instance.

use sha2::{Digest, Sha256};

use super::ConnectService;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decisions {
    pub login: bool,
    pub append: bool,
    /// Managing existing passkeys is never rolled out partially; only the kill switch stops it.
    pub manage: bool,
}

/// The client's stable bucket, 0–99.
pub fn bucket(client_hash: &str) -> u8 {
    let digest = Sha256::digest(format!("latchkey-rollout:{client_hash}").as_bytes());
    let value = u64::from_be_bytes([
        digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
    ]);
    (value % 100) as u8
}

pub fn decide(
    enabled: bool,
    login_percent: u8,
    append_percent: u8,
    client_hash: &str,
) -> Decisions {
    let bucket = bucket(client_hash);
    Decisions {
        login: enabled && bucket < login_percent,
        append: enabled && bucket < append_percent,
        manage: enabled,
    }
}

impl ConnectService {
    pub fn rollout_for(&self, client_hash: &str) -> Decisions {
        let live = self.live_settings().current();
        decide(
            live.passkeys_enabled,
            live.login_rollout_percent,
            live.append_rollout_percent,
            client_hash,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_are_stable_and_follow_the_percentages() {
        let clients: Vec<String> = (0..1000)
            .map(|i| super::super::hash(&i.to_string()))
            .collect();
        let share = |percent: u8| {
            clients
                .iter()
                .filter(|c| decide(true, percent, percent, c).login)
                .count()
        };
        assert_eq!(share(0), 0);
        assert_eq!(share(100), 1000);
        let half = share(50);
        assert!((400..600).contains(&half), "{half}");
        // A lower percentage only removes clients, never adds others.
        assert!(clients
            .iter()
            .all(|c| !decide(true, 20, 20, c).login || decide(true, 60, 60, c).login));
    }

    #[test]
    fn the_kill_switch_denies_everything() {
        let d = decide(false, 100, 100, "any");
        assert_eq!(
            d,
            Decisions {
                login: false,
                append: false,
                manage: false
            }
        );
    }
}
