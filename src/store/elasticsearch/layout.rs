//! The index layout: versioned index templates with strict mappings, monthly journal
//! indices behind read aliases, one index per entity behind a write alias, and the
//! idempotent `setup` that creates or migrates all of it. Sources' journals
//! (`store::SourceSchema::es_journals`) join the core's here.

use elasticsearch::http::Method;
use serde::Serialize;
use serde_json::{json, Value};

use super::cluster::{Cluster, EsError};
use crate::store::source_schema;

/// Bumped whenever a mapping changes in a way existing indices cannot follow (a field
/// changes type, a setting changes); part of every index name and template.
pub const LAYOUT_VERSION: u32 = 1;

/// The templates' revision within a layout, raised for additive mapping changes (a new
/// field). `setup` then rewrites the templates and adds the new fields to the existing
/// indices of the layout, which Elasticsearch allows in place.
/// Revision 2: the journal's `content_type`.
pub const TEMPLATE_REVISION: u32 = 2;

/// The projected entities: each lives in `{prefix}-{name}-v1-{generation}` behind the
/// alias `{prefix}-{name}`. A rebuild fills a new generation and swaps the alias.
pub const ENTITIES: [&str; 6] = [
    "orgs",
    "repos",
    "teams",
    "org-members",
    "team-members",
    "pull-requests",
];

/// The generation a fresh layout starts with. The same name on every replica, so that
/// replicas starting together on an empty cluster create one index between them (the
/// others find it exists) rather than one write index each behind the same alias.
pub const FIRST_GENERATION: i64 = 0;

/// The core's journal indices, one per month of `received_at`, read through
/// `{prefix}-{name}`. Sources add theirs (see [`journals`]).
pub const CORE_JOURNALS: [&str; 2] = ["events", "deliveries"];

/// Every journal kind: the core's, then those of the registered sources' schemas
/// (`store::source_schema::registered`), whose read-model rows they hold.
pub fn journals() -> Vec<&'static str> {
    let sources = source_schema::registered().iter();
    CORE_JOURNALS
        .into_iter()
        .chain(sources.flat_map(|s| s.es_journals.iter().map(|j| j.kind)))
        .collect()
}

/// Single indices that are neither journal nor projection.
pub const SINGLES: [&str; 4] = ["dedup", "api-keys", "dead-letters", "state"];

#[derive(Debug, Clone)]
pub struct Names {
    pub prefix: String,
}

impl Names {
    pub fn alias(&self, name: &str) -> String {
        format!("{}-{name}", self.prefix)
    }

    pub fn template(&self, name: &str) -> String {
        format!("{}-{name}-v{LAYOUT_VERSION}", self.prefix)
    }

    /// The concrete index of a single (non-journal, non-entity) kind.
    pub fn single(&self, name: &str) -> String {
        format!("{}-{name}-v{LAYOUT_VERSION}", self.prefix)
    }

    /// The journal index for the month of `ms`, e.g. `reckon-events-v1-2026.11`.
    pub fn journal(&self, name: &str, ms: i64) -> String {
        let month = chrono::DateTime::from_timestamp_millis(ms)
            .unwrap_or_default()
            .format("%Y.%m");
        format!("{}-{name}-v{LAYOUT_VERSION}-{month}", self.prefix)
    }

    /// A fresh generation of an entity index.
    pub fn generation(&self, name: &str, generation: i64) -> String {
        format!("{}-{name}-v{LAYOUT_VERSION}-{generation}", self.prefix)
    }

    /// Everything Reckon owns, for size and refresh.
    pub fn all(&self) -> String {
        format!("{}-*", self.prefix)
    }
}

/// Field types, for the core's mappings and the sources' (`EsJournal::properties`).
pub fn keyword() -> Value {
    json!({"type": "keyword"})
}
pub fn long() -> Value {
    json!({"type": "long"})
}
pub fn boolean() -> Value {
    json!({"type": "boolean"})
}
pub fn date() -> Value {
    json!({"type": "date", "format": "epoch_millis"})
}
/// Kept in `_source` only: never searched, never aggregated.
fn stored_only() -> Value {
    json!({"type": "keyword", "index": false, "doc_values": false})
}

