//! API keys: what the key check reads and `reckon keys` writes. Only the hash of a
//! key's secret part is stored. Conformance suite: `tests/it/keys_conformance.rs`.

use async_trait::async_trait;
use serde::Serialize;

use super::StoreError;

/// An API key as stored: never the key itself, only the hash of its secret part.
#[derive(Debug, Clone, Serialize)]
pub struct ApiKeyRecord {
    pub id: String,
    pub source: String,
    pub name: Option<String>,
    #[serde(skip)]
    pub hash: Vec<u8>,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

#[async_trait]
pub trait KeyStore: Send + Sync {
    async fn create_api_key(&self, key: ApiKeyRecord) -> Result<(), StoreError>;
    /// Every key, live or revoked, oldest first.
    async fn api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError>;
    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError>;
    /// Marks a key revoked; `false` if no such live key.
    async fn revoke_api_key(&self, id: &str) -> Result<bool, StoreError>;
}
