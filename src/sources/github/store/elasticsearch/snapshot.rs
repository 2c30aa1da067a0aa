//! The reconciler's org snapshot on Elasticsearch: scans of the live entity documents
//! plus one aggregation of PR counts per repo and state.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::stats::PrCounts;
use crate::store::elasticsearch::read::parse;
use crate::store::elasticsearch::ElasticsearchStore;
use crate::store::snapshot::{OrgSnapshot, SnapshotRepo, SnapshotTeam};
use crate::store::StoreError;

/// Most repos one org's PR counts are aggregated over: three states of this many
/// buckets stay under Elasticsearch's default `search.max_buckets` of 65,536.
const MAX_REPOS: u64 = 20_000;

#[derive(Deserialize)]
struct RepoRow {
    id: i64,
    name: String,
}

#[derive(Deserialize)]
struct TeamRow {
    id: i64,
    slug: Option<String>,
}

#[derive(Deserialize)]
struct MemberRow {
    #[serde(default)]
    team_id: Option<i64>,
    user_id: i64,
    login: String,
}

/// The org's documents whose `flag` is `value` (`deleted: false` for live repos).
fn live(org: &str, flag: &str, value: bool) -> Value {
    json!({"bool": {"filter": [{"term": {"org": org}}, {"term": {flag: value}}]}})
}

impl ElasticsearchStore {
    async fn rows<T: for<'de> Deserialize<'de>>(
        &self,
        entity: &str,
        query: Value,
    ) -> Result<Vec<T>, StoreError> {
        self.scan(&self.names().alias(entity), entity, query)
            .await?
            .iter()
            .map(parse)
            .collect()
    }

    pub(super) async fn read_org_snapshot(&self, org: &str) -> Result<OrgSnapshot, StoreError> {
        let repos = self
            .rows::<RepoRow>("repos", live(org, "deleted", false))
            .await?
            .into_iter()
            .map(|r| SnapshotRepo {
                id: r.id,
                name: r.name,
            })
            .collect();
        let deleted_repos = self
            .rows::<RepoRow>("repos", live(org, "deleted", true))
            .await?
            .into_iter()
            .map(|r| r.id)
            .collect();
        let mut teams: BTreeMap<i64, SnapshotTeam> = self
            .rows::<TeamRow>("teams", live(org, "deleted", false))
            .await?
            .into_iter()
            .map(|t| {
                let team = SnapshotTeam {
                    id: t.id,
                    slug: t.slug,
                    members: BTreeMap::new(),
                };
                (t.id, team)
            })
            .collect();
        for member in self
            .rows::<MemberRow>("team-members", live(org, "present", true))
            .await?
        {
            if let Some(team) = member.team_id.and_then(|id| teams.get_mut(&id)) {
                team.members.insert(member.user_id, member.login);
            }
        }
        let org_members = self
            .rows::<MemberRow>("org-members", live(org, "present", true))
            .await?
            .into_iter()
            .map(|m| (m.user_id, m.login))
            .collect();
        Ok(OrgSnapshot {
            repos,
            deleted_repos,
            teams: teams.into_values().collect(),
            org_members,
            pull_requests: self.pull_request_counts(org).await?,
        })
    }

    async fn pull_request_counts(&self, org: &str) -> Result<BTreeMap<i64, PrCounts>, StoreError> {
        let per_repo = json!({"terms": {"field": "repo_id", "size": MAX_REPOS}});
        let by_state = |state: &str| json!({"filter": {"term": {"state": state}}, "aggs": {"repos": per_repo}});
        let body = json!({
            "size": 0,
            "query": {"term": {"org": org}},
            "aggs": {"open": by_state("open"), "closed": by_state("closed"), "merged": by_state("merged")},
        });
        let reply = self
            .cluster()
            .search(&self.names().alias("pull-requests"), &body)
            .await?;
        let mut counts: BTreeMap<i64, PrCounts> = BTreeMap::new();
        for state in ["open", "closed", "merged"] {
            let repos = &reply.aggregations[state]["repos"];
            if repos["sum_other_doc_count"].as_u64().unwrap_or(0) > 0 {
                return Err(StoreError::Corrupt(format!(
                    "org {org} has PRs in more than {MAX_REPOS} repos, more than one snapshot aggregates"
                )));
            }
            for bucket in repos["buckets"].as_array().into_iter().flatten() {
                let (Some(repo), Some(n)) = (bucket["key"].as_i64(), bucket["doc_count"].as_u64())
                else {
                    return Err(StoreError::Corrupt(format!("PR count bucket {bucket}")));
                };
                let entry = counts.entry(repo).or_default();
                match state {
                    "open" => entry.open = n,
                    "closed" => entry.closed = n,
                    _ => entry.merged = n,
                }
            }
        }
        Ok(counts)
    }
}