/// The mapping of each kind of index, a registered source's journal included.
/// `dynamic: strict` everywhere: a field Reckon
/// does not know is a bug to surface, not a mapping to grow.
pub fn mapping(name: &str) -> Value {
    let properties = match name {
        "events" => json!({
            "seq": long(), "source": keyword(), "dedup_key": keyword(), "kind": keyword(),
            "action": keyword(), "delivery_id": keyword(), "hook_id": keyword(),
            "received_at": date(), "day": keyword(),
            // The raw payload: returned as received, never parsed into fields. Text
            // payloads are a JSON string here, marked by `content_type`.
            "payload": {"type": "object", "enabled": false},
            "content_type": keyword(),
        }),
        "deliveries" => json!({
            "seq": long(), "source": keyword(), "kind": keyword(), "action": keyword(),
            "delivery_id": keyword(), "hook_id": keyword(), "status": keyword(),
            "reason": {"type": "keyword", "ignore_above": 1024}, "received_at": date(), "size": long(),
        }),
        "dedup" => json!({
            "source": keyword(), "dedup_key": keyword(), "state": keyword(), "owner": keyword(),
            "claimed_at": date(), "seq": long(), "event_index": keyword(),
        }),
        "dead-letters" => json!({
            "seq": long(), "source": keyword(), "kind": keyword(), "delivery_id": keyword(),
            "target": keyword(), "error": keyword(), "reason": stored_only(),
            "received_at": date(), "document": stored_only(),
        }),
        "api-keys" => json!({
            "id": keyword(), "source": keyword(), "name": keyword(), "hash": stored_only(),
            "created_at": date(), "revoked_at": date(),
        }),
        "state" => json!({"key": keyword(), "value": stored_only(), "updated_at": date()}),
        "orgs" => json!({"key": keyword(), "login": keyword(), "id": long()}),
        "repos" => json!({
            "id": long(), "org": keyword(), "name": keyword(), "name_sort": keyword(),
            "full_name": keyword(), "private": boolean(), "archived": boolean(),
            "deleted": boolean(), "version": long(),
        }),
        "teams" => json!({
            "id": long(), "org": keyword(), "slug": keyword(), "slug_lower": keyword(),
            "name": keyword(), "sort_key": keyword(), "deleted": boolean(), "version": long(),
        }),
        "org-members" => json!({
            "org": keyword(), "user_id": long(), "login": keyword(), "present": boolean(),
            "version": long(),
        }),
        "team-members" => json!({
            "team_id": long(), "org": keyword(), "user_id": long(), "login": keyword(),
            "login_sort": keyword(), "present": boolean(), "version": long(),
        }),
        "pull-requests" => json!({
            "id": long(), "org": keyword(), "repo_id": long(), "repo": keyword(),
            "repo_lower": keyword(), "number": long(),
            "title": {"type": "text", "fields": {"raw": {"type": "keyword", "ignore_above": 512}}},
            "state": keyword(), "draft": boolean(), "author": keyword(), "author_lower": keyword(),
            "author_id": long(), "base_ref": keyword(), "labels": keyword(),
            "requested_reviewers": keyword(), "additions": long(), "deletions": long(),
            "created_at": date(), "updated_at": date(), "closed_at": date(), "merged_at": date(),
            "time_to_merge_seconds": long(), "version": long(),
        }),
        other => match source_schema::es_journal(source_schema::registered(), other) {
            Some(journal) => (journal.properties)(),
            None => unreachable!("no mapping for `{other}`"),
        },
    };
    json!({
        "dynamic": "strict",
        "_meta": {"reckon_layout": LAYOUT_VERSION},
        "properties": properties,
    })
}

/// The composable index template for one kind. Journal templates add the read alias so
/// every new month joins it; entity templates do not, since a rebuilt generation must
/// only join its alias when it is swapped in.
pub fn template(names: &Names, name: &str) -> Value {
    let journal = journals().contains(&name);
    let mut settings = json!({"number_of_shards": 1});
    if name == "events" || name == "dead-letters" {
        settings["codec"] = json!("best_compression");
    }
    let mut body = json!({
        "index_patterns": [format!("{}-{name}-v{LAYOUT_VERSION}*", names.prefix)],
        "version": TEMPLATE_REVISION,
        "priority": 200,
        "_meta": {"managed_by": "reckon"},
        "template": {"settings": settings, "mappings": mapping(name)},
    });
    if journal {
        body["template"]["aliases"] = json!({ names.alias(name): {} });
    }
    body
}

