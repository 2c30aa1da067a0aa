//! API keys for server sources: `rk_<id>_<secret>`, shown once at creation and stored
//! only as a SHA-256 hash of the secret part (keys are random, so no slow KDF is needed).

use rand::distr::{Alphanumeric, SampleString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

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
