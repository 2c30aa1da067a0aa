//! A faithful in-process stand-in for the part of the Elasticsearch 8 REST API Reckon
//! uses, since no cluster can run on the test machines: composable templates, indices,
//! aliases, `_bulk` with `op_type=create`, external versions and `if_seq_no`, realtime
//! `_mget`, and `_search` with bool queries, sorting, `search_after` and the aggregations
//! Reckon sends. It answers with the response shapes of Elasticsearch 8.x and refuses,
//! with a 400, any request option it does not implement, so a test can never pass on a
//! feature the stand-in only pretends to have. Faults can be injected per index.
//!
//! It is as strict as a real cluster where Reckon could go wrong: bulk requests are
//! validated as a whole (`create` takes no `version_type`, `version` or `if_seq_no`;
//! `version` needs a `version_type`); bodies over `http.max_content_length` get a 413;
//! a deleted document's version outlives it for `index.gc_deletes`; only one index of
//! an alias may be its write index; `from + size` stops at `index.max_result_window`;
//! and searches see writes only after a refresh (`_refresh`, `refresh=true|wait_for`,
//! or [`StandIn::refresh`] standing for the periodic one), while `_mget` is realtime.
//! `percentiles` is approximate beyond 100 values, as a t-digest is.
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use chrono::{Datelike, Days, NaiveDate};
use serde_json::{json, Map, Value};

#[derive(Debug, Clone)]
pub struct Request {
    // The whole request is logged, though no test reads these two yet.
    #[allow(dead_code)]
    pub method: Method,
    pub path: String,
    pub query: String,
    #[allow(dead_code)]
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Bulk items on indices starting with `index_prefix` fail this way, `times` times.
#[derive(Debug, Clone)]
pub struct Fault {
    pub index_prefix: String,
    pub status: u16,
    pub kind: String,
    pub times: usize,
}

#[derive(Debug, Clone)]
struct Doc {
    source: Value,
    version: i64,
    seq_no: i64,
}

/// What a deleted document leaves behind for `index.gc_deletes`: its last version.
#[derive(Debug, Clone)]
struct Tombstone {
    version: i64,
    at: Instant,
}

#[derive(Debug, Default)]
struct Index {
    mappings: Value,
    /// Realtime: what `_mget` and writes see.
    docs: BTreeMap<String, Doc>,
    /// What searches see: `docs` as of the last refresh.
    visible: BTreeMap<String, Doc>,
    /// Ids changed since the last refresh.
    dirty: BTreeSet<String>,
    tombstones: BTreeMap<String, Tombstone>,
}

impl Index {
    fn refresh(&mut self) {
        for id in std::mem::take(&mut self.dirty) {
            match self.docs.get(&id) {
                Some(doc) => self.visible.insert(id, doc.clone()),
                None => self.visible.remove(&id),
            };
        }
    }
}

/// Which cluster the stand-in plays, and its limits.
#[derive(Debug, Clone)]
pub struct Options {
    /// Answer `GET /` as OpenSearch 2 (`version.distribution: "opensearch"`).
    pub opensearch: bool,
    /// `http.max_content_length`: larger request bodies get a 413.
    pub max_content_length: usize,
    /// `index.gc_deletes`: how long a deleted document's version is remembered.
    pub gc_deletes: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            opensearch: false,
            max_content_length: 100 * 1024 * 1024,
            gc_deletes: Duration::from_secs(60),
        }
    }
}

/// Requests whose `METHOD path` starts with `prefix` wait until `parties` of them
/// are waiting, then all go on: a deterministic interleaving of concurrent clients.
struct Rendezvous {
    prefix: String,
    barrier: Arc<tokio::sync::Barrier>,
}

/// `index.max_result_window`.
const MAX_RESULT_WINDOW: u64 = 10_000;

#[derive(Default)]
struct State {
    options: Options,
    templates: BTreeMap<String, Value>,
    indices: BTreeMap<String, Index>,
    /// alias → (index → is_write_index)
    aliases: BTreeMap<String, BTreeMap<String, bool>>,
    seq_no: i64,
    log: Vec<Request>,
    faults: Vec<Fault>,
    /// `_mget` documents in indices starting with the prefix fail this way, `times` times.
    mget_faults: Vec<Fault>,
    down: bool,
}

#[derive(Clone, Default)]
pub struct StandIn {
    state: Arc<Mutex<State>>,
    rendezvous: Arc<Mutex<Vec<Rendezvous>>>,
}

type Reply = (StatusCode, Value);

fn error(status: u16, kind: &str, reason: impl Into<String>) -> Reply {
    let reason = reason.into();
    (
        StatusCode::from_u16(status).unwrap(),
        json!({"error": {"root_cause": [{"type": kind, "reason": reason}], "type": kind, "reason": reason}, "status": status}),
    )
}

fn unsupported(what: impl std::fmt::Display) -> Reply {
    error(
        400,
        "standin_unsupported",
        format!("the stand-in does not implement {what}"),
    )
}

fn ok(body: Value) -> Reply {
    (StatusCode::OK, body)
}

impl StandIn {
    /// Starts the stand-in on a loopback port; returns it and its base URL.
    pub async fn start() -> (StandIn, String) {
        StandIn::start_with(Options::default()).await
    }

