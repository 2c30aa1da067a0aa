//! The write path, one group-commit batch at a time. Each delivery first claims its
//! deterministic dedup `_id` with `op_type=create`, so a redelivery is caught whatever
//! month it lands in; then the journal (events, delivery records) is written, and only
//! after it the merged entity documents. Only what the cluster confirmed is acknowledged.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::cluster::{Action, BulkOp, EsError, ItemResult};
use super::entities::{self, DocKey, EntityDoc, RepoDoc};
use super::ElasticsearchStore;
use crate::model::{ContentType, EntityWrite, Envelope, SourceRow, WriteOutcome};
use crate::sources::github::merge;
use crate::store::{source_schema, StoreError};

/// A claim left `pending` this long by another Reckon is taken to be from a writer
/// that died mid-batch, and is taken over.
const TAKEOVER_MS: i64 = 120_000;

/// The dedup `_id` of a delivery: the same for every redelivery, in any month.
pub fn dedup_id(source: &str, dedup_key: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(source.as_bytes());
    hash.update([0]);
    hash.update(dedup_key.as_bytes());
    hex::encode(hash.finalize())
}

#[derive(Debug, Serialize, Deserialize)]
struct DedupDoc {
    source: String,
    dedup_key: String,
    /// `pending` while its writes are in flight, `stored` once they are confirmed.
    state: String,
    owner: String,
    claimed_at: i64,
    seq: i64,
    event_index: String,
}

/// Where an accepted delivery's event goes: fixed at the first claim, so a retry after
/// a crash overwrites the same document instead of adding one to another month.
#[derive(Debug, Clone)]
struct Claim {
    seq: i64,
    event_index: String,
}

#[derive(Serialize)]
struct EventDoc<'a> {
    seq: i64,
    source: &'a str,
    dedup_key: &'a str,
    kind: &'a str,
    action: Option<&'a str>,
    delivery_id: &'a str,
    hook_id: Option<&'a str>,
    received_at: i64,
    day: String,
    /// JSON as received; text (`content_type: text/plain`) as a JSON string.
    payload: &'a RawValue,
    /// Absent for JSON, as in every document written before content types.
    #[serde(skip_serializing_if = "Option::is_none")]
    content_type: Option<&'static str>,
}

#[derive(Serialize, Deserialize)]
pub struct DeliveryDoc {
    pub seq: i64,
    pub source: String,
    pub kind: String,
    pub action: Option<String>,
    pub delivery_id: String,
    pub hook_id: Option<String>,
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
    pub received_at: i64,
    pub size: u64,
}

#[derive(Serialize)]
struct DeadLetterDoc<'a> {
    seq: i64,
    source: &'a str,
    kind: &'a str,
    delivery_id: &'a str,
    target: &'a str,
    error: &'a str,
    reason: &'a str,
    received_at: i64,
    document: String,
}

/// An entity write the cluster refused for good (a mapping or parse error): kept as a
/// dead letter and shown in the delivery log, never dropped.
#[derive(Debug, Clone)]
pub struct Rejected {
    /// The envelope (or replayed event) whose write it was.
    pub origin: usize,
    pub target: String,
    pub kind: String,
    pub reason: String,
    pub document: Vec<u8>,
}

/// The payload as the journal document holds it: JSON compacted onto one line, text
/// as a JSON string (so the `payload` field holds either, unparsed).
fn journal_payload(env: &Envelope) -> Result<std::borrow::Cow<'_, [u8]>, StoreError> {
    match env.content_type {
        ContentType::Json => Ok(compact_json(&env.payload)),
        ContentType::Text => {
            let text = std::str::from_utf8(&env.payload)
                .map_err(|e| StoreError::Corrupt(format!("text payload is not UTF-8: {e}")))?;
            Ok(std::borrow::Cow::Owned(
                serde_json::to_vec(text).expect("a string serialises"),
            ))
        }
    }
}

/// JSON without the whitespace between tokens, so a pretty-printed payload fits on one
/// NDJSON line. Input must be valid JSON; strings are copied untouched.
pub fn compact_json(json: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if !json.iter().any(|&b| b == b'\n' || b == b'\r') {
        return std::borrow::Cow::Borrowed(json);
    }
    let mut out = Vec::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for &b in json {
        if in_string {
            out.push(b);
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
            in_string = b == b'"';
            out.push(b);
        }
    }
    std::borrow::Cow::Owned(out)
}

