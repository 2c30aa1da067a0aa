//! The REST calls Reckon makes, typed: listings that page through `Link` headers (each
//! page a conditional GET), the Deliveries API scanned newest first down to a cursor,
//! and redelivery requests.

use serde::Deserialize;

use super::{GithubClient, GithubError};
use crate::sources::github::payload::{PullRequest, Repository, Team, User};

const PER_PAGE: u32 = 100;

/// One webhook configured on GitHub.
#[derive(Debug, Clone, Deserialize)]
pub struct Hook {
    pub id: i64,
    #[serde(default)]
    pub active: bool,
    #[serde(default)]
    pub config: HookConfig,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct HookConfig {
    #[serde(default)]
    pub url: Option<String>,
}

/// One delivery as the Deliveries API lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct Delivery {
    pub id: i64,
    pub guid: String,
    pub delivered_at: chrono::DateTime<chrono::Utc>,
    #[serde(default)]
    pub redelivery: bool,
    #[serde(default)]
    pub status_code: u16,
    #[serde(default)]
    pub event: String,
}

impl Delivery {
    /// GitHub got a 2xx from Reckon for it.
    pub fn succeeded(&self) -> bool {
        (200..300).contains(&self.status_code)
    }
}

/// Where a hook lives: the org, or one of its repos.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum HookOwner {
    Org(String),
    Repo(String, String),
}

impl HookOwner {
    fn base(&self) -> String {
        match self {
            HookOwner::Org(org) => format!("/orgs/{org}/hooks"),
            HookOwner::Repo(owner, repo) => format!("/repos/{owner}/{repo}/hooks"),
        }
    }

    fn org(&self) -> &str {
        match self {
            HookOwner::Org(org) | HookOwner::Repo(org, _) => org,
        }
    }
}

impl GithubClient {
    /// Every item of a paged REST listing.
    pub async fn list<T: for<'de> Deserialize<'de>>(
        &self,
        org: &str,
        path: &str,
    ) -> Result<Vec<T>, GithubError> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut url = format!("{path}{sep}per_page={PER_PAGE}");
        let mut out = Vec::new();
        loop {
            let reply = self.get(org, &url).await?;
            out.extend(reply.json::<Vec<T>>(&url)?);
            match reply.next {
                Some(next) => url = next,
                None => return Ok(out),
            }
        }
    }

    pub async fn org_repos(&self, org: &str) -> Result<Vec<Repository>, GithubError> {
        self.list(org, &format!("/orgs/{org}/repos?type=all")).await
    }

    /// A repo by id, wherever it lives now; `None` when GitHub says 404.
    pub async fn repository_by_id(
        &self,
        org: &str,
        id: i64,
    ) -> Result<Option<Repository>, GithubError> {
        let path = format!("/repositories/{id}");
        match self.get(org, &path).await {
            Ok(reply) => reply.json(&path).map(Some),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn org_teams(&self, org: &str) -> Result<Vec<Team>, GithubError> {
        self.list(org, &format!("/orgs/{org}/teams")).await
    }

    pub async fn org_members(&self, org: &str) -> Result<Vec<User>, GithubError> {
        self.list(org, &format!("/orgs/{org}/members")).await
    }

    /// PRs of a repo, most recently updated first, down to those updated before
    /// `since` (Unix ms; all of them without it). Pages past `since` are not fetched.
    pub async fn pulls_updated_since(
        &self,
        org: &str,
        repo: &str,
        since: Option<i64>,
        mut on_page: impl FnMut(usize),
    ) -> Result<Vec<PullRequest>, GithubError> {
        let mut url = format!(
            "/repos/{org}/{repo}/pulls?state=all&sort=updated&direction=desc&per_page={PER_PAGE}"
        );
        let mut out = Vec::new();
        loop {
            let reply = self.get(org, &url).await?;
            let page: Vec<PullRequest> = reply.json(&url)?;
            let before = out.len();
            let mut reached = false;
            for pr in page {
                if let (Some(since), Some(updated)) = (since, pr.updated_at) {
                    if updated < since {
                        reached = true;
                        break;
                    }
                }
                out.push(pr);
            }
            on_page(out.len() - before);
            match reply.next {
                Some(next) if !reached => url = next,
                _ => return Ok(out),
            }
        }
    }

    pub async fn hooks(&self, owner: &HookOwner) -> Result<Vec<Hook>, GithubError> {
        self.list(owner.org(), &owner.base()).await
    }

    /// Deliveries of a hook newer than `after_id`, newest first, and not older than
    /// `not_before`. Stops at the first page that reaches either bound.
    pub async fn deliveries(
        &self,
        owner: &HookOwner,
        hook: i64,
        after_id: Option<i64>,
        not_before: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<Delivery>, GithubError> {
        let mut url = format!("{}/{hook}/deliveries?per_page={PER_PAGE}", owner.base());
        let mut out = Vec::new();
        loop {
            let reply = self.get(owner.org(), &url).await?;
            let page: Vec<Delivery> = reply.json(&url)?;
            let mut reached = page.is_empty();
            for d in page {
                if after_id.is_some_and(|a| d.id <= a) || d.delivered_at < not_before {
                    reached = true;
                    break;
                }
                out.push(d);
            }
            match reply.next {
                Some(next) if !reached => url = next,
                _ => return Ok(out),
            }
        }
    }

    /// Asks GitHub to deliver a delivery again.
    pub async fn redeliver(
        &self,
        owner: &HookOwner,
        hook: i64,
        delivery: i64,
    ) -> Result<(), GithubError> {
        let path = format!("{}/{hook}/deliveries/{delivery}/attempts", owner.base());
        self.post(owner.org(), &path, &serde_json::json!({}))
            .await
            .map(drop)
    }
}
