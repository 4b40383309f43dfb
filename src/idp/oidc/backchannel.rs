//! OpenID Connect Back-Channel Logout 1.0: the provider tells us, server to server, that a
//! person's session there ended, with a signed logout token; we end their app sessions.
//!
//! The `openidconnect` crate has no logout tokens, so the token is checked here with
//! `jsonwebtoken` against the provider's published keys (the same JWKS as the ID tokens,
//! refetched once for an unknown key id): its signature and algorithm, `iss`, `aud`, `iat`
//! (recent), the back-channel logout `events` claim, no `nonce` (an ID token is not a logout
//! token), a `jti`, and `sub` and/or `sid`. Replays are refused by the caller, which records
//! each `jti` once.

use std::str::FromStr;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{OidcIdp, Provider};
use crate::idp::{IdpError, ProviderLogout};

/// The `events` member that makes a JWT a back-channel logout token.
const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// A logout token issued longer ago than this is refused (the spec asks for a short window).
const MAX_AGE_SECS: i64 = 10 * 60;
/// Clock difference tolerated between the provider and us.
const LEEWAY_SECS: i64 = 60;

#[derive(Debug, Deserialize)]
struct LogoutClaims {
    iat: i64,
    #[serde(default)]
    exp: Option<i64>,
    #[serde(default)]
    jti: Option<String>,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    sid: Option<String>,
    #[serde(default)]
    events: Option<Map<String, Value>>,
    #[serde(default)]
    nonce: Option<Value>,
}

pub(super) async fn verify(idp: &OidcIdp, token: &str) -> Result<ProviderLogout, IdpError> {
    let rejected = |why: &str| IdpError::Rejected(format!("logout token: {why}"));
    let header = jsonwebtoken::decode_header(token).map_err(|_| rejected("not a JWT"))?;
    let provider = idp.provider();
    if !allowed_algorithms(&provider).contains(&header.alg) {
        return Err(rejected(
            "signed with an algorithm the provider does not use",
        ));
    }
    let provider = match key_for(&provider, header.kid.as_deref()) {
        Some(_) => provider,
        // Signed with a key published after our last fetch: the provider rotated.
        None => idp.refresh_keys(&provider).await?,
    };
    let key = key_for(&provider, header.kid.as_deref())
        .ok_or_else(|| rejected("signed with a key the provider does not publish"))?;
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[&idp.settings.issuer]);
    validation.set_audience(&[&idp.settings.client_id]);
    validation.set_required_spec_claims(&["iss", "aud"]);
    validation.leeway = LEEWAY_SECS as u64;
    let claims = jsonwebtoken::decode::<LogoutClaims>(token, &key, &validation)
        .map_err(|err| rejected(&err.to_string()))?
        .claims;
    check_claims(&claims, crate::store::now())
}

/// The rules a verified token's claims must meet (the signature, `iss` and `aud` are
/// already checked).
fn check_claims(claims: &LogoutClaims, now: i64) -> Result<ProviderLogout, IdpError> {
    let rejected = |why: &str| IdpError::Rejected(format!("logout token: {why}"));
    let event = claims
        .events
        .as_ref()
        .and_then(|events| events.get(LOGOUT_EVENT));
    if !matches!(event, Some(Value::Object(_))) {
        return Err(rejected("no back-channel logout event"));
    }
    if claims.nonce.is_some() {
        return Err(rejected("carries a nonce (an ID token?)"));
    }
    if claims.iat > now + LEEWAY_SECS || claims.iat < now - MAX_AGE_SECS {
        return Err(rejected("issued too long ago, or in the future"));
    }
    let jti = claims
        .jti
        .clone()
        .filter(|jti| !jti.is_empty() && jti.len() <= 256)
        .ok_or_else(|| rejected("no jti"))?;
    let non_empty = |value: &Option<String>| value.clone().filter(|v| !v.is_empty());
    let (subject, sid) = (non_empty(&claims.sub), non_empty(&claims.sid));
    if subject.is_none() && sid.is_none() {
        return Err(rejected("names neither sub nor sid"));
    }
    let expires_at = claims
        .exp
        .unwrap_or(claims.iat + MAX_AGE_SECS)
        .max(claims.iat + MAX_AGE_SECS)
        + LEEWAY_SECS;
    Ok(ProviderLogout {
        subject,
        sid,
        jti,
        expires_at,
    })
}

