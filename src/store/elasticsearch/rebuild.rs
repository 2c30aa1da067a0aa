//! Rebuilding the projections while serving: replay the journal into a new generation
//! of entity indices, swap every entity alias to it in one `_aliases` call, replay the
//! events that arrived meanwhile, then drop the old generation.

use std::collections::HashMap;

use elasticsearch::http::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::layout::{self, ENTITIES};
use super::ElasticsearchStore;
use crate::model::EntityWrite;
use crate::store::{Progress, Projector, RawEvent, RebuildReport, StoreError};

/// Events per replay page (payloads are up to tens of KB each).
const PAGE: usize = 500;

#[derive(Deserialize)]
struct Replayed {
    seq: i64,
    source: String,
    kind: String,
    received_at: i64,
    payload: Box<serde_json::value::RawValue>,
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
        let (events_done, writes) = self
            .replay(
                &fresh,
                json!({"range": {"seq": {"lte": upto}}}),
                &projector,
                |done| progress(done, total),
            )
            .await?;
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

        self.cluster.refresh(&events).await?;
        let (caught_up, _) = self
            .replay(
                &fresh,
                json!({"range": {"seq": {"gt": upto}}}),
                &projector,
                |_| {},
            )
            .await?;
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

    /// Projects every event matching `range` again, in sequence order, into `targets`.
    /// Returns (events replayed, entity writes applied).
    async fn replay(
        &self,
        targets: &HashMap<&'static str, String>,
        range: Value,
        projector: &Projector,
        tick: impl Fn(u64),
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
                    Ok(RawEvent {
                        seq: e.seq,
                        source: e.source,
                        kind: e.kind,
                        received_at: e.received_at,
                        payload: e.payload.get().as_bytes().to_vec(),
                    })
                })
                .collect::<Result<_, StoreError>>()?;
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
            let (_, rejected) = self.apply_writes(targets, &flat, Vec::new()).await?;
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