/// What `setup` did, for the command's report and the start-up log.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct SetupReport {
    pub templates_written: Vec<String>,
    pub templates_current: Vec<String>,
    pub indices_created: Vec<String>,
    /// Entity aliases that point at an older layout: `reckon reindex` moves them.
    pub outdated: Vec<String>,
}

/// Creates or updates every template, and every index and alias that is missing.
/// Safe to run any number of times, from any number of replicas at once.
pub async fn setup(cluster: &Cluster, names: &Names, now_ms: i64) -> Result<SetupReport, EsError> {
    let mut report = SetupReport::default();
    let mut revised = Vec::new();
    let journals = journals();
    let kinds = journals.iter().chain(&SINGLES).chain(&ENTITIES);
    for &name in kinds {
        let template_name = names.template(name);
        let path = format!("/_index_template/{template_name}");
        let current = cluster.call(Method::Get, &path, &[], None, true).await?;
        let installed = current
            .as_ref()
            .and_then(|c| c["index_templates"][0]["index_template"]["version"].as_u64());
        if installed == Some(u64::from(TEMPLATE_REVISION)) {
            report.templates_current.push(template_name);
        } else {
            cluster
                .json(Method::Put, &path, &[], Some(&template(names, name)))
                .await?;
            report.templates_written.push(template_name);
            if installed.is_some() {
                revised.push(name);
            }
        }
    }
    for &name in &journals {
        let index = names.journal(name, now_ms);
        if create_index(cluster, &index, None).await? {
            report.indices_created.push(index);
        }
    }
    for name in SINGLES {
        let index = names.single(name);
        if create_index(cluster, &index, Some(&names.alias(name))).await? {
            report.indices_created.push(index);
        }
    }
    for name in ENTITIES {
        let alias = names.alias(name);
        match alias_targets(cluster, &alias).await? {
            targets if targets.is_empty() => {
                let index = names.generation(name, FIRST_GENERATION);
                if create_index(cluster, &index, Some(&alias)).await? {
                    report.indices_created.push(index);
                }
            }
            targets => {
                let current = format!("{}-{name}-v{LAYOUT_VERSION}-", names.prefix);
                if !targets.iter().any(|t| t.starts_with(&current)) {
                    report.outdated.push(alias);
                }
            }
        }
    }
    for name in revised {
        add_new_fields(cluster, names, name).await?;
    }
    Ok(report)
}

/// Puts a revised mapping's fields onto the existing indices of its kind (every kind
/// has at least one by now). Elasticsearch adds new fields and refuses any change to an
/// existing one, so an accidental non-additive edit fails here, loudly, at start.
async fn add_new_fields(cluster: &Cluster, names: &Names, name: &str) -> Result<(), EsError> {
    let pattern = format!("{}-{name}-v{LAYOUT_VERSION}*", names.prefix);
    let body = json!({"properties": mapping(name)["properties"]});
    cluster
        .json(
            Method::Put,
            &format!("/{pattern}/_mapping"),
            &[],
            Some(&body),
        )
        .await?;
    tracing::info!(%pattern, "added new mapping fields to existing indices");
    Ok(())
}

/// Creates `index` (its template supplies settings and mappings), optionally as the
/// write index of `alias`. `false` if it already existed.
pub async fn create_index(
    cluster: &Cluster,
    index: &str,
    alias: Option<&str>,
) -> Result<bool, EsError> {
    let body = match alias {
        Some(alias) => json!({"aliases": {alias: {"is_write_index": true}}}),
        None => json!({}),
    };
    match cluster
        .json(Method::Put, &format!("/{index}"), &[], Some(&body))
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == Some("resource_already_exists_exception") => Ok(false),
        Err(e) => Err(e),
    }
}

/// The indices an alias points at; empty if there is no such alias.
pub async fn alias_targets(cluster: &Cluster, alias: &str) -> Result<Vec<String>, EsError> {
    let reply = cluster
        .call(Method::Get, &format!("/_alias/{alias}"), &[], None, true)
        .await?;
    Ok(reply
        .and_then(|r| r.as_object().map(|o| o.keys().cloned().collect()))
        .unwrap_or_default())
}
