//! The page-views read model on Elasticsearch: the same reads as SQLite's, as filtered
//! searches (views paged by `search_after`), term aggregations and counts.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{ArticleCounts, Change, PageviewStore};
use crate::sources::pageviews::stats::{self, Bucket, Origin, Summary, View, ViewQuery, DIRECT};
use crate::store::elasticsearch::ElasticsearchStore;
use crate::store::StoreError;

/// Views per search page.
const PAGE: usize = 5000;

#[derive(Deserialize)]
struct Doc {
    seq: i64,
    ts_ms: i64,
    path: String,
    referrer: Option<String>,
    ref_source: Option<String>,
    #[serde(default)]
    entry: bool,
    #[serde(default)]
    is_unique: bool,
    visitor: String,
}

fn term(field: &str, value: &str) -> Value {
    json!({"term": {field: value}})
}

/// The filter of a view query, as a `bool` query's clauses.
fn clauses(q: &ViewQuery) -> Value {
    let mut filter = vec![
        term("site", &q.site),
        term("name", "pageview"),
        json!({"range": {"ts_ms": {"gte": q.from_ms, "lt": q.to_ms}}}),
    ];
    let mut must_not = Vec::new();
    if let Some(page) = &q.filter.page {
        filter.push(term("path", page));
    }
    match q.filter.referrer.as_deref() {
        Some(DIRECT) => must_not.push(json!({"exists": {"field": "referrer"}})),
        Some(referrer) => filter.push(term("referrer", referrer)),
        None => {}
    }
    if let Some(source) = &q.filter.source {
        filter.push(term("ref_source", source));
    }
    match q.filter.origin {
        Some(Origin::Log) => filter.push(term("via", "log")),
        Some(Origin::Script) => must_not.push(term("via", "log")),
        None => {}
    }
    json!({"bool": {"filter": filter, "must_not": must_not}})
}

impl ElasticsearchStore {
    async fn pageview_search(&self, kind: &str, body: &Value) -> Result<Value, StoreError> {
        let reply = self
            .cluster()
            .search(&self.names().alias(kind), body)
            .await?;
        Ok(json!({
            "total": reply.hits.total.as_ref().map(|t| t.value),
            "hits": reply.hits.hits.iter().map(|h| {
                serde_json::from_str::<Value>(h.source.get()).unwrap_or(Value::Null)
            }).collect::<Vec<_>>(),
            "sorts": reply.hits.hits.last().map(|h| h.sort.clone()),
            "aggregations": reply.aggregations,
        }))
    }
}

#[async_trait]
impl PageviewStore for ElasticsearchStore {
    async fn views(&self, q: &ViewQuery) -> Result<Vec<View>, StoreError> {
        let mut out = Vec::new();
        let mut after: Option<Value> = None;
        loop {
            let mut body = json!({
                "size": PAGE,
                "_source": ["seq", "ts_ms", "path", "referrer", "ref_source", "entry",
                            "is_unique", "visitor"],
                "query": clauses(q),
                "sort": [{"ts_ms": "asc"}, {"seq": "asc"}],
            });
            if let Some(after) = &after {
                body["search_after"] = after.clone();
            }
            let reply = self.pageview_search("pageviews", &body).await?;
            let hits = reply["hits"].as_array().cloned().unwrap_or_default();
            for hit in &hits {
                let d: Doc = serde_json::from_value(hit.clone())
                    .map_err(|e| StoreError::Corrupt(format!("page view: {e}")))?;
                out.push(View {
                    seq: d.seq,
                    ts_ms: d.ts_ms,
                    path: d.path,
                    referrer: d.referrer,
                    source: d.ref_source,
                    entry: d.entry,
                    unique: d.is_unique,
                    visitor: d.visitor,
                });
            }
            if hits.len() < PAGE {
                return Ok(out);
            }
            after = Some(reply["sorts"].clone());
        }
    }

    async fn summary(
        &self,
        query: &ViewQuery,
        bucket: Bucket,
        labels: Vec<String>,
        top: usize,
        _now_ms: i64,
    ) -> Result<Summary, StoreError> {
        let views = PageviewStore::views(self, query).await?;
        Ok(stats::summarize(&views, bucket, labels, top))
    }

    async fn drops(
        &self,
        site: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<BTreeMap<String, u64>, StoreError> {
        let body = json!({
            "size": 0,
            "query": {"bool": {"filter": [
                term("site", site),
                {"range": {"ts_ms": {"gte": from_ms, "lt": to_ms}}},
            ]}},
            "aggs": {"reasons": {"terms": {"field": "reason", "size": 100}}},
        });
        let reply = self.pageview_search("pageview-drops", &body).await?;
        Ok(reply["aggregations"]["reasons"]["buckets"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|b| Some((b["key"].as_str()?.to_owned(), b["doc_count"].as_u64()?)))
            .collect())
    }

    async fn article_counts(&self, site: &str, article: &str) -> Result<ArticleCounts, StoreError> {
        let body = json!({
            "size": 0,
            "track_total_hits": true,
            "query": {"bool": {"filter": [
                term("site", site), term("article", article), term("name", "pageview"),
            ]}},
            "aggs": {"uniques": {"filter": {"term": {"is_unique": true}}}},
        });
        let reply = self.pageview_search("pageviews", &body).await?;
        Ok(ArticleCounts {
            views: reply["total"].as_u64().unwrap_or(0),
            uniques: reply["aggregations"]["uniques"]["doc_count"]
                .as_u64()
                .unwrap_or(0),
        })
    }

    async fn views_after(&self, seq: i64, limit: usize) -> Result<Vec<Change>, StoreError> {
        let body = json!({
            "size": limit,
            "_source": ["seq", "site", "article"],
            "query": {"bool": {"filter": [
                term("name", "pageview"),
                {"range": {"seq": {"gt": seq}}},
            ]}},
            "sort": [{"seq": "asc"}],
        });
        let reply = self.pageview_search("pageviews", &body).await?;
        Ok(reply["hits"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|h| {
                Some(Change {
                    seq: h["seq"].as_i64()?,
                    site: h["site"].as_str()?.to_owned(),
                    article: h["article"].as_str()?.to_owned(),
                })
            })
            .collect())
    }

    async fn last_view_seq(&self) -> Result<i64, StoreError> {
        let body = json!({
            "size": 0,
            "query": {"bool": {"filter": [term("name", "pageview")]}},
            "aggs": {"last": {"max": {"field": "seq"}}},
        });
        let reply = self.pageview_search("pageviews", &body).await?;
        Ok(reply["aggregations"]["last"]["value"]
            .as_f64()
            .map_or(0, |v| v as i64))
    }

    async fn visitor_seen(
        &self,
        site: &str,
        visitor: &str,
        since_ms: i64,
    ) -> Result<bool, StoreError> {
        let body = json!({
            "size": 1,
            "_source": ["seq"],
            "query": {"bool": {"filter": [
                term("site", site), term("visitor", visitor),
                {"range": {"ts_ms": {"gte": since_ms}}},
            ]}},
        });
        let reply = self.pageview_search("pageviews", &body).await?;
        Ok(reply["hits"].as_array().is_some_and(|h| !h.is_empty()))
    }
}
