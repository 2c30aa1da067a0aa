//! The journal's read path: searches for raw events, events per day and the delivery
//! log, and the query builders the source read models share (`term`, `within`, `all_of`,
//! `histogram`, reading buckets and hits). Query bodies are pure functions.

use serde::Deserialize;
use serde_json::{json, Value};

use super::cluster::Hit;
use super::write::DeliveryDoc;
use super::ElasticsearchStore;
use crate::model::ContentType;
use crate::stats::{
    rfc3339, DayCount, DeliveryQuery, DeliveryRecord, EventsQuery, Interval, StoredEvent, TimeRange,
};
use crate::store::StoreError;

/// The GitHub read model's query bodies, whose shapes the Elasticsearch contract pins
/// (`tests/it/es_contract.rs`); they live with the slice.
pub use crate::sources::github::store::elasticsearch::{series_body, stats_body, team_stats_body};

pub(crate) fn term(field: &str, value: impl Into<Value>) -> Value {
    json!({"term": {field: value.into()}})
}

/// `[from, to)` on `field`, or just "has a value" when the range is open both ways.
pub fn within(field: &str, range: TimeRange) -> Value {
    let mut bounds = serde_json::Map::new();
    if let Some(from) = range.from {
        bounds.insert("gte".into(), json!(from));
    }
    if let Some(to) = range.to {
        bounds.insert("lt".into(), json!(to));
    }
    if bounds.is_empty() {
        json!({"exists": {"field": field}})
    } else {
        json!({"range": {field: bounds}})
    }
}

pub(crate) fn all_of(filters: Vec<Value>) -> Value {
    json!({"bool": {"filter": filters}})
}

pub(crate) fn histogram(field: &str, interval: Interval) -> Value {
    let unit = match interval {
        Interval::Day => "day",
        Interval::Week => "week",
        Interval::Month => "month",
    };
    json!({"date_histogram": {"field": field, "calendar_interval": unit, "min_doc_count": 1}})
}

pub(crate) fn count(v: &Value) -> u64 {
    v["doc_count"].as_u64().unwrap_or(0)
}

pub(crate) fn buckets(v: &Value) -> &[Value] {
    v["buckets"].as_array().map_or(&[], Vec::as_slice)
}

pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

pub(crate) fn parse<T: for<'de> Deserialize<'de>>(hit: &Hit) -> Result<T, StoreError> {
    serde_json::from_str(hit.source.get()).map_err(|e| corrupt(&format!("document {}", hit.id), e))
}

/// A journal document's content type: absent is JSON (every document before them).
pub(super) fn content_type(seq: i64, stored: Option<&str>) -> Result<ContentType, StoreError> {
    ContentType::from_stored(stored).map_err(|e| StoreError::Corrupt(format!("event {seq}: {e}")))
}

/// Events in the first search of a page, before any payload size is known.
const EVENTS_FIRST_BATCH: usize = 8;

#[derive(Deserialize)]
struct EventRow {
    seq: i64,
    source: String,
    kind: String,
    action: Option<String>,
    delivery_id: String,
    hook_id: Option<String>,
    received_at: i64,
    payload: Box<serde_json::value::RawValue>,
    #[serde(default)]
    content_type: Option<String>,
}

impl ElasticsearchStore {
    /// A page of events, fetched in batches sized from the payloads seen so far, so that
    /// no search answer holds many more bytes than the page may.
    pub(super) async fn read_events(
        &self,
        query: &EventsQuery,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let mut out: Vec<StoredEvent> = Vec::new();
        let (mut bytes, mut largest) = (0usize, 0usize);
        let mut after = query.after;
        while out.len() < query.limit && bytes < query.max_bytes {
            let left = query.limit - out.len();
            // Start small; then as many as the budget left holds at the largest size seen.
            let batch = match largest {
                0 => left.min(EVENTS_FIRST_BATCH),
                size => ((query.max_bytes - bytes) / size).clamp(1, left),
            };
            let hits = self.search_events(query, after, batch).await?;
            let fetched = hits.len();
            for event in hits {
                let size = event.payload.get().len();
                largest = largest.max(size);
                bytes = bytes.saturating_add(size);
                after = Some(event.seq);
                out.push(event);
                if bytes >= query.max_bytes {
                    break;
                }
            }
            if fetched < batch {
                break;
            }
        }
        Ok(out)
    }