    /// [`StandIn::start`] playing the cluster `options` describe.
    pub async fn start_with(options: Options) -> (StandIn, String) {
        let standin = StandIn::default();
        standin.state.lock().unwrap().options = options;
        let handle = standin.clone();
        let app = Router::new()
            .fallback(
                move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                    let standin = handle.clone();
                    async move {
                        standin.rendezvous(&method, uri.path()).await;
                        standin.handle(method, uri, headers, body)
                    }
                },
            )
            // The stand-in applies `http.max_content_length` itself.
            .layer(DefaultBodyLimit::disable());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (standin, url)
    }

    /// From now on, requests whose `METHOD /path` starts with `prefix` are held until
    /// `parties` of them wait (each time), so concurrent clients interleave as a test
    /// needs, without sleeps.
    pub fn rendezvous_on(&self, prefix: &str, parties: usize) {
        self.rendezvous.lock().unwrap().push(Rendezvous {
            prefix: prefix.to_owned(),
            barrier: Arc::new(tokio::sync::Barrier::new(parties)),
        });
    }

    /// Lets every request through at once again.
    pub fn clear_rendezvous(&self) {
        self.rendezvous.lock().unwrap().clear();
    }

    async fn rendezvous(&self, method: &Method, path: &str) {
        let line = format!("{method} {path}");
        let barrier = self
            .rendezvous
            .lock()
            .unwrap()
            .iter()
            .find(|r| line.starts_with(&r.prefix))
            .map(|r| r.barrier.clone());
        if let Some(barrier) = barrier {
            barrier.wait().await;
        }
    }

    /// The periodic refresh: every index's writes become visible to searches.
    pub fn refresh(&self) {
        for index in self.state.lock().unwrap().indices.values_mut() {
            index.refresh();
        }
    }

    /// Puts documents straight into `index` (realtime and searchable), as a bulk load
    /// and a refresh would, for tests that need many.
    pub fn load(&self, index: &str, docs: Vec<(String, Value)>) {
        let mut state = self.state.lock().unwrap();
        let index = state.write_target(index).unwrap();
        let mut seq_no = state.seq_no;
        let target = state.indices.get_mut(&index).unwrap();
        for (id, source) in docs {
            seq_no += 1;
            let doc = Doc {
                source,
                version: 1,
                seq_no,
            };
            target.docs.insert(id.clone(), doc.clone());
            target.visible.insert(id, doc);
        }
        state.seq_no = seq_no;
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().log.clone()
    }

    pub fn clear_log(&self) {
        self.state.lock().unwrap().log.clear();
    }

    pub fn inject(&self, fault: Fault) {
        self.state.lock().unwrap().faults.push(fault);
    }

    /// `_mget` answers an `error` entry (shard unavailable, say) for documents of
    /// matching indices, as a cluster does for a document it cannot read.
    pub fn inject_mget(&self, fault: Fault) {
        self.state.lock().unwrap().mget_faults.push(fault);
    }

    /// While down, every request gets a 503 `cluster_block_exception`-style answer.
    pub fn set_down(&self, down: bool) {
        self.state.lock().unwrap().down = down;
    }

    /// The sources of every document in indices matching `target`.
    pub fn docs(&self, target: &str) -> Vec<(String, String, Value)> {
        let state = self.state.lock().unwrap();
        let names = state.resolve(target, true).unwrap_or_default();
        names
            .iter()
            .flat_map(|n| {
                state.indices[n]
                    .docs
                    .iter()
                    .map(move |(id, d)| (n.clone(), id.clone(), d.source.clone()))
            })
            .collect()
    }

    pub fn index_names(&self) -> Vec<String> {
        self.state.lock().unwrap().indices.keys().cloned().collect()
    }

    fn handle(&self, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
        let mut state = self.state.lock().unwrap();
        state.log.push(Request {
            method: method.clone(),
            path: uri.path().to_owned(),
            query: uri.query().unwrap_or("").to_owned(),
            headers,
            body: body.to_vec(),
        });
        if body.len() > state.options.max_content_length {
            // Elasticsearch answers an empty 413; Amazon's front end a JSON `Message`.
            let body = if state.options.opensearch {
                json!({"Message": format!("Request size exceeded {} bytes", state.options.max_content_length)}).to_string()
            } else {
                String::new()
            };
            return (StatusCode::PAYLOAD_TOO_LARGE, body).into_response();
        }
        let (status, value) = if state.down {
            error(
                503,
                "cluster_block_exception",
                "blocked by: [SERVICE_UNAVAILABLE/1/state not recovered / initialized];",
            )
        } else {
            let query: BTreeMap<String, String> =
                serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default();
            state.route(&method, uri.path(), &query, &body)
        };
        if method == Method::HEAD {
            return status.into_response();
        }
        (
            status,
            [("content-type", "application/json")],
            value.to_string(),
        )
            .into_response()
    }
}

/// The checks `IndexRequest.validate()` / `DeleteRequest.validate()` make of one bulk
/// item, with their messages; `None` if it is valid.
fn validate(op: &str, meta: &Value) -> Option<String> {
    let version_type = meta["version_type"].as_str().unwrap_or("internal");
    let version = meta.get("version").filter(|v| !v.is_null());
    let if_seq_no = meta.get("if_seq_no").filter(|v| !v.is_null());
    let if_primary_term = meta.get("if_primary_term").filter(|v| !v.is_null());
    if op == "create" {
        if version_type != "internal" {
            return Some(
                "create operations only support internal versioning. use index instead".into(),
            );
        }
        if version.is_some() {
            return Some(
                "create operations do not support explicit versions. use index instead".into(),
            );
        }
        if if_seq_no.is_some() || if_primary_term.is_some() {
            return Some(
                "create operations do not support compare and set. use index instead".into(),
            );
        }
    }
    if version_type != "internal" && version.is_none() {
        return Some(format!(
            "illegal version value [-3] for version type [{}]",
            version_type.to_uppercase()
        ));
    }
    match (if_seq_no, if_primary_term) {
        (Some(_), None) => return Some("ifSeqNo is set, but primary term is [0]".into()),
        (None, Some(_)) => return Some("ifPrimaryTerm is set, but sequence number is [-2]".into()),
        _ => {}
    }
    if if_seq_no.is_some() && (version.is_some() || version_type != "internal") {
        return Some("compare and write operations can not use versioning".into());
    }
    if version.is_some() && version_type == "internal" {
        return Some("internal versioning can not be used for optimistic concurrency control. Please use `if_seq_no` and `if_primary_term` instead".into());
    }
    None
}

fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            name.starts_with(head)
                && name.len() >= head.len() + tail.len()
                && glob_tail(tail, &name[head.len()..])
        }
    }
}

fn glob_tail(pattern: &str, name: &str) -> bool {
    if !pattern.contains('*') {
        return name.ends_with(pattern);
    }
    (0..=name.len()).any(|i| name.is_char_boundary(i) && glob(pattern, &name[i..]))
}