fn permanent(result: &ItemResult) -> Option<(u16, &str, &str)> {
    match result {
        ItemResult::Failed {
            status,
            kind,
            reason,
        } => Some((*status, kind, reason)),
        _ => None,
    }
}

/// Whether a final item failure is the document's own fault (a 400: a mapping or parse
/// failure), which a dead letter records. Anything else (a block that outlasted the
/// retries, a missing index, a permission) is the cluster's, and means "not stored".
fn document_fault(status: u16) -> bool {
    status == 400
}

/// The batch position of the delivery whose op was refused as too large.
fn too_large(error: EsError, origin: impl Fn(usize) -> Option<usize>) -> StoreError {
    match error {
        EsError::TooLarge { item, bytes } => match origin(item) {
            Some(position) => StoreError::TooLarge { position, bytes },
            None => StoreError::from(EsError::TooLarge { item, bytes }),
        },
        other => StoreError::from(other),
    }
}

fn item_error(what: &str, status: u16, kind: &str, reason: &str) -> StoreError {
    StoreError::from(EsError::Status {
        method: "POST",
        path: format!("/_bulk ({what})"),
        status,
        kind: kind.to_owned(),
        reason: reason.to_owned(),
    })
}

/// What kind of op each journal bulk item was, so its result can be read.
enum JournalItem {
    Event(usize),
    Delivery,
}

