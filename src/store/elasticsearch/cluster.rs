//! Talking to the cluster: JSON requests retried on 429, 5xx, write blocks and lost
//! connections with backoff and jitter, and `_bulk` split by bytes, encoded as NDJSON,
//! whose answer is read item by item so only items that failed retryably go again.

use std::collections::VecDeque;
use std::time::Duration;

use elasticsearch::http::headers::HeaderMap;
use elasticsearch::http::Method;
use elasticsearch::Elasticsearch;
use rand::Rng;
use serde::Deserialize;
use serde_json::Value;

/// A failure talking to the cluster. Every one of them means "not stored" to intake.
#[derive(Debug, thiserror::Error)]
pub enum EsError {
    #[error("cannot reach the cluster for {method} {path}")]
    Unreachable {
        method: &'static str,
        path: String,
        #[source]
        source: elasticsearch::Error,
    },
    #[error("the cluster answered {status} to {method} {path}: {kind}: {reason}")]
    Status {
        method: &'static str,
        path: String,
        status: u16,
        kind: String,
        reason: String,
    },
    #[error("cannot decode the cluster's answer to {path}")]
    Decode {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{failed} bulk items still failed after {attempts} attempts; first: {first}")]
    BulkExhausted {
        failed: usize,
        attempts: u32,
        first: String,
    },
    #[error("delivery `{0}` is being stored by another Reckon right now")]
    Contended(String),
    #[error("a {bytes}-byte bulk item is larger than the cluster accepts in one request (413)")]
    TooLarge {
        /// Which op of the `bulk` call it was.
        item: usize,
        bytes: usize,
    },
    #[error("`_mget` could not read {index}/{id}: {kind}: {reason}")]
    Mget {
        index: String,
        id: String,
        kind: String,
        reason: String,
    },
}

impl EsError {
    /// The error type Elasticsearch named, e.g. `index_not_found_exception`.
    pub fn kind(&self) -> Option<&str> {
        match self {
            EsError::Status { kind, .. } => Some(kind),
            _ => None,
        }
    }
}

/// Which answers are worth asking again: overload, server faults, and the write blocks
/// a cluster sets while disk or memory runs low (`cluster_block_exception`, a 403 on
/// Amazon OpenSearch, a 429 on Elasticsearch's flood stage): they lift by themselves.
pub fn retryable(status: u16, kind: &str) -> bool {
    status == 429 || status >= 500 || kind == "cluster_block_exception"
}

/// Requests at most this big go to `_bulk` unless configured otherwise: half the
/// 10 MiB that Amazon OpenSearch's smaller instance types accept.
pub const DEFAULT_MAX_BULK_BYTES: usize = 5 * 1024 * 1024;

/// Exponential backoff from 50 ms, capped at 5 s, with full jitter.
pub fn backoff(attempt: u32) -> Duration {
    let cap = 50u64.saturating_mul(1 << attempt.min(7)).min(5_000);
    Duration::from_millis(rand::rng().random_range(cap / 2..=cap))
}

#[derive(Clone)]
pub struct Cluster {
    client: Elasticsearch,
    max_retries: u32,
    max_bulk_bytes: usize,
}

fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::Get => "GET",
        Method::Put => "PUT",
        Method::Post => "POST",
        Method::Delete => "DELETE",
        Method::Head => "HEAD",
    }
}

/// The `{"error": {"type", "reason"}}` body Elasticsearch and OpenSearch answer with;
/// Amazon's front end answers `{"Message": ...}`, and proxies plain text or HTML.
fn error_of(bytes: &[u8]) -> (String, String) {
    let body: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
    let error = &body["error"];
    match error {
        Value::Object(_) => (
            error["type"].as_str().unwrap_or("unknown").to_owned(),
            error["reason"].as_str().unwrap_or("").to_owned(),
        ),
        Value::String(s) => ("error".into(), s.clone()),
        _ => match body["Message"].as_str().or(body["message"].as_str()) {
            Some(message) => ("error".into(), message.to_owned()),
            None => {
                let text = String::from_utf8_lossy(bytes);
                let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
                ("unknown".into(), text.chars().take(200).collect())
            }
        },
    }
}

impl Cluster {
    pub fn new(client: Elasticsearch, max_retries: u32) -> Cluster {
        Cluster {
            client,
            max_retries,
            max_bulk_bytes: DEFAULT_MAX_BULK_BYTES,
        }
    }

    /// Splits `_bulk` bodies so none is bigger than `bytes`, unless one item is.
    pub fn with_max_bulk_bytes(mut self, bytes: usize) -> Cluster {
        self.max_bulk_bytes = bytes.max(1);
        self
    }

