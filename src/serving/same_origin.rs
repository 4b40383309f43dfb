//! The same-origin rule for state-changing requests, used by the web app (server functions,
//! forms) and the passkey service's frontend API alike.

use http::header::{HeaderMap, ORIGIN};

/// Whether a state-changing request comes from `origin` (e.g. `https://example.com`).
///
/// Browsers send `Origin` on every POST; a request without it is accepted only when the
/// browser marks it same-origin through `Sec-Fetch-Site`. Anything else is refused, which
/// also refuses non-browser clients that do not say where they come from.
pub fn is_same_origin(headers: &HeaderMap, origin: &str) -> bool {
    match headers.get(ORIGIN) {
        Some(sent) => sent.as_bytes() == origin.as_bytes(),
        None => headers
            .get("sec-fetch-site")
            .is_some_and(|site| site.as_bytes() == b"same-origin"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    http::HeaderName::from_static(k),
                    HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    #[test]
    fn only_our_origin_or_a_same_origin_fetch_passes() {
        let ours = "https://app.example.com";
        assert!(is_same_origin(&headers(&[("origin", ours)]), ours));
        assert!(is_same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            ours
        ));
        for refused in [
            headers(&[("origin", "https://evil.example")]),
            headers(&[("origin", "https://app.example.com.evil.example")]),
            headers(&[("origin", "null")]),
            // An Origin that disagrees wins over Sec-Fetch-Site.
            headers(&[
                ("origin", "https://evil.example"),
                ("sec-fetch-site", "same-origin"),
            ]),
            headers(&[("sec-fetch-site", "cross-site")]),
            headers(&[]),
        ] {
            assert!(!is_same_origin(&refused, ours), "{refused:?}");
        }
    }
}
