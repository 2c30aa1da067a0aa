//! Coordination between processes sharing one store: small state documents (reconcile
//! reports, scan cursors, the SQS ledger) and named locks with a lease. Conformance
//! suite: `tests/it/coordination_conformance.rs`.

use async_trait::async_trait;

use super::StoreError;

#[async_trait]
pub trait Coordination: Send + Sync {
    /// A small JSON document kept by key: reconcile reports, scan cursors.
    async fn state(&self, key: &str) -> Result<Option<serde_json::Value>, StoreError>;
    /// Replaces the document under `key`.
    async fn put_state(&self, key: &str, value: serde_json::Value) -> Result<(), StoreError>;
    /// State documents whose key starts with `prefix`, in key order, at most `limit`.
    /// Sees every `put_state` and `delete_state` that returned before it was called.
    /// Keys under `lock/` are the locks' own (see `try_lock`) and never listed.
    async fn states(
        &self,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<(String, serde_json::Value)>, StoreError>;
    /// Deletes the state document under `key`; `false` if there was none.
    async fn delete_state(&self, key: &str) -> Result<bool, StoreError>;
    /// Takes or renews the named lock for `holder` until `ttl_ms` from now; `false`
    /// while another holder's lock is unexpired. Every process on the same store sees
    /// the same lock, which is how one scheduler runs per deployment.
    async fn try_lock(&self, name: &str, holder: &str, ttl_ms: i64) -> Result<bool, StoreError>;
}
