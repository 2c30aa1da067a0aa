//! Sync results enter the store the way webhooks do: as journaled envelopes of source
//! `github-sync` carrying their entity writes. So they are versioned like webhook
//! writes, identical re-syncs are duplicates, and `reckon reindex` replays them.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::TaskSpec;
use crate::model::{EntityWrite, Envelope};
use crate::store::{RawEvent, Store, StoreError};

/// The source sync envelopes are stored under.
pub const SOURCE: &str = "github-sync";

/// Writes per envelope: keeps each journaled payload small.
const CHUNK: usize = 250;

#[derive(Serialize, Deserialize)]
struct SyncPayload {
    task: TaskSpec,
    writes: Vec<EntityWrite>,
}

/// Journals `writes` in chunks and applies them; returns how many were new.
pub async fn store_writes(
    store: &dyn Store,
    spec: &TaskSpec,
    writes: Vec<EntityWrite>,
) -> Result<u64, StoreError> {
    let mut stored = 0;
    let mut batch = Vec::new();
    let now = chrono::Utc::now().timestamp_millis();
    for chunk in writes.chunks(CHUNK) {
        let payload = serde_json::to_vec(&SyncPayload {
            task: spec.clone(),
            writes: chunk.to_vec(),
        })
        .expect("entity writes serialize");
        let key = hex::encode(Sha256::digest(&payload));
        batch.push(Envelope {
            source: SOURCE.to_owned(),
            kind: format!("sync.{}", spec.kind()),
            action: None,
            delivery_id: format!("sync-{}", &key[..16]),
            hook_id: None,
            dedup_key: key,
            received_at: now,
            size: payload.len(),
            payload,
            content_type: crate::model::ContentType::Json,
            writes: chunk.to_vec(),
        });
    }
    for envelopes in batch.chunks(16) {
        let sizes: Vec<u64> = envelopes.iter().map(|e| e.writes.len() as u64).collect();
        let outcomes = store.write_batch(envelopes.to_vec()).await?;
        stored += outcomes
            .iter()
            .zip(sizes)
            .filter(|(o, _)| **o == crate::model::WriteOutcome::Accepted)
            .map(|(_, n)| n)
            .sum::<u64>();
    }
    Ok(stored)
}

/// The entity writes of a stored sync envelope, for rebuilds.
pub fn project_stored(event: &RawEvent) -> Vec<EntityWrite> {
    serde_json::from_slice::<SyncPayload>(&event.payload)
        .map(|p| p.writes)
        .unwrap_or_default()
}