impl ElasticsearchStore {
    pub(super) async fn write(&self, batch: &[Envelope]) -> Result<Vec<WriteOutcome>, StoreError> {
        let now = chrono::Utc::now().timestamp_millis();
        let n = batch.len();
        let ids: Vec<String> = batch
            .iter()
            .map(|e| dedup_id(&e.source, &e.dedup_key))
            .collect();
        let mut journal_indices: Vec<String> = batch
            .iter()
            .flat_map(|e| {
                [
                    self.names.journal("events", e.received_at),
                    self.names.journal("deliveries", e.received_at),
                ]
            })
            .collect();
        for env in batch {
            for row in rows(env) {
                journal_indices.push(self.names.journal(row_kind(row)?, env.received_at));
            }
        }
        journal_indices.sort();
        journal_indices.dedup();
        self.ensure_indices(&journal_indices).await?;

        // Sequence numbers in batch order, so the delivery log reads in arrival order,
        // in a slot this process holds.
        let slot = self.writer_slot().await?;
        let seqs: Vec<i64> = batch
            .iter()
            .map(|e| self.next_seq(e.received_at, slot))
            .collect();
        let claims = self.claim(batch, &ids, &seqs, now).await?;

        // The journal: events of accepted deliveries, and a log record for every one.
        let mut ops = Vec::with_capacity(n * 2);
        let mut items = Vec::with_capacity(n * 2);
        let mut delivery_seq = vec![0; n];
        let mut outcomes = Vec::with_capacity(n);
        for (i, env) in batch.iter().enumerate() {
            let (status, seq) = match &claims[i] {
                Some(claim) => {
                    let payload = journal_payload(env)?;
                    let payload: &RawValue = serde_json::from_slice(&payload)
                        .map_err(|e| StoreError::Corrupt(format!("payload is not JSON: {e}")))?;
                    let doc = EventDoc {
                        seq: claim.seq,
                        source: &env.source,
                        dedup_key: &env.dedup_key,
                        kind: &env.kind,
                        action: env.action.as_deref(),
                        delivery_id: &env.delivery_id,
                        hook_id: env.hook_id.as_deref(),
                        received_at: env.received_at,
                        day: day_of(env.received_at),
                        payload,
                        content_type: (env.content_type != ContentType::Json)
                            .then(|| env.content_type.as_str()),
                    };
                    ops.push(BulkOp::new(
                        Action::Index,
                        &claim.event_index,
                        ids[i].clone(),
                        Some(serde_json::to_vec(&doc).expect("events serialize")),
                    ));
                    items.push(JournalItem::Event(i));
                    for row in rows(env) {
                        ops.push(self.row_op(env, claim, &ids[i], row)?);
                        items.push(JournalItem::Event(i));
                    }
                    outcomes.push(WriteOutcome::Accepted);
                    (WriteOutcome::Accepted, claim.seq)
                }
                None => {
                    outcomes.push(WriteOutcome::Duplicate);
                    (WriteOutcome::Duplicate, seqs[i])
                }
            };
            delivery_seq[i] = seq;
            ops.push(self.delivery_op(env, seq, status.as_str(), None));
            items.push(JournalItem::Delivery);
        }
        // The journal goes first, entities after it: a rebuild relies on every entity
        // write having its event in the journal already (see `rebuild`). An event too
        // big for the cluster is refused here, before anything else of the batch.
        let journal_results = self.cluster.bulk(&ops, self.refresh).await.map_err(|e| {
            too_large(e, |item| match items.get(item) {
                Some(JournalItem::Event(i)) => Some(*i),
                _ => None,
            })
        })?;
        self.check_settled(claims.iter().flatten().map(|c| c.seq), slot);
        let writes: Vec<(usize, &EntityWrite)> = batch
            .iter()
            .enumerate()
            .filter(|(i, _)| claims[*i].is_some())
            .flat_map(|(i, env)| env.writes.iter().map(move |w| (i, w)))
            .filter(|(_, w)| !matches!(w, EntityWrite::Row(_)))
            .collect();
        let targets = self.entity_aliases();
        let rejected = self.apply_writes(&targets, &writes).await?;

        // Settle: dead letters for what the cluster refused for good, then mark claims.
        let mut settle = Vec::new();
        let mut dead: HashMap<usize, Vec<String>> = HashMap::new();
        for (item, result) in items.iter().zip(&journal_results) {
            let Some((status, kind, reason)) = permanent(result) else {
                continue;
            };
            match *item {
                JournalItem::Event(_) if !document_fault(status) => {
                    return Err(item_error("event", status, kind, reason))
                }
                JournalItem::Delivery => {
                    return Err(item_error("delivery record", status, kind, reason))
                }
                JournalItem::Event(i) => {
                    let env = &batch[i];
                    let reason = format!("event: {kind}: {reason}");
                    settle.push(self.dead_letter_op(
                        env,
                        delivery_seq[i],
                        "events",
                        kind,
                        &reason,
                        String::from_utf8_lossy(&env.payload).into_owned(),
                    ));
                    dead.entry(i).or_default().push(reason);
                }
            }
        }
        for r in rejected {
            let env = &batch[r.origin];
            let reason = format!("{} : {}: {}", r.target, r.kind, r.reason);
            settle.push(self.dead_letter_op(
                env,
                delivery_seq[r.origin],
                &r.target,
                &r.kind,
                &reason,
                String::from_utf8_lossy(&r.document).into_owned(),
            ));
            dead.entry(r.origin).or_default().push(reason);
        }
        for (&i, reasons) in &dead {
            settle.push(self.delivery_op(
                &batch[i],
                delivery_seq[i],
                "dead_letter",
                Some(reasons.join("; ")),
            ));
        }
        let must = settle.len();
        for (i, claim) in claims.iter().enumerate() {
            if let Some(claim) = claim {
                let doc = DedupDoc {
                    source: batch[i].source.clone(),
                    dedup_key: batch[i].dedup_key.clone(),
                    state: "stored".into(),
                    owner: self.owner.clone(),
                    claimed_at: now,
                    seq: claim.seq,
                    event_index: claim.event_index.clone(),
                };
                settle.push(BulkOp::new(
                    Action::Index,
                    &self.names.alias("dedup"),
                    ids[i].clone(),
                    Some(serde_json::to_vec(&doc).expect("dedup docs serialize")),
                ));
            }
        }
        if !settle.is_empty() {
            // Dead letters change the delivery log: visible as soon as the journal is.
            let refresh = if must > 0 { self.refresh } else { "false" };
            match self.cluster.bulk(&settle, refresh).await {
                Ok(results) => {
                    if let Some((status, kind, reason)) = results[..must].iter().find_map(permanent)
                    {
                        return Err(item_error("dead letter", status, kind, reason));
                    }
                    if results[must..].iter().any(|r| permanent(r).is_some()) {
                        tracing::warn!("could not mark some deliveries stored; a redelivery will be stored again, idempotently");
                    }
                }
                Err(error) if must > 0 => return Err(error.into()),
                Err(error) => {
                    tracing::warn!(error = %crate::telemetry::chain(&error), "could not mark deliveries stored; a redelivery will be stored again, idempotently");
                }
            }
        }
        Ok(outcomes)
    }