    /// Sends one request; retries lost connections, 429 and 5xx. A 404 comes back as
    /// `Ok(None)` when `missing_ok`, so callers can tell "absent" from "broken".
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&[u8]>,
        missing_ok: bool,
    ) -> Result<Option<Value>, EsError> {
        let name = method_name(&method);
        let mut attempt = 0;
        loop {
            let sent = self
                .client
                .send(method, path, HeaderMap::new(), Some(query), body, None)
                .await;
            let retry_error = match sent {
                Err(source) => EsError::Unreachable {
                    method: name,
                    path: path.to_owned(),
                    source,
                },
                Ok(response) => {
                    let status = response.status_code().as_u16();
                    let bytes = response
                        .bytes()
                        .await
                        .map_err(|source| EsError::Unreachable {
                            method: name,
                            path: path.to_owned(),
                            source,
                        });
                    let bytes = match bytes {
                        Ok(b) => b,
                        Err(e) if attempt < self.max_retries => {
                            attempt += 1;
                            tokio::time::sleep(backoff(attempt)).await;
                            tracing::warn!(error = %e, attempt, "retrying elasticsearch request");
                            continue;
                        }
                        Err(e) => return Err(e),
                    };
                    if (200..300).contains(&status) {
                        if bytes.is_empty() {
                            return Ok(Some(Value::Null));
                        }
                        return serde_json::from_slice(&bytes).map(Some).map_err(|source| {
                            EsError::Decode {
                                path: path.to_owned(),
                                source,
                            }
                        });
                    }
                    if status == 404 && missing_ok {
                        return Ok(None);
                    }
                    let (kind, reason) = error_of(&bytes);
                    let again = retryable(status, &kind);
                    let error = EsError::Status {
                        method: name,
                        path: path.to_owned(),
                        status,
                        kind,
                        reason,
                    };
                    if !again {
                        return Err(error);
                    }
                    error
                }
            };
            if attempt >= self.max_retries {
                return Err(retry_error);
            }
            attempt += 1;
            tracing::warn!(error = %retry_error, attempt, "retrying elasticsearch request");
            tokio::time::sleep(backoff(attempt)).await;
        }
    }

    /// `call` for requests whose target must exist.
    pub async fn json(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Value, EsError> {
        let bytes = body.map(|b| serde_json::to_vec(b).expect("JSON values serialize"));
        Ok(self
            .call(method, path, query, bytes.as_deref(), false)
            .await?
            .unwrap_or(Value::Null))
    }

    /// A search across indices that may not exist yet (no events this month, say).
    pub async fn search(&self, target: &str, body: &Value) -> Result<SearchReply, EsError> {
        let path = format!("/{target}/_search");
        let reply = self
            .json(
                Method::Post,
                &path,
                &[("ignore_unavailable", "true"), ("allow_no_indices", "true")],
                Some(body),
            )
            .await?;
        serde_json::from_value(reply).map_err(|source| EsError::Decode { path, source })
    }

    /// Sends `ops` through `_bulk`, re-sending only items that failed retryably (429,
    /// 5xx, a write block). Bodies are split to stay under `max_bulk_bytes`; an op
    /// bigger than that goes alone, and before the others, so that if the cluster
    /// refuses it (413) nothing else of the call has been written: that is
    /// [`EsError::TooLarge`]. Returns one final result per op, in order (success,
    /// conflict, missing or a permanent rejection); errors when retryable failures
    /// outlast the retries.
    pub async fn bulk(&self, ops: &[BulkOp], refresh: &str) -> Result<Vec<ItemResult>, EsError> {
        let encoded: Vec<Vec<u8>> = ops
            .iter()
            .map(|op| {
                let mut line = Vec::with_capacity(256);
                op.encode(&mut line);
                line
            })
            .collect();
        let mut results: Vec<Option<ItemResult>> = vec![None; ops.len()];
        let mut pending: Vec<usize> = (0..ops.len()).collect();
        let mut attempt = 0;
        while !pending.is_empty() {
            let mut again = Vec::new();
            let mut chunks = self.chunks(&pending, &encoded);
            while let Some(chunk) = chunks.pop_front() {
                match self.send_chunk(&chunk, &encoded, refresh).await {
                    Ok(items) => {
                        for (&i, result) in chunk.iter().zip(items) {
                            if let ItemResult::Failed { status, kind, .. } = &result {
                                if retryable(*status, kind) {
                                    again.push(i);
                                }
                            }
                            results[i] = Some(result);
                        }
                    }
                    // Over the cluster's own limit (below ours): halve and resend.
                    Err(EsError::Status { status: 413, .. }) if chunk.len() > 1 => {
                        let (head, tail) = chunk.split_at(chunk.len() / 2);
                        tracing::warn!(
                            items = chunk.len(),
                            "the cluster refused a bulk body as too large; splitting it"
                        );
                        chunks.push_front(tail.to_vec());
                        chunks.push_front(head.to_vec());
                    }
                    Err(EsError::Status { status: 413, .. }) => {
                        return Err(EsError::TooLarge {
                            item: chunk[0],
                            bytes: encoded[chunk[0]].len(),
                        })
                    }
                    Err(e) => return Err(e),
                }
            }
            if again.is_empty() {
                break;
            }
            again.sort_unstable();
            if attempt >= self.max_retries {
                let first = match &results[again[0]] {
                    Some(ItemResult::Failed {
                        status,
                        kind,
                        reason,
                    }) => format!("{status} {kind}: {reason}"),
                    _ => String::new(),
                };
                return Err(EsError::BulkExhausted {
                    failed: again.len(),
                    attempts: attempt + 1,
                    first,
                });
            }
            attempt += 1;
            tracing::warn!(
                items = again.len(),
                attempt,
                "retrying bulk items the cluster rejected"
            );
            tokio::time::sleep(backoff(attempt)).await;
            pending = again;
        }
        Ok(results
            .into_iter()
            .map(|r| r.expect("every op has a result"))
            .collect())
    }

    /// Groups `pending` ops, in order, into bodies of at most `max_bulk_bytes`; ops
    /// bigger than that each get a body of their own, sent first.
    fn chunks(&self, pending: &[usize], encoded: &[Vec<u8>]) -> VecDeque<Vec<usize>> {
        let (alone, rest): (Vec<usize>, Vec<usize>) = pending
            .iter()
            .partition(|&&i| encoded[i].len() > self.max_bulk_bytes);
        let mut out: VecDeque<Vec<usize>> = alone.into_iter().map(|i| vec![i]).collect();
        let (mut chunk, mut bytes) = (Vec::new(), 0);
        for i in rest {
            if bytes + encoded[i].len() > self.max_bulk_bytes && !chunk.is_empty() {
                out.push_back(std::mem::take(&mut chunk));
                bytes = 0;
            }
            bytes += encoded[i].len();
            chunk.push(i);
        }
        if !chunk.is_empty() {
            out.push_back(chunk);
        }
        out
    }

    async fn send_chunk(
        &self,
        chunk: &[usize],
        encoded: &[Vec<u8>],
        refresh: &str,
    ) -> Result<Vec<ItemResult>, EsError> {
        let mut body = Vec::with_capacity(chunk.iter().map(|&i| encoded[i].len()).sum());
        for &i in chunk {
            body.extend_from_slice(&encoded[i]);
        }
        let reply = self
            .call(
                Method::Post,
                "/_bulk",
                &[("refresh", refresh)],
                Some(&body),
                false,
            )
            .await?
            .unwrap_or(Value::Null);
        let reply: BulkReply = serde_json::from_value(reply).map_err(|source| EsError::Decode {
            path: "/_bulk".into(),
            source,
        })?;
        if reply.items.len() != chunk.len() {
            return Err(EsError::Status {
                method: "POST",
                path: "/_bulk".into(),
                status: 200,
                kind: "item_count_mismatch".into(),
                reason: format!("sent {} items, got {}", chunk.len(), reply.items.len()),
            });
        }
        Ok(reply.items.into_iter().map(|i| i.into_result()).collect())
    }

    /// Makes recent writes visible to searches of `target`.
    pub async fn refresh(&self, target: &str) -> Result<(), EsError> {
        self.call(
            Method::Post,
            &format!("/{target}/_refresh"),
            &[("ignore_unavailable", "true"), ("allow_no_indices", "true")],
            None,
            true,
        )
        .await?;
        Ok(())
    }

    /// Realtime reads of documents by id; `None` where a document is absent. A document
    /// the cluster could not read (its `error` entry: a missing index, a shard down) is
    /// an error, never "absent": callers merge into what they read.
    pub async fn mget(&self, docs: &[(String, String)]) -> Result<Vec<Option<Doc>>, EsError> {
        if docs.is_empty() {
            return Ok(Vec::new());
        }
        let body = serde_json::json!({
            "docs": docs.iter().map(|(index, id)| serde_json::json!({"_index": index, "_id": id})).collect::<Vec<_>>()
        });
        let reply = self.json(Method::Post, "/_mget", &[], Some(&body)).await?;
        let reply: MgetReply = serde_json::from_value(reply).map_err(|source| EsError::Decode {
            path: "/_mget".into(),
            source,
        })?;
        reply
            .docs
            .into_iter()
            .map(|d| match &d.error {
                Some(error) => Err(EsError::Mget {
                    index: d.index.clone().unwrap_or_default(),
                    id: d.id.clone(),
                    kind: error["type"].as_str().unwrap_or("unknown").to_owned(),
                    reason: error["reason"].as_str().unwrap_or("").to_owned(),
                }),
                None => Ok(d.found.then_some(d).filter(|d| d.source.is_some())),
            })
            .collect()
    }
}

