//! The server-events read model on Elasticsearch: monthly `server-events` journal
//! indices written in the same bulk as the event, read through their alias. Ids are
//! the journal seqs (unique across replicas by writer slot), listed only below the
//! store's settled read horizon.

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::{
    DayCount, EventFilter, EventRecord, EventStats, KeyCount, PlayerCount, ServerEventStore,
};
use crate::stats::TimeRange;
use crate::store::elasticsearch::ElasticsearchStore;
use crate::store::StoreError;

/// Most days, servers, types and keys one stats answer lists.
const MAX_BUCKETS: usize = 1000;

#[derive(Deserialize)]
struct RowDoc {
    seq: i64,
    received_at: i64,
    #[serde(rename = "type")]
    kind: String,
    src: String,
    data: Box<RawValue>,
}

fn scope(source: &str, range: TimeRange) -> Vec<Value> {
    let mut received = serde_json::Map::new();
    if let Some(from) = range.from {
        received.insert("gte".into(), from.into());
    }
    if let Some(to) = range.to {
        received.insert("lt".into(), to.into());
    }
    let mut filter = vec![json!({"term": {"source": source}})];
    if !received.is_empty() {
        filter.push(json!({"range": {"received_at": received}}));
    }
    filter
}

#[async_trait]
impl ServerEventStore for ElasticsearchStore {
    async fn server_events(&self, f: &EventFilter) -> Result<Vec<EventRecord>, StoreError> {
        let mut filter = scope(&f.source, f.range);
        if let Some(after) = f.after {
            filter.push(json!({"range": {"seq": {"gt": after}}}));
        }
        // Both listings hand out their last id as a cursor (`next_after`, and
        // `X-Reckon-Next-After` for a full day page): only settled ids, so an event
        // another replica numbered earlier but has not landed yet is not passed.
        if let Some(horizon) = self.follow_horizon() {
            filter.push(json!({"range": {"seq": {"lt": horizon}}}));
        }
        let body = json!({
            "size": f.limit,
            "query": {"bool": {"filter": filter}},
            "sort": [{"seq": "asc"}],
        });
        let reply = self
            .cluster()
            .search(&self.names().alias("server-events"), &body)
            .await?;
        reply
            .hits
            .hits
            .iter()
            .map(|hit| {
                let doc: RowDoc = serde_json::from_str(hit.source.get())
                    .map_err(|e| StoreError::Corrupt(format!("server event {}: {e}", hit.id)))?;
                Ok(EventRecord {
                    id: doc.seq,
                    ts: doc.received_at,
                    kind: doc.kind,
                    src: doc.src,
                    data: doc.data,
                })
            })
            .collect()
    }

    async fn server_event_stats(
        &self,
        source: &str,
        range: TimeRange,
        top: usize,
    ) -> Result<EventStats, StoreError> {
        let players = |order: Value| {
            json!({
                "filter": {"exists": {"field": "ktyp"}},
                "aggs": {"players": {
                    "terms": {"field": "player", "size": top.max(1), "order": order},
                    "aggs": {"wins": {"filter": {"term": {"won": true}}}},
                }},
            })
        };
        let body = json!({
            "size": 0,
            "query": {"bool": {"filter": scope(source, range)}},
            "aggs": {
                "days": {
                    "terms": {"field": "day", "size": MAX_BUCKETS, "order": {"_key": "asc"}},
                    "aggs": {"src": {
                        "terms": {"field": "src", "size": MAX_BUCKETS, "order": {"_key": "asc"}},
                        "aggs": {"type": {"terms": {"field": "type", "size": MAX_BUCKETS, "order": {"_key": "asc"}}}},
                    }},
                },
                "milestones": {"terms": {"field": "milestone_type", "size": MAX_BUCKETS}},
                "games": {"terms": {"field": "ktyp", "size": MAX_BUCKETS}},
                "by_games": players(json!([{"_count": "desc"}, {"wins": "desc"}, {"_key": "asc"}])),
                "by_wins": players(json!([{"wins": "desc"}, {"_count": "desc"}, {"_key": "asc"}])),
            },
        });
        let reply = self
            .cluster()
            .search(&self.names().alias("server-events"), &body)
            .await?;
        let aggs = &reply.aggregations;
        let mut days = Vec::new();
        for day in buckets(&aggs["days"]) {
            for src in buckets(&day["src"]) {
                for kind in buckets(&src["type"]) {
                    days.push(DayCount {
                        day: key(day),
                        src: key(src),
                        kind: key(kind),
                        count: count(kind),
                    });
                }
            }
        }
        let counts = |agg: &Value| {
            buckets(agg)
                .iter()
                .map(|b| KeyCount {
                    key: key(b),
                    count: count(b),
                })
                .collect()
        };
        let players = |agg: &Value| -> Vec<PlayerCount> {
            buckets(&agg["players"])
                .iter()
                .map(|b| PlayerCount {
                    name: key(b),
                    games: count(b),
                    wins: count(&b["wins"]),
                })
                .collect()
        };
        let mut top_by_wins = players(&aggs["by_wins"]);
        top_by_wins.retain(|p| p.wins > 0);
        Ok(EventStats {
            days,
            milestones: counts(&aggs["milestones"]),
            games: counts(&aggs["games"]),
            top_by_games: players(&aggs["by_games"]),
            top_by_wins,
        })
    }
}

fn buckets(agg: &Value) -> &[Value] {
    agg["buckets"].as_array().map(Vec::as_slice).unwrap_or(&[])
}

fn key(bucket: &Value) -> String {
    match &bucket["key"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn count(bucket: &Value) -> u64 {
    bucket["doc_count"].as_u64().unwrap_or(0)
}