    /// Claims each new delivery's dedup document. `None` for duplicates: already
    /// stored, or repeated earlier in this batch.
    async fn claim(
        &self,
        batch: &[Envelope],
        ids: &[String],
        seqs: &[i64],
        now: i64,
    ) -> Result<Vec<Option<Claim>>, StoreError> {
        let dedup = self.names.alias("dedup");
        let mut claims: Vec<Option<Claim>> = vec![None; batch.len()];
        let mut first_seen: HashMap<&str, usize> = HashMap::new();
        let mut ops = Vec::new();
        let mut asked = Vec::new();
        for (i, env) in batch.iter().enumerate() {
            if first_seen.insert(&ids[i], i).is_some() {
                continue;
            }
            let claim = Claim {
                seq: seqs[i],
                event_index: self.names.journal("events", env.received_at),
            };
            let doc = DedupDoc {
                source: env.source.clone(),
                dedup_key: env.dedup_key.clone(),
                state: "pending".into(),
                owner: self.owner.clone(),
                claimed_at: now,
                seq: claim.seq,
                event_index: claim.event_index.clone(),
            };
            ops.push(BulkOp::new(
                Action::Create,
                &dedup,
                ids[i].clone(),
                Some(serde_json::to_vec(&doc).expect("dedup docs serialize")),
            ));
            asked.push((i, claim));
        }
        let results = self.cluster.bulk(&ops, "false").await?;
        let mut contested = Vec::new();
        for ((i, claim), result) in asked.into_iter().zip(results) {
            match result {
                ItemResult::Done { .. } | ItemResult::Missing => claims[i] = Some(claim),
                ItemResult::Conflict => contested.push(i),
                ItemResult::Failed {
                    status,
                    kind,
                    reason,
                } => return Err(item_error("dedup claim", status, &kind, &reason)),
            }
        }
        if contested.is_empty() {
            return Ok(claims);
        }
        // Already claimed: stored (a duplicate), or left pending by a batch that failed.
        let docs = self
            .cluster
            .mget(
                &contested
                    .iter()
                    .map(|&i| (dedup.clone(), ids[i].clone()))
                    .collect::<Vec<_>>(),
            )
            .await?;
        let mut ops = Vec::new();
        let mut taking = Vec::new();
        for (&i, doc) in contested.iter().zip(docs) {
            let busy = || StoreError::from(EsError::Contended(batch[i].delivery_id.clone()));
            let doc = doc.ok_or_else(busy)?;
            let held: DedupDoc = serde_json::from_value(doc.source.unwrap_or_default())
                .map_err(|e| StoreError::Corrupt(format!("dedup record {}: {e}", doc.id)))?;
            if held.state == "stored" {
                continue;
            }
            if held.owner != self.owner && held.claimed_at > now - TAKEOVER_MS {
                return Err(busy());
            }
            let taken = DedupDoc {
                owner: self.owner.clone(),
                claimed_at: now,
                ..held
            };
            let mut op = BulkOp::new(
                Action::Index,
                &dedup,
                ids[i].clone(),
                Some(serde_json::to_vec(&taken).expect("dedup docs serialize")),
            );
            op.if_seq_no = doc.seq_no;
            op.if_primary_term = doc.primary_term;
            ops.push(op);
            taking.push((
                i,
                Claim {
                    seq: taken.seq,
                    event_index: taken.event_index,
                },
            ));
        }
        if !ops.is_empty() {
            self.ensure_indices(
                &taking
                    .iter()
                    .map(|(_, c)| c.event_index.clone())
                    .collect::<Vec<_>>(),
            )
            .await?;
        }
        let results = self.cluster.bulk(&ops, "false").await?;
        for ((i, claim), result) in taking.into_iter().zip(results) {
            match result {
                ItemResult::Done { .. } | ItemResult::Missing => claims[i] = Some(claim),
                ItemResult::Conflict => {
                    return Err(EsError::Contended(batch[i].delivery_id.clone()).into())
                }
                ItemResult::Failed {
                    status,
                    kind,
                    reason,
                } => return Err(item_error("dedup takeover", status, &kind, &reason)),
            }
        }
        Ok(claims)
    }

