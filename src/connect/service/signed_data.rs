//! Signed passkey data: after a passkey login the browser gets a short-lived JWT (ES256, or
//! EdDSA when the key file holds an Ed25519 key) with Corbado's claims, and hands it to the
//! app's backend, which asks the service to verify it. Verification checks the times, then
//! spends the `jti` (one `DELETE … RETURNING`), so each token verifies once, and compares the
//! expected user with the one the service recorded at issue time.
//!
//! The service keeps the SHA-256 of every token it issues with its `jti`, and spends a row
//! only for the token whose hash it is: byte for byte what was signed, so for the service
//! (which issued it) as strong as checking the signature, at the cost of a hash instead of an
//! elliptic-curve verification on every login. The signature is there for backends that
//! verify with the JWK set; the service checks it only for rows written before hashes were
//! kept (an instance of an older version, during an upgrade) and to say why a token was
//! refused.
//!
//! The key comes from `LATCHKEY_SIGNING_KEY_FILE` (PKCS#8 PEM); for a local http site a
//! missing file is generated once (mode 0600). The public key is served as a JWK set.

use crate::events::{Event, EventType, Reason};
use std::path::Path;

use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sqlx::Row;

use super::{hash, ConnectError, ConnectService, SIGNED_DATA_LIFETIME_SECS};
use crate::connect::api::{SignedPasskeyClaims, VerificationResult, VerifySignedDataReq};

/// Clock skew tolerated on `nbf` between instances.
const NBF_LEEWAY_SECS: i64 = 10;
/// Tokens longer than this are not ours.
const MAX_TOKEN_LEN: usize = 8 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum SigningKeyError {
    #[error(
        "{path} does not exist; create a P-256 key, e.g. `openssl genpkey -algorithm EC \
         -pkeyopt ec_paramgen_curve:P-256 -out {path}`"
    )]
    Missing { path: String },
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a PKCS#8 PEM private key for P-256 (ES256) or Ed25519 (EdDSA)")]
    Invalid { path: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// The signing key. Holds private key material: no `Serialize`, and `Debug` shows only the
/// key id.
pub struct Signer {
    algorithm: Algorithm,
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwk: Jwk,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A key from PKCS#8 PEM text: P-256 gives ES256, Ed25519 gives EdDSA.
    pub fn from_pem(pem: &str) -> Option<Self> {
        use p256::pkcs8::DecodePrivateKey;
        let (algorithm, encoding) = if p256::SecretKey::from_pkcs8_pem(pem).is_ok() {
            (
                Algorithm::ES256,
                EncodingKey::from_ec_pem(pem.as_bytes()).ok()?,
            )
        } else {
            (
                Algorithm::EdDSA,
                EncodingKey::from_ed_pem(pem.as_bytes()).ok()?,
            )
        };
        let mut jwk = Jwk::from_encoding_key(&encoding, algorithm).ok()?;
        let decoding = DecodingKey::from_jwk(&jwk).ok()?;
        let thumbprint = jwk.thumbprint(ThumbprintHash::SHA256).ok()?;
        let kid = format!("pki-{thumbprint}");
        jwk.common.key_id = Some(kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        jwk.common.key_algorithm = Some(match algorithm {
            Algorithm::ES256 => KeyAlgorithm::ES256,
            _ => KeyAlgorithm::EdDSA,
        });
        Some(Self {
            algorithm,
            kid,
            encoding,
            decoding,
            jwk,
        })
    }

    /// A new random P-256 key and its PKCS#8 PEM text.
    pub fn generate() -> (Self, String) {
        use p256::pkcs8::{EncodePrivateKey, LineEnding};
        loop {
            // Almost every 32-byte string is a valid scalar; retry the rare ones that are not.
            let bytes = crate::random::bytes::<32>();
            let Ok(secret) = p256::SecretKey::from_slice(&bytes) else {
                continue;
            };
            let Ok(pem) = secret.to_pkcs8_pem(LineEnding::LF) else {
                continue;
            };
            let pem = pem.to_string();
            if let Some(signer) = Self::from_pem(&pem) {
                return (signer, pem);
            }
        }
    }

    /// Loads the key file; when it is missing and `allow_generate` (a local http site),
    /// generates one with mode 0600. Two processes racing to generate end up with one key.
    pub fn load_or_generate(path: &Path, allow_generate: bool) -> Result<Self, SigningKeyError> {
        let shown = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(pem) => return Self::from_pem(&pem).ok_or(SigningKeyError::Invalid { path: shown }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound && allow_generate => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Err(SigningKeyError::Missing { path: shown })
            }
            Err(source) => {
                return Err(SigningKeyError::Read {
                    path: shown,
                    source,
                })
            }
        }
        let (signer, pem) = Self::generate();
        let write_error = |source| SigningKeyError::Write {
            path: shown.clone(),
            source,
        };
        match crate::config::secrets::write_new_private_file(path, &pem) {
            Ok(()) => {
                tracing::info!(path = %shown, kid = %signer.kid, "generated a signing key for passkey data");
                Ok(signer)
            }
            // Someone else wrote it first: use theirs.
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                let pem =
                    std::fs::read_to_string(path).map_err(|source| SigningKeyError::Read {
                        path: shown.clone(),
                        source,
                    })?;
                Self::from_pem(&pem).ok_or(SigningKeyError::Invalid { path: shown })
            }
            Err(err) => Err(write_error(err)),
        }
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The public key as a JWK set (`/.well-known/jwks.json`).
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: vec![self.jwk.clone()],
        }
    }

    pub fn sign(&self, claims: &SignedPasskeyClaims) -> Result<String, ConnectError> {
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.kid.clone());
        header.typ = Some("JWT".to_string());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .map_err(|err| ConnectError::internal("signing passkey data", err))
    }

    /// Checks header, signature and issuer. Times are checked by the caller with the
    /// service clock.
    fn decode(&self, token: &str, issuer: &str) -> Option<SignedPasskeyClaims> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != self.algorithm || header.kid.as_deref() != Some(self.kid.as_str()) {
            return None;
        }
        let mut validation = Validation::new(self.algorithm);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.required_spec_claims.clear();
        validation.set_issuer(&[issuer]);
        jsonwebtoken::decode::<SignedPasskeyClaims>(token, &self.decoding, &validation)
            .ok()
            .map(|data| data.claims)
    }
}

