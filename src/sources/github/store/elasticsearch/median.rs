//! Exact medians. `percentiles` is a t-digest estimate once there are more than a few
//! hundred values, while SQLite's medians are exact, so the median is read at its rank
//! from the documents sorted by the field, using the estimate only as a pivot.

use serde_json::{json, Value};

use crate::store::elasticsearch::ElasticsearchStore;
use crate::store::StoreError;

/// `index.max_result_window`: `from + size` of one search may not exceed it.
const WINDOW: u64 = 10_000;

/// What to take the median of: `field` over the documents `query` matches, which must
/// all have the field, with a unique `tiebreak` field for `search_after` paging.
pub(super) struct MedianOf<'a> {
    pub target: &'a str,
    pub query: Value,
    pub field: &'static str,
    pub tiebreak: &'static str,
}

impl ElasticsearchStore {
    /// The exact median of the `n` values, or `None` without any. Within the result
    /// window (n up to 20,000) it costs one search; beyond, `estimate` (the `percentiles`
    /// answer) splits the values into those below and above it, and the median is read
    /// from the side it falls on, near the pivot: three or four searches in all.
    pub(super) async fn exact_median(
        &self,
        of: &MedianOf<'_>,
        n: u64,
        estimate: Option<f64>,
    ) -> Result<Option<f64>, StoreError> {
        if n == 0 {
            return Ok(None);
        }
        let (lo, hi) = ((n - 1) / 2, n / 2);
        let values = match estimate {
            Some(pivot) if hi >= WINDOW => {
                let pivot = pivot.floor() as i64;
                let below = self.count(of, json!({"lt": pivot})).await?;
                let mut values = Vec::new();
                for rank in [lo, hi] {
                    let value = if rank >= below {
                        self.nth(of, json!({"gte": pivot}), false, rank - below)
                            .await?
                    } else {
                        self.nth(of, json!({"lt": pivot}), true, below - 1 - rank)
                            .await?
                    };
                    values.push(value);
                }
                values
            }
            _ => {
                let mut values = vec![self.nth(of, json!({}), false, lo).await?];
                if hi != lo {
                    values.push(self.nth(of, json!({}), false, hi).await?);
                }
                values
            }
        };
        let values: Option<Vec<f64>> = values.into_iter().collect();
        Ok(values.map(|v| v.iter().sum::<f64>() / v.len() as f64))
    }

    fn narrowed(of: &MedianOf<'_>, bounds: &Value) -> Value {
        let mut filters = vec![of.query.clone()];
        if bounds.as_object().is_some_and(|b| !b.is_empty()) {
            filters.push(json!({"range": {of.field: bounds}}));
        }
        json!({"bool": {"filter": filters}})
    }

    async fn count(&self, of: &MedianOf<'_>, bounds: Value) -> Result<u64, StoreError> {
        let body =
            json!({"size": 0, "track_total_hits": true, "query": Self::narrowed(of, &bounds)});
        Ok(self.cluster().search(of.target, &body).await?.total())
    }

    /// The value at `offset` in the field's order (descending if `desc`) among the
    /// documents within `bounds`; `None` if there are fewer (they changed meanwhile).
    async fn nth(
        &self,
        of: &MedianOf<'_>,
        bounds: Value,
        desc: bool,
        offset: u64,
    ) -> Result<Option<f64>, StoreError> {
        let order = if desc { "desc" } else { "asc" };
        let query = Self::narrowed(of, &bounds);
        let value = |sort: &[Value]| sort.first().and_then(Value::as_f64);
        if offset < WINDOW {
            let body = json!({
                "size": 1, "from": offset, "_source": false, "track_total_hits": false,
                "query": query, "sort": [{of.field: order}],
            });
            let hits = self.cluster().search(of.target, &body).await?.hits.hits;
            return Ok(hits.first().and_then(|h| value(&h.sort)));
        }
        // Past the window: page with `search_after`, counting down to the offset.
        let mut skip = offset;
        let mut after: Option<Vec<Value>> = None;
        loop {
            let mut body = json!({
                "size": WINDOW, "_source": false, "track_total_hits": false,
                "query": query, "sort": [{of.field: order}, {of.tiebreak: order}],
            });
            if let Some(after) = &after {
                body["search_after"] = json!(after);
            }
            let hits = self.cluster().search(of.target, &body).await?.hits.hits;
            if let Some(hit) = hits.get(skip as usize) {
                return Ok(value(&hit.sort));
            }
            if (hits.len() as u64) < WINDOW {
                return Ok(None);
            }
            skip -= hits.len() as u64;
            after = hits.last().map(|h| h.sort.clone());
        }
    }
}
