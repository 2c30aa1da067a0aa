//! The scale-out store on Elasticsearch or OpenSearch, through the official client and
//! only APIs both share: composable index templates, aliases, `_bulk`, `_mget` and
//! search aggregations. Answers the same questions as the SQLite store, the same way.

mod cascade;
pub mod client;
pub mod cluster;
mod config;
mod entities;
pub mod layout;
pub mod read;
mod rebuild;
mod reconcile;
mod slots;
pub mod write;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;
use elasticsearch::http::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;

use self::cluster::{Action, BulkOp, Cluster, EsError, ItemResult};
pub use self::config::{ElasticsearchConfig, Refresh, DEFAULT_FOLLOW_SETTLE_MS};
pub(crate) use self::entities::OrgDoc;
use self::layout::{Names, SetupReport, ENTITIES};
pub use self::slots::slot_of;
use super::{
    ApiKeyRecord, Coordination, Journal, KeyStore, Progress, Projector, RebuildReport, Store,
    StoreError,
};
use crate::model::{Envelope, WriteOutcome};
use crate::stats::{
    rfc3339, DayCount, DeliveryQuery, DeliveryRecord, EventsQuery, StoredEvent, TimeRange,
};

/// The index refresh interval Reckon's indices keep (the cluster default): how long a
/// write sent without `wait_for` may take to become searchable.
const REFRESH_INTERVAL_MS: i64 = 1_000;

pub struct ElasticsearchStore {
    cluster: Cluster,
    names: Names,
    /// `refresh` for entity writes: `false` (visible within the refresh interval) or
    /// `wait_for` (visible before the delivery is acknowledged).
    refresh: &'static str,
    /// Identifies this process in dedup claims, so it can retake its own stale ones.
    owner: String,
    /// The last sequence number this process handed out.
    last_seq: AtomicI64,
    /// The writer slot this process numbers events in (see `slots`).
    slots: slots::Slots,
    /// Journal indices known to exist, so each month's index is created once.
    known: Mutex<HashSet<String>>,
    /// The settings `setup` checks against what the cluster is.
    config: ElasticsearchConfig,
}

impl ElasticsearchStore {
    /// The cluster client: how source read models query this store.
    pub(crate) fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// Index, alias and template names under the configured prefix.
    pub(crate) fn names(&self) -> &Names {
        &self.names
    }

    /// Connects, runs `setup` (so a first start needs no separate step) and claims a
    /// writer slot. With every slot taken the store still opens, for reading; its writes
    /// fail with `TooManyWriters` until a slot comes free.
    pub async fn open(
        config: &ElasticsearchConfig,
    ) -> Result<(ElasticsearchStore, SetupReport), StoreError> {
        let store = ElasticsearchStore::connect(config)?;
        let report = store.setup().await?;
        match store.writer_slot().await {
            Ok(_) => {}
            Err(StoreError::TooManyWriters { slots }) => {
                tracing::warn!(slots, "opened the elasticsearch store without a writer slot; writes fail until one comes free");
            }
            Err(error) => return Err(error),
        }
        Ok((store, report))
    }

    /// A store for `config` without touching the cluster.
    pub fn connect(config: &ElasticsearchConfig) -> Result<ElasticsearchStore, StoreError> {
        let client = client::build(config).map_err(StoreError::from)?;
        Ok(ElasticsearchStore {
            cluster: Cluster::new(client, config.max_retries)
                .with_max_bulk_bytes(config.max_bulk_bytes),
            names: Names {
                prefix: config.index_prefix.clone(),
            },
            refresh: match config.refresh {
                Refresh::False => "false",
                Refresh::WaitFor => "wait_for",
            },
            owner: format!("{:016x}", rand::random::<u64>()),
            last_seq: AtomicI64::new(0),
            slots: slots::Slots::default(),
            known: Mutex::new(HashSet::new()),
            config: config.clone(),
        })
    }

    /// Checks the cluster takes our settings, then creates or migrates templates,
    /// indices and aliases; safe to repeat.
    pub async fn setup(&self) -> Result<SetupReport, StoreError> {
        let root = match self.cluster.json(Method::Get, "/", &[], None).await {
            Err(e @ EsError::Status { status: 401, .. }) if self.config.api_key.is_some() => {
                return Err(StoreError::from(client::ClientError::ApiKeyRefused(e)))
            }
            root => root?,
        };
        client::check_cluster(&self.config, &root).map_err(StoreError::from)?;
        let report = layout::setup(
            &self.cluster,
            &self.names,
            chrono::Utc::now().timestamp_millis(),
        )
        .await?;
        for index in &report.indices_created {
            tracing::info!(%index, "created elasticsearch index");
        }
        for alias in &report.outdated {
            tracing::warn!(%alias, "alias points at an older index layout; run `reckon reindex`");
        }
        Ok(report)
    }

