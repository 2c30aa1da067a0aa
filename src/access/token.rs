//! Read tokens: `rkt_<id>_<secret>`, shown once and stored as a SHA-256 hash of the
//! secret beside their name, scopes and expiry. They live as coordination state
//! documents (`access/token/<id>`), so every backend and every replica sees the same set.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Scope;
use crate::store::{Coordination, StoreError};
use crate::verify::api_key;

const PREFIX: &str = "rkt_";
const ID_LEN: usize = 12;
/// Where tokens live among the state documents.
const STATE_PREFIX: &str = "access/token/";
/// Most tokens `list` reads; far more than anyone issues by hand.
const MAX_TOKENS: usize = 10_000;

/// A token as stored: never the token, only the hash of its secret part.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenRecord {
    pub id: String,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// Hex SHA-256 of the secret part.
    #[serde(with = "hex::serde")]
    pub hash: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Why a presented token reads nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not a token, unknown, wrong secret, or revoked.
    Invalid,
    Expired,
}

impl TokenRecord {
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > now)
    }
}

/// A new token: the text for its holder, and the record to store.
pub struct NewToken {
    pub token: String,
    pub record: TokenRecord,
}

pub fn generate(name: &str, scopes: Vec<Scope>, expires_at: Option<DateTime<Utc>>) -> NewToken {
    let key = api_key::generate();
    let secret = key
        .token
        .rsplit_once('_')
        .map(|(_, secret)| secret.to_owned())
        .unwrap_or_default();
    NewToken {
        token: format!("{PREFIX}{}_{secret}", key.id),
        record: TokenRecord {
            id: key.id,
            name: name.to_owned(),
            scopes,
            hash: key.hash,
            created_at: Utc::now(),
            expires_at,
            revoked_at: None,
        },
    }
}

/// The id part of a presented token, if it has the shape of one (for logs: the id is
/// not secret).
pub fn id_of(token: &str) -> Option<&str> {
    let rest = token.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == ID_LEN && !secret.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then_some(id)
}

fn state_key(id: &str) -> String {
    format!("{STATE_PREFIX}{id}")
}

/// The read tokens in a store's coordination documents.
pub struct Tokens<'s> {
    store: &'s dyn Coordination,
}

impl<'s> Tokens<'s> {
    pub fn new(store: &'s dyn Coordination) -> Self {
        Tokens { store }
    }

    pub async fn create(&self, record: &TokenRecord) -> Result<(), StoreError> {
        let value = serde_json::to_value(record).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.store.put_state(&state_key(&record.id), value).await
    }

    pub async fn get(&self, id: &str) -> Result<Option<TokenRecord>, StoreError> {
        match self.store.state(&state_key(id)).await? {
            None => Ok(None),
            Some(value) => serde_json::from_value(value)
                .map(Some)
                .map_err(|e| StoreError::Corrupt(format!("read token {id}: {e}"))),
        }
    }

    /// Every token, live or not, oldest first.
    pub async fn list(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let mut tokens = self
            .store
            .states(STATE_PREFIX, MAX_TOKENS)
            .await?
            .into_iter()
            .map(|(key, value)| {
                serde_json::from_value::<TokenRecord>(value)
                    .map_err(|e| StoreError::Corrupt(format!("{key}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        tokens.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(tokens)
    }

    /// Whether any token could read something now.
    pub async fn any_live(&self) -> Result<bool, StoreError> {
        let now = Utc::now();
        Ok(self.list().await?.iter().any(|t| t.is_live(now)))
    }

    /// Marks a token revoked; `false` if there is no such unrevoked token.
    pub async fn revoke(&self, id: &str) -> Result<bool, StoreError> {
        match self.get(id).await? {
            Some(mut record) if record.revoked_at.is_none() => {
                record.revoked_at = Some(Utc::now());
                self.create(&record).await?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// The live record a presented token stands for, compared in constant time.
    pub async fn authenticate(&self, token: &str) -> Result<TokenRecord, AuthOutcome> {
        let Some(id) = id_of(token) else {
            return Err(AuthOutcome::Refused(Refusal::Invalid));
        };
        let secret = &token[PREFIX.len() + ID_LEN + 1..];
        let record = self
            .get(id)
            .await
            .map_err(AuthOutcome::Store)?
            .filter(|r| api_key::matches(secret, &r.hash))
            .ok_or(AuthOutcome::Refused(Refusal::Invalid))?;
        if record.revoked_at.is_some() {
            return Err(AuthOutcome::Refused(Refusal::Invalid));
        }
        if !record.is_live(Utc::now()) {
            return Err(AuthOutcome::Refused(Refusal::Expired));
        }
        Ok(record)
    }
}

/// A token that authenticates nothing: refused, or the store could not say.
#[derive(Debug)]
pub enum AuthOutcome {
    Refused(Refusal),
    Store(StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_carry_their_id_and_match_their_hash() {
        let new = generate("ci", vec![Scope::Admin], None);
        assert!(new.token.starts_with("rkt_"));
        assert_eq!(id_of(&new.token), Some(new.record.id.as_str()));
        let secret = new.token.rsplit_once('_').unwrap().1;
        assert!(api_key::matches(secret, &new.record.hash));
        assert!(!new.token.contains(&hex::encode(&new.record.hash)));
        for bad in [
            "",
            "rkt_",
            "rkt_short_x",
            "rk_abcdefghijkl_x",
            "rkt_abcdefghijkl_",
        ] {
            assert_eq!(id_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_token_is_live_until_revoked_or_expired() {
        let now = Utc::now();
        let mut record = generate("x", vec![], None).record;
        assert!(record.is_live(now));
        record.expires_at = Some(now - chrono::Duration::seconds(1));
        assert!(!record.is_live(now));
        record.expires_at = Some(now + chrono::Duration::hours(1));
        assert!(record.is_live(now));
        record.revoked_at = Some(now);
        assert!(!record.is_live(now));
    }
}
