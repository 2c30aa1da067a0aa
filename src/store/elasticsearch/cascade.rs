//! Writes that move many documents: a renamed or transferred repo takes its pull
//! requests along, and a renamed org takes everything under it. Moved documents keep
//! their external versions, so a move never outranks a newer webhook; bulks are split.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::cluster::{Action, BulkOp, EsError, Hit};
use super::entities::{EntityDoc, PullRequestDoc, RepoDoc};
use super::ElasticsearchStore;
use crate::store::StoreError;

/// Documents per search page when scanning.
const PAGE: usize = 1_000;

/// A unique sort for each entity kind, for `search_after` paging.
fn sort_of(entity: &str) -> Value {
    match entity {
        "orgs" => json!([{"key": "asc"}]),
        "org-members" => json!([{"user_id": "asc"}, {"org": "asc"}]),
        "team-members" => json!([{"team_id": "asc"}, {"user_id": "asc"}]),
        _ => json!([{"id": "asc"}]),
    }
}

impl ElasticsearchStore {
    /// Every document of `entity` in `target` matching `query`, paged by `search_after`.
    pub(crate) async fn scan(
        &self,
        target: &str,
        entity: &str,
        query: Value,
    ) -> Result<Vec<Hit>, EsError> {
        let mut out = Vec::new();
        let mut after: Option<Vec<Value>> = None;
        loop {
            let mut body = json!({
                "size": PAGE, "query": query, "sort": sort_of(entity), "track_total_hits": false,
            });
            if let Some(after) = &after {
                body["search_after"] = json!(after);
            }
            let page = self.cluster.search(target, &body).await?.hits.hits;
            let done = page.len() < PAGE;
            after = page.last().map(|h| h.sort.clone());
            out.extend(page);
            if done {
                return Ok(out);
            }
        }
    }

    fn rewrite(&self, index: &str, doc: &EntityDoc) -> BulkOp {
        let op = BulkOp::new(Action::Index, index, doc.id(), Some(doc.to_json()));
        match doc.es_version() {
            Some(v) => op.versioned(v),
            None => op,
        }
    }

    async fn bulk_all(&self, ops: &[BulkOp]) -> Result<(), StoreError> {
        for result in self.cluster.bulk(ops, self.refresh).await? {
            if let super::cluster::ItemResult::Failed {
                status,
                kind,
                reason,
            } = result
            {
                return Err(StoreError::from(EsError::Status {
                    method: "POST",
                    path: "/_bulk (move)".into(),
                    status,
                    kind,
                    reason,
                }));
            }
        }
        Ok(())
    }

    /// Points every PR of each repo at the repo's current org and full name.
    pub(super) async fn move_pull_requests(
        &self,
        targets: &HashMap<&'static str, String>,
        repos: &[RepoDoc],
    ) -> Result<(), StoreError> {
        let index = &targets["pull-requests"];
        self.cluster.refresh(index).await?;
        let mut ops = Vec::new();
        for repo in repos {
            let query = json!({"bool": {
                "filter": [{"term": {"repo_id": repo.id}}],
                "should": [
                    {"bool": {"must_not": [{"term": {"org": repo.org}}]}},
                    {"bool": {"must_not": [{"term": {"repo": repo.full_name}}]}},
                ],
                "minimum_should_match": 1,
            }});
            for hit in self.scan(index, "pull-requests", query).await? {
                let mut pr: PullRequestDoc = serde_json::from_str(hit.source.get())
                    .map_err(|e| StoreError::Corrupt(format!("stored PR {}: {e}", hit.id)))?;
                pr.org = repo.org.clone();
                pr.repo = repo.full_name.clone();
                pr.repo_lower = pr.repo.to_lowercase();
                ops.push(self.rewrite(index, &EntityDoc::PullRequest(pr)));
            }
        }
        self.bulk_all(&ops).await
    }

    /// Moves everything stored under org key `from` to `to`, like the SQLite rename.
    pub(super) async fn rename_org(
        &self,
        targets: &HashMap<&'static str, String>,
        from: &str,
        to: &str,
    ) -> Result<(), StoreError> {
        let orgs = &targets["orgs"];
        let login = self
            .cluster
            .mget(&[(orgs.clone(), to.to_owned())])
            .await?
            .pop()
            .flatten()
            .and_then(|d| d.source)
            .and_then(|s| s["login"].as_str().map(str::to_owned))
            .unwrap_or_else(|| to.to_owned());
        let mut ops = Vec::new();
        for entity in [
            "repos",
            "teams",
            "org-members",
            "team-members",
            "pull-requests",
        ] {
            let index = &targets[entity];
            self.cluster.refresh(index).await?;
            let hits = self
                .scan(index, entity, json!({"term": {"org": from}}))
                .await?;
            for hit in hits {
                let source: Value = serde_json::from_str(hit.source.get())
                    .map_err(|e| StoreError::Corrupt(format!("stored {entity} {}: {e}", hit.id)))?;
                let mut doc = EntityDoc::parse(entity, source)
                    .map_err(|e| StoreError::Corrupt(format!("stored {entity} {}: {e}", hit.id)))?;
                match &mut doc {
                    EntityDoc::Repo(d) => d.org = to.to_owned(),
                    EntityDoc::Team(d) => d.org = to.to_owned(),
                    EntityDoc::OrgMember(d) => d.org = to.to_owned(),
                    EntityDoc::TeamMember(d) => d.org = to.to_owned(),
                    EntityDoc::PullRequest(d) => d.rename_org(to, &login),
                    EntityDoc::Org(_) => {}
                }
                // The new document before the old one goes: should the move stop
                // half-way (the bulk is split by size), nothing is lost, only doubled
                // until the rename is stored again.
                ops.push(self.rewrite(index, &doc));
                if doc.id() != hit.id {
                    // Deleted at its own external version, so the tombstone a delete
                    // leaves for `index.gc_deletes` (60 s) does not outrank the document
                    // moving back under this id (a rename and its reversal, or a replay).
                    let delete = BulkOp::new(Action::Delete, index, hit.id.clone(), None);
                    ops.push(match doc.es_version() {
                        Some(v) => delete.versioned(v),
                        None => delete,
                    });
                }
            }
        }
        ops.push(BulkOp::new(Action::Delete, orgs, from.to_owned(), None));
        self.bulk_all(&ops).await
    }
}
