//! A faithful in-process stand-in for the part of the Elasticsearch 8 REST API Reckon
//! uses, since no cluster can run on the test machines: composable templates, indices,
//! aliases, `_bulk` with `op_type=create`, external versions and `if_seq_no`, realtime
//! `_mget`, and `_search` with bool queries, sorting, `search_after` and the aggregations
//! Reckon sends. It answers with the response shapes of Elasticsearch 8.x and refuses,
//! with a 400, any request option it does not implement, so a test can never pass on a
//! feature the stand-in only pretends to have. Faults can be injected per index.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use chrono::{Datelike, Days, NaiveDate};
use serde_json::{json, Map, Value};

#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub path: String,
    pub query: String,
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

#[derive(Debug, Default)]
struct Index {
    mappings: Value,
    docs: BTreeMap<String, Doc>,
}

#[derive(Default)]
struct State {
    templates: BTreeMap<String, Value>,
    indices: BTreeMap<String, Index>,
    /// alias → (index → is_write_index)
    aliases: BTreeMap<String, BTreeMap<String, bool>>,
    seq_no: i64,
    log: Vec<Request>,
    faults: Vec<Fault>,
    down: bool,
}

#[derive(Clone, Default)]
pub struct StandIn {
    state: Arc<Mutex<State>>,
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
        let standin = StandIn::default();
        let handle = standin.clone();
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let standin = handle.clone();
                async move { standin.handle(method, uri, headers, body) }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (standin, url)
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
            ("GET", [""]) | ("HEAD", [""]) => ok(json!({
                "name": "standin", "cluster_name": "reckon-standin",
                "version": {"number": "8.15.0", "build_flavor": "default"},
                "tagline": "You Know, for Search",
            })),
            ("POST", ["_bulk"]) => self.bulk(body),
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
                Ok(names) => ok(
                    json!({"_shards": {"total": names.len(), "successful": names.len(), "failed": 0}}),
                ),
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
        self.indices.insert(
            name.to_owned(),
            Index {
                mappings,
                docs: BTreeMap::new(),
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
        for action in actions {
            for (kind, spec) in action.as_object().into_iter().flatten() {
                let (index, alias) = (
                    spec["index"].as_str().unwrap_or(""),
                    spec["alias"].as_str().unwrap_or(""),
                );
                if kind == "add" {
                    self.aliases.entry(alias.to_owned()).or_default().insert(
                        index.to_owned(),
                        spec["is_write_index"].as_bool().unwrap_or(false),
                    );
                } else if let Some(t) = self.aliases.get_mut(alias) {
                    t.remove(index);
                }
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

    fn bulk(&mut self, body: &[u8]) -> Reply {
        let mut lines = body.split(|b| *b == b'\n').filter(|l| !l.is_empty());
        let mut items = Vec::new();
        let mut errors = false;
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
            let item = self.bulk_item(&op, &meta, source);
            errors |= item["status"].as_u64().unwrap_or(500) >= 300
                && !(op == "delete" && item["status"] == 404);
            items.push(json!({ op: item }));
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
        let external = match meta["version_type"].as_str() {
            None => None,
            Some("external_gte") => meta["version"].as_i64(),
            Some(other) => {
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
        let existing = self.indices[&index].docs.get(&id).cloned();
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
        let version = match (op, &existing, external) {
            ("create", Some(d), _) => {
                return conflict(&format!(
                    "document already exists (current version [{}])",
                    d.version
                ))
            }
            ("delete", None, _) => {
                return json!({"_index": index, "_id": id, "_version": 1, "result": "not_found", "status": 404})
            }
            ("delete", Some(d), _) => d.version + 1,
            (_, Some(d), Some(v)) if v < d.version => {
                return conflict(&format!(
                    "current version [{}] is higher than the one provided [{v}]",
                    d.version
                ))
            }
            (_, _, Some(v)) => v,
            (_, Some(d), None) => d.version + 1,
            (_, None, None) => 1,
        };
        self.seq_no += 1;
        let seq_no = self.seq_no;
        let docs = &mut self.indices.get_mut(&index).unwrap().docs;
        let (result, status) = match (op, source) {
            ("delete", _) => {
                docs.remove(&id);
                ("deleted", 200)
            }
            (_, Some(source)) => {
                let created = docs
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
                "sort",
                "search_after",
                "track_total_hits",
                "aggs",
            ]
            .contains(&key.as_str())
            {
                return unsupported(format!("search option `{key}`"));
            }
        }
        let query = body
            .get("query")
            .cloned()
            .unwrap_or(json!({"match_all": {}}));
        let mut matched: Vec<(&String, &String, &Doc)> = Vec::new();
        for name in names {
            for (id, doc) in &self.indices[name].docs {
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
        let size = body.get("size").and_then(Value::as_u64).unwrap_or(10) as usize;
        let hits: Vec<Value> = matched
            .iter()
            .take(size)
            .map(|(index, id, doc)| {
                let mut hit =
                    json!({"_index": index, "_id": id, "_score": null, "_source": doc.source});
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
pub async fn test_cluster() -> (Option<StandIn>, reckon::config::ElasticsearchConfig) {
    let mut config = reckon::config::Config::defaults().elasticsearch;
    config.index_prefix = format!("reckon-test-{:08x}", rand::random::<u32>());
    config.refresh = reckon::config::Refresh::WaitFor;
    config.max_retries = 3;
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