    /// A source's read-model row, in the journal month its event's claim fixed, so a
    /// retried delivery overwrites the same document.
    fn row_op(
        &self,
        env: &Envelope,
        claim: &Claim,
        id: &str,
        row: &SourceRow,
    ) -> Result<BulkOp, StoreError> {
        let kind = row_kind(row)?;
        let index =
            claim
                .event_index
                .replacen(&self.names.alias("events"), &self.names.alias(kind), 1);
        let mut doc = row.fields.clone();
        doc.insert("seq".into(), claim.seq.into());
        doc.insert("source".into(), env.source.clone().into());
        doc.insert("dedup_key".into(), env.dedup_key.clone().into());
        doc.insert("received_at".into(), env.received_at.into());
        doc.insert("day".into(), day_of(env.received_at).into());
        Ok(BulkOp::new(
            Action::Index,
            &index,
            id.to_owned(),
            Some(serde_json::to_vec(&doc).expect("rows serialize")),
        ))
    }

    fn delivery_op(
        &self,
        env: &Envelope,
        seq: i64,
        status: &str,
        reason: Option<String>,
    ) -> BulkOp {
        let doc = DeliveryDoc {
            seq,
            source: env.source.clone(),
            kind: env.kind.clone(),
            action: env.action.clone(),
            delivery_id: env.delivery_id.clone(),
            hook_id: env.hook_id.clone(),
            status: status.to_owned(),
            reason,
            received_at: env.received_at,
            size: env.size as u64,
        };
        BulkOp::new(
            Action::Index,
            &self.names.journal("deliveries", env.received_at),
            seq.to_string(),
            Some(serde_json::to_vec(&doc).expect("deliveries serialize")),
        )
    }

    fn dead_letter_op(
        &self,
        env: &Envelope,
        seq: i64,
        target: &str,
        kind: &str,
        reason: &str,
        document: String,
    ) -> BulkOp {
        let doc = DeadLetterDoc {
            seq,
            source: &env.source,
            kind: &env.kind,
            delivery_id: &env.delivery_id,
            target,
            error: kind,
            reason,
            received_at: env.received_at,
            document,
        };
        BulkOp::new(
            Action::Index,
            &self.names.alias("dead-letters"),
            format!("{seq}-{target}"),
            Some(serde_json::to_vec(&doc).expect("dead letters serialize")),
        )
    }

    /// Merges entity writes, in order, into the stored documents of `targets` (entity
    /// kind → index or alias) and writes the results with external versions. An org
    /// rename splits the writes: everything before it is written, then the org's
    /// documents move. Returns the writes the cluster refused for good.
    pub(super) async fn apply_writes(
        &self,
        targets: &HashMap<&'static str, String>,
        writes: &[(usize, &EntityWrite)],
    ) -> Result<Vec<Rejected>, StoreError> {
        let mut rejected = Vec::new();
        let mut start = 0;
        for end in 0..=writes.len() {
            let rename = writes.get(end).and_then(|(_, w)| match w {
                EntityWrite::OrgRenamed { from, to } => Some((from, to)),
                _ => None,
            });
            if end < writes.len() && rename.is_none() {
                continue;
            }
            rejected.append(&mut self.flush(targets, &writes[start..end]).await?);
            if let Some((from, to)) = rename {
                self.rename_org(targets, from, to).await?;
            }
            start = end + 1;
        }
        Ok(rejected)
    }