    /// A sequence number for cursors: milliseconds × 2048, plus this process's writer
    /// slot × 64, plus a counter (see `slots`). It grows with time, stays unique across
    /// every process holding a slot, and fits a JavaScript number.
    fn next_seq(&self, received_at: i64, slot: i64) -> i64 {
        let prev = self
            .last_seq
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
                Some(slots::seq_after(last, received_at, slot))
            })
            .expect("the closure always returns Some");
        slots::seq_after(prev, received_at, slot)
    }

    /// The settled read horizon: cursor reads see only sequence numbers below it, so a
    /// batch numbered earlier but still in flight (on this or another replica) cannot be
    /// passed by a follower. `None` when `follow_settle_ms` is 0 (a single writer).
    pub(crate) fn follow_horizon(&self) -> Option<i64> {
        let settle = i64::try_from(self.config.follow_settle_ms).unwrap_or(i64::MAX);
        (settle > 0)
            .then(|| (chrono::Utc::now().timestamp_millis() - settle).saturating_mul(slots::PER_MS))
    }

    /// Warns when a journal bulk became searchable later than followers wait for
    /// (`follow_settle_ms`), counted from the millisecond in its oldest seq: a follower
    /// may already have passed some of its events.
    fn check_settled(&self, seqs: impl Iterator<Item = i64>, slot: i64) {
        let settle = i64::try_from(self.config.follow_settle_ms).unwrap_or(i64::MAX);
        let Some(oldest) = seqs.min() else { return };
        // Without `wait_for`, the events become searchable at the next refresh.
        let refresh_ms = if self.refresh == "false" {
            REFRESH_INTERVAL_MS
        } else {
            0
        };
        let now = chrono::Utc::now().timestamp_millis();
        let lag_ms = now + refresh_ms - oldest.div_euclid(slots::PER_MS);
        if settle > 0 && lag_ms > settle {
            tracing::warn!(
                lag_ms,
                settle_ms = settle,
                seq = oldest,
                slot,
                "journal batch searchable after the follow settle window; followers may have passed its events"
            );
        }
    }

    fn entity_aliases(&self) -> HashMap<&'static str, String> {
        ENTITIES.iter().map(|e| (*e, self.names.alias(e))).collect()
    }

    async fn ensure_indices(&self, indices: &[String]) -> Result<(), StoreError> {
        let missing: Vec<String> = {
            let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
            indices
                .iter()
                .filter(|i| !known.contains(*i))
                .cloned()
                .collect()
        };
        for index in missing {
            layout::create_index(&self.cluster, &index, None).await?;
            self.known
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(index);
        }
        Ok(())
    }
}

#[derive(Serialize, Deserialize)]
struct ApiKeyDoc {
    id: String,
    source: String,
    name: Option<String>,
    hash: String,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl ApiKeyDoc {
    fn record(self) -> Result<ApiKeyRecord, StoreError> {
        Ok(ApiKeyRecord {
            hash: hex::decode(&self.hash)
                .map_err(|e| StoreError::Corrupt(format!("api key {}: {e}", self.id)))?,
            id: self.id,
            source: self.source,
            name: self.name,
            created_at: rfc3339(self.created_at),
            revoked_at: self.revoked_at.map(rfc3339),
        })
    }
}

#[async_trait]
impl Journal for ElasticsearchStore {
    /// A delivery the cluster refuses as too large even on its own is answered
    /// `TooLarge`, and the rest of the batch is committed without it (nothing of the
    /// batch was written when the refusal came).
    async fn write_batch(&self, mut batch: Vec<Envelope>) -> Result<Vec<WriteOutcome>, StoreError> {
        let mut positions: Vec<usize> = (0..batch.len()).collect();
        let mut refused = Vec::new();
        let outcomes = loop {
            match self.write(&batch).await {
                Ok(outcomes) => break outcomes,
                Err(StoreError::TooLarge { position, bytes }) if position < batch.len() => {
                    tracing::warn!(bytes, source = %batch[position].source, delivery = %batch[position].delivery_id, "delivery refused as too large for the cluster");
                    batch.remove(position);
                    refused.push((positions.remove(position), bytes));
                }
                Err(e) => return Err(e),
            }
        };
        let mut all = vec![WriteOutcome::Accepted; positions.len() + refused.len()];
        for (position, outcome) in positions.into_iter().zip(outcomes) {
            all[position] = outcome;
        }
        for (position, bytes) in refused {
            all[position] = WriteOutcome::TooLarge { bytes };
        }
        Ok(all)
    }

    async fn events(&self, query: &EventsQuery) -> Result<Vec<StoredEvent>, StoreError> {
        self.read_events(query).await
    }

    async fn event_days(
        &self,
        source: Option<&str>,
        range: TimeRange,
    ) -> Result<Vec<DayCount>, StoreError> {
        self.read_event_days(source, range).await
    }

    async fn deliveries(&self, query: &DeliveryQuery) -> Result<Vec<DeliveryRecord>, StoreError> {
        self.read_deliveries(query).await
    }

    async fn rebuild_projections(
        &self,
        projector: Projector,
        progress: Progress,
    ) -> Result<RebuildReport, StoreError> {
        self.rebuild(projector, progress).await
    }

