//! Compares GitHub's counts with Reckon's snapshot of an org, check by check, and
//! names what differs precisely enough for the planner to repair only that.

use std::collections::{BTreeMap, BTreeSet};

use super::report::Check;
use crate::sources::github::upstream::graphql::{OrgCounts, RepoPrCounts};
use crate::store::snapshot::OrgSnapshot;

/// What GitHub says about an org.
#[derive(Debug, Clone, Default)]
pub struct Upstream {
    pub counts: OrgCounts,
    pub repos: Vec<RepoPrCounts>,
}

/// The differences the planner turns into tasks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drift {
    /// Reckon holds nothing of the org: backfill it.
    pub unknown_org: bool,
    /// The repo list differs (repos missing or extra).
    pub repos: bool,
    /// Repos (by name) whose PR counts differ, or that Reckon lacks.
    pub pull_requests: BTreeSet<(i64, String)>,
    /// The team list differs.
    pub teams: bool,
    /// Teams (by slug) whose member counts differ, or that Reckon lacks.
    pub team_members: BTreeSet<String>,
    pub org_members: bool,
}

fn n(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub fn compare(org: &str, up: &Upstream, snap: &OrgSnapshot) -> (Vec<Check>, Drift) {
    let mut checks = Vec::new();
    let mut drift = Drift {
        unknown_org: snap.repos.is_empty()
            && snap.teams.is_empty()
            && snap.org_members.is_empty()
            && snap.pull_requests.is_empty(),
        ..Drift::default()
    };

    // Repos: the count, and which ids are on one side only.
    checks.push(Check::new(
        "repos",
        org,
        n(up.counts.repos),
        snap.repos.len() as i64,
    ));
    let ours: BTreeMap<i64, &str> = snap.repos.iter().map(|r| (r.id, r.name.as_str())).collect();
    let theirs: BTreeSet<i64> = up.repos.iter().map(|r| r.id).collect();
    if up.counts.repos != snap.repos.len() as u64
        || ours.keys().any(|id| !theirs.contains(id))
        || theirs.iter().any(|id| !ours.contains_key(id))
    {
        drift.repos = true;
    }

    // PRs per repo and state; totals at org scope, a row per drifting repo.
    let mut totals = [(0i64, 0i64); 3];
    let mut per_repo = Vec::new();
    for repo in &up.repos {
        let mine = snap.pull_requests_of(repo.id);
        let pairs = [
            ("pull_requests_open", repo.open, mine.open),
            ("pull_requests_closed", repo.closed, mine.closed),
            ("pull_requests_merged", repo.merged, mine.merged),
        ];
        for (i, (check, github, reckon)) in pairs.iter().enumerate() {
            totals[i].0 += n(*github);
            totals[i].1 += n(*reckon);
            if github != reckon {
                per_repo.push(Check::new(
                    check,
                    format!("repo/{}", repo.name),
                    n(*github),
                    n(*reckon),
                ));
                drift.pull_requests.insert((repo.id, repo.name.clone()));
            }
        }
    }
    // PRs Reckon holds for live repos GitHub did not list count on Reckon's side.
    for (id, _) in ours.iter().filter(|(id, _)| !theirs.contains(id)) {
        let mine = snap.pull_requests_of(*id);
        totals[0].1 += n(mine.open);
        totals[1].1 += n(mine.closed);
        totals[2].1 += n(mine.merged);
    }
    for (i, check) in [
        "pull_requests_open",
        "pull_requests_closed",
        "pull_requests_merged",
    ]
    .iter()
    .enumerate()
    {
        checks.push(Check::new(check, org, totals[i].0, totals[i].1));
    }
    checks.extend(per_repo);

    // Teams and their direct members.
    checks.push(Check::new(
        "teams",
        org,
        up.counts.teams.len() as i64,
        snap.teams.len() as i64,
    ));
    let our_teams: BTreeMap<i64, usize> =
        snap.teams.iter().map(|t| (t.id, t.members.len())).collect();
    let their_teams: BTreeSet<i64> = up.counts.teams.iter().map(|t| t.id).collect();
    if our_teams.keys().any(|id| !their_teams.contains(id))
        || their_teams.iter().any(|id| !our_teams.contains_key(id))
    {
        drift.teams = true;
    }
    let (mut github_members, mut reckon_members) = (0i64, 0i64);
    let mut per_team = Vec::new();
    for team in &up.counts.teams {
        let mine = our_teams.get(&team.id).copied().unwrap_or(0) as i64;
        github_members += n(team.members);
        reckon_members += mine;
        if n(team.members) != mine || !our_teams.contains_key(&team.id) {
            if n(team.members) != mine {
                per_team.push(Check::new(
                    "team_members",
                    format!("team/{}", team.slug),
                    n(team.members),
                    mine,
                ));
            }
            drift.team_members.insert(team.slug.clone());
        }
    }
    checks.push(Check::new(
        "team_members",
        org,
        github_members,
        reckon_members,
    ));
    checks.extend(per_team);

    checks.push(Check::new(
        "org_members",
        org,
        n(up.counts.members),
        snap.org_members.len() as i64,
    ));
    if up.counts.members != snap.org_members.len() as u64 {
        drift.org_members = true;
    }

    // Consistency: GitHub can have neither, so its side is always 0.
    let outside = snap.team_members_outside_org() as i64;
    checks.push(Check::new("team_members_outside_org", org, 0, outside));
    if outside > 0 {
        drift.org_members = true;
    }
    let orphans = snap.pull_requests_of_unknown_repos() as i64;
    checks.push(Check::new("pull_requests_unknown_repo", org, 0, orphans));
    if orphans > 0 {
        drift.repos = true;
    }
    (checks, drift)
}
