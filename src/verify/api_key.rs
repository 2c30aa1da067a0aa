//! API keys for server sources: `rk_<id>_<secret>`, shown once at creation and stored
//! only as a SHA-256 hash of the secret part (keys are random, so no slow KDF is needed).
//! The one place a presented key is checked, for `/hooks/{source}` and `/submit` alike.

use std::sync::Arc;

use async_trait::async_trait;
use rand::distr::{Alphanumeric, SampleString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{AuthError, Request, Verified, Verifier, VerifyError};
use crate::store::{ApiKeyRecord, Store};

const PREFIX: &str = "rk_";
const ID_LEN: usize = 12;
const SECRET_LEN: usize = 40;

/// A freshly generated key: the full token for the user, the parts for the store.
pub struct NewKey {
    pub id: String,
    pub token: String,
    pub hash: Vec<u8>,
}

pub fn generate() -> NewKey {
    let mut rng = rand::rng();
    let id = Alphanumeric
        .sample_string(&mut rng, ID_LEN)
        .to_ascii_lowercase();
    let secret = Alphanumeric.sample_string(&mut rng, SECRET_LEN);
    NewKey {
        hash: hash(&secret),
        token: format!("{PREFIX}{id}_{secret}"),
        id,
    }
}

/// Splits a presented token into its id and secret parts.
pub fn parse(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == ID_LEN && !secret.is_empty()).then_some((id, secret))
}

pub fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Constant-time comparison of a presented secret against a stored hash.
pub fn matches(secret: &str, stored_hash: &[u8]) -> bool {
    hash(secret).ct_eq(stored_hash).into()
}

/// Looks a presented token up and checks it: a live key whose secret matches.
pub async fn authenticate(store: &dyn Store, token: &str) -> Result<ApiKeyRecord, VerifyError> {
    let (id, secret) = parse(token).ok_or(AuthError::KeyInvalid)?;
    let record = store
        .api_key(id)
        .await?
        .filter(|k| k.revoked_at.is_none())
        .ok_or(AuthError::KeyInvalid)?;
    if !matches(secret, &record.hash) {
        return Err(AuthError::KeyInvalid.into());
    }
    Ok(record)
}

/// How the key is carried in `Authorization`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    /// `Bearer <key>` only.
    Bearer,
    /// `Bearer <key>` or the bare key, as DCSS servers send it.
    BearerOrBare,
}

/// The API-key scheme: a live key from the store, optionally of one source only.
pub struct ApiKeyVerifier {
    store: Arc<dyn Store>,
    carrier: Carrier,
    /// When set, keys of other sources are refused with `api_key_wrong_source`.
    source: Option<String>,
}

impl ApiKeyVerifier {
    pub fn new(store: Arc<dyn Store>, carrier: Carrier, source: Option<String>) -> Self {
        ApiKeyVerifier {
            store,
            carrier,
            source,
        }
    }
}

#[async_trait]
impl Verifier for ApiKeyVerifier {
    fn scheme(&self) -> &'static str {
        "api-key"
    }

    async fn verify(&self, request: &Request<'_>) -> Result<Verified, VerifyError> {
        self.key(request).await.map(Verified::Key)
    }
}

impl ApiKeyVerifier {
    /// The live key the request carries, for routes that need the record itself.
    pub async fn key(&self, request: &Request<'_>) -> Result<ApiKeyRecord, VerifyError> {
        let value =
            super::header(request.headers, "authorization")?.ok_or(AuthError::KeyMissing)?;
        let bearer = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "));
        let token = match (bearer, self.carrier) {
            (Some(token), _) => token,
            (None, Carrier::BearerOrBare) => value,
            (None, Carrier::Bearer) => return Err(AuthError::KeyMissing.into()),
        };
        let record = authenticate(self.store.as_ref(), token.trim()).await?;
        match &self.source {
            Some(source) if &record.source != source => Err(AuthError::KeyWrongSource.into()),
            _ => Ok(record),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_round_trip() {
        let key = generate();
        let (id, secret) = parse(&key.token).unwrap();
        assert_eq!(id, key.id);
        assert!(matches(secret, &key.hash));
        assert!(!matches("wrong", &key.hash));
    }

    #[test]
    fn malformed_tokens_do_not_parse() {
        for bad in [
            "",
            "rk_",
            "rk_short_x",
            "xx_abcdefghijkl_secret",
            "rk_abcdefghijkl_",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}