impl State {
    fn route(
        &mut self,
        method: &Method,
        path: &str,
        query: &BTreeMap<String, String>,
        body: &[u8],
    ) -> Reply {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let json_body = || -> Result<Value, Reply> {
            if body.is_empty() {
                return Ok(json!({}));
            }
            serde_json::from_slice(body).map_err(|e| error(400, "parse_exception", e.to_string()))
        };
        let lenient = query.get("ignore_unavailable").map(String::as_str) == Some("true");
        macro_rules! body {
            () => {
                match json_body() {
                    Ok(b) => b,
                    Err(r) => return r,
                }
            };
        }
        match (method.as_str(), parts.as_slice()) {
            ("GET", [""]) | ("HEAD", [""]) if self.options.opensearch => ok(json!({
                "name": "standin", "cluster_name": "123456789012:reckon",
                "version": {"distribution": "opensearch", "number": "2.13.0", "build_type": "tar",
                    "minimum_wire_compatibility_version": "7.10.0", "minimum_index_compatibility_version": "7.0.0"},
                "tagline": "The OpenSearch Project: https://opensearch.org/",
            })),
            ("GET", [""]) | ("HEAD", [""]) => ok(json!({
                "name": "standin", "cluster_name": "reckon-standin",
                "version": {"number": "8.15.0", "build_flavor": "default"},
                "tagline": "You Know, for Search",
            })),
            ("POST", ["_bulk"]) => {
                let refresh = query.get("refresh").map(String::as_str).unwrap_or("false");
                if !["true", "false", "wait_for", ""].contains(&refresh) {
                    return error(
                        400,
                        "illegal_argument_exception",
                        format!("Unknown value for refresh: [{refresh}]."),
                    );
                }
                self.bulk(body, refresh != "false")
            }
            ("POST", ["_mget"]) | ("GET", ["_mget"]) => self.mget(&body!()),
            ("POST", ["_aliases"]) => self.update_aliases(&body!()),
            ("GET", ["_alias", alias]) => match self.aliases.get(*alias) {
                Some(targets) if !targets.is_empty() => ok(Value::Object(
                    targets
                        .keys()
                        .map(|i| (i.clone(), json!({"aliases": {*alias: {}}})))
                        .collect(),
                )),
                _ => (
                    StatusCode::NOT_FOUND,
                    json!({"error": format!("alias [{alias}] missing"), "status": 404}),
                ),
            },
            ("PUT", ["_index_template", name]) | ("POST", ["_index_template", name]) => {
                let b = body!();
                if b.get("index_patterns").is_none() {
                    return error(
                        400,
                        "action_request_validation_exception",
                        "index patterns are missing",
                    );
                }
                self.templates.insert((*name).to_owned(), b);
                ok(json!({"acknowledged": true}))
            }
            ("GET", ["_index_template", name]) => match self.templates.get(*name) {
                Some(t) => ok(json!({"index_templates": [{"name": name, "index_template": t}]})),
                None => error(
                    404,
                    "resource_not_found_exception",
                    format!("index template matching [{name}] not found"),
                ),
            },
            ("POST", [target, "_search"]) | ("GET", [target, "_search"]) => {
                match self.resolve(target, lenient) {
                    Ok(names) => self.search(&names, &body!()),
                    Err(r) => r,
                }
            }
            ("POST", [target, "_refresh"]) => match self.resolve(target, lenient) {
                Ok(names) => {
                    for name in &names {
                        self.indices.get_mut(name).unwrap().refresh();
                    }
                    ok(
                        json!({"_shards": {"total": names.len(), "successful": names.len(), "failed": 0}}),
                    )
                }
                Err(r) => r,
            },
            ("GET", [target, "_stats", "store"]) => match self.resolve(target, true) {
                Ok(names) => {
                    let bytes: usize = names
                        .iter()
                        .flat_map(|n| self.indices[n].docs.values())
                        .map(|d| d.source.to_string().len())
                        .sum();
                    ok(
                        json!({"_all": {"primaries": {"store": {"size_in_bytes": bytes}}, "total": {"store": {"size_in_bytes": bytes}}}}),
                    )
                }
                Err(r) => r,
            },
            ("PUT", [index]) => self.create_index(index, &body!()),
            ("PUT", [target, "_mapping"]) => self.put_mapping(target, &body!()),
            ("HEAD", [index]) | ("GET", [index]) => {
                if self.indices.contains_key(*index) {
                    ok(json!({}))
                } else {
                    error(
                        404,
                        "index_not_found_exception",
                        format!("no such index [{index}]"),
                    )
                }
            }
            ("DELETE", [index]) => {
                if self.indices.remove(*index).is_none() {
                    return error(
                        404,
                        "index_not_found_exception",
                        format!("no such index [{index}]"),
                    );
                }
                for targets in self.aliases.values_mut() {
                    targets.remove(*index);
                }
                ok(json!({"acknowledged": true}))
            }
            _ => unsupported(format!("{method} {path}")),
        }
    }

    /// Concrete indices for a comma-separated list of names, aliases and wildcards.
    fn resolve(&self, target: &str, lenient: bool) -> Result<Vec<String>, Reply> {
        let mut out = BTreeSet::new();
        for part in target.split(',') {
            if part.contains('*') {
                out.extend(self.indices.keys().filter(|n| glob(part, n)).cloned());
                for (alias, targets) in &self.aliases {
                    if glob(part, alias) {
                        out.extend(targets.keys().cloned());
                    }
                }
            } else if self.indices.contains_key(part) {
                out.insert(part.to_owned());
            } else if let Some(targets) = self.aliases.get(part).filter(|t| !t.is_empty()) {
                out.extend(targets.keys().cloned());
            } else if !lenient {
                return Err(error(
                    404,
                    "index_not_found_exception",
                    format!("no such index [{part}]"),
                ));
            }
        }
        Ok(out.into_iter().collect())
    }

    /// The index a write to `name` lands in, auto-creating it from a template.
    fn write_target(&mut self, name: &str) -> Result<String, (u16, String, String)> {
        if self.indices.contains_key(name) {
            return Ok(name.to_owned());
        }
        if let Some(targets) = self.aliases.get(name) {
            let write: Vec<&String> = if targets.len() == 1 {
                targets.keys().collect()
            } else {
                targets
                    .iter()
                    .filter(|(_, w)| **w)
                    .map(|(i, _)| i)
                    .collect()
            };
            return match write.as_slice() {
                [one] => Ok((*one).clone()),
                _ => Err((
                    400,
                    "illegal_argument_exception".into(),
                    format!("no write index is defined for alias [{name}]"),
                )),
            };
        }
        let (status, body) = self.create_index(name, &json!({}));
        if status.is_success() {
            Ok(name.to_owned())
        } else {
            Err((
                status.as_u16(),
                body["error"]["type"].as_str().unwrap_or("").into(),
                body["error"]["reason"].as_str().unwrap_or("").into(),
            ))
        }
    }

