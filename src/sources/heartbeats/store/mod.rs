//! The heartbeats read model: stored heartbeats turned into coding time per user, local
//! day and group (project, language, editor, OS, machine, category, branch), optionally
//! per file. Both backends pass one conformance suite (`tests/it/heartbeats_store.rs`).

mod elasticsearch;
mod schema;
mod sqlite;

pub use self::schema::SCHEMA;

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::NaiveDate;
use chrono_tz::Tz;

use super::durations::{self, Beat, Rules};
use crate::store::{Backend, Store, StoreError};

/// What time is credited to, apart from the file.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Group {
    pub project: String,
    pub language: String,
    pub editor: String,
    pub os: String,
    pub machine: String,
    pub category: String,
    pub branch: String,
}

/// The dimensions, in the order of [`Group`]'s fields and of the rollup columns.
pub const DIMENSIONS: [&str; 7] = [
    "project", "language", "editor", "os", "machine", "category", "branch",
];

impl Group {
    /// The value of dimension `index` (see [`DIMENSIONS`]).
    pub fn get(&self, index: usize) -> &str {
        [
            &self.project,
            &self.language,
            &self.editor,
            &self.os,
            &self.machine,
            &self.category,
            &self.branch,
        ][index]
    }
}

/// How a user's heartbeats become time: their time zone and keystroke timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Basis {
    pub tz: Tz,
    pub timeout_ms: i64,
}

/// Only time whose group matches every given value (`DIMENSIONS` order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter(pub [Option<String>; 7]);

impl Filter {
    pub fn matches(&self, group: &Group) -> bool {
        self.0
            .iter()
            .enumerate()
            .all(|(i, want)| want.as_deref().is_none_or(|w| w == group.get(i)))
    }
}

/// Which coding time to read.
#[derive(Debug, Clone)]
pub struct TimeQuery {
    pub user: String,
    /// The first and last local day, inclusive.
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub basis: Basis,
    pub filter: Filter,
    /// Split each group's time by file (entity) too.
    pub files: bool,
}

/// Milliseconds of one group (and file, when asked) on one local day.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Slice {
    pub day: NaiveDate,
    pub group: Group,
    pub entity: Option<String>,
    pub ms: i64,
}

/// A user with heartbeats, and the span of their heartbeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSpan {
    pub user: String,
    pub first_ms: i64,
    pub last_ms: i64,
}

/// Reads of the heartbeats read model.
#[async_trait]
pub trait HeartbeatStore: Send + Sync {
    /// The time of `query.user` on each day of the query, in slices sorted by day, group
    /// and file. Computed over all of the user's heartbeats, whatever their arrival
    /// order, then filtered: a filter never changes how heartbeats pair up.
    async fn coding_time(&self, query: &TimeQuery) -> Result<Vec<Slice>, StoreError>;

    /// Users with heartbeats (only `user` when given), by name.
    async fn heartbeat_users(&self, user: Option<&str>) -> Result<Vec<UserSpan>, StoreError>;
}

/// The read model of the store's backend, if it keeps one.
pub fn of(store: &dyn Store) -> Option<&dyn HeartbeatStore> {
    match store.backend() {
        Backend::Sqlite(s) => Some(s),
        Backend::Elasticsearch(e) => Some(e),
        Backend::Other => None,
    }
}

/// A heartbeat as loaded for durations.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub time_ms: i64,
    pub elapsed_ms: Option<i64>,
    pub group: Group,
    pub entity: String,
}

/// Time per (local day, group, file) in `window`, from every heartbeat of the user in
/// `window` widened by `durations::MARGIN_MS` on both sides.
pub fn credit(
    beats: Vec<Loaded>,
    basis: Basis,
    window: (i64, i64),
) -> BTreeMap<(NaiveDate, (Group, String)), i64> {
    let beats = beats
        .into_iter()
        .map(|b| Beat {
            time_ms: b.time_ms,
            elapsed_ms: b.elapsed_ms,
            key: (b.group, b.entity),
        })
        .collect();
    let rules = Rules {
        timeout_ms: basis.timeout_ms,
        tz: basis.tz,
    };
    durations::durations(beats, rules, window)
}

/// The UTC window of local days `first..=last`.
pub fn window(first: NaiveDate, last: NaiveDate, tz: Tz) -> (i64, i64) {
    (
        durations::day_bounds(first, tz).0,
        durations::day_bounds(last, tz).1,
    )
}

/// Slices from credited time, filtered, summed over files unless `files`.
pub fn slices(
    credited: BTreeMap<(NaiveDate, (Group, String)), i64>,
    filter: &Filter,
    files: bool,
) -> Vec<Slice> {
    let mut out: BTreeMap<(NaiveDate, Group, Option<String>), i64> = BTreeMap::new();
    for ((day, (group, entity)), ms) in credited {
        if filter.matches(&group) {
            *out.entry((day, group, files.then_some(entity)))
                .or_default() += ms;
        }
    }
    out.into_iter()
        .map(|((day, group, entity), ms)| Slice {
            day,
            group,
            entity,
            ms,
        })
        .collect()
}
