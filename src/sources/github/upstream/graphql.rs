//! The GraphQL queries: org-wide counts (repos, teams with their member counts, org
//! members) in one request, PR counts by state for 100 repos per request through
//! aliases and `totalCount`, and a team's direct members.

use serde::Deserialize;
use serde_json::{json, Value};

use super::{GithubClient, GithubError};

/// Counts GitHub reports for one org.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgCounts {
    pub repos: u64,
    pub members: u64,
    pub teams: Vec<TeamCount>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamCount {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub members: u64,
}

/// PR counts of one repo by state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoPrCounts {
    pub id: i64,
    pub name: String,
    pub open: u64,
    pub closed: u64,
    pub merged: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamMemberNode {
    pub id: i64,
    pub login: String,
}

const ORG_COUNTS: &str = r#"query($org: String!, $after: String) {
  organization(login: $org) {
    repositories { totalCount }
    membersWithRole { totalCount }
    teams(first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { databaseId slug name members(membership: IMMEDIATE) { totalCount } }
    }
  }
}"#;

const REPO_PR_COUNTS: &str = r#"query($org: String!, $after: String) {
  organization(login: $org) {
    repositories(first: 100, after: $after, orderBy: {field: NAME, direction: ASC}) {
      pageInfo { hasNextPage endCursor }
      nodes {
        databaseId name
        open: pullRequests(states: OPEN) { totalCount }
        closed: pullRequests(states: CLOSED) { totalCount }
        merged: pullRequests(states: MERGED) { totalCount }
      }
    }
  }
}"#;

const TEAM_MEMBERS: &str = r#"query($org: String!, $slug: String!, $after: String) {
  organization(login: $org) {
    team(slug: $slug) {
      databaseId
      members(membership: IMMEDIATE, first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { databaseId login }
      }
    }
  }
}"#;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Total {
    total_count: u64,
}

fn decode<T: for<'de> Deserialize<'de>>(what: &str, value: Value) -> Result<T, GithubError> {
    serde_json::from_value(value).map_err(|e| GithubError::Decode {
        path: format!("graphql {what}"),
        message: e.to_string(),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RepoNode {
    database_id: i64,
    name: String,
    open: Total,
    closed: Total,
    merged: Total,
}

impl From<RepoNode> for RepoPrCounts {
    fn from(n: RepoNode) -> Self {
        RepoPrCounts {
            id: n.database_id,
            name: n.name,
            open: n.open.total_count,
            closed: n.closed.total_count,
            merged: n.merged.total_count,
        }
    }
}

impl GithubClient {
    /// Runs one query; GraphQL errors (which come with HTTP 200) become errors.
    pub async fn graphql(
        &self,
        org: &str,
        query: &str,
        variables: Value,
    ) -> Result<Value, GithubError> {
        let reply = self
            .post(
                org,
                "/graphql",
                &json!({"query": query, "variables": variables}),
            )
            .await?;
        let mut body: Value = reply.json("/graphql")?;
        if let Some(errors) = body
            .get("errors")
            .and_then(Value::as_array)
            .filter(|e| !e.is_empty())
        {
            let messages: Vec<&str> = errors
                .iter()
                .filter_map(|e| e["message"].as_str())
                .collect();
            let text = messages.join("; ");
            // GitHub reports its secondary limit inside GraphQL too.
            if text.to_ascii_lowercase().contains("rate limit") {
                return Err(GithubError::RateLimited {
                    until: chrono::Utc::now() + chrono::Duration::seconds(60),
                });
            }
            return Err(GithubError::Graphql(text));
        }
        Ok(body["data"].take())
    }

    pub async fn org_counts(&self, org: &str) -> Result<OrgCounts, GithubError> {
        let mut counts = OrgCounts::default();
        let mut after: Option<String> = None;
        loop {
            let data = self
                .graphql(org, ORG_COUNTS, json!({"org": org, "after": after}))
                .await?;
            let o = &data["organization"];
            if o.is_null() {
                return Err(GithubError::Graphql(format!(
                    "organization {org} not found"
                )));
            }
            counts.repos = decode::<Total>("repositories", o["repositories"].clone())?.total_count;
            counts.members =
                decode::<Total>("membersWithRole", o["membersWithRole"].clone())?.total_count;
            #[derive(Deserialize)]
            #[serde(rename_all = "camelCase")]
            struct TeamNode {
                database_id: i64,
                slug: String,
                name: String,
                members: Total,
            }
            let teams = &o["teams"];
            for t in decode::<Vec<TeamNode>>("teams", teams["nodes"].clone())? {
                counts.teams.push(TeamCount {
                    id: t.database_id,
                    slug: t.slug,
                    name: t.name,
                    members: t.members.total_count,
                });
            }
            let page: PageInfo = decode("teams.pageInfo", teams["pageInfo"].clone())?;
            match page.end_cursor.filter(|_| page.has_next_page) {
                Some(cursor) => after = Some(cursor),
                None => return Ok(counts),
            }
        }
    }

    /// PR counts by state of every repo of the org, 100 repos per request.
    pub async fn repo_pr_counts(&self, org: &str) -> Result<Vec<RepoPrCounts>, GithubError> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let data = self
                .graphql(org, REPO_PR_COUNTS, json!({"org": org, "after": after}))
                .await?;
            let repos = &data["organization"]["repositories"];
            out.extend(
                decode::<Vec<RepoNode>>("repositories", repos["nodes"].clone())?
                    .into_iter()
                    .map(RepoPrCounts::from),
            );
            let page: PageInfo = decode("repositories.pageInfo", repos["pageInfo"].clone())?;
            match page.end_cursor.filter(|_| page.has_next_page) {
                Some(cursor) => after = Some(cursor),
                None => return Ok(out),
            }
        }
    }

    /// A team's id and direct members; `None` when the org has no such team.
    pub async fn team_members(
        &self,
        org: &str,
        slug: &str,
    ) -> Result<Option<(i64, Vec<TeamMemberNode>)>, GithubError> {
        let mut members = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let data = self
                .graphql(
                    org,
                    TEAM_MEMBERS,
                    json!({"org": org, "slug": slug, "after": after}),
                )
                .await?;
            let team = &data["organization"]["team"];
            if team.is_null() {
                return Ok(None);
            }
            let id = team["databaseId"]
                .as_i64()
                .ok_or_else(|| GithubError::Decode {
                    path: "graphql team".into(),
                    message: "team without databaseId".into(),
                })?;
            #[derive(Deserialize)]
            #[serde(rename_all = "camelCase")]
            struct Node {
                database_id: i64,
                login: String,
            }
            let connection = &team["members"];
            for n in decode::<Vec<Node>>("team members", connection["nodes"].clone())? {
                members.push(TeamMemberNode {
                    id: n.database_id,
                    login: n.login,
                });
            }
            let page: PageInfo = decode("members.pageInfo", connection["pageInfo"].clone())?;
            match page.end_cursor.filter(|_| page.has_next_page) {
                Some(cursor) => after = Some(cursor),
                None => return Ok(Some((id, members))),
            }
        }
    }
}
