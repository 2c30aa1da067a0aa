//! Turns drift into the narrowest sync tasks that repair it: one repo's PRs since it
//! last matched, one team's members, the org's team or repo list; a backfill only for
//! an org Reckon holds nothing of.

use super::checks::Drift;
use super::report::Cursor;
use crate::sources::github::sync::TaskSpec;

/// Slack subtracted from "last matched" so a PR updated just before it is still seen.
const SINCE_SLACK_MS: i64 = 60 * 60 * 1000;

pub fn plan(org: &str, drift: &Drift, cursor: &Cursor) -> Vec<TaskSpec> {
    let org = org.to_owned();
    if drift.unknown_org {
        return vec![TaskSpec::Backfill { org }];
    }
    let mut tasks = Vec::new();
    if drift.repos {
        tasks.push(TaskSpec::Repos { org: org.clone() });
    }
    if drift.teams {
        tasks.push(TaskSpec::Teams { org: org.clone() });
    }
    if drift.org_members {
        tasks.push(TaskSpec::OrgMembers { org: org.clone() });
    }
    for team in &drift.team_members {
        tasks.push(TaskSpec::TeamMembers {
            org: org.clone(),
            team: team.clone(),
        });
    }
    for (id, repo) in &drift.pull_requests {
        tasks.push(TaskSpec::PullRequests {
            org: org.clone(),
            repo: repo.clone(),
            since: cursor.repo_clean.get(id).map(|t| t - SINCE_SLACK_MS),
        });
    }
    tasks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drift_in_one_repo_plans_only_that_repo_since_it_last_matched() {
        let mut drift = Drift::default();
        drift.pull_requests.insert((7, "widgets".into()));
        let mut cursor = Cursor::default();
        cursor.repo_clean.insert(7, 10 * SINCE_SLACK_MS);
        assert_eq!(
            plan("acme", &drift, &cursor),
            vec![TaskSpec::PullRequests {
                org: "acme".into(),
                repo: "widgets".into(),
                since: Some(9 * SINCE_SLACK_MS),
            }]
        );
        // Never matched before: list all of its PRs.
        assert_eq!(
            plan("acme", &drift, &Cursor::default()),
            vec![TaskSpec::PullRequests {
                org: "acme".into(),
                repo: "widgets".into(),
                since: None,
            }]
        );
    }

    #[test]
    fn an_unknown_org_is_backfilled_and_nothing_else() {
        let drift = Drift {
            unknown_org: true,
            repos: true,
            teams: true,
            ..Drift::default()
        };
        assert_eq!(
            plan("acme", &drift, &Cursor::default()),
            vec![TaskSpec::Backfill { org: "acme".into() }]
        );
    }
}
