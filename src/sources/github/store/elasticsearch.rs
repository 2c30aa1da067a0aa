//! The GitHub read model on Elasticsearch: every stat is one search with aggregations
//! over the entity aliases the journal's bulk keeps, plus exact medians (`median`) and
//! the reconciler's org snapshot (`snapshot`). Query bodies are pure functions.

mod median;
mod snapshot;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{json, Value};

use self::median::MedianOf;
use super::GithubReadModel;
use crate::stats::{
    Interval, OrgListItem, OrgSummary, PrCounts, PrFilter, PrStats, PrTally, RepoItem, SeriesPoint,
    TeamMember, TeamStats, TimeRange,
};
use crate::store::elasticsearch::read::{
    all_of, buckets, corrupt, count, histogram, parse, term, within,
};
use crate::store::elasticsearch::{ElasticsearchStore, OrgDoc};
use crate::store::snapshot::OrgSnapshot;
use crate::store::StoreError;

#[async_trait]
impl GithubReadModel for ElasticsearchStore {
    async fn orgs(&self) -> Result<Vec<OrgListItem>, StoreError> {
        self.read_orgs().await
    }

    async fn org_known(&self, org: &str) -> Result<bool, StoreError> {
        Ok(self.org_login(org).await?.is_some())
    }

    async fn org_summary(&self, org: &str) -> Result<Option<OrgSummary>, StoreError> {
        self.read_summary(org).await
    }

    async fn pr_series(
        &self,
        filter: &PrFilter,
        interval: Interval,
    ) -> Result<Vec<SeriesPoint>, StoreError> {
        self.read_series(filter, interval).await
    }

    async fn pr_stats(&self, filter: &PrFilter, top: usize) -> Result<PrStats, StoreError> {
        self.read_stats(filter, top).await
    }

    async fn repos(&self, org: &str) -> Result<Vec<RepoItem>, StoreError> {
        self.read_repos(org).await
    }

    async fn team_stats(&self, org: &str, range: TimeRange) -> Result<Vec<TeamStats>, StoreError> {
        self.read_team_stats(org, range).await
    }

    async fn team_members(
        &self,
        org: &str,
        team: &str,
    ) -> Result<Option<Vec<TeamMember>>, StoreError> {
        self.read_team_members(org, team).await
    }

    async fn org_snapshot(&self, org: &str) -> Result<OrgSnapshot, StoreError> {
        self.read_org_snapshot(org).await
    }
}

/// PRs created, merged or closed in the range: the ones a range's stats can count.
fn touched(range: TimeRange) -> Option<Value> {
    (range != TimeRange::default()).then(|| {
        json!({"bool": {"should": [
            within("created_at", range), within("merged_at", range), within("closed_at", range),
        ], "minimum_should_match": 1}})
    })
}

/// The filters of `filter`; `team_authors` are the user ids of the team's members.
pub fn pr_filters(filter: &PrFilter, team_authors: Option<&[i64]>) -> Vec<Value> {
    let mut out = vec![term("org", filter.org.clone())];
    if let Some(repo) = &filter.repo {
        let full = if repo.contains('/') {
            repo.clone()
        } else {
            format!("{}/{repo}", filter.org)
        };
        out.push(term("repo_lower", full.to_lowercase()));
    }
    if let Some(author) = &filter.author {
        out.push(term("author_lower", author.to_lowercase()));
    }
    if let Some(ids) = team_authors {
        out.push(json!({"terms": {"author_id": ids}}));
    }
    out
}

fn closed_within(range: TimeRange) -> Value {
    all_of(vec![term("state", "closed"), within("closed_at", range)])
}

pub fn series_body(filter: &PrFilter, team_authors: Option<&[i64]>, interval: Interval) -> Value {
    let r = filter.range;
    let by = |filter: Value, field: &str| json!({"filter": filter, "aggs": {"buckets": histogram(field, interval)}});
    json!({
        "size": 0,
        "query": all_of(pr_filters(filter, team_authors)),
        "aggs": {
            "opened": by(within("created_at", r), "created_at"),
            "merged": by(within("merged_at", r), "merged_at"),
            "closed": by(closed_within(r), "closed_at"),
        },
    })
}

/// The count of merge durations, and the t-digest estimate of their median that the
/// exact median starts from.
fn median_of(field: &str) -> Value {
    json!({"percentiles": {"field": field, "percents": [50]}})
}

fn ttm_aggs() -> Value {
    json!({"ttm": median_of("time_to_merge_seconds"), "ttm_n": {"value_count": {"field": "time_to_merge_seconds"}}})
}

/// The PRs of `filters` merged in the range, whose merge durations the median is of.
pub fn merged_within(mut filters: Vec<Value>, range: TimeRange) -> Value {
    filters.push(within("merged_at", range));
    filters.push(json!({"exists": {"field": "time_to_merge_seconds"}}));
    all_of(filters)
}