    async fn stored_dedup_keys(
        &self,
        source: &str,
        keys: &[String],
    ) -> Result<HashSet<String>, StoreError> {
        self.read_stored_dedup_keys(source, keys).await
    }
}

#[async_trait]
impl KeyStore for ElasticsearchStore {
    async fn create_api_key(&self, key: ApiKeyRecord) -> Result<(), StoreError> {
        let doc = ApiKeyDoc {
            id: key.id.clone(),
            source: key.source,
            name: key.name,
            hash: hex::encode(&key.hash),
            created_at: chrono::Utc::now().timestamp_millis(),
            revoked_at: None,
        };
        let op = BulkOp::new(
            Action::Create,
            &self.names.alias("api-keys"),
            key.id.clone(),
            Some(serde_json::to_vec(&doc).expect("api keys serialize")),
        );
        match self.cluster.bulk(&[op], "wait_for").await?.remove(0) {
            // Only deletes answer `Missing`.
            ItemResult::Done { .. } | ItemResult::Missing => Ok(()),
            ItemResult::Conflict => Err(StoreError::Corrupt(format!(
                "api key id {} already exists",
                key.id
            ))),
            ItemResult::Failed {
                status,
                kind,
                reason,
            } => Err(EsError::Status {
                method: "POST",
                path: "/_bulk (api key)".into(),
                status,
                kind,
                reason,
            }
            .into()),
        }
    }

    async fn api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let body = json!({"size": 10_000, "query": {"match_all": {}}, "sort": [{"created_at": "asc"}, {"id": "asc"}]});
        let reply = self
            .cluster
            .search(&self.names.alias("api-keys"), &body)
            .await?;
        reply
            .hits
            .hits
            .iter()
            .map(|h| {
                serde_json::from_str::<ApiKeyDoc>(h.source.get())
                    .map_err(|e| StoreError::Corrupt(format!("api key {}: {e}", h.id)))?
                    .record()
            })
            .collect()
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let doc = self
            .cluster
            .mget(&[(self.names.alias("api-keys"), id.to_owned())])
            .await?
            .pop()
            .flatten();
        match doc.and_then(|d| d.source) {
            Some(source) => serde_json::from_value::<ApiKeyDoc>(source)
                .map_err(|e| StoreError::Corrupt(format!("api key {id}: {e}")))?
                .record()
                .map(Some),
            None => Ok(None),
        }
    }

    async fn revoke_api_key(&self, id: &str) -> Result<bool, StoreError> {
        let index = self.names.alias("api-keys");
        loop {
            let Some(doc) = self
                .cluster
                .mget(&[(index.clone(), id.to_owned())])
                .await?
                .pop()
                .flatten()
            else {
                return Ok(false);
            };
            let mut key: ApiKeyDoc = serde_json::from_value(doc.source.unwrap_or_default())
                .map_err(|e| StoreError::Corrupt(format!("api key {id}: {e}")))?;
            if key.revoked_at.is_some() {
                return Ok(false);
            }
            key.revoked_at = Some(chrono::Utc::now().timestamp_millis());
            let mut op = BulkOp::new(
                Action::Index,
                &index,
                id.to_owned(),
                Some(serde_json::to_vec(&key).expect("api keys serialize")),
            );
            op.if_seq_no = doc.seq_no;
            op.if_primary_term = doc.primary_term;
            match self.cluster.bulk(&[op], "wait_for").await?.remove(0) {
                ItemResult::Done { .. } | ItemResult::Missing => return Ok(true),
                // Changed since it was read: read it again.
                ItemResult::Conflict => continue,
                ItemResult::Failed {
                    status,
                    kind,
                    reason,
                } => {
                    return Err(EsError::Status {
                        method: "POST",
                        path: "/_bulk (api key)".into(),
                        status,
                        kind,
                        reason,
                    }
                    .into())
                }
            }
        }
    }
}

#[async_trait]
impl Coordination for ElasticsearchStore {
    async fn state(&self, key: &str) -> Result<Option<serde_json::Value>, StoreError> {
        self.read_state(key).await
    }

    async fn put_state(&self, key: &str, value: serde_json::Value) -> Result<(), StoreError> {
        self.write_state(key, value).await
    }

    async fn states(
        &self,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<(String, serde_json::Value)>, StoreError> {
        self.read_states(prefix, limit).await
    }

    async fn delete_state(&self, key: &str) -> Result<bool, StoreError> {
        self.remove_state(key).await
    }

    async fn try_lock(&self, name: &str, holder: &str, ttl_ms: i64) -> Result<bool, StoreError> {
        self.take_lock(name, holder, ttl_ms).await
    }
}

#[async_trait]
impl Store for ElasticsearchStore {
    fn backend(&self) -> super::Backend<'_> {
        super::Backend::Elasticsearch(self)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.cluster.json(Method::Get, "/", &[], None).await?;
        Ok(())
    }

    async fn size_bytes(&self) -> Result<u64, StoreError> {
        let reply = self
            .cluster
            .json(
                Method::Get,
                &format!("/{}/_stats/store", self.names.all()),
                &[],
                None,
            )
            .await?;
        Ok(reply["_all"]["total"]["store"]["size_in_bytes"]
            .as_u64()
            .unwrap_or(0))
    }
}
