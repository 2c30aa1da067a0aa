//! The GitHub read model: orgs, repos, teams, members and PRs as the projection of GitHub
//! events left them, for the org API and the reconciler, read here on each backend (the
//! rows are merged by `src/store/`'s write path). Suite: `github_read_model_conformance.rs`.

pub mod elasticsearch;
mod sqlite;

use async_trait::async_trait;

use crate::stats::{
    Interval, OrgListItem, OrgSummary, PrFilter, PrStats, RepoItem, SeriesPoint, TeamMember,
    TeamStats, TimeRange,
};
use crate::store::snapshot::OrgSnapshot;
use crate::store::StoreError;

#[async_trait]
pub trait GithubReadModel: Send + Sync {
    /// Orgs the store knows of, by key.
    async fn orgs(&self) -> Result<Vec<OrgListItem>, StoreError>;
    /// Whether the store holds anything for this org key (cheap).
    async fn org_known(&self, org: &str) -> Result<bool, StoreError>;
    /// Counts for one org, or `None` if the org is unknown.
    async fn org_summary(&self, org: &str) -> Result<Option<OrgSummary>, StoreError>;
    /// PRs opened, merged and closed per bucket; buckets without PRs are left out.
    async fn pr_series(
        &self,
        filter: &PrFilter,
        interval: Interval,
    ) -> Result<Vec<SeriesPoint>, StoreError>;
    /// Totals, median time to merge and the `top` busiest repos and authors for a filter.
    async fn pr_stats(&self, filter: &PrFilter, top: usize) -> Result<PrStats, StoreError>;
    /// The org's repos that are not deleted, by name.
    async fn repos(&self, org: &str) -> Result<Vec<RepoItem>, StoreError>;
    /// Per-team members, PRs opened and merged in the range, and median time to merge.
    async fn team_stats(&self, org: &str, range: TimeRange) -> Result<Vec<TeamStats>, StoreError>;
    /// Current members of a team, or `None` if the team is unknown.
    async fn team_members(
        &self,
        org: &str,
        team: &str,
    ) -> Result<Option<Vec<TeamMember>>, StoreError>;
    /// Everything the reconciler compares with GitHub for one org (empty if unknown).
    async fn org_snapshot(&self, org: &str) -> Result<OrgSnapshot, StoreError>;
}
