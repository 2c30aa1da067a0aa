//! The page-views read model: views and dropped hits per site, read back for the
//! statistics, the live counters and the visit check at midnight. Both backends pass
//! one conformance suite (`tests/it/pageviews_store.rs`). SQLite keeps exact rollups
//! of closed days for the statistics (`rollups.rs`).

mod elasticsearch;
mod rollups;
mod schema;
mod sqlite;

pub use self::schema::SCHEMA;

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::stats::{Bucket, Summary, View, ViewQuery};
use crate::store::{Backend, Store, StoreError};

/// An article's all-time counts, as its live counter shows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ArticleCounts {
    pub views: u64,
    /// Views the client flagged unique (`refreshed: false`).
    pub uniques: u64,
}

/// A stored view, as live counters learn of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub seq: i64,
    pub site: String,
    pub article: String,
}

/// Reads of the page-views read model.
#[async_trait]
pub trait PageviewStore: Send + Sync {
    /// The site's views in the query's range that match its filter, by time.
    async fn views(&self, query: &ViewQuery) -> Result<Vec<View>, StoreError>;

    /// The summary of the query's views: series by `bucket` over `labels`, totals and
    /// top lists of `top` rows, exactly as [`super::stats::summarize`] computes it (SQLite
    /// answers from rollups of closed days; `now_ms` says which days are closed).
    async fn summary(
        &self,
        query: &ViewQuery,
        bucket: Bucket,
        labels: Vec<String>,
        top: usize,
        now_ms: i64,
    ) -> Result<Summary, StoreError>;

    /// Hits of `site` dropped in `[from_ms, to_ms)`, counted by reason.
    async fn drops(
        &self,
        site: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<BTreeMap<String, u64>, StoreError>;

    /// All-time views of one article of a site.
    async fn article_counts(&self, site: &str, article: &str) -> Result<ArticleCounts, StoreError>;

    /// Views stored after `seq`, in seq order, at most `limit`.
    async fn views_after(&self, seq: i64, limit: usize) -> Result<Vec<Change>, StoreError>;

    /// The last stored view's seq (0 with none).
    async fn last_view_seq(&self) -> Result<i64, StoreError>;

    /// Whether `visitor` viewed a page of `site` at or after `since_ms`.
    async fn visitor_seen(
        &self,
        site: &str,
        visitor: &str,
        since_ms: i64,
    ) -> Result<bool, StoreError>;
}

/// The read model of the store's backend, if it keeps one.
pub fn of(store: &dyn Store) -> Option<&dyn PageviewStore> {
    match store.backend() {
        Backend::Sqlite(s) => Some(s),
        Backend::Elasticsearch(e) => Some(e),
        Backend::Other => None,
    }
}
