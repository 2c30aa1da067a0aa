//! The reconciler's reads on Elasticsearch that are the journal's and coordination's:
//! dedup keys through `_mget` on the dedup index, and state documents and locks in their
//! own index. (The org snapshot is the GitHub slice's, in `sources::github::store`.)

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::{json, Value};

use super::cluster::{Action, BulkOp, Cluster, Hit, ItemResult};
use super::write::dedup_id;
use super::ElasticsearchStore;
use crate::store::StoreError;

#[derive(serde::Serialize, Deserialize)]
struct StateDoc {
    key: String,
    /// The document as JSON text: stored, never indexed.
    value: String,
    updated_at: i64,
}

fn parse<T: for<'de> Deserialize<'de>>(hit: &Hit) -> Result<T, StoreError> {
    serde_json::from_str(hit.source.get())
        .map_err(|e| StoreError::Corrupt(format!("document {}: {e}", hit.id)))
}

impl ElasticsearchStore {
    pub(super) async fn read_stored_dedup_keys(
        &self,
        source: &str,
        keys: &[String],
    ) -> Result<HashSet<String>, StoreError> {
        let index = self.names.alias("dedup");
        let mut found = HashSet::new();
        for chunk in keys.chunks(500) {
            let ids: Vec<(String, String)> = chunk
                .iter()
                .map(|k| (index.clone(), dedup_id(source, k)))
                .collect();
            let docs = self.cluster.mget(&ids).await?;
            for (key, doc) in chunk.iter().zip(docs) {
                let stored = doc
                    .and_then(|d| d.source)
                    .is_some_and(|s| s["state"] == "stored");
                if stored {
                    found.insert(key.clone());
                }
            }
        }
        Ok(found)
    }

    pub(super) async fn read_state(&self, key: &str) -> Result<Option<Value>, StoreError> {
        let doc = self
            .cluster
            .mget(&[(self.names.alias("state"), key.to_owned())])
            .await?
            .pop()
            .flatten()
            .and_then(|d| d.source);
        let Some(source) = doc else {
            return Ok(None);
        };
        let doc: StateDoc = serde_json::from_value(source)
            .map_err(|e| StoreError::Corrupt(format!("state {key}: {e}")))?;
        serde_json::from_str(&doc.value)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("state {key}: {e}")))
    }

    /// A lock is a state document written only if it is unchanged since it was read
    /// (`if_seq_no`), or created only if absent, so two takers cannot both win.
    pub(super) async fn take_lock(
        &self,
        name: &str,
        holder: &str,
        ttl_ms: i64,
    ) -> Result<bool, StoreError> {
        lock(
            &self.cluster,
            &self.names.alias("state"),
            name,
            holder,
            ttl_ms,
        )
        .await
    }

    pub(super) async fn write_state(&self, key: &str, value: Value) -> Result<(), StoreError> {
        let doc = StateDoc {
            key: key.to_owned(),
            value: value.to_string(),
            updated_at: chrono::Utc::now().timestamp_millis(),
        };
        let op = BulkOp::new(
            Action::Index,
            &self.names.alias("state"),
            key.to_owned(),
            Some(serde_json::to_vec(&doc).expect("state documents serialize")),
        );
        match self.cluster.bulk(&[op], "wait_for").await?.remove(0) {
            ItemResult::Done { .. } => Ok(()),
            other => Err(StoreError::Corrupt(format!(
                "state {key} was not written: {other:?}"
            ))),
        }
    }

    /// A `range` on the `key` keyword from `prefix` up to its successor, in key order,
    /// paged with `search_after`. Reads after state writes, which all `wait_for` refresh.
    pub(super) async fn read_states(
        &self,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<(String, Value)>, StoreError> {
        let mut range = json!({"gte": prefix});
        if let Some(end) = prefix_successor(prefix) {
            range["lt"] = json!(end);
        }
        let query = json!({"bool": {
            "filter": [{"range": {"key": range}}],
            "must_not": [{"range": {"key": {"gte": LOCKS, "lt": prefix_successor(LOCKS)}}}],
        }});
        let index = self.names.alias("state");
        let mut out = Vec::new();
        let mut after: Option<Vec<Value>> = None;
        while out.len() < limit {
            let size = (limit - out.len()).min(STATE_PAGE);
            let mut body = json!({
                "size": size, "query": query, "sort": [{"key": "asc"}], "track_total_hits": false,
            });
            if let Some(after) = &after {
                body["search_after"] = json!(after);
            }
            let page = self.cluster.search(&index, &body).await?.hits.hits;
            let done = page.len() < size;
            after = page.last().map(|h| h.sort.clone());
            for hit in &page {
                let doc: StateDoc = parse(hit)?;
                let value = serde_json::from_str(&doc.value)
                    .map_err(|e| StoreError::Corrupt(format!("state {}: {e}", doc.key)))?;
                out.push((doc.key, value));
            }
            if done {
                break;
            }
        }
        Ok(out)
    }

    /// Deletes with `refresh=wait_for`, so the next `states` no longer lists it.
    pub(super) async fn remove_state(&self, key: &str) -> Result<bool, StoreError> {
        let op = BulkOp::new(
            Action::Delete,
            &self.names.alias("state"),
            key.to_owned(),
            None,
        );
        match self.cluster.bulk(&[op], "wait_for").await?.remove(0) {
            ItemResult::Done { .. } => Ok(true),
            ItemResult::Missing => Ok(false),
            other => Err(StoreError::Corrupt(format!(
                "state {key} was not deleted: {other:?}"
            ))),
        }
    }
}