/// What a login needs signed.
pub struct LoginProof<'a> {
    pub process_id_hash: &'a str,
    pub user_id: &'a str,
    pub identifier: &'a str,
    pub credential_id: &'a str,
    pub challenge_id: &'a str,
    pub is_cui: bool,
    /// From the browser's `authenticatorAttachment`; `None` when it reported none.
    pub cross_device: Option<bool>,
}

impl ConnectService {
    /// Issues signed passkey data for a finished login and records its `jti` as unspent.
    pub async fn issue_signed_data(&self, proof: LoginProof<'_>) -> Result<String, ConnectError> {
        let now = self.now();
        let claims = SignedPasskeyClaims {
            iss: self.config().project_id.clone(),
            sub: proof.user_id.to_string(),
            exp: now + SIGNED_DATA_LIFETIME_SECS,
            nbf: now,
            iat: now,
            jti: crate::random::token(24),
            // The process id is a bearer secret of the browser; the claim carries its hash.
            process_id: proof.process_id_hash.to_string(),
            username: proof.identifier.to_string(),
            credential: proof.credential_id.to_string(),
            challenge_id: proof.challenge_id.to_string(),
            webauthn_id: proof.identifier.to_string(),
            is_cui: proof.is_cui,
            cross_device: proof.cross_device,
        };
        let token = self.signer().sign(&claims)?;
        sqlx::query(
            "INSERT INTO connect_signed_data (jti, user_id, identifier, credential_id, expires_at,
                 token_hash)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&claims.jti)
        .bind(proof.user_id)
        .bind(proof.identifier)
        .bind(proof.credential_id)
        .bind(claims.exp)
        .bind(hash(&token))
        .execute(self.store().pool())
        .await?;
        Ok(token)
    }

    /// `POST /v2/passkey/verifySignedData`: `success` once for a genuine, fresh, unspent token
    /// issued to `username`. Every refusal is a `token.refused` event.
    pub async fn verify_signed_data(
        &self,
        req: &VerifySignedDataReq,
    ) -> Result<VerificationResult, ConnectError> {
        let (result, reason) = self.check_signed_data(req).await?;
        if let Some(reason) = reason {
            let event = Event::new(EventType::TokenRefused)
                .with_reason(reason)
                .with_account(&req.username)
                .with_detail("signed passkey data");
            self.record(event).await;
        }
        Ok(result)
    }

    async fn check_signed_data(
        &self,
        req: &VerifySignedDataReq,
    ) -> Result<(VerificationResult, Option<Reason>), ConnectError> {
        let refused = |result, reason| Ok((result, Some(reason)));
        let token = req.signed_passkey_data.as_str();
        // Claims as presented; nothing is believed until the token's row is spent below.
        let presented = (token.len() <= MAX_TOKEN_LEN)
            .then(|| jsonwebtoken::dangerous::insecure_decode::<SignedPasskeyClaims>(token).ok())
            .flatten()
            .map(|data| data.claims);
        let Some(presented) = presented else {
            tracing::info!("signed passkey data refused: not a token of ours");
            return refused(VerificationResult::InvalidSignature, Reason::BadSignature);
        };
        let now = self.now();
        let fresh = presented.exp > now && presented.nbf <= now + NBF_LEEWAY_SECS;
        let mut spent = None;
        if fresh {
            spent = self.spend_signed_data(&presented.jti, &hash(token)).await?;
        }
        if spent.is_none() {
            // Not the token issued with this jti (or no longer spendable): the signature
            // tells a forgery from a token expired, spent or unknown, and admits a row an
            // older instance wrote without a hash.
            if self
                .signer()
                .decode(token, &self.config().project_id)
                .is_none()
            {
                tracing::info!("signed passkey data refused: bad signature or header");
                return refused(VerificationResult::InvalidSignature, Reason::BadSignature);
            }
            if !fresh {
                tracing::info!("signed passkey data refused: expired or not yet valid");
                return refused(VerificationResult::InvalidChallenge, Reason::Expired);
            }
            spent = self.spend_signed_data(&presented.jti, "").await?;
        }
        let Some(identifier) = spent else {
            tracing::info!("signed passkey data refused: already verified or unknown");
            return refused(VerificationResult::InvalidChallenge, Reason::Replay);
        };
        if identifier != req.username || presented.webauthn_id != identifier {
            tracing::warn!("signed passkey data refused: user mismatch");
            return refused(VerificationResult::UserMismatch, Reason::UserMismatch);
        }
        Ok((VerificationResult::Success, None))
    }

    /// Spends the row of `jti` kept with `token_hash` (empty: a row an older instance wrote);
    /// returns the identifier it was issued to.
    async fn spend_signed_data(
        &self,
        jti: &str,
        token_hash: &str,
    ) -> Result<Option<String>, ConnectError> {
        let spent = sqlx::query(
            "DELETE FROM connect_signed_data WHERE jti = $1 AND token_hash = $2
             RETURNING identifier",
        )
        .bind(jti)
        .bind(token_hash)
        .fetch_optional(self.store().pool())
        .await?;
        Ok(spent.map(|row| row.try_get("identifier")).transpose()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(iss: &str) -> SignedPasskeyClaims {
        SignedPasskeyClaims {
            iss: iss.into(),
            sub: "usr-1".into(),
            exp: 2_000_000_000,
            nbf: 1_000,
            iat: 1_000,
            jti: "j".into(),
            process_id: "p".into(),
            username: "acc".into(),
            credential: "cre-1".into(),
            challenge_id: "was-1".into(),
            webauthn_id: "acc".into(),
            is_cui: false,
            cross_device: None,
        }
    }

    #[test]
    fn generated_keys_sign_and_verify_es256() {
        let (signer, pem) = Signer::generate();
        assert_eq!(signer.algorithm(), Algorithm::ES256);
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let token = signer.sign(&claims("pro-1")).unwrap();
        assert_eq!(signer.decode(&token, "pro-1"), Some(claims("pro-1")));
        // Wrong issuer, another key, a flipped signature byte: all refused.
        assert_eq!(signer.decode(&token, "pro-2"), None);
        let (other, _) = Signer::generate();
        assert_eq!(other.decode(&token, "pro-1"), None);
        let mut tampered = token.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            signer.decode(&String::from_utf8(tampered).unwrap(), "pro-1"),
            None
        );
    }

    #[test]
    fn an_ed25519_key_signs_eddsa() {
        // The example key of RFC 8410, section 10.3.
        let pem = "-----BEGIN PRIVATE KEY-----\n\
                   MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n\
                   -----END PRIVATE KEY-----\n";
        let signer = Signer::from_pem(pem).unwrap();
        assert_eq!(signer.algorithm(), Algorithm::EdDSA);
        let token = signer.sign(&claims("pro-1")).unwrap();
        assert_eq!(signer.decode(&token, "pro-1"), Some(claims("pro-1")));
        assert_eq!(
            serde_json::to_value(signer.jwks()).unwrap()["keys"][0]["crv"],
            "Ed25519"
        );
    }

    #[test]
    fn the_jwks_holds_the_public_key_only() {
        let (signer, _) = Signer::generate();
        let jwks = serde_json::to_value(signer.jwks()).unwrap();
        let key = &jwks["keys"][0];
        assert_eq!(key["kty"], "EC");
        assert_eq!(key["crv"], "P-256");
        assert_eq!(key["kid"], signer.kid());
        assert_eq!(key["alg"], "ES256");
        assert!(key.get("d").is_none(), "private part leaked: {key}");
        // The published key verifies our tokens.
        let token = signer.sign(&claims("pro-1")).unwrap();
        let decoding = DecodingKey::from_jwk(&signer.jwks().keys[0]).unwrap();
        let mut validation = Validation::new(Algorithm::ES256);
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        assert!(
            jsonwebtoken::decode::<SignedPasskeyClaims>(&token, &decoding, &validation).is_ok()
        );
    }

    #[test]
    fn a_missing_key_file_is_generated_private_once() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets").join("signing-key.pem");
        let first = Signer::load_or_generate(&path, true).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = Signer::load_or_generate(&path, true).unwrap();
        assert_eq!(first.kid(), again.kid());
        // Production (https) never generates one.
        let other = dir.path().join("other.pem");
        assert!(matches!(
            Signer::load_or_generate(&other, false),
            Err(SigningKeyError::Missing { .. })
        ));
        std::fs::write(&other, "not a key").unwrap();
        assert!(matches!(
            Signer::load_or_generate(&other, true),
            Err(SigningKeyError::Invalid { .. })
        ));
    }

    #[test]
    fn debug_output_hides_the_key() {
        let (signer, pem) = Signer::generate();
        let shown = format!("{signer:?}");
        assert!(!shown.contains(&pem[30..60]), "{shown}");
        assert!(shown.contains(signer.kid()));
    }
}