fn tallies(field: &str, range: TimeRange, top: usize) -> Value {
    json!({
        "terms": {"field": field, "size": top, "order": [{"opened": "desc"}, {"merged": "desc"}, {"_key": "asc"}]},
        "aggs": {"opened": {"filter": within("created_at", range)}, "merged": {"filter": within("merged_at", range)}},
    })
}

pub fn stats_body(filter: &PrFilter, team_authors: Option<&[i64]>, top: usize) -> Value {
    let r = filter.range;
    let mut filters = pr_filters(filter, team_authors);
    filters.extend(touched(r));
    json!({
        "size": 0,
        "query": all_of(filters),
        "aggs": {
            "opened": {"filter": within("created_at", r)},
            "merged": {"filter": within("merged_at", r), "aggs": ttm_aggs()},
            "closed": {"filter": closed_within(r)},
            "repos": tallies("repo", r, top),
            "authors": tallies("author", r, top),
        },
    })
}

pub fn team_stats_body(org: &str, range: TimeRange, teams: &BTreeMap<i64, Vec<i64>>) -> Value {
    let mut filters = vec![term("org", org)];
    filters.extend(touched(range));
    let per_team: serde_json::Map<String, Value> = teams
        .iter()
        .map(|(id, authors)| (id.to_string(), json!({"terms": {"author_id": authors}})))
        .collect();
    json!({
        "size": 0,
        "query": all_of(filters),
        "aggs": {"teams": {
            "filters": {"filters": per_team},
            "aggs": {
                "opened": {"filter": within("created_at", range)},
                "merged": {"filter": within("merged_at", range), "aggs": ttm_aggs()},
            },
        }},
    })
}

fn median_in(v: &Value) -> Option<f64> {
    let values = &v["ttm"]["values"];
    values["50.0"]
        .as_f64()
        .or_else(|| values.as_array()?.first()?["value"].as_f64())
}

fn durations_in(v: &Value) -> u64 {
    v["ttm_n"]["value"].as_u64().unwrap_or(0)
}

#[derive(Deserialize)]
struct TeamRow {
    id: i64,
    sort_key: String,
    name: Option<String>,
}

#[derive(Deserialize)]
struct MemberRow {
    team_id: i64,
    org: String,
    user_id: i64,
    login: String,
}

#[derive(Deserialize)]
struct RepoRow {
    id: i64,
    name: String,
    full_name: String,
    private: bool,
    archived: bool,
}

impl ElasticsearchStore {
    async fn total(&self, entity: &str, filters: Vec<Value>) -> Result<u64, StoreError> {
        let body = json!({"size": 0, "track_total_hits": true, "query": all_of(filters)});
        Ok(self
            .cluster()
            .search(&self.names().alias(entity), &body)
            .await?
            .total())
    }

    async fn org_login(&self, org: &str) -> Result<Option<String>, StoreError> {
        let doc = self
            .cluster()
            .mget(&[(self.names().alias("orgs"), org.to_owned())])
            .await?
            .pop()
            .flatten();
        if let Some(login) = doc.and_then(|d| d.source?["login"].as_str().map(str::to_owned)) {
            return Ok(Some(login));
        }
        Ok((self.total("repos", vec![term("org", org)]).await? > 0).then(|| org.to_owned()))
    }

    async fn read_orgs(&self) -> Result<Vec<OrgListItem>, StoreError> {
        let mut out: BTreeSet<(String, String)> = BTreeSet::new();
        for hit in self
            .scan(
                &self.names().alias("orgs"),
                "orgs",
                json!({"match_all": {}}),
            )
            .await?
        {
            let org: OrgDoc = parse(&hit)?;
            out.insert((org.key, org.login));
        }
        let known: BTreeSet<String> = out.iter().map(|(k, _)| k.clone()).collect();
        let body =
            json!({"size": 0, "aggs": {"orgs": {"terms": {"field": "org", "size": 10_000}}}});
        let reply = self
            .cluster()
            .search(&self.names().alias("repos"), &body)
            .await?;
        for b in buckets(&reply.aggregations["orgs"]) {
            if let Some(key) = b["key"].as_str() {
                if !known.contains(key) {
                    out.insert((key.to_owned(), key.to_owned()));
                }
            }
        }
        Ok(out
            .into_iter()
            .map(|(org, login)| OrgListItem { org, login })
            .collect())
    }