/// The algorithms the provider signs ID tokens with (its discovery document); RS256 when it
/// names none, as the specification's default.
fn allowed_algorithms(provider: &Provider) -> Vec<Algorithm> {
    let names = serde_json::to_value(provider.metadata.id_token_signing_alg_values_supported())
        .unwrap_or(Value::Null);
    let allowed: Vec<Algorithm> = names
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|name| Algorithm::from_str(name).ok())
        .collect();
    if allowed.is_empty() {
        vec![Algorithm::RS256]
    } else {
        allowed
    }
}

/// The provider's key named `kid` (or its only key when the token names none).
fn key_for(provider: &Arc<Provider>, kid: Option<&str>) -> Option<DecodingKey> {
    let jwks: JwkSet = serde_json::to_value(provider.metadata.jwks())
        .ok()
        .and_then(|value| serde_json::from_value(value).ok())?;
    let jwk = match kid {
        Some(kid) => jwks.find(kid)?,
        None if jwks.keys.len() == 1 => jwks.keys.first()?,
        None => return None,
    };
    DecodingKey::from_jwk(jwk).ok()
}

/// The `sid` claim of an ID token the `openidconnect` crate has already verified (its
/// claims type keeps no `sid`).
pub(super) fn session_id_of(id_token: &str) -> Option<String> {
    let payload = id_token.split('.').nth(1)?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    claims
        .get("sid")
        .and_then(Value::as_str)
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(value: Value) -> LogoutClaims {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn the_claims_must_make_a_logout_token() {
        let now = 1_800_000_000;
        let good = json_claims(now, None);
        let logout = check_claims(&claims(good.clone()), now).unwrap();
        assert_eq!(logout.subject.as_deref(), Some("user-1"));
        assert_eq!(logout.sid.as_deref(), Some("sid-1"));
        assert_eq!(logout.jti, "jti-1");
        assert!(logout.expires_at >= now + MAX_AGE_SECS);
        let refused = |change: &dyn Fn(&mut Value)| {
            let mut value = good.clone();
            change(&mut value);
            check_claims(&claims(value), now).unwrap_err()
        };
        refused(&|v| v["events"] = serde_json::json!({}));
        refused(&|v| v["events"] = serde_json::json!({ LOGOUT_EVENT: "yes" }));
        refused(&|v| v["nonce"] = serde_json::json!("n"));
        refused(&|v| v["jti"] = serde_json::json!(""));
        refused(&|v| {
            v.as_object_mut().unwrap().remove("sub");
            v.as_object_mut().unwrap().remove("sid");
        });
        refused(&|v| v["iat"] = serde_json::json!(now - MAX_AGE_SECS - 1));
        refused(&|v| v["iat"] = serde_json::json!(now + LEEWAY_SECS + 1));
        // sub alone and sid alone are enough.
        let mut only_sub = good.clone();
        only_sub.as_object_mut().unwrap().remove("sid");
        assert!(check_claims(&claims(only_sub), now).is_ok());
    }

    fn json_claims(iat: i64, exp: Option<i64>) -> Value {
        serde_json::json!({
            "iss": "https://login.example.com",
            "aud": "latchkey",
            "iat": iat,
            "exp": exp,
            "jti": "jti-1",
            "sub": "user-1",
            "sid": "sid-1",
            "events": { LOGOUT_EVENT: {} },
        })
    }

    #[test]
    fn the_session_id_is_read_from_a_verified_id_token() {
        let payload = URL_SAFE_NO_PAD.encode(r#"{"sub":"u","sid":"s-42"}"#);
        assert_eq!(
            session_id_of(&format!("h.{payload}.sig")).as_deref(),
            Some("s-42")
        );
        assert_eq!(session_id_of("garbage"), None);
    }
}
