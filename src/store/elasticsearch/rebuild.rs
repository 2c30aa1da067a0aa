//! Rebuilding the projections while serving: replay the journal into a new generation
//! of entity indices, swap every entity alias to it in one `_aliases` call, replay every
//! event the first pass did not see, then drop the old generation.
//!
//! Why nothing is missed: a writer stores its events before any of its entity writes,
//! so a writer whose entity writes went to the old generation (before the swap) has its
//! event visible to a search after the swap and a refresh. The first pass counts what it
//! replayed per range of sequence numbers; after the swap, every range whose count grew
//! (an event with a low sequence number that became visible late: a batch in flight, or
//! one from another replica) is replayed again, and so is everything above the cut-over.
//! Replaying is idempotent (versioned merges), so replaying a range twice is harmless.

use std::collections::HashMap;

use elasticsearch::http::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::layout::{self, ENTITIES};
use super::ElasticsearchStore;
use crate::model::{ContentType, EntityWrite};
use crate::store::{Progress, Projector, RawEvent, RebuildReport, StoreError};

/// Events per replay page (payloads are up to tens of KB each).
const PAGE: usize = 500;

/// Ranges counted per search after the swap (well under `search.max_buckets`).
const RANGES_PER_SEARCH: usize = 1_000;

/// How many events the first pass replayed per range of sequence numbers: `(hi, n)`
/// counts the events in `(previous hi, hi]`; the first range has no lower bound.
#[derive(Debug, Default)]
struct Ledger {
    ranges: Vec<(i64, u64)>,
    open: u64,
}

impl Ledger {
    fn record(&mut self, seq: i64) {
        let i = self.ranges.partition_point(|(hi, _)| *hi < seq);
        match self.ranges.get_mut(i) {
            Some((_, n)) => *n += 1,
            None => self.open += 1,
        }
    }

    /// Ends the open range at `hi` (or folds it into the last one if that reaches `hi`).
    fn close(&mut self, hi: i64) {
        match self.ranges.last_mut() {
            Some((last, n)) if *last >= hi => *n += self.open,
            _ => self.ranges.push((hi, self.open)),
        }
        self.open = 0;
    }

    /// `(lo, hi, n)` for every range: events with `lo < seq <= hi` (no `lo`: unbounded).
    fn bounds(&self) -> Vec<(Option<i64>, i64, u64)> {
        let mut lo = None;
        self.ranges
            .iter()
            .map(|&(hi, n)| {
                let range = (lo, hi, n);
                lo = Some(hi);
                range
            })
            .collect()
    }
}

fn seq_range(lo: Option<i64>, hi: Option<i64>) -> Value {
    let mut bounds = serde_json::Map::new();
    if let Some(lo) = lo {
        bounds.insert("gt".into(), json!(lo));
    }
    if let Some(hi) = hi {
        bounds.insert("lte".into(), json!(hi));
    }
    json!({"range": {"seq": bounds}})
}

#[derive(Deserialize)]
struct Replayed {
    seq: i64,
    source: String,
    kind: String,
    received_at: i64,
    payload: Box<serde_json::value::RawValue>,
    #[serde(default)]
    content_type: Option<String>,
}

impl ElasticsearchStore {
    pub(super) async fn rebuild(
        &self,
        projector: Projector,
        progress: Progress,
    ) -> Result<RebuildReport, StoreError> {
        let events = self.names.alias("events");
        self.cluster.refresh(&events).await?;
        let body = json!({"size": 0, "track_total_hits": true, "aggs": {"upto": {"max": {"field": "seq"}}}});
        let reply = self.cluster.search(&events, &body).await?;
        let total = reply.total();
        // Sequence numbers stay below 2^53, so the double a `max` answers is exact.
        let upto = reply.aggregations["upto"]["value"].as_f64().unwrap_or(0.0) as i64;

        let generation = chrono::Utc::now().timestamp_millis();
        let fresh: HashMap<&'static str, String> = ENTITIES
            .iter()
            .map(|e| (*e, self.names.generation(e, generation)))
            .collect();
        for index in fresh.values() {
            layout::create_index(&self.cluster, index, None).await?;
        }
        let mut ledger = Ledger::default();
        let (events_done, writes) = self
            .replay(
                &fresh,
                seq_range(None, Some(upto)),
                &projector,
                |done| progress(done, total),
                Some(&mut ledger),
            )
            .await?;
        ledger.close(upto);
        progress(events_done, events_done.max(total));

        // Swap every alias at once; remember the old generation to drop it after.
        let mut actions = Vec::new();
        let mut old = Vec::new();
        for entity in ENTITIES {
            let alias = self.names.alias(entity);
            for index in layout::alias_targets(&self.cluster, &alias).await? {
                actions.push(json!({"remove": {"index": index, "alias": alias}}));
                old.push(index);
            }
            actions.push(
                json!({"add": {"index": fresh[entity], "alias": alias, "is_write_index": true}}),
            );
        }
        self.cluster
            .json(
                Method::Post,
                "/_aliases",
                &[],
                Some(&json!({ "actions": actions })),
            )
            .await?;

        // Every event whose entity writes went to the old generation is visible now.
        self.cluster.refresh(&events).await?;
        let mut caught_up = 0;
        for (lo, hi, was) in self.grown_ranges(&ledger).await? {
            let (now, _) = self
                .replay(&fresh, seq_range(lo, Some(hi)), &projector, |_| {}, None)
                .await?;
            tracing::info!(from = ?lo, to = hi, events = now.saturating_sub(was), "replayed events stored late during the rebuild");
            caught_up += now.saturating_sub(was);
        }
        let (late, _) = self
            .replay(
                &fresh,
                seq_range(Some(upto), None),
                &projector,
                |_| {},
                None,
            )
            .await?;
        caught_up += late;
        for index in old {
            if let Err(error) = self
                .cluster
                .call(Method::Delete, &format!("/{index}"), &[], None, true)
                .await
            {
                tracing::warn!(%index, error = %crate::telemetry::chain(&error), "could not drop the old projection index");
            }
        }
        self.cluster.refresh(&self.names.all()).await?;
        Ok(RebuildReport {
            events: events_done,
            writes,
            caught_up,
        })
    }