    fn create_index(&mut self, name: &str, body: &Value) -> Reply {
        if self.indices.contains_key(name) {
            return error(
                400,
                "resource_already_exists_exception",
                format!("index [{name}/abc] already exists"),
            );
        }
        if name.chars().any(|c| c.is_ascii_uppercase()) || name.starts_with(['_', '-', '+']) {
            return error(
                400,
                "invalid_index_name_exception",
                format!("Invalid index name [{name}]"),
            );
        }
        let template = self
            .templates
            .values()
            .filter(|t| {
                t["index_patterns"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| glob(p.as_str().unwrap_or(""), name)))
            })
            .max_by_key(|t| t["priority"].as_i64().unwrap_or(0))
            .cloned();
        let mut mappings = body.get("mappings").cloned().unwrap_or(Value::Null);
        let mut aliases = body.get("aliases").cloned().unwrap_or(json!({}));
        if let Some(t) = &template {
            if mappings.is_null() {
                mappings = t["template"]["mappings"].clone();
            }
            if let Some(extra) = t["template"]["aliases"].as_object() {
                for (k, v) in extra {
                    aliases[k] = v.clone();
                }
            }
        }
        for (alias, spec) in aliases.as_object().into_iter().flatten() {
            if spec["is_write_index"].as_bool() != Some(true) {
                continue;
            }
            if let Some(other) = self
                .aliases
                .get(alias)
                .and_then(|t| t.iter().find(|(_, w)| **w).map(|(i, _)| i.clone()))
            {
                // Elasticsearch's metadata check: an IllegalStateException, so a 500.
                return error(
                    500,
                    "illegal_state_exception",
                    format!("alias [{alias}] has more than one write index [{other},{name}]"),
                );
            }
        }
        self.indices.insert(
            name.to_owned(),
            Index {
                mappings,
                ..Index::default()
            },
        );
        for (alias, spec) in aliases.as_object().into_iter().flatten() {
            self.aliases.entry(alias.clone()).or_default().insert(
                name.to_owned(),
                spec["is_write_index"].as_bool().unwrap_or(false),
            );
        }
        ok(json!({"acknowledged": true, "shards_acknowledged": true, "index": name}))
    }

    fn update_aliases(&mut self, body: &Value) -> Reply {
        let Some(actions) = body["actions"].as_array() else {
            return error(
                400,
                "action_request_validation_exception",
                "no actions specified",
            );
        };
        // Validate everything first: the update is atomic.
        for action in actions {
            for (kind, spec) in action.as_object().into_iter().flatten() {
                let index = spec["index"].as_str().unwrap_or("");
                if !self.indices.contains_key(index) {
                    return error(
                        404,
                        "index_not_found_exception",
                        format!("no such index [{index}]"),
                    );
                }
                if kind != "add" && kind != "remove" {
                    return unsupported(format!("alias action `{kind}`"));
                }
            }
        }
        let mut aliases = self.aliases.clone();
        for action in actions {
            for (kind, spec) in action.as_object().into_iter().flatten() {
                let (index, alias) = (
                    spec["index"].as_str().unwrap_or(""),
                    spec["alias"].as_str().unwrap_or(""),
                );
                if kind == "add" {
                    aliases.entry(alias.to_owned()).or_default().insert(
                        index.to_owned(),
                        spec["is_write_index"].as_bool().unwrap_or(false),
                    );
                } else if let Some(t) = aliases.get_mut(alias) {
                    t.remove(index);
                }
            }
        }
        for (alias, targets) in &aliases {
            let writers: Vec<&str> = targets
                .iter()
                .filter(|(_, w)| **w)
                .map(|(i, _)| i.as_str())
                .collect();
            if writers.len() > 1 {
                return error(
                    500,
                    "illegal_state_exception",
                    format!(
                        "alias [{alias}] has more than one write index [{}]",
                        writers.join(",")
                    ),
                );
            }
        }
        self.aliases = aliases;
        ok(json!({"acknowledged": true}))
    }

    /// `PUT {target}/_mapping`: adds fields to every index the target names. Like
    /// Elasticsearch, refuses to change the type of a field an index already maps.
    fn put_mapping(&mut self, target: &str, body: &Value) -> Reply {
        let indices = match self.resolve(target, false) {
            Ok(indices) if !indices.is_empty() => indices,
            Ok(_) => {
                return error(
                    404,
                    "index_not_found_exception",
                    format!("no such index [{target}]"),
                )
            }
            Err(reply) => return reply,
        };
        let Some(new) = body["properties"].as_object() else {
            return error(
                400,
                "action_request_validation_exception",
                "mapping source is empty",
            );
        };
        for index in &indices {
            let known = &self.indices[index].mappings["properties"];
            for (field, spec) in new {
                let had = known[field]["type"].as_str().unwrap_or("object");
                let wants = spec["type"].as_str().unwrap_or("object");
                if !known[field].is_null() && had != wants {
                    return error(
                        400,
                        "illegal_argument_exception",
                        format!(
                            "mapper [{field}] cannot be changed from type [{had}] to [{wants}]"
                        ),
                    );
                }
            }
        }
        for index in indices {
            let mappings = &mut self.indices.get_mut(&index).expect("resolved").mappings;
            for (field, spec) in new {
                mappings["properties"][field] = spec.clone();
            }
        }
        ok(json!({"acknowledged": true}))
    }

    fn check_mapping(mappings: &Value, source: &Value) -> Result<(), (u16, String, String)> {
        let Some(fields) = source.as_object() else {
            return Err((
                400,
                "mapper_parsing_exception".into(),
                "failed to parse, document is empty".into(),
            ));
        };
        let strict = mappings["dynamic"].as_str() == Some("strict");
        for (name, value) in fields {
            let spec = &mappings["properties"][name];
            if spec.is_null() {
                if strict {
                    return Err((400, "strict_dynamic_mapping_exception".into(), format!("[1:2] mapping set to strict, dynamic introduction of [{name}] within [_doc] is not allowed")));
                }
                continue;
            }
            let values: Vec<&Value> = match value {
                Value::Array(items) => items.iter().collect(),
                v => vec![v],
            };
            for v in values.into_iter().filter(|v| !v.is_null()) {
                let fits = match spec["type"].as_str().unwrap_or("object") {
                    "keyword" | "text" => v.is_string(),
                    "long" => v.is_i64() || v.is_u64(),
                    "boolean" => v.is_boolean(),
                    "date" => v.is_i64(),
                    "object" => spec["enabled"] == json!(false) || v.is_object(),
                    _ => true,
                };
                if !fits {
                    return Err((
                        400,
                        "document_parsing_exception".into(),
                        format!(
                            "[1:2] failed to parse field [{name}] of type [{}] in document",
                            spec["type"].as_str().unwrap_or("object")
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn take_fault(&mut self, index: &str) -> Option<(u16, String)> {
        let fault = self
            .faults
            .iter_mut()
            .find(|f| f.times > 0 && index.starts_with(&f.index_prefix))?;
        fault.times -= 1;
        Some((fault.status, fault.kind.clone()))
    }

    fn bulk(&mut self, body: &[u8], refresh: bool) -> Reply {
        let mut lines = body.split(|b| *b == b'\n').filter(|l| !l.is_empty());
        let mut requests = Vec::new();
        while let Some(line) = lines.next() {
            let Ok(Value::Object(action)) = serde_json::from_slice::<Value>(line) else {
                return error(
                    400,
                    "illegal_argument_exception",
                    "Malformed action/metadata line",
                );
            };
            let Some((op, meta)) = action.into_iter().next() else {
                return error(
                    400,
                    "illegal_argument_exception",
                    "Malformed action/metadata line",
                );
            };
            if !["create", "index", "delete"].contains(&op.as_str()) {
                return unsupported(format!("bulk action `{op}`"));
            }
            let source = if op == "delete" {
                None
            } else {
                match lines.next().map(serde_json::from_slice::<Value>) {
                    Some(Ok(v)) => Some(v),
                    _ => {
                        return error(
                            400,
                            "illegal_argument_exception",
                            "The bulk request must be terminated by a newline [\\n]",
                        )
                    }
                }
            };
            for key in meta.as_object().into_iter().flatten().map(|(k, _)| k) {
                if ![
                    "_index",
                    "_id",
                    "version",
                    "version_type",
                    "if_seq_no",
                    "if_primary_term",
                ]
                .contains(&key.as_str())
                {
                    return unsupported(format!("bulk metadata `{key}`"));
                }
            }
            if let Some(vt) = meta["version_type"].as_str() {
                if !["internal", "external", "external_gt", "external_gte"].contains(&vt) {
                    return error(
                        400,
                        "illegal_argument_exception",
                        format!("No version type match [{vt}]"),
                    );
                }
            }
            requests.push((op, meta, source));
        }
        // Like BulkRequest.validate(): one invalid item fails the whole request.
        let problems: Vec<String> = requests
            .iter()
            .filter_map(|(op, meta, _)| validate(op, meta))
            .collect();
        if !problems.is_empty() {
            let reason: String = problems
                .iter()
                .enumerate()
                .map(|(i, p)| format!("{}: {p};", i + 1))
                .collect();
            return error(
                400,
                "action_request_validation_exception",
                format!("Validation Failed: {reason}"),
            );
        }
        let mut items = Vec::new();
        let mut errors = false;
        let mut touched = BTreeSet::new();
        for (op, meta, source) in requests {
            let item = self.bulk_item(&op, &meta, source);
            errors |= item["status"].as_u64().unwrap_or(500) >= 300
                && !(op == "delete" && item["status"] == 404);
            if let Some(index) = item["_index"].as_str() {
                touched.insert(index.to_owned());
            }
            items.push(json!({ op: item }));
        }
        if refresh {
            for index in touched {
                if let Some(index) = self.indices.get_mut(&index) {
                    index.refresh();
                }
            }
        }
        ok(json!({"took": 1, "errors": errors, "items": items}))
    }

    fn bulk_item(&mut self, op: &str, meta: &Value, source: Option<Value>) -> Value {
        let name = meta["_index"].as_str().unwrap_or("").to_owned();
        let id = meta["_id"].as_str().unwrap_or("").to_owned();
        let fail = |index: &str, status: u16, kind: &str, reason: &str| json!({"_index": index, "_id": id, "status": status, "error": {"type": kind, "reason": reason, "index": index}});
        if id.is_empty() {
            return fail(
                &name,
                400,
                "action_request_validation_exception",
                "an id is required",
            );
        }
        let index = match self.write_target(&name) {
            Ok(i) => i,
            Err((status, kind, reason)) => return fail(&name, status, &kind, &reason),
        };
        if let Some((status, kind)) = self.take_fault(&index) {
            return fail(&index, status, &kind, "injected by the test");
        }
        if let Some(source) = &source {
            if let Err((status, kind, reason)) =
                Self::check_mapping(&self.indices[&index].mappings, source)
            {
                return fail(&index, status, &kind, &reason);
            }
        }
        let version_type = meta["version_type"].as_str().unwrap_or("internal");
        let external = match version_type {
            "internal" => None,
            "external_gte" | "external" | "external_gt" => meta["version"].as_i64(),
            other => {
                return fail(
                    &index,
                    400,
                    "standin_unsupported",
                    &format!("version_type {other}"),
                )
            }
        };
        if matches!(external, Some(v) if v < 0) {
            return fail(
                &index,
                400,
                "action_request_validation_exception",
                "illegal version value",
            );
        }
        let gc_deletes = self.options.gc_deletes;
        let target = self.indices.get_mut(&index).unwrap();
        target.tombstones.retain(|_, t| t.at.elapsed() < gc_deletes);
        let existing = target.docs.get(&id).cloned();
        // A deleted document's version still counts until `index.gc_deletes` passes.
        let current_version = existing
            .as_ref()
            .map(|d| d.version)
            .or_else(|| target.tombstones.get(&id).map(|t| t.version));
        let conflict = |current: &str| {
            fail(
                &index,
                409,
                "version_conflict_engine_exception",
                &format!("[{id}]: version conflict, {current}"),
            )
        };
        if let (Some(seq), Some(_)) = (meta["if_seq_no"].as_i64(), meta["if_primary_term"].as_i64())
        {
            match &existing {
                Some(d) if d.seq_no == seq => {}
                Some(d) => {
                    return conflict(&format!(
                        "required seqNo [{seq}], current document has seqNo [{}]",
                        d.seq_no
                    ))
                }
                None => {
                    return conflict(&format!(
                        "required seqNo [{seq}], but no document was found"
                    ))
                }
            }
        }
        let strict = version_type != "external_gte";
        let version = match (op, &existing, external, current_version) {
            ("create", Some(d), _, _) => {
                return conflict(&format!(
                    "document already exists (current version [{}])",
                    d.version
                ))
            }
            (_, _, Some(v), Some(current)) if v < current || (strict && v == current) => {
                return conflict(&format!(
                    "current version [{current}] is higher{} than the one provided [{v}]",
                    if strict { " or equal to" } else { "" }
                ))
            }
            ("delete", None, _, current) => {
                return json!({"_index": index, "_id": id, "_version": current.unwrap_or(0) + 1, "result": "not_found", "status": 404})
            }
            (_, _, Some(v), _) => v,
            (_, _, None, Some(current)) => current + 1,
            (_, _, None, None) => 1,
        };
        self.seq_no += 1;
        let seq_no = self.seq_no;
        let target = self.indices.get_mut(&index).unwrap();
        target.dirty.insert(id.clone());
        let (result, status) = match (op, source) {
            ("delete", _) => {
                target.docs.remove(&id);
                target.tombstones.insert(
                    id.clone(),
                    Tombstone {
                        version,
                        at: Instant::now(),
                    },
                );
                ("deleted", 200)
            }
            (_, Some(source)) => {
                target.tombstones.remove(&id);
                let created = target
                    .docs
                    .insert(
                        id.clone(),
                        Doc {
                            source,
                            version,
                            seq_no,
                        },
                    )
                    .is_none();
                if created {
                    ("created", 201)
                } else {
                    ("updated", 200)
                }
            }
            _ => {
                return fail(
                    &index,
                    400,
                    "action_request_validation_exception",
                    "source is missing",
                )
            }
        };
        json!({"_index": index, "_id": id, "_version": version, "result": result, "_seq_no": seq_no, "_primary_term": 1, "status": status})
    }

    fn mget(&mut self, body: &Value) -> Reply {
        let Some(docs) = body["docs"].as_array() else {
            return unsupported("_mget without `docs`");
        };
        let out: Vec<Value> = docs
            .iter()
            .map(|d| {
                let (name, id) = (d["_index"].as_str().unwrap_or(""), d["_id"].as_str().unwrap_or(""));
                let index = match self.resolve(name, false) {
                    Ok(names) if names.len() == 1 => names[0].clone(),
                    Ok(_) => return json!({"_index": name, "_id": id, "error": {"type": "illegal_argument_exception", "reason": "alias has more than one index"}}),
                    Err(_) => return json!({"_index": name, "_id": id, "error": {"type": "index_not_found_exception", "reason": format!("no such index [{name}]")}}),
                };
                if let Some(fault) = self.mget_faults.iter_mut().find(|f| f.times > 0 && index.starts_with(&f.index_prefix)) {
                    fault.times -= 1;
                    let reason = format!("No shard available for [get [{index}][{id}]: routing [null]]");
                    return json!({"_index": index, "_id": id, "error": {"root_cause": [{"type": fault.kind, "reason": reason}], "type": fault.kind, "reason": reason}});
                }
                match self.indices[&index].docs.get(id) {
                    Some(doc) => json!({"_index": index, "_id": id, "_version": doc.version, "_seq_no": doc.seq_no, "_primary_term": 1, "found": true, "_source": doc.source}),
                    None => json!({"_index": index, "_id": id, "found": false}),
                }
            })
            .collect();
        ok(json!({ "docs": out }))
    }

    fn search(&self, names: &[String], body: &Value) -> Reply {
        for key in body.as_object().into_iter().flatten().map(|(k, _)| k) {
            if ![
                "query",
                "size",
                "from",
                "sort",
                "search_after",
                "track_total_hits",
                "aggs",
                "_source",
            ]
            .contains(&key.as_str())
            {
                return unsupported(format!("search option `{key}`"));
            }
        }
        let from = body.get("from").and_then(Value::as_u64).unwrap_or(0);
        let size = body.get("size").and_then(Value::as_u64).unwrap_or(10);
        if from + size > MAX_RESULT_WINDOW {
            let reason = format!("Result window is too large, from + size must be less than or equal to: [{MAX_RESULT_WINDOW}] but was [{}]. See the scroll api for a more efficient way to request large data sets. This limit can be set by changing the [index.max_result_window] index level setting.", from + size);
            return (
                StatusCode::BAD_REQUEST,
                json!({"error": {"root_cause": [{"type": "illegal_argument_exception", "reason": reason}], "type": "search_phase_execution_exception", "reason": "all shards failed", "phase": "query", "grouped": true}, "status": 400}),
            );
        }
        // `_source`: all, none, or a list of top-level fields to include.
        let (with_source, includes) = match body.get("_source") {
            None | Some(Value::Bool(true)) => (true, None),
            Some(Value::Bool(false)) => (false, None),
            Some(Value::Array(fields))
                if fields
                    .iter()
                    .all(|f| f.as_str().is_some_and(|f| !f.contains(['*', '.']))) =>
            {
                let fields: Vec<String> = fields
                    .iter()
                    .filter_map(|f| f.as_str().map(str::to_owned))
                    .collect();
                (true, Some(fields))
            }
            Some(other) => return unsupported(format!("`_source` {other}")),
        };
        let query = body
            .get("query")
            .cloned()
            .unwrap_or(json!({"match_all": {}}));
        let mut matched: Vec<(&String, &String, &Doc)> = Vec::new();
        for name in names {
            // Searches see what the last refresh made visible, never newer writes.
            for (id, doc) in &self.indices[name].visible {
                match matches(&query, &doc.source) {
                    Ok(true) => matched.push((name, id, doc)),
                    Ok(false) => {}
                    Err(r) => return r,
                }
            }
        }
        let total = matched.len();
        let sorts: Vec<(String, bool)> = match body.get("sort") {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|s| {
                    s.as_object()?.iter().next().map(|(f, o)| {
                        let order = o.as_str().or_else(|| o["order"].as_str()).unwrap_or("asc");
                        (f.clone(), order == "desc")
                    })
                })
                .collect(),
            Some(_) => return unsupported("a sort that is not an array"),
        };
        let key_of = |doc: &Doc| -> Vec<Value> {
            sorts
                .iter()
                .map(|(f, _)| first(&doc.source, f).cloned().unwrap_or(Value::Null))
                .collect()
        };
        let compare = |a: &[Value], b: &[Value]| {
            for ((x, y), (_, desc)) in a.iter().zip(b).zip(&sorts) {
                let o = cmp_values(x, y);
                let o = if *desc { o.reverse() } else { o };
                if o != std::cmp::Ordering::Equal {
                    return o;
                }
            }
            std::cmp::Ordering::Equal
        };
        if !sorts.is_empty() {
            matched.sort_by(|a, b| compare(&key_of(a.2), &key_of(b.2)));
        }
        if let Some(after) = body.get("search_after").and_then(Value::as_array) {
            matched.retain(|m| compare(&key_of(m.2), after) == std::cmp::Ordering::Greater);
        }
        let hits: Vec<Value> = matched
            .iter()
            .skip(from as usize)
            .take(size as usize)
            .map(|(index, id, doc)| {
                let mut hit = json!({"_index": index, "_id": id, "_score": null});
                if with_source {
                    hit["_source"] = match &includes {
                        None => doc.source.clone(),
                        Some(fields) => Value::Object(
                            fields
                                .iter()
                                .filter_map(|f| Some((f.clone(), doc.source.get(f)?.clone())))
                                .collect(),
                        ),
                    };
                }
                if !sorts.is_empty() {
                    hit["sort"] = json!(key_of(doc));
                }
                hit
            })
            .collect();
        let docs: Vec<&Value> = matched.iter().map(|m| &m.2.source).collect();
        let mut reply = json!({
            "took": 1, "timed_out": false,
            "_shards": {"total": names.len(), "successful": names.len(), "skipped": 0, "failed": 0},
            "hits": {"max_score": null, "hits": hits},
        });
        if body.get("track_total_hits") != Some(&json!(false)) {
            reply["hits"]["total"] = json!({"value": total.min(10_000), "relation": if total > 10_000 && body.get("track_total_hits") != Some(&json!(true)) { "gte" } else { "eq" }});
            if body.get("track_total_hits") == Some(&json!(true)) {
                reply["hits"]["total"]["value"] = json!(total);
            }
        }
        if let Some(aggs) = body.get("aggs") {
            match aggregate(aggs, &docs) {
                Ok(a) => reply["aggregations"] = a,
                Err(r) => return r,
            }
        }
        ok(reply)
    }
}

/// The first value of a field (arrays hold several), if any.
fn first<'a>(source: &'a Value, field: &str) -> Option<&'a Value> {
    match source.get(field)? {
        Value::Array(items) => items.first(),
        Value::Null => None,
        v => Some(v),
    }
}

fn values<'a>(source: &'a Value, field: &str) -> Vec<&'a Value> {
    match source.get(field) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().filter(|v| !v.is_null()).collect(),
        Some(v) => vec![v],
    }
}

