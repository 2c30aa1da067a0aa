//! The server-events read model: one row per stored event, written by the pipeline in
//! the journal's commit (`model::SourceRow`), read here on each backend. Both backends
//! pass one conformance suite (`tests/it/server_events_store.rs`).

mod elasticsearch;
mod schema;
mod sqlite;

pub use self::schema::SCHEMA;

use async_trait::async_trait;
use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

use crate::stats::TimeRange;
use crate::store::{Backend, Store, StoreError};

/// One stored event, as listings return it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = ServerEvent)]
pub struct EventRecord {
    /// Unique and increasing within the source: pass it as `after` to continue.
    #[serde(serialize_with = "as_string")]
    #[schema(value_type = String)]
    pub id: i64,
    /// When Reckon accepted the event, in Unix milliseconds.
    pub ts: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub src: String,
    /// The event's fields as submitted (for xlog lines, the line's fields).
    #[schema(value_type = Object)]
    pub data: Box<RawValue>,
}

fn as_string<S: serde::Serializer>(id: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(id)
}

/// Which events to list: those of `source` accepted in `range`, after `after`.
#[derive(Debug, Clone)]
pub struct EventFilter {
    pub source: String,
    pub range: TimeRange,
    pub after: Option<i64>,
    pub limit: usize,
}

/// A key and how many events carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = ServerEventKeyCount)]
pub struct KeyCount {
    pub key: String,
    pub count: u64,
}

/// Events of one UTC day, server and type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = ServerEventDayCount)]
pub struct DayCount {
    pub day: String,
    pub src: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub count: u64,
}

/// A player's finished games and wins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = ServerEventPlayerCount)]
pub struct PlayerCount {
    pub name: String,
    pub games: u64,
    pub wins: u64,
}

/// The source's stats over a time range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = ServerEventStats)]
pub struct EventStats {
    /// Events per UTC day (of acceptance), server and type, by day.
    pub days: Vec<DayCount>,
    /// Milestones by their `type` field (`uniq`, `rune`, `br.enter`, ...), most first.
    pub milestones: Vec<KeyCount>,
    /// Finished games by outcome (`ktyp`: `winning`, `mon`, `quitting`, ...), most first.
    pub games: Vec<KeyCount>,
    /// Players with the most finished games.
    pub top_by_games: Vec<PlayerCount>,
    /// Players with the most wins (only players with at least one).
    pub top_by_wins: Vec<PlayerCount>,
}

/// Reads of the server-events read model.
#[async_trait]
pub trait ServerEventStore: Send + Sync {
    /// Events matching `filter`, in id order. Never skips an event that a later call
    /// could still return before the last id given: a follower that resumes after the
    /// last id sees every event exactly once.
    async fn server_events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, StoreError>;

    /// Counts over the events of `source` accepted in `range`; `top` players per list.
    async fn server_event_stats(
        &self,
        source: &str,
        range: TimeRange,
        top: usize,
    ) -> Result<EventStats, StoreError>;
}

/// The read model of the store's backend, if it keeps one.
pub fn of(store: &dyn Store) -> Option<&dyn ServerEventStore> {
    match store.backend() {
        Backend::Sqlite(s) => Some(s),
        Backend::Elasticsearch(e) => Some(e),
        Backend::Other => None,
    }
}
