//! The GitHub read model's conformance suite (`reckon::sources::github::store::
//! GithubReadModel`): the same seeded deliveries must give the same org summary, series,
//! team and PR stats, repos and reconcile snapshot on every backend, and an org rename
//! must move everything. `github_read_model_conformance!` expands to one named test per
//! case for each backend.

use std::sync::Arc;

use reckon::model::{EntityWrite, Org};
use reckon::stats::{Interval, PrFilter, TimeRange};
use reckon::store::Store;
use serde_json::json;

use crate::store_conformance::{
    envelope, filters, rebuild_catches_up, seed_with_duplicates, Filters, DAY, T0,
};

async fn the_org_summary_keeps_deletions_and_newest_versions(store: Arc<dyn Store>) {
    seed_with_duplicates(&*store).await;
    // Summary: deletions stick, versions win, unknown orgs are None.
    let summary = store.org_summary("acme").await.unwrap().unwrap();
    assert_eq!(
        serde_json::to_value(&summary).unwrap(),
        json!({"org": "Acme", "repos": 1, "teams": 1, "members": 2, "pull_requests": {"open": 1, "closed": 1, "merged": 1}})
    );
    assert!(store.org_summary("nobody").await.unwrap().is_none());
    assert!(store.org_known("acme").await.unwrap());
    assert!(!store.org_known("nobody").await.unwrap());
    assert_eq!(store.orgs().await.unwrap().len(), 1);
}

async fn pr_series_bucket_by_day_week_and_month_with_filters(store: Arc<dyn Store>) {
    seed_with_duplicates(&*store).await;
    let Filters {
        all,
        by_team,
        by_author,
        by_repo,
        ranged,
    } = filters();
    // Series by day and week, with filters.
    let series = store.pr_series(&all, Interval::Day).await.unwrap();
    assert_eq!(
        serde_json::to_value(&series).unwrap(),
        json!([
            {"bucket": "2026-03-02", "opened": 1, "merged": 0, "closed": 0},
            {"bucket": "2026-03-03", "opened": 1, "merged": 1, "closed": 0},
            {"bucket": "2026-03-05", "opened": 0, "merged": 0, "closed": 1},
            {"bucket": "2026-03-10", "opened": 1, "merged": 0, "closed": 0},
        ])
    );
    let weekly = store.pr_series(&all, Interval::Week).await.unwrap();
    assert_eq!(
        serde_json::to_value(&weekly).unwrap(),
        json!([
            {"bucket": "2026-03-02", "opened": 2, "merged": 1, "closed": 1},
            {"bucket": "2026-03-09", "opened": 1, "merged": 0, "closed": 0},
        ])
    );
    let monthly = store.pr_series(&all, Interval::Month).await.unwrap();
    assert_eq!(monthly.len(), 1);
    assert_eq!(
        (monthly[0].bucket.as_str(), monthly[0].opened),
        ("2026-03-01", 3)
    );
    let opened: u64 = store
        .pr_series(&by_team, Interval::Month)
        .await
        .unwrap()
        .iter()
        .map(|p| p.opened)
        .sum();
    assert_eq!(opened, 1);
    let opened: u64 = store
        .pr_series(&by_author, Interval::Month)
        .await
        .unwrap()
        .iter()
        .map(|p| p.opened)
        .sum();
    assert_eq!(opened, 2);
    assert!(store
        .pr_series(&by_repo, Interval::Month)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        serde_json::to_value(store.pr_series(&ranged, Interval::Day).await.unwrap()).unwrap(),
        json!([{"bucket": "2026-03-03", "opened": 1, "merged": 1, "closed": 0}])
    );
}

async fn team_stats_leave_deleted_teams_out(store: Arc<dyn Store>) {
    seed_with_duplicates(&*store).await;
    // Team table: deleted teams are gone; median time to merge in seconds.
    let teams = store
        .team_stats("acme", TimeRange::default())
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&teams).unwrap(),
        json!([{"team": "core", "name": "CORE", "members": 1, "opened": 1, "merged": 1, "median_time_to_merge_seconds": 86400.0}])
    );
    let members = store.team_members("acme", "core").await.unwrap().unwrap();
    assert_eq!(members.len(), 1);
    assert!(store.team_members("acme", "infra").await.unwrap().is_none());
}

async fn pr_stats_give_totals_medians_and_the_busiest(store: Arc<dyn Store>) {
    seed_with_duplicates(&*store).await;
    let Filters {
        all,
        by_team,
        by_repo,
        ranged,
        ..
    } = filters();
    // PR totals with median time to merge and the busiest repos and authors.
    let stats = store.pr_stats(&all, 10).await.unwrap();
    assert_eq!(
        serde_json::to_value(&stats).unwrap(),
        json!({
            "opened": 3, "merged": 1, "closed": 1, "median_time_to_merge_seconds": 86400.0,
            "top_repos": [{"key": "Acme/api", "opened": 3, "merged": 1}],
            "top_authors": [{"key": "ben", "opened": 2, "merged": 0}, {"key": "ann", "opened": 1, "merged": 1}],
        })
    );
    let stats = store.pr_stats(&ranged, 1).await.unwrap();
    assert_eq!(
        serde_json::to_value(&stats).unwrap(),
        json!({
            "opened": 1, "merged": 1, "closed": 0, "median_time_to_merge_seconds": 86400.0,
            "top_repos": [{"key": "Acme/api", "opened": 1, "merged": 1}],
            "top_authors": [{"key": "ben", "opened": 1, "merged": 0}],
        })
    );
    let stats = store.pr_stats(&by_team, 10).await.unwrap();
    assert_eq!((stats.opened, stats.merged, stats.closed), (1, 1, 0));
    let stats = store.pr_stats(&by_repo, 10).await.unwrap();
    assert_eq!(stats.opened + stats.merged + stats.closed, 0);
    assert_eq!(stats.median_time_to_merge_seconds, None);
    assert!(stats.top_repos.is_empty() && stats.top_authors.is_empty());
}