    async fn read_summary(&self, org: &str) -> Result<Option<OrgSummary>, StoreError> {
        let Some(login) = self.org_login(org).await? else {
            return Ok(None);
        };
        let states = json!({"size": 0, "query": term("org", org), "aggs": {"states": {"terms": {"field": "state", "size": 10}}}});
        let (repos, teams, members, prs) = tokio::try_join!(
            self.total("repos", vec![term("org", org), term("deleted", false)]),
            self.total("teams", vec![term("org", org), term("deleted", false)]),
            self.total("org-members", vec![term("org", org), term("present", true)]),
            async {
                Ok::<_, StoreError>(
                    self.cluster()
                        .search(&self.names().alias("pull-requests"), &states)
                        .await?,
                )
            },
        )?;
        let mut pull_requests = PrCounts::default();
        for b in buckets(&prs.aggregations["states"]) {
            let n = count(b);
            match b["key"].as_str() {
                Some("open") => pull_requests.open = n,
                Some("closed") => pull_requests.closed = n,
                Some("merged") => pull_requests.merged = n,
                other => return Err(corrupt("PR state", format!("{other:?}"))),
            }
        }
        Ok(Some(OrgSummary {
            org: login,
            repos,
            teams,
            members,
            pull_requests,
        }))
    }

    /// The team's live team id, if the org has a team with this slug.
    async fn team_id(&self, org: &str, slug: &str) -> Result<Option<i64>, StoreError> {
        let body = json!({"size": 1, "query": all_of(vec![
            term("org", org), term("slug_lower", slug.to_lowercase()), term("deleted", false),
        ])});
        let reply = self
            .cluster()
            .search(&self.names().alias("teams"), &body)
            .await?;
        match reply.hits.hits.first() {
            Some(hit) => Ok(Some(parse::<TeamRow>(hit)?.id)),
            None => Ok(None),
        }
    }

    /// Every document of the org's repos or teams that is not deleted.
    async fn live<T: for<'de> Deserialize<'de>>(
        &self,
        org: &str,
        entity: &str,
    ) -> Result<Vec<T>, StoreError> {
        self.scan(
            &self.names().alias(entity),
            entity,
            all_of(vec![term("org", org), term("deleted", false)]),
        )
        .await?
        .iter()
        .map(parse)
        .collect()
    }

    async fn members_of(&self, filters: Vec<Value>) -> Result<Vec<MemberRow>, StoreError> {
        self.scan(
            &self.names().alias("team-members"),
            "team-members",
            all_of(filters),
        )
        .await?
        .iter()
        .map(parse)
        .collect()
    }

    /// The author ids a team filter stands for: its present members (none if unknown).
    async fn team_authors(&self, filter: &PrFilter) -> Result<Option<Vec<i64>>, StoreError> {
        let Some(team) = &filter.team else {
            return Ok(None);
        };
        let Some(id) = self.team_id(&filter.org, team).await? else {
            return Ok(Some(Vec::new()));
        };
        let members = self
            .members_of(vec![term("team_id", id), term("present", true)])
            .await?;
        Ok(Some(
            members
                .into_iter()
                .filter(|m| m.org == filter.org)
                .map(|m| m.user_id)
                .collect(),
        ))
    }

    async fn read_series(
        &self,
        filter: &PrFilter,
        interval: Interval,
    ) -> Result<Vec<SeriesPoint>, StoreError> {
        let authors = self.team_authors(filter).await?;
        let body = series_body(filter, authors.as_deref(), interval);
        let reply = self
            .cluster()
            .search(&self.names().alias("pull-requests"), &body)
            .await?;
        let mut points: BTreeMap<String, SeriesPoint> = BTreeMap::new();
        for (i, name) in ["opened", "merged", "closed"].into_iter().enumerate() {
            for b in buckets(&reply.aggregations[name]["buckets"]) {
                let key = b["key"].as_i64().ok_or_else(|| corrupt("bucket key", b))?;
                let bucket = interval.bucket_start(key).to_string();
                let point = points.entry(bucket.clone()).or_insert(SeriesPoint {
                    bucket,
                    opened: 0,
                    merged: 0,
                    closed: 0,
                });
                let n = count(b);
                match i {
                    0 => point.opened += n,
                    1 => point.merged += n,
                    _ => point.closed += n,
                }
            }
        }
        Ok(points
            .into_values()
            .filter(|p| p.opened + p.merged + p.closed > 0)
            .collect())
    }

