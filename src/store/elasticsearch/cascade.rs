//! Writes that move many documents, as `sources::github::merge` decides: a renamed or
//! transferred repo takes its pull requests along, and a renamed org takes everything
//! under it. Moved documents keep their external versions, so a move never outranks a
//! newer webhook; bulks are split.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::cluster::{Action, BulkOp, EsError, Hit};
use super::entities::{EntityDoc, OrgDoc, PullRequestDoc};
use super::ElasticsearchStore;
use crate::sources::github::merge::{self, MovePullRequests};
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

    /// Points every PR of each moved repo at the repo's new org and full name.
    pub(super) async fn move_pull_requests(
        &self,
        targets: &HashMap<&'static str, String>,
        moves: &[MovePullRequests],
    ) -> Result<(), StoreError> {
        let index = &targets["pull-requests"];
        self.cluster.refresh(index).await?;
        let mut ops = Vec::new();
        for to in moves {
            let query = json!({"bool": {
                "filter": [{"term": {"repo_id": to.repo_id}}],
                "should": [
                    {"bool": {"must_not": [{"term": {"org": to.org}}]}},
                    {"bool": {"must_not": [{"term": {"repo": to.full_name}}]}},
                ],
                "minimum_should_match": 1,
            }});
            for hit in self.scan(index, "pull-requests", query).await? {
                let mut pr: PullRequestDoc = serde_json::from_str(hit.source.get())
                    .map_err(|e| StoreError::Corrupt(format!("stored PR {}: {e}", hit.id)))?;
                pr.move_to(&to.org, to.full_name.clone());
                ops.push(self.rewrite(index, &EntityDoc::PullRequest(pr)));
            }
        }
        self.bulk_all(&ops).await
    }

    /// Moves everything stored under org key `from` to `to`, as `merge::rename_org`
    /// decides from the org stored under `to`.
    pub(super) async fn rename_org(
        &self,
        targets: &HashMap<&'static str, String>,
        from: &str,
        to: &str,
    ) -> Result<(), StoreError> {
        let orgs = &targets["orgs"];
        let stored_to = match self
            .cluster
            .mget(&[(orgs.clone(), to.to_owned())])
            .await?
            .pop()
            .flatten()
            .and_then(|d| d.source)
        {
            Some(source) => Some(
                serde_json::from_value::<OrgDoc>(source)
                    .map_err(|e| StoreError::Corrupt(format!("stored org {to}: {e}")))?
                    .to_model(),
            ),
            None => None,
        };
        let to = merge::rename_org(from, to, stored_to.as_ref());
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
                .scan(index, entity, json!({"term": {"org": to.from}}))
                .await?;
            for hit in hits {
                let source: Value = serde_json::from_str(hit.source.get())
                    .map_err(|e| StoreError::Corrupt(format!("stored {entity} {}: {e}", hit.id)))?;
                let mut doc = EntityDoc::parse(entity, source)
                    .map_err(|e| StoreError::Corrupt(format!("stored {entity} {}: {e}", hit.id)))?;
                match &mut doc {
                    EntityDoc::Repo(d) => d.org.clone_from(&to.to),
                    EntityDoc::Team(d) => d.org.clone_from(&to.to),
                    EntityDoc::OrgMember(d) => d.org.clone_from(&to.to),
                    EntityDoc::TeamMember(d) => d.org.clone_from(&to.to),
                    EntityDoc::PullRequest(d) => d.move_to(&to.to, to.pull_request_repo(&d.repo)),
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
        ops.push(BulkOp::new(Action::Delete, orgs, to.from.clone(), None));
        self.bulk_all(&ops).await
    }
}