    /// The ledger's ranges that hold more events now than the first pass replayed, with
    /// the count it replayed: one `range` aggregation per [`RANGES_PER_SEARCH`] ranges.
    async fn grown_ranges(
        &self,
        ledger: &Ledger,
    ) -> Result<Vec<(Option<i64>, i64, u64)>, StoreError> {
        let events = self.names.alias("events");
        let mut grown = Vec::new();
        for chunk in ledger.bounds().chunks(RANGES_PER_SEARCH) {
            // `from` is inclusive and `to` exclusive; sequence numbers are integers.
            let ranges: Vec<Value> = chunk
                .iter()
                .enumerate()
                .map(|(i, (lo, hi, _))| {
                    let mut r = json!({"key": i.to_string(), "to": hi + 1});
                    if let Some(lo) = lo {
                        r["from"] = json!(lo + 1);
                    }
                    r
                })
                .collect();
            let body = json!({
                "size": 0, "track_total_hits": false,
                "aggs": {"seqs": {"range": {"field": "seq", "ranges": ranges, "keyed": true}}},
            });
            let reply = self.cluster.search(&events, &body).await?;
            for (i, &(lo, hi, was)) in chunk.iter().enumerate() {
                let now = reply.aggregations["seqs"]["buckets"][i.to_string()]["doc_count"]
                    .as_u64()
                    .ok_or_else(|| {
                        StoreError::Corrupt(format!("no count for events in ({lo:?}, {hi}]"))
                    })?;
                if now > was {
                    grown.push((lo, hi, was));
                }
            }
        }
        Ok(grown)
    }

    /// Projects every event matching `range` again, in sequence order, into `targets`,
    /// counting them in `ledger` per page. Returns (events replayed, writes applied).
    async fn replay(
        &self,
        targets: &HashMap<&'static str, String>,
        range: Value,
        projector: &Projector,
        tick: impl Fn(u64),
        mut ledger: Option<&mut Ledger>,
    ) -> Result<(u64, u64), StoreError> {
        let events = self.names.alias("events");
        let (mut done, mut writes) = (0u64, 0u64);
        let mut after: Option<Vec<Value>> = None;
        loop {
            let mut body = json!({
                "size": PAGE, "query": range, "track_total_hits": false,
                "sort": [{"seq": "asc"}, {"source": "asc"}, {"dedup_key": "asc"}],
            });
            if let Some(after) = &after {
                body["search_after"] = json!(after);
            }
            let hits = self.cluster.search(&events, &body).await?.hits.hits;
            let full = hits.len() == PAGE;
            after = hits.last().map(|h| h.sort.clone());
            let page: Vec<RawEvent> = hits
                .iter()
                .map(|h| {
                    let e: Replayed = serde_json::from_str(h.source.get())
                        .map_err(|e| StoreError::Corrupt(format!("event {}: {e}", h.id)))?;
                    let content_type = super::read::content_type(e.seq, e.content_type.as_deref())?;
                    let payload = match content_type {
                        ContentType::Json => e.payload.get().as_bytes().to_vec(),
                        ContentType::Text => serde_json::from_str::<String>(e.payload.get())
                            .map_err(|err| {
                                StoreError::Corrupt(format!("event {}: text payload: {err}", e.seq))
                            })?
                            .into_bytes(),
                    };
                    Ok(RawEvent {
                        seq: e.seq,
                        source: e.source,
                        kind: e.kind,
                        received_at: e.received_at,
                        payload,
                        content_type,
                    })
                })
                .collect::<Result<_, StoreError>>()?;
            if let Some(ledger) = ledger.as_deref_mut() {
                for event in &page {
                    ledger.record(event.seq);
                }
                if let Some(last) = page.last() {
                    ledger.close(last.seq);
                }
            }
            let count = page.len() as u64;
            // Projection is CPU work, and a projector may block.
            let projector = projector.clone();
            let projected: Vec<Vec<EntityWrite>> =
                tokio::task::spawn_blocking(move || page.iter().map(|e| projector(e)).collect())
                    .await?;
            let flat: Vec<(usize, &EntityWrite)> = projected
                .iter()
                .enumerate()
                .flat_map(|(i, ws)| ws.iter().map(move |w| (i, w)))
                .collect();
            writes += flat.len() as u64;
            let rejected = self.apply_writes(targets, &flat).await?;
            for r in rejected {
                tracing::warn!(target = %r.target, kind = %r.kind, reason = %r.reason, "replayed write refused by the cluster");
            }
            done += count;
            tick(done);
            if !full {
                return Ok((done, writes));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Ledger;

    #[test]
    fn the_ledger_counts_per_page_range_and_folds_ties_into_the_earlier_page() {
        let mut ledger = Ledger::default();
        for seq in [1, 3, 5] {
            ledger.record(seq);
        }
        ledger.close(5);
        // A tie with the last page's end (another replica's equal sequence number)
        // belongs to that range; 9 opens the next.
        for seq in [5, 9] {
            ledger.record(seq);
        }
        ledger.close(9);
        ledger.close(12);
        assert_eq!(
            ledger.bounds(),
            [(None, 5, 4), (Some(5), 9, 1), (Some(9), 12, 0)]
        );
        let mut empty = Ledger::default();
        empty.close(0);
        assert_eq!(empty.bounds(), [(None, 0, 0)]);
    }
}