/// Lock documents' ids (and `key`s) start with this; `states` never lists them.
const LOCKS: &str = "lock/";

/// Most state documents one search page returns (well under `max_result_window`).
const STATE_PAGE: usize = 1_000;

/// The least string greater than every string that starts with `prefix`: its last
/// character incremented (UTF-8 byte order is code point order). `None` when no such
/// string exists (an empty prefix, or one of only `char::MAX`).
fn prefix_successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last {
            '\u{D7FF}' => Some('\u{E000}'),
            c => char::from_u32(c as u32 + 1),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Takes or renews the lock `name` for `holder` in the state index `index` (see
/// `Coordination::try_lock`); a free function so the writer-slot renewal task, which
/// holds the cluster client but not the store, can call it.
pub(super) async fn lock(
    cluster: &Cluster,
    index: &str,
    name: &str,
    holder: &str,
    ttl_ms: i64,
) -> Result<bool, StoreError> {
    let id = format!("lock/{name}");
    let now = chrono::Utc::now().timestamp_millis();
    let current = cluster
        .mget(&[(index.to_owned(), id.clone())])
        .await?
        .pop()
        .flatten()
        .filter(|d| d.found);
    let doc = StateDoc {
        key: id.clone(),
        value: json!({"holder": holder, "until": now + ttl_ms}).to_string(),
        updated_at: now,
    };
    let body = Some(serde_json::to_vec(&doc).expect("state documents serialize"));
    let op = match &current {
        None => BulkOp::new(Action::Create, index, id.clone(), body),
        Some(found) => {
            let held: Value = found
                .source
                .as_ref()
                .and_then(|s| s["value"].as_str())
                .and_then(|v| serde_json::from_str(v).ok())
                .unwrap_or_default();
            let mine = held["holder"] == json!(holder);
            if !mine && held["until"].as_i64().unwrap_or(0) > now {
                return Ok(false);
            }
            let mut op = BulkOp::new(Action::Index, index, id.clone(), body);
            op.if_seq_no = found.seq_no;
            op.if_primary_term = found.primary_term;
            op
        }
    };
    match cluster.bulk(&[op], "wait_for").await?.remove(0) {
        ItemResult::Done { .. } => Ok(true),
        ItemResult::Conflict => Ok(false),
        other => Err(StoreError::Corrupt(format!(
            "lock {name} was not written: {other:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::prefix_successor;

    #[test]
    fn successors_bound_exactly_the_prefixed_keys() {
        assert_eq!(prefix_successor("queue/").as_deref(), Some("queue0"));
        assert_eq!(prefix_successor("").as_deref(), None);
        assert_eq!(prefix_successor("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_successor("\u{D7FF}").as_deref(), Some("\u{E000}"));
        let end = prefix_successor("queue/").unwrap();
        for key in ["queue/", "queue/a", "queue/\u{10FFFF}"] {
            assert!(key < end.as_str(), "{key}");
        }
        assert!("queue0" >= end.as_str() && "queue/" > "queue");
    }
}