fn cmp_values(a: &Value, b: &Value) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match (a, b) {
        (Value::Null, Value::Null) => Equal,
        // Missing values sort last.
        (Value::Null, _) => Greater,
        (_, Value::Null) => Less,
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .unwrap()
            .partial_cmp(&y.as_f64().unwrap())
            .unwrap_or(Equal),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => a.to_string().cmp(&b.to_string()),
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::String(x), Value::Bool(y)) | (Value::Bool(y), Value::String(x)) => {
            x == &y.to_string()
        }
        _ => a == b,
    }
}

fn matches(query: &Value, doc: &Value) -> Result<bool, Reply> {
    let Some((kind, spec)) = query.as_object().and_then(|o| o.iter().next()) else {
        return Err(error(
            400,
            "parsing_exception",
            "query malformed, empty clause found",
        ));
    };
    let field_spec = || spec.as_object().and_then(|o| o.iter().next());
    Ok(match kind.as_str() {
        "match_all" => true,
        "term" => {
            let (field, value) = field_spec().ok_or_else(|| unsupported("an empty term"))?;
            let value = value.get("value").unwrap_or(value);
            values(doc, field).iter().any(|v| same(v, value))
        }
        "terms" => {
            let (field, list) = field_spec().ok_or_else(|| unsupported("an empty terms"))?;
            let list = list
                .as_array()
                .ok_or_else(|| unsupported("a terms lookup"))?;
            values(doc, field)
                .iter()
                .any(|v| list.iter().any(|x| same(v, x)))
        }
        "exists" => !values(doc, spec["field"].as_str().unwrap_or("")).is_empty(),
        "range" => {
            let (field, bounds) = field_spec().ok_or_else(|| unsupported("an empty range"))?;
            for key in bounds.as_object().into_iter().flatten().map(|(k, _)| k) {
                if !["gt", "gte", "lt", "lte"].contains(&key.as_str()) {
                    return Err(unsupported(format!("range option `{key}`")));
                }
            }
            values(doc, field).iter().any(|v| {
                let c = |b: &str| bounds.get(b).map(|x| cmp_values(v, x));
                use std::cmp::Ordering::*;
                c("gt").is_none_or(|o| o == Greater)
                    && c("gte").is_none_or(|o| o != Less)
                    && c("lt").is_none_or(|o| o == Less)
                    && c("lte").is_none_or(|o| o != Greater)
            })
        }
        "bool" => {
            let list = |k: &str| -> Vec<Value> {
                match spec.get(k) {
                    Some(Value::Array(a)) => a.clone(),
                    Some(v) => vec![v.clone()],
                    None => Vec::new(),
                }
            };
            for key in spec.as_object().into_iter().flatten().map(|(k, _)| k) {
                if ![
                    "filter",
                    "must",
                    "must_not",
                    "should",
                    "minimum_should_match",
                ]
                .contains(&key.as_str())
                {
                    return Err(unsupported(format!("bool option `{key}`")));
                }
            }
            for q in list("filter").iter().chain(&list("must")) {
                if !matches(q, doc)? {
                    return Ok(false);
                }
            }
            for q in &list("must_not") {
                if matches(q, doc)? {
                    return Ok(false);
                }
            }
            let should = list("should");
            let required = spec
                .get("minimum_should_match")
                .and_then(Value::as_u64)
                .unwrap_or(
                    if spec.get("filter").is_some() || spec.get("must").is_some() {
                        0
                    } else {
                        u64::from(!should.is_empty())
                    },
                );
            let mut hits = 0;
            for q in &should {
                hits += u64::from(matches(q, doc)?);
            }
            hits >= required
        }
        other => return Err(unsupported(format!("query `{other}`"))),
    })
}