/// One `_bulk` action and its document.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BulkOp {
    #[serde(skip)]
    pub action: Action,
    #[serde(rename = "_index")]
    pub index: String,
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub if_seq_no: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub if_primary_term: Option<i64>,
    /// The document as one line of JSON; `None` for deletes.
    #[serde(skip)]
    pub source: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Index,
    Delete,
}

impl BulkOp {
    pub fn new(action: Action, index: &str, id: String, source: Option<Vec<u8>>) -> BulkOp {
        BulkOp {
            action,
            index: index.to_owned(),
            id,
            version: None,
            version_type: None,
            if_seq_no: None,
            if_primary_term: None,
            source,
        }
    }

    /// Guards the write with an external version: it applies only if `version` is at
    /// least the stored one, so a late write never rolls a document back.
    pub fn versioned(mut self, version: i64) -> BulkOp {
        self.version = Some(version);
        self.version_type = Some("external_gte");
        self
    }

    /// Appends the action line and the document line to an NDJSON body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let name = match self.action {
            Action::Create => "create",
            Action::Index => "index",
            Action::Delete => "delete",
        };
        out.extend_from_slice(b"{\"");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":");
        serde_json::to_writer(&mut *out, self).expect("bulk metadata serializes");
        out.extend_from_slice(b"}\n");
        if let Some(source) = &self.source {
            out.extend_from_slice(source);
            out.push(b'\n');
        }
    }
}

