//! What Reckon believes about one GitHub org, read in one go for the reconciler: the
//! live repos, teams and members with their ids, and PR counts per repo by state.
//! The consistency checks are derived here, so every backend answers them alike.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::stats::PrCounts;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotRepo {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotTeam {
    pub id: i64,
    pub slug: Option<String>,
    /// The team's present members: user id to login.
    pub members: BTreeMap<i64, String>,
}

/// The stored state of one org. Lists are sorted by id so snapshots compare equal
/// across backends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OrgSnapshot {
    /// Repos of the org that are not deleted.
    pub repos: Vec<SnapshotRepo>,
    /// Repos of the org Reckon knows were deleted: their PRs are not orphans.
    pub deleted_repos: BTreeSet<i64>,
    /// Teams of the org that are not deleted.
    pub teams: Vec<SnapshotTeam>,
    /// Present org members: user id to login.
    pub org_members: BTreeMap<i64, String>,
    /// PRs of the org per repo id, whether or not that repo is known.
    pub pull_requests: BTreeMap<i64, PrCounts>,
}

impl OrgSnapshot {
    /// Present team members (counted once per user) who are not org members.
    pub fn team_members_outside_org(&self) -> u64 {
        self.teams
            .iter()
            .flat_map(|t| t.members.keys())
            .filter(|user| !self.org_members.contains_key(user))
            .collect::<BTreeSet<_>>()
            .len() as u64
    }

    /// PRs whose repo Reckon does not know at all (neither live nor deleted).
    pub fn pull_requests_of_unknown_repos(&self) -> u64 {
        let live: BTreeSet<i64> = self.repos.iter().map(|r| r.id).collect();
        self.pull_requests
            .iter()
            .filter(|(repo, _)| !live.contains(repo) && !self.deleted_repos.contains(repo))
            .map(|(_, c)| c.open + c.closed + c.merged)
            .sum()
    }

    /// PR counts of one repo (zero when it has none).
    pub fn pull_requests_of(&self, repo_id: i64) -> PrCounts {
        self.pull_requests
            .get(&repo_id)
            .cloned()
            .unwrap_or_default()
    }
}