fn bucket_start(ms: i64, unit: &str) -> Option<i64> {
    let day = chrono::DateTime::from_timestamp_millis(ms)?.date_naive();
    let start: NaiveDate = match unit {
        "day" | "1d" => day,
        "week" | "1w" => day - Days::new(u64::from(day.weekday().num_days_from_monday())),
        "month" | "1M" => day.with_day(1)?,
        _ => return None,
    };
    Some(start.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

fn aggregate(aggs: &Value, docs: &[&Value]) -> Result<Value, Reply> {
    let mut out = Map::new();
    for (name, spec) in aggs.as_object().into_iter().flatten() {
        let subs = spec.get("aggs");
        let with_subs = |mut bucket: Value, docs: &[&Value]| -> Result<Value, Reply> {
            if let Some(subs) = subs {
                for (k, v) in aggregate(subs, docs)?.as_object().unwrap() {
                    bucket[k] = v.clone();
                }
            }
            Ok(bucket)
        };
        let (kind, body) = spec
            .as_object()
            .and_then(|o| o.iter().find(|(k, _)| k.as_str() != "aggs"))
            .ok_or_else(|| {
                error(
                    400,
                    "parsing_exception",
                    format!("aggregation [{name}] has no type"),
                )
            })?;
        let field = body["field"].as_str().unwrap_or("");
        let result = match kind.as_str() {
            "filter" => {
                let inside: Vec<&Value> = docs
                    .iter()
                    .copied()
                    .filter(|d| matches(body, d).unwrap_or(false))
                    .collect();
                matches(body, &json!({}))?;
                with_subs(json!({"doc_count": inside.len()}), &inside)?
            }
            "filters" => {
                let Some(filters) = body["filters"].as_object() else {
                    return Err(unsupported("anonymous filters"));
                };
                let mut buckets = Map::new();
                for (key, q) in filters {
                    let mut inside = Vec::new();
                    for d in docs {
                        if matches(q, d)? {
                            inside.push(*d);
                        }
                    }
                    buckets.insert(
                        key.clone(),
                        with_subs(json!({"doc_count": inside.len()}), &inside)?,
                    );
                }
                json!({"buckets": buckets})
            }
            "terms" => {
                for key in body.as_object().into_iter().flatten().map(|(k, _)| k) {
                    if !["field", "size", "order"].contains(&key.as_str()) {
                        return Err(unsupported(format!("terms option `{key}`")));
                    }
                }
                let mut groups: Vec<(Value, Vec<&Value>)> = Vec::new();
                for d in docs {
                    for v in values(d, field) {
                        match groups.iter_mut().find(|(k, _)| same(k, v)) {
                            Some((_, g)) => g.push(d),
                            None => groups.push((v.clone(), vec![*d])),
                        }
                    }
                }
                let mut buckets = Vec::new();
                for (key, group) in &groups {
                    buckets.push(with_subs(
                        json!({"key": key, "doc_count": group.len()}),
                        group,
                    )?);
                }
                let order: Vec<(String, bool)> = match &body["order"] {
                    Value::Null => vec![("_count".into(), true), ("_key".into(), false)],
                    Value::Object(o) => o.iter().map(|(k, v)| (k.clone(), v == "desc")).collect(),
                    Value::Array(a) => a
                        .iter()
                        .filter_map(|o| {
                            o.as_object()?
                                .iter()
                                .next()
                                .map(|(k, v)| (k.clone(), v == "desc"))
                        })
                        .collect(),
                    _ => return Err(unsupported("this terms order")),
                };
                let sort_value = |b: &Value, k: &str| match k {
                    "_key" => b["key"].clone(),
                    "_count" => b["doc_count"].clone(),
                    sub => b[sub]["doc_count"].clone(),
                };
                buckets.sort_by(|a, b| {
                    for (k, desc) in &order {
                        let o = cmp_values(&sort_value(a, k), &sort_value(b, k));
                        let o = if *desc { o.reverse() } else { o };
                        if o != std::cmp::Ordering::Equal {
                            return o;
                        }
                    }
                    // Elasticsearch breaks remaining ties by key, ascending.
                    cmp_values(&a["key"], &b["key"])
                });
                let size = body["size"].as_u64().unwrap_or(10) as usize;
                let other: u64 = buckets
                    .iter()
                    .skip(size)
                    .map(|b| b["doc_count"].as_u64().unwrap())
                    .sum();
                buckets.truncate(size);
                json!({"doc_count_error_upper_bound": 0, "sum_other_doc_count": other, "buckets": buckets})
            }
            "date_histogram" => {
                for key in body.as_object().into_iter().flatten().map(|(k, _)| k) {
                    if !["field", "calendar_interval", "min_doc_count"].contains(&key.as_str()) {
                        return Err(unsupported(format!("date_histogram option `{key}`")));
                    }
                }
                if body["min_doc_count"].as_u64().unwrap_or(0) < 1 {
                    return Err(unsupported(
                        "date_histogram with empty buckets (min_doc_count 0)",
                    ));
                }
                let unit = body["calendar_interval"].as_str().unwrap_or("");
                let mut groups: BTreeMap<i64, Vec<&Value>> = BTreeMap::new();
                for d in docs {
                    for v in values(d, field) {
                        let start = v
                            .as_i64()
                            .and_then(|ms| bucket_start(ms, unit))
                            .ok_or_else(|| unsupported(format!("calendar_interval `{unit}`")))?;
                        groups.entry(start).or_default().push(d);
                    }
                }
                let mut buckets = Vec::new();
                for (key, group) in &groups {
                    buckets.push(with_subs(json!({"key_as_string": key.to_string(), "key": key, "doc_count": group.len()}), group)?);
                }
                json!({"buckets": buckets})
            }
            "percentiles" => {
                let mut all: Vec<f64> = docs
                    .iter()
                    .flat_map(|d| values(d, field))
                    .filter_map(Value::as_f64)
                    .collect();
                all.sort_by(|a, b| a.partial_cmp(b).unwrap());
                // A t-digest keeps about 100 centroids: beyond that many values, each
                // centroid is the mean of a run of neighbours, and quantiles are read
                // from the means, so they are estimates, not values of the field.
                if all.len() > 100 {
                    let per = all.len().div_ceil(100);
                    all = all
                        .chunks(per)
                        .map(|c| c.iter().sum::<f64>() / c.len() as f64)
                        .collect();
                }
                let mut out = Map::new();
                for p in body["percents"].as_array().cloned().unwrap_or_default() {
                    let p = p.as_f64().unwrap_or(50.0);
                    // With few values every t-digest centroid is one value; the quantile
                    // interpolates between neighbouring centroids.
                    let value = if all.is_empty() {
                        Value::Null
                    } else {
                        let rank = p / 100.0 * all.len() as f64 - 0.5;
                        let lo = rank.floor().clamp(0.0, (all.len() - 1) as f64) as usize;
                        let hi = rank.ceil().clamp(0.0, (all.len() - 1) as f64) as usize;
                        let frac = (rank - rank.floor()).clamp(0.0, 1.0);
                        json!(all[lo] + (all[hi] - all[lo]) * frac)
                    };
                    out.insert(format!("{p:.1}"), value);
                }
                json!({"values": out})
            }
            "value_count" => {
                let n = docs.iter().map(|d| values(d, field).len()).sum::<usize>();
                json!({"value": n})
            }
            "range" => {
                for key in body.as_object().into_iter().flatten().map(|(k, _)| k) {
                    if !["field", "ranges", "keyed"].contains(&key.as_str()) {
                        return Err(unsupported(format!("range option `{key}`")));
                    }
                }
                let keyed = body["keyed"].as_bool().unwrap_or(false);
                let mut keyed_out = Map::new();
                let mut list = Vec::new();
                for r in body["ranges"].as_array().cloned().unwrap_or_default() {
                    let (from, to) = (r["from"].as_f64(), r["to"].as_f64());
                    let inside: Vec<&Value> =
                        docs.iter()
                            .copied()
                            .filter(|d| {
                                values(d, field).iter().filter_map(|v| v.as_f64()).any(|v| {
                                    from.is_none_or(|f| v >= f) && to.is_none_or(|t| v < t)
                                })
                            })
                            .collect();
                    let key = match r["key"].as_str() {
                        Some(k) => k.to_owned(),
                        None => format!(
                            "{}-{}",
                            from.map_or("*".into(), |f| format!("{f:.1}")),
                            to.map_or("*".into(), |t| format!("{t:.1}"))
                        ),
                    };
                    let mut bucket = json!({"doc_count": inside.len()});
                    if let Some(f) = from {
                        bucket["from"] = json!(f);
                    }
                    if let Some(t) = to {
                        bucket["to"] = json!(t);
                    }
                    let bucket = with_subs(bucket, &inside)?;
                    if keyed {
                        keyed_out.insert(key, bucket);
                    } else {
                        let mut bucket = bucket;
                        bucket["key"] = json!(key);
                        list.push(bucket);
                    }
                }
                if keyed {
                    json!({"buckets": keyed_out})
                } else {
                    json!({"buckets": list})
                }
            }
            "max" => {
                let max = docs
                    .iter()
                    .flat_map(|d| values(d, field))
                    .filter_map(Value::as_f64)
                    .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
                json!({"value": max})
            }
            "cardinality" => {
                let distinct: BTreeSet<String> = docs
                    .iter()
                    .flat_map(|d| values(d, field))
                    .map(Value::to_string)
                    .collect();
                json!({"value": distinct.len()})
            }
            other => return Err(unsupported(format!("aggregation `{other}`"))),
        };
        out.insert(name.clone(), result);
    }
    Ok(Value::Object(out))
}

/// Where the Elasticsearch tests run: the real cluster at `RECKON_TEST_ELASTICSEARCH_URL`
/// (credentials from `RECKON_TEST_ELASTICSEARCH_USERNAME` / `_PASSWORD` / `_API_KEY`),
/// or else a fresh stand-in. Each call gets its own index prefix, so tests never share
/// indices, and writes wait for refresh so answers are visible at once.
pub async fn test_cluster() -> (
    Option<StandIn>,
    reckon::store::elasticsearch::ElasticsearchConfig,
) {
    let mut config = reckon::settings::Config::defaults().elasticsearch;
    config.index_prefix = format!("reckon-test-{:08x}", rand::random::<u32>());
    config.refresh = reckon::store::elasticsearch::Refresh::WaitFor;
    config.max_retries = 3;
    // One writer per test and reads right after writes: no settle horizon.
    config.follow_settle_ms = 0;
    match std::env::var("RECKON_TEST_ELASTICSEARCH_URL") {
        Ok(url) if !url.is_empty() => {
            config.url = url.split(',').map(|u| u.trim().to_owned()).collect();
            let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
            config.username = var("RECKON_TEST_ELASTICSEARCH_USERNAME");
            config.password = var("RECKON_TEST_ELASTICSEARCH_PASSWORD").map(Into::into);
            config.api_key = var("RECKON_TEST_ELASTICSEARCH_API_KEY").map(Into::into);
            (None, config)
        }
        _ => {
            let (standin, url) = StandIn::start().await;
            config.url = vec![url];
            (Some(standin), config)
        }
    }
}