/// What became of one bulk item.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemResult {
    Done {
        version: Option<i64>,
    },
    /// 409: the document exists (`create`) or holds a newer version: expected outcomes.
    Conflict,
    /// A delete of a document that was not there (404 `not_found`): already gone.
    Missing,
    Failed {
        status: u16,
        kind: String,
        reason: String,
    },
}

#[derive(Deserialize)]
struct BulkReply {
    #[serde(default)]
    items: Vec<std::collections::HashMap<String, BulkItem>>,
}

#[derive(Deserialize)]
struct BulkItem {
    status: u16,
    #[serde(default, rename = "_version")]
    version: Option<i64>,
    #[serde(default)]
    error: Option<Value>,
}

trait IntoResult {
    fn into_result(self) -> ItemResult;
}

impl IntoResult for std::collections::HashMap<String, BulkItem> {
    fn into_result(self) -> ItemResult {
        let Some(item) = self.into_values().next() else {
            return ItemResult::Failed {
                status: 500,
                kind: "empty_item".into(),
                reason: "the bulk answer had an empty item".into(),
            };
        };
        match item.status {
            200..=299 => ItemResult::Done {
                version: item.version,
            },
            409 => ItemResult::Conflict,
            404 if item.error.is_none() => ItemResult::Missing,
            status => {
                let error = item.error.unwrap_or(Value::Null);
                ItemResult::Failed {
                    status,
                    kind: error["type"].as_str().unwrap_or("unknown").to_owned(),
                    reason: error["reason"].as_str().unwrap_or("").to_owned(),
                }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct Doc {
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(default, rename = "_index")]
    pub index: Option<String>,
    #[serde(default)]
    pub found: bool,
    #[serde(default, rename = "_version")]
    pub version: Option<i64>,
    #[serde(default, rename = "_seq_no")]
    pub seq_no: Option<i64>,
    #[serde(default, rename = "_primary_term")]
    pub primary_term: Option<i64>,
    #[serde(default, rename = "_source")]
    pub source: Option<Value>,
    /// Set instead of `found` when the document could not be read.
    #[serde(default)]
    pub error: Option<Value>,
}

#[derive(Deserialize)]
struct MgetReply {
    docs: Vec<Doc>,
}

#[derive(Debug, Deserialize)]
pub struct SearchReply {
    pub hits: Hits,
    #[serde(default)]
    pub aggregations: Value,
}

#[derive(Debug, Deserialize)]
pub struct Hits {
    #[serde(default)]
    pub total: Option<Total>,
    #[serde(default)]
    pub hits: Vec<Hit>,
}

/// `hits.total`: an object on 7.x+ and OpenSearch.
#[derive(Debug, Deserialize)]
pub struct Total {
    pub value: u64,
}

#[derive(Debug, Deserialize)]
pub struct Hit {
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(rename = "_index")]
    pub index: String,
    /// `null` when the search asked for no `_source`.
    #[serde(rename = "_source", default = "no_source")]
    pub source: Box<serde_json::value::RawValue>,
    #[serde(default)]
    pub sort: Vec<Value>,
}

fn no_source() -> Box<serde_json::value::RawValue> {
    serde_json::value::RawValue::from_string("null".to_owned()).expect("null is JSON")
}

impl SearchReply {
    pub fn total(&self) -> u64 {
        self.hits.total.as_ref().map_or(0, |t| t.value)
    }
}