    async fn flush(
        &self,
        targets: &HashMap<&'static str, String>,
        writes: &[(usize, &EntityWrite)],
    ) -> Result<Vec<Rejected>, StoreError> {
        struct Slot {
            before: Option<EntityDoc>,
            now: Option<EntityDoc>,
            origin: Option<usize>,
        }
        let mut keys: Vec<DocKey> = writes
            .iter()
            .filter_map(|(_, w)| entities::key_of(w))
            .collect();
        keys.sort();
        keys.dedup();
        let stored = self
            .cluster
            .mget(
                &keys
                    .iter()
                    .map(|(entity, id)| (targets[entity].clone(), id.clone()))
                    .collect::<Vec<_>>(),
            )
            .await?;
        // Ordered, so bulk bodies are deterministic.
        let mut slots: BTreeMap<DocKey, Slot> = BTreeMap::new();
        for (key, doc) in keys.into_iter().zip(stored) {
            let before = match doc.and_then(|d| d.source) {
                Some(source) => Some(EntityDoc::parse(key.0, source).map_err(|e| {
                    StoreError::Corrupt(format!("stored {} {}: {e}", key.0, key.1))
                })?),
                None => None,
            };
            slots.insert(
                key,
                Slot {
                    now: before.clone(),
                    before,
                    origin: None,
                },
            );
        }
        for &(origin, write) in writes {
            let Some(key) = entities::key_of(write) else {
                continue;
            };
            let slot = slots.get_mut(&key).expect("every key was read");
            if let Some(doc) = entities::merge(write, slot.now.as_ref()) {
                slot.now = Some(doc);
                slot.origin = Some(origin);
            }
        }
        let mut ops = Vec::new();
        let mut written = Vec::new();
        let mut moved = Vec::new();
        for slot in slots.values() {
            let (Some(origin), Some(doc)) = (slot.origin, &slot.now) else {
                continue;
            };
            if slot.before.as_ref() == Some(doc) {
                continue;
            }
            let mut op = BulkOp::new(
                Action::Index,
                &targets[doc.entity()],
                doc.id(),
                Some(doc.to_json()),
            );
            if let Some(version) = doc.es_version() {
                op = op.versioned(version);
            }
            ops.push(op);
            written.push((origin, doc));
            if let EntityDoc::Repo(repo) = doc {
                // Several writes may have merged into this slot: the repo moved if its
                // last row stands elsewhere than the stored one.
                let before = entities::as_repo(slot.before.as_ref()).map(RepoDoc::to_model);
                moved.extend(merge::repo_cascade(before.as_ref(), &repo.to_model()));
            }
        }
        let results = self
            .cluster
            .bulk(&ops, self.refresh)
            .await
            .map_err(|e| too_large(e, |item| written.get(item).map(|(origin, _)| *origin)))?;
        let mut rejected = Vec::new();
        for (result, (origin, doc)) in results.iter().zip(written) {
            if let Some((status, kind, reason)) = permanent(result) {
                if !document_fault(status) {
                    return Err(item_error(
                        &format!("{} {}", doc.entity(), doc.id()),
                        status,
                        kind,
                        reason,
                    ));
                }
                rejected.push(Rejected {
                    origin,
                    target: format!("{} {}", doc.entity(), doc.id()),
                    kind: kind.to_owned(),
                    reason: reason.to_owned(),
                    document: doc.to_json(),
                });
            }
        }
        if !moved.is_empty() {
            self.move_pull_requests(targets, &moved).await?;
        }
        Ok(rejected)
    }
}

/// The UTC day of a timestamp, as the events API names days.
pub fn day_of(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .date_naive()
        .to_string()
}

/// The source rows among an envelope's writes.
fn rows(env: &Envelope) -> impl Iterator<Item = &SourceRow> {
    env.writes.iter().filter_map(|w| match w {
        EntityWrite::Row(row) => Some(row),
        _ => None,
    })
}

/// A row's journal index kind, from the registered sources' journals: `server_events`
/// rows live in `…-server-events-v1-…`. A table no source registered is refused.
pub(crate) fn row_kind(row: &SourceRow) -> Result<&'static str, StoreError> {
    source_schema::es_journal_for_table(source_schema::registered(), &row.table)
        .map(|journal| journal.kind)
        .ok_or_else(|| {
            StoreError::Corrupt(format!(
                "no source registers an Elasticsearch journal for rows of table `{}`",
                row.table
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compacting_keeps_strings_and_drops_layout() {
        let pretty = b"{\n  \"a\": \"x \\\" \\n y\",\n  \"b\": [1, 2]\r\n}";
        let compact = compact_json(pretty);
        assert_eq!(&*compact, br#"{"a":"x \" \n y","b":[1,2]}"#);
        let v1: serde_json::Value = serde_json::from_slice(pretty).unwrap();
        let v2: serde_json::Value = serde_json::from_slice(&compact).unwrap();
        assert_eq!(v1, v2);
        assert!(matches!(
            compact_json(b"{\"a\": 1}"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn dedup_ids_are_stable_and_per_source() {
        assert_eq!(dedup_id("github", "1:abc"), dedup_id("github", "1:abc"));
        assert_ne!(dedup_id("github", "1:abc"), dedup_id("ci", "1:abc"));
        assert_ne!(dedup_id("a", "bc"), dedup_id("ab", "c"));
        assert_eq!(dedup_id("github", "x").len(), 64);
    }
}
