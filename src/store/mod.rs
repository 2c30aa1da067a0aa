//! The store boundary: durable batched ingest of envelopes with their entity writes,
//! the stats queries, the delivery log and API keys. SQLite is the embedded default;
//! every backend must pass the shared conformance suite in `tests/store_conformance.rs`.

pub mod elasticsearch;
pub mod snapshot;
pub mod sqlite;

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use serde::Serialize;

use crate::model::{EntityWrite, Envelope, WriteOutcome};
use crate::stats::{
    DayCount, DeliveryQuery, DeliveryRecord, EventsQuery, Interval, OrgListItem, OrgSummary,
    PrFilter, PrStats, RepoItem, SeriesPoint, StoredEvent, TeamMember, TeamStats, TimeRange,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite error")]
    Sqlite(#[from] rusqlite::Error),
    #[error("no database connection available")]
    Pool(#[from] r2d2::Error),
    #[error("store i/o error at {path}")]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the store task failed")]
    Task(#[from] tokio::task::JoinError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("cannot configure the Elasticsearch client")]
    EsClient(#[source] elasticsearch::client::ClientError),
    #[error("elasticsearch request failed")]
    Elasticsearch(#[from] elasticsearch::cluster::EsError),
    #[error("the store was written by a newer Reckon (schema version {found}, this build knows {known})")]
    SchemaTooNew { found: i64, known: i64 },
    /// One delivery of the batch is bigger than the store accepts in one request. Nothing
    /// of the batch is acknowledged; the others can be committed again without it.
    #[error("delivery {position} of the batch ({bytes} bytes as stored) is larger than the store accepts in one request")]
    TooLarge { position: usize, bytes: usize },
}

/// One stored event as a rebuild reads it: enough to project it again.
#[derive(Debug, Clone)]
pub struct RawEvent {
    pub seq: i64,
    pub source: String,
    pub kind: String,
    pub received_at: i64,
    pub payload: Vec<u8>,
    pub content_type: crate::model::ContentType,
}

/// Derives an event's entity writes again, as intake did when it arrived.
pub type Projector = Arc<dyn Fn(&RawEvent) -> Vec<EntityWrite> + Send + Sync>;

/// Told `(events done, events in all)` as a rebuild goes.
pub type Progress = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// What a rebuild did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RebuildReport {
    /// Events replayed into the new projections.
    pub events: u64,
    /// Entity writes those events produced.
    pub writes: u64,
    /// Events that arrived during the rebuild and were applied when it swapped in.
    pub caught_up: u64,
}

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

/// The concrete backend behind a `Store`, for the read models that sources keep on
/// each backend themselves (see `sources::server_events::store`).
pub enum Backend<'a> {
    Sqlite(&'a sqlite::SqliteStore),
    Elasticsearch(&'a elasticsearch::ElasticsearchStore),
    /// A test double or wrapper with no read models of its own.
    Other,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The backend, for source read models. Wrappers and doubles answer `Other`.
    fn backend(&self) -> Backend<'_> {
        Backend::Other
    }

    /// Stores a batch durably, in one commit. An envelope whose (source, dedup key) is
    /// already stored is recorded as a duplicate delivery and its writes are skipped.
    /// Returns one outcome per envelope, in order. On error nothing is acknowledged.
    async fn write_batch(&self, batch: Vec<Envelope>) -> Result<Vec<WriteOutcome>, StoreError>;

    /// Orgs the store knows of, by key.
    async fn orgs(&self) -> Result<Vec<OrgListItem>, StoreError>;
    /// Whether the store holds anything for this org key (cheap).
    async fn org_known(&self, org: &str) -> Result<bool, StoreError>;
    /// Counts for one org, or `None` if the org is unknown.
    async fn org_summary(&self, org: &str) -> Result<Option<OrgSummary>, StoreError>;
    /// PRs opened, merged and closed per bucket; buckets without PRs are left out.
    async fn pr_series(
        &self,
        filter: &PrFilter,
        interval: Interval,
    ) -> Result<Vec<SeriesPoint>, StoreError>;
    /// Totals, median time to merge and the `top` busiest repos and authors for a filter.
    async fn pr_stats(&self, filter: &PrFilter, top: usize) -> Result<PrStats, StoreError>;
    /// The org's repos that are not deleted, by name.
    async fn repos(&self, org: &str) -> Result<Vec<RepoItem>, StoreError>;
    /// Per-team members, PRs opened and merged in the range, and median time to merge.
    async fn team_stats(&self, org: &str, range: TimeRange) -> Result<Vec<TeamStats>, StoreError>;
    /// Current members of a team, or `None` if the team is unknown.
    async fn team_members(
        &self,
        org: &str,
        team: &str,
    ) -> Result<Option<Vec<TeamMember>>, StoreError>;

    async fn events(&self, query: &EventsQuery) -> Result<Vec<StoredEvent>, StoreError>;
    async fn event_days(
        &self,
        source: Option<&str>,
        range: TimeRange,
    ) -> Result<Vec<DayCount>, StoreError>;
    async fn deliveries(&self, query: &DeliveryQuery) -> Result<Vec<DeliveryRecord>, StoreError>;

    async fn create_api_key(&self, key: ApiKeyRecord) -> Result<(), StoreError>;
    async fn api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError>;
    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError>;
    /// Marks a key revoked; `false` if no such live key.
    async fn revoke_api_key(&self, id: &str) -> Result<bool, StoreError>;

    /// Rebuilds every projection (orgs, repos, teams, members, PRs) from the stored raw
    /// events in arrival order, while the store keeps serving: the new projections are
    /// built aside and swapped in together with the events that arrived meanwhile.
    async fn rebuild_projections(
        &self,
        projector: Projector,
        progress: Progress,
    ) -> Result<RebuildReport, StoreError>;

    /// Everything the reconciler compares with GitHub for one org (empty if unknown).
    async fn org_snapshot(&self, org: &str) -> Result<snapshot::OrgSnapshot, StoreError>;
    /// Which of these dedup keys of `source` are stored: a delivery GitHub reports
    /// as sent but that is missing here was lost on the way.
    async fn stored_dedup_keys(
        &self,
        source: &str,
        keys: &[String],
    ) -> Result<HashSet<String>, StoreError>;
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

    /// Cheap liveness check for `/readyz`.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Bytes the store occupies, for the `reckon_store_size_bytes` metric.
    async fn size_bytes(&self) -> Result<u64, StoreError>;
}