async fn repos_leave_deleted_ones_out_and_count_open_prs(store: Arc<dyn Store>) {
    seed_with_duplicates(&*store).await;
    // Repos: deleted ones stay gone; open PRs counted per repo.
    assert_eq!(
        serde_json::to_value(store.repos("acme").await.unwrap()).unwrap(),
        json!([{"name": "api", "full_name": "Acme/api", "private": false, "archived": false, "open_pull_requests": 1}])
    );
    assert!(store.repos("nobody").await.unwrap().is_empty());
}

/// What the reconciler reads: the org snapshot agrees with the summary.
async fn the_org_snapshot_agrees_with_the_summary(store: Arc<dyn Store>) {
    seed_with_duplicates(&*store).await;
    let summary = store.org_summary("acme").await.unwrap().unwrap();
    let snap = store.org_snapshot("acme").await.unwrap();
    assert_eq!(snap.repos.len() as u64, summary.repos);
    assert_eq!(
        snap.deleted_repos.iter().copied().collect::<Vec<_>>(),
        vec![11],
        "web was deleted"
    );
    assert_eq!(
        snap.pull_requests_of_unknown_repos(),
        0,
        "PRs of a deleted repo are not orphans"
    );
    assert_eq!(snap.teams.len() as u64, summary.teams);
    assert_eq!(snap.org_members.len() as u64, summary.members);
    let live: Vec<i64> = snap.repos.iter().map(|r| r.id).collect();
    let mut sorted = live.clone();
    sorted.sort();
    assert_eq!(live, sorted, "repos come sorted by id");
    let (mut open, mut closed, mut merged) = (0, 0, 0);
    for counts in snap.pull_requests.values() {
        open += counts.open;
        closed += counts.closed;
        merged += counts.merged;
    }
    assert_eq!(
        (open, closed, merged),
        (
            summary.pull_requests.open,
            summary.pull_requests.closed,
            summary.pull_requests.merged
        )
    );
    let members: usize = snap.teams.iter().map(|t| t.members.len()).sum();
    assert!(members > 0, "the seeded teams have members");
    assert_eq!(
        store.org_snapshot("nobody").await.unwrap(),
        reckon::store::snapshot::OrgSnapshot::default()
    );
}

async fn an_org_rename_moves_everything_under_the_new_key(store: Arc<dyn Store>) {
    seed_with_duplicates(&*store).await;
    // An org rename moves everything under the new key.
    let before = store.org_summary("acme").await.unwrap().unwrap();
    let rename = vec![
        EntityWrite::Org(Org {
            key: "acme-corp".into(),
            login: "Acme-Corp".into(),
            id: Some(7),
        }),
        EntityWrite::OrgRenamed {
            from: "acme".into(),
            to: "acme-corp".into(),
        },
    ];
    store
        .write_batch(vec![envelope("github", "rename", T0 + 2 * DAY, rename)])
        .await
        .unwrap();
    assert!(store.org_summary("acme").await.unwrap().is_none());
    let after = store.org_summary("acme-corp").await.unwrap().unwrap();
    assert_eq!(
        (
            after.org.as_str(),
            after.repos,
            after.teams,
            after.members,
            &after.pull_requests
        ),
        (
            "Acme-Corp",
            before.repos,
            before.teams,
            before.members,
            &before.pull_requests
        )
    );
    let moved = PrFilter {
        org: "acme-corp".into(),
        repo: Some("api".into()),
        ..Default::default()
    };
    let opened: u64 = store
        .pr_series(&moved, Interval::Month)
        .await
        .unwrap()
        .iter()
        .map(|p| p.opened)
        .sum();
    assert_eq!(opened, 3);

    // Rebuilding the projections from the journal (the rename included) gives the same
    // answers, and an event stored while the rebuild runs is applied when it swaps in.
    rebuild_catches_up(&store, "acme-corp").await;
}

crate::store_conformance::store_suite!(
    shared:
    the_org_summary_keeps_deletions_and_newest_versions,
    pr_series_bucket_by_day_week_and_month_with_filters,
    team_stats_leave_deleted_teams_out,
    pr_stats_give_totals_medians_and_the_busiest,
    repos_leave_deleted_ones_out_and_count_open_prs,
    the_org_snapshot_agrees_with_the_summary,
    an_org_rename_moves_everything_under_the_new_key,
);