    async fn read_stats(&self, filter: &PrFilter, top: usize) -> Result<PrStats, StoreError> {
        let authors = self.team_authors(filter).await?;
        let body = stats_body(filter, authors.as_deref(), top);
        let target = self.names().alias("pull-requests");
        let reply = self.cluster().search(&target, &body).await?;
        let a = &reply.aggregations;
        let mut filters = pr_filters(filter, authors.as_deref());
        filters.extend(touched(filter.range));
        let of = MedianOf {
            target: &target,
            query: merged_within(filters, filter.range),
            field: "time_to_merge_seconds",
            tiebreak: "id",
        };
        let median = self
            .exact_median(&of, durations_in(&a["merged"]), median_in(&a["merged"]))
            .await?;
        let top_of = |name: &str| -> Vec<PrTally> {
            buckets(&a[name])
                .iter()
                .map(|b| PrTally {
                    key: b["key"].as_str().unwrap_or_default().to_owned(),
                    opened: count(&b["opened"]),
                    merged: count(&b["merged"]),
                })
                .filter(|t| t.opened + t.merged > 0)
                .collect()
        };
        Ok(PrStats {
            opened: count(&a["opened"]),
            merged: count(&a["merged"]),
            closed: count(&a["closed"]),
            median_time_to_merge_seconds: median,
            top_repos: top_of("repos"),
            top_authors: top_of("authors"),
        })
    }

    async fn read_repos(&self, org: &str) -> Result<Vec<RepoItem>, StoreError> {
        let repos: Vec<RepoRow> = self.live(org, "repos").await?;
        if repos.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = repos.iter().map(|r| r.id).collect();
        let body = json!({
            "size": 0,
            "query": all_of(vec![json!({"terms": {"repo_id": ids}}), term("state", "open")]),
            "aggs": {"open": {"terms": {"field": "repo_id", "size": ids.len()}}},
        });
        let reply = self
            .cluster()
            .search(&self.names().alias("pull-requests"), &body)
            .await?;
        let open: HashMap<i64, u64> = buckets(&reply.aggregations["open"])
            .iter()
            .filter_map(|b| Some((b["key"].as_i64()?, count(b))))
            .collect();
        let mut out: Vec<RepoItem> = repos
            .into_iter()
            .map(|r| RepoItem {
                open_pull_requests: open.get(&r.id).copied().unwrap_or(0),
                name: r.name,
                full_name: r.full_name,
                private: r.private,
                archived: r.archived,
            })
            .collect();
        out.sort_by_key(|r| r.name.to_lowercase());
        Ok(out)
    }

    async fn read_team_stats(
        &self,
        org: &str,
        range: TimeRange,
    ) -> Result<Vec<TeamStats>, StoreError> {
        let mut teams: Vec<TeamRow> = self.live(org, "teams").await?;
        if teams.is_empty() {
            return Ok(Vec::new());
        }
        teams.sort_by(|a, b| a.sort_key.cmp(&b.sort_key));
        let ids: Vec<i64> = teams.iter().map(|t| t.id).collect();
        let members = self
            .members_of(vec![
                json!({"terms": {"team_id": ids}}),
                term("present", true),
            ])
            .await?;
        let mut sizes: HashMap<i64, u64> = HashMap::new();
        let mut authors: BTreeMap<i64, Vec<i64>> = ids.iter().map(|id| (*id, Vec::new())).collect();
        for m in members {
            *sizes.entry(m.team_id).or_default() += 1;
            if m.org == org {
                authors.entry(m.team_id).or_default().push(m.user_id);
            }
        }
        let target = self.names().alias("pull-requests");
        let reply = self
            .cluster()
            .search(&target, &team_stats_body(org, range, &authors))
            .await?;
        let per_team = &reply.aggregations["teams"]["buckets"];
        let mut out = Vec::with_capacity(teams.len());
        for t in teams {
            let b = &per_team[t.id.to_string()];
            let mut filters = vec![term("org", org)];
            filters.extend(touched(range));
            filters.push(json!({"terms": {"author_id": authors[&t.id]}}));
            let of = MedianOf {
                target: &target,
                query: merged_within(filters, range),
                field: "time_to_merge_seconds",
                tiebreak: "id",
            };
            let median = self
                .exact_median(&of, durations_in(&b["merged"]), median_in(&b["merged"]))
                .await?;
            out.push(TeamStats {
                members: sizes.get(&t.id).copied().unwrap_or(0),
                opened: count(&b["opened"]),
                merged: count(&b["merged"]),
                median_time_to_merge_seconds: median,
                team: t.sort_key,
                name: t.name,
            });
        }
        Ok(out)
    }

    async fn read_team_members(
        &self,
        org: &str,
        team: &str,
    ) -> Result<Option<Vec<TeamMember>>, StoreError> {
        let Some(id) = self.team_id(org, team).await? else {
            return Ok(None);
        };
        let mut members: Vec<TeamMember> = self
            .members_of(vec![term("team_id", id), term("present", true)])
            .await?
            .into_iter()
            .map(|m| TeamMember {
                login: m.login,
                user_id: m.user_id,
            })
            .collect();
        members.sort_by_key(|m| m.login.to_lowercase());
        Ok(Some(members))
    }
}
