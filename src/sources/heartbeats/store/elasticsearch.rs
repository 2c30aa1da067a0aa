//! The heartbeats read model on Elasticsearch: coding time is computed at read time
//! from the user's heartbeats in the window (paged by `search_after`), with the same
//! pure durations as SQLite's rollups, so both backends give the same answers.

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{credit, slices, window, Group, HeartbeatStore, Loaded, Slice, TimeQuery, UserSpan};
use crate::sources::heartbeats::durations::MARGIN_MS;
use crate::store::elasticsearch::ElasticsearchStore;
use crate::store::StoreError;

/// Heartbeats per search page.
const PAGE: usize = 5000;
/// Most users one listing returns.
const MAX_USERS: usize = 10_000;

#[derive(Deserialize)]
struct Doc {
    time_ms: i64,
    elapsed_ms: Option<i64>,
    entity: String,
    project: String,
    language: String,
    editor: String,
    os: String,
    machine: String,
    category: String,
    branch: String,
}

impl ElasticsearchStore {
    async fn load_heartbeats(
        &self,
        user: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<Loaded>, StoreError> {
        let mut out = Vec::new();
        let mut after: Option<Vec<Value>> = None;
        loop {
            let mut body = json!({
                "size": PAGE,
                "_source": ["time_ms", "elapsed_ms", "entity", "project", "language", "editor",
                            "os", "machine", "category", "branch"],
                "query": {"bool": {"filter": [
                    {"term": {"user": user}},
                    {"range": {"time_ms": {"gte": from, "lt": to}}},
                ]}},
                "sort": [{"time_ms": "asc"}, {"seq": "asc"}],
            });
            if let Some(after) = &after {
                body["search_after"] = json!(after);
            }
            let reply = self
                .cluster()
                .search(&self.names().alias("heartbeats"), &body)
                .await?;
            let hits = reply.hits.hits;
            for hit in &hits {
                let d: Doc = serde_json::from_str(hit.source.get())
                    .map_err(|e| StoreError::Corrupt(format!("heartbeat {}: {e}", hit.id)))?;
                out.push(Loaded {
                    time_ms: d.time_ms,
                    elapsed_ms: d.elapsed_ms,
                    entity: d.entity,
                    group: Group {
                        project: d.project,
                        language: d.language,
                        editor: d.editor,
                        os: d.os,
                        machine: d.machine,
                        category: d.category,
                        branch: d.branch,
                    },
                });
            }
            match hits.last() {
                Some(last) if hits.len() == PAGE => after = Some(last.sort.clone()),
                _ => return Ok(out),
            }
        }
    }

    async fn edge_time(&self, user: &str, order: &str) -> Result<Option<i64>, StoreError> {
        let body = json!({
            "size": 1,
            "_source": ["time_ms"],
            "query": {"bool": {"filter": [{"term": {"user": user}}]}},
            "sort": [{"time_ms": order}],
        });
        let reply = self
            .cluster()
            .search(&self.names().alias("heartbeats"), &body)
            .await?;
        Ok(reply
            .hits
            .hits
            .first()
            .and_then(|h| serde_json::from_str::<Value>(h.source.get()).ok())
            .and_then(|v| v["time_ms"].as_i64()))
    }
}

#[async_trait]
impl HeartbeatStore for ElasticsearchStore {
    async fn coding_time(&self, q: &TimeQuery) -> Result<Vec<Slice>, StoreError> {
        let (from, to) = window(q.first, q.last, q.basis.tz);
        let beats = self
            .load_heartbeats(
                &q.user,
                from.saturating_sub(MARGIN_MS),
                to.saturating_add(MARGIN_MS),
            )
            .await?;
        Ok(slices(
            credit(beats, q.basis, (from, to)),
            &q.filter,
            q.files,
        ))
    }

    async fn heartbeat_users(&self, user: Option<&str>) -> Result<Vec<UserSpan>, StoreError> {
        let names = match user {
            Some(user) => vec![user.to_owned()],
            None => {
                let body = json!({
                    "size": 0,
                    "aggs": {"users": {"terms": {"field": "user", "size": MAX_USERS, "order": {"_key": "asc"}}}},
                });
                let reply = self
                    .cluster()
                    .search(&self.names().alias("heartbeats"), &body)
                    .await?;
                reply.aggregations["users"]["buckets"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|b| b["key"].as_str().map(str::to_owned))
                    .collect()
            }
        };
        let mut out = Vec::new();
        for user in names {
            let first = self.edge_time(&user, "asc").await?;
            let last = self.edge_time(&user, "desc").await?;
            if let (Some(first_ms), Some(last_ms)) = (first, last) {
                out.push(UserSpan {
                    user,
                    first_ms,
                    last_ms,
                });
            }
        }
        Ok(out)
    }
}