    async fn search_events(
        &self,
        query: &EventsQuery,
        after: Option<i64>,
        size: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let mut filters = vec![
            term("source", query.source.clone()),
            term("day", query.day.to_string()),
        ];
        if let Some(after) = after {
            filters.push(json!({"range": {"seq": {"gt": after}}}));
        }
        // Pages are followed by their last seq: only hand out settled ones.
        if let Some(horizon) = self.follow_horizon() {
            filters.push(json!({"range": {"seq": {"lt": horizon}}}));
        }
        let body = json!({"size": size, "query": all_of(filters), "sort": [{"seq": "asc"}]});
        let reply = self
            .cluster
            .search(&self.names.alias("events"), &body)
            .await?;
        reply
            .hits
            .hits
            .iter()
            .map(|hit| {
                let e: EventRow = parse(hit)?;
                let content_type = content_type(e.seq, e.content_type.as_deref())?;
                Ok(StoredEvent {
                    seq: e.seq,
                    source: e.source,
                    kind: e.kind,
                    action: e.action,
                    delivery_id: e.delivery_id,
                    hook_id: e.hook_id,
                    received_at: rfc3339(e.received_at),
                    payload: e.payload,
                    content_type: (content_type != ContentType::Json)
                        .then(|| content_type.as_str()),
                })
            })
            .collect()
    }

    pub(super) async fn read_event_days(
        &self,
        source: Option<&str>,
        range: TimeRange,
    ) -> Result<Vec<DayCount>, StoreError> {
        let mut filters = vec![within("received_at", range)];
        if let Some(source) = source {
            filters.push(term("source", source));
        }
        let body = json!({
            "size": 0,
            "query": all_of(filters),
            "aggs": {"sources": {
                "terms": {"field": "source", "size": 1_000},
                "aggs": {"days": histogram("received_at", Interval::Day)},
            }},
        });
        let reply = self
            .cluster
            .search(&self.names.alias("events"), &body)
            .await?;
        let mut out = Vec::new();
        for s in buckets(&reply.aggregations["sources"]) {
            let source = s["key"].as_str().unwrap_or_default();
            for d in buckets(&s["days"]) {
                let key = d["key"].as_i64().ok_or_else(|| corrupt("bucket key", d))?;
                out.push(DayCount {
                    source: source.to_owned(),
                    day: Interval::Day.bucket_start(key).to_string(),
                    events: count(d),
                });
            }
        }
        out.sort_by(|a, b| (&a.day, &a.source).cmp(&(&b.day, &b.source)));
        Ok(out)
    }

    pub(super) async fn read_deliveries(
        &self,
        query: &DeliveryQuery,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        let mut filters = Vec::new();
        for (field, value) in [
            ("source", &query.source),
            ("kind", &query.kind),
            ("status", &query.status),
        ] {
            if let Some(value) = value {
                filters.push(term(field, value.clone()));
            }
        }
        if let Some(before) = query.before {
            filters.push(json!({"range": {"seq": {"lt": before}}}));
        }
        let body =
            json!({"size": query.limit, "query": all_of(filters), "sort": [{"seq": "desc"}]});
        let reply = self
            .cluster
            .search(&self.names.alias("deliveries"), &body)
            .await?;
        reply
            .hits
            .hits
            .iter()
            .map(|hit| {
                let d: DeliveryDoc = parse(hit)?;
                Ok(DeliveryRecord {
                    seq: Some(d.seq),
                    source: d.source,
                    event: d.kind,
                    action: d.action,
                    delivery_id: Some(d.delivery_id),
                    hook_id: d.hook_id,
                    status: d.status,
                    reason: d.reason,
                    received_at: rfc3339(d.received_at),
                    size: d.size,
                })
            })
            .collect()
    }
}
