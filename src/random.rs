//! Randomness for identifiers and secrets, straight from the operating system's CSPRNG.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// `n` bytes from the OS CSPRNG. The OS generator failing is unrecoverable for an
/// authentication server (every id and secret depends on it), so it aborts loudly.
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).expect("the operating system's random number generator failed");
    buf
}

/// A URL-safe token carrying `N` random bytes (`N = 32` gives 256 bits).
pub fn token(bytes_len: usize) -> String {
    let mut buf = vec![0u8; bytes_len];
    getrandom::fill(&mut buf).expect("the operating system's random number generator failed");
    URL_SAFE_NO_PAD.encode(buf)
}

/// `n` random decimal digits (for Corbado-style ids such as `pro-123…`).
pub fn digits(n: usize) -> String {
    let mut out = String::with_capacity(n);
    while out.len() < n {
        // Rejection sampling keeps every digit uniform.
        for byte in bytes::<16>() {
            if byte < 250 && out.len() < n {
                out.push(char::from(b'0' + byte % 10));
            }
        }
    }
    out
}

/// A prefixed random identifier such as `acc_…`.
pub fn id(prefix: &str) -> String {
    format!("{prefix}_{}", token(16))
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_long_and_distinct() {
        let a = super::token(32);
        let b = super::token(32);
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert_eq!(super::digits(12).len(), 12);
        assert!(super::digits(30).chars().all(|c| c.is_ascii_digit()));
    }
}
