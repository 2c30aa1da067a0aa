//! Standard Webhooks (standardwebhooks.com): `v1,<base64 HMAC-SHA256>` over
//! `{webhook-id}.{webhook-timestamp}.{body}`, several signatures per header, secrets
//! written `whsec_<base64>`, and a timestamp tolerance against replay.

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use super::{AuthError, Request, Verified, Verifier, VerifyError};

/// Longest `webhook-id` accepted, in bytes. The spec (and the official libraries) take
/// any string as the id; this bound only keeps the dedup key stored with each event sane.
pub const MAX_ID_BYTES: usize = 1024;

/// Whether a `webhook-id` may be stored as a dedup key: any non-empty string up to
/// [`MAX_ID_BYTES`], slashes, spaces and all, as the official libraries accept.
pub fn id_is_acceptable(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_BYTES
}

/// The Standard Webhooks scheme of one source: its decoded keys and tolerance.
pub struct StandardWebhooks {
    keys: Vec<Vec<u8>>,
    tolerance: u64,
}

impl StandardWebhooks {
    /// Secrets that do not decode are skipped here; config validation refuses them at
    /// start, naming the key.
    pub fn new<'s>(
        secrets: impl IntoIterator<Item = &'s SecretString>,
        tolerance_seconds: u64,
    ) -> Self {
        StandardWebhooks {
            keys: secrets
                .into_iter()
                .filter_map(|s| decode_secret(s).ok())
                .collect(),
            tolerance: tolerance_seconds,
        }
    }
}

#[async_trait]
impl Verifier for StandardWebhooks {
    fn scheme(&self) -> &'static str {
        "standard-webhooks"
    }

    async fn verify(&self, request: &Request<'_>) -> Result<Verified, VerifyError> {
        let signature = super::header(request.headers, "webhook-signature")?
            .filter(|s| !s.is_empty())
            .ok_or(AuthError::SignatureMissing)?;
        let id = super::required_header(request.headers, "webhook-id")?;
        let timestamp = super::required_header(request.headers, "webhook-timestamp")?;
        let headers = Headers {
            id,
            timestamp,
            signature,
        };
        let now = request.received_at / 1000;
        verify(&self.keys, headers, request.body, now, self.tolerance)?;
        Ok(Verified::Signed)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("not a Standard Webhooks secret: expected `whsec_` followed by base64")]
pub struct BadSecret;

/// Decodes `whsec_<base64>` (or bare base64) into the HMAC key bytes.
pub fn decode_secret(secret: &SecretString) -> Result<Vec<u8>, BadSecret> {
    let raw = secret.expose_secret().trim();
    let b64 = raw.strip_prefix("whsec_").unwrap_or(raw);
    match B64.decode(b64) {
        Ok(key) if !key.is_empty() => Ok(key),
        _ => Err(BadSecret),
    }
}

/// The three Standard Webhooks headers of one request.
#[derive(Debug, Clone, Copy)]
pub struct Headers<'a> {
    pub id: &'a str,
    pub timestamp: &'a str,
    pub signature: &'a str,
}

/// Verifies a request against the decoded keys, with `now` and `tolerance` in seconds.
pub fn verify(
    keys: &[Vec<u8>],
    headers: Headers<'_>,
    body: &[u8],
    now: i64,
    tolerance: u64,
) -> Result<(), AuthError> {
    let ts: i64 = headers
        .timestamp
        .trim()
        .parse()
        .map_err(|_| AuthError::TimestampOutOfRange)?;
    if now.abs_diff(ts) > tolerance {
        return Err(AuthError::TimestampOutOfRange);
    }
    let candidates: Vec<Vec<u8>> = headers
        .signature
        .split_whitespace()
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .filter_map(|b64| B64.decode(b64).ok())
        .collect();
    if candidates.is_empty() {
        return Err(AuthError::SignatureMalformed);
    }
    let mut matched = false;
    for key in keys {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(headers.id.as_bytes());
        mac.update(b".");
        mac.update(headers.timestamp.trim().as_bytes());
        mac.update(b".");
        mac.update(body);
        let tag = mac.finalize().into_bytes();
        for candidate in &candidates {
            matched |= bool::from(subtle::ConstantTimeEq::ct_eq(
                tag.as_slice(),
                candidate.as_slice(),
            ));
        }
    }
    if matched {
        Ok(())
    } else {
        Err(AuthError::SignatureMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The test vector published with the Standard Webhooks reference libraries.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: &str = "1614265330";
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn key() -> Vec<Vec<u8>> {
        vec![decode_secret(&SecretString::from(SECRET.to_owned())).unwrap()]
    }

    fn headers(signature: &str) -> Headers<'_> {
        Headers {
            id: ID,
            timestamp: TS,
            signature,
        }
    }

    #[test]
    fn reference_vector_verifies() {
        assert_eq!(verify(&key(), headers(SIG), BODY, 1614265330, 300), Ok(()));
    }

    #[test]
    fn several_signatures_any_may_match() {
        let sig = format!("v1,Zm9vYmFy {SIG} v2,abc");
        assert_eq!(verify(&key(), headers(&sig), BODY, 1614265330, 300), Ok(()));
    }

    /// The spec signs `{id}.{timestamp}.{body}` with the id as sent, whatever it holds.
    #[test]
    fn ids_with_slashes_spaces_and_length_verify() {
        let key = key();
        for id in ["msg_2K/abc def".to_owned(), "x".repeat(200)] {
            let mut mac = Hmac::<Sha256>::new_from_slice(&key[0]).unwrap();
            mac.update(format!("{id}.{TS}.").as_bytes());
            mac.update(BODY);
            let sig = format!("v1,{}", B64.encode(mac.finalize().into_bytes()));
            let headers = Headers {
                id: &id,
                timestamp: TS,
                signature: &sig,
            };
            assert_eq!(verify(&key, headers, BODY, 1614265330, 300), Ok(()));
            assert!(id_is_acceptable(&id));
        }
        assert!(!id_is_acceptable(""));
        assert!(!id_is_acceptable(&"x".repeat(MAX_ID_BYTES + 1)));
    }

    #[test]
    fn rejects_tampering_and_stale_timestamps() {
        assert_eq!(
            verify(&key(), headers(SIG), b"{}", 1614265330, 300),
            Err(AuthError::SignatureMismatch)
        );
        assert_eq!(
            verify(&key(), headers(SIG), BODY, 1614265330 + 301, 300),
            Err(AuthError::TimestampOutOfRange)
        );
        assert_eq!(
            verify(&key(), headers(SIG), BODY, 1614265330 - 301, 300),
            Err(AuthError::TimestampOutOfRange)
        );
        assert_eq!(
            verify(&key(), headers("v2,abc"), BODY, 1614265330, 300),
            Err(AuthError::SignatureMalformed)
        );
    }
}
