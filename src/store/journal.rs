//! The journal: every delivery as received, deduplicated on (source, dedup key), with
//! the delivery log beside it; the entity writes and read-model rows of new events are
//! committed with it. Conformance suite: `tests/it/journal_conformance.rs`.

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use serde::Serialize;

use super::StoreError;
use crate::model::{EntityWrite, Envelope, WriteOutcome};
use crate::stats::{DayCount, DeliveryQuery, DeliveryRecord, EventsQuery, StoredEvent, TimeRange};

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

#[async_trait]
pub trait Journal: Send + Sync {
    /// Stores a batch durably, in one commit. An envelope whose (source, dedup key) is
    /// already stored is recorded as a duplicate delivery and its writes are skipped.
    /// Returns one outcome per envelope, in order. On error nothing is acknowledged.
    async fn write_batch(&self, batch: Vec<Envelope>) -> Result<Vec<WriteOutcome>, StoreError>;

    /// Stored events of one source and day, in arrival order, after a cursor.
    async fn events(&self, query: &EventsQuery) -> Result<Vec<StoredEvent>, StoreError>;
    /// Events stored per source and day.
    async fn event_days(
        &self,
        source: Option<&str>,
        range: TimeRange,
    ) -> Result<Vec<DayCount>, StoreError>;
    /// The delivery log, newest first: every delivery, duplicates included.
    async fn deliveries(&self, query: &DeliveryQuery) -> Result<Vec<DeliveryRecord>, StoreError>;

    /// Which of these dedup keys of `source` are stored: a delivery GitHub reports
    /// as sent but that is missing here was lost on the way.
    async fn stored_dedup_keys(
        &self,
        source: &str,
        keys: &[String],
    ) -> Result<HashSet<String>, StoreError>;

    /// Rebuilds every projection (orgs, repos, teams, members, PRs) from the stored raw
    /// events in arrival order, while the store keeps serving: the new projections are
    /// built aside and swapped in together with the events that arrived meanwhile.
    async fn rebuild_projections(
        &self,
        projector: Projector,
        progress: Progress,
    ) -> Result<RebuildReport, StoreError>;
}
