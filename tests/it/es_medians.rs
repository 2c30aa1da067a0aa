//! Medians of time to merge on Elasticsearch equal SQLite's exactly, where a
//! `percentiles` aggregation (a t-digest, approximate beyond about a hundred values, as
//! the stand-in models it) would not: past the t-digest's exact range, and past the
//! 10,000 documents one search can page to.

use std::sync::Arc;

use reckon::model::{
    version, EntityWrite, Envelope, Membership, Org, PrState, PullRequest, Team, WriteOutcome,
};
use reckon::stats::{PrFilter, TimeRange};
use reckon::store::elasticsearch::ElasticsearchStore;
use reckon::store::sqlite::{SqliteOptions, SqliteStore};
use reckon::store::Store;
use serde_json::json;

use crate::es_standin::{self, StandIn};

/// 2026-03-02T00:00:00Z.
const T0: i64 = 1_772_409_600_000;

fn envelope(delivery: String, writes: Vec<EntityWrite>) -> Envelope {
    let payload = serde_json::to_vec(&json!({ "delivery": delivery })).unwrap();
    Envelope {
        source: "github".into(),
        kind: "pull_request".into(),
        action: Some("closed".into()),
        dedup_key: format!("1:{delivery}"),
        delivery_id: delivery,
        hook_id: None,
        received_at: T0,
        size: payload.len(),
        payload,
        content_type: Default::default(),
        writes,
    }
}

/// PR `id` by ann, merged `seconds` after it was opened.
fn merged(id: i64, seconds: i64) -> EntityWrite {
    let created = T0 - 400 * 86_400_000 + id * 60_000;
    let at = created + seconds * 1000;
    EntityWrite::PullRequest(PullRequest {
        id,
        org: "acme".into(),
        repo_id: 10,
        repo: "acme/api".into(),
        number: id,
        title: "t".into(),
        state: PrState::Merged,
        draft: false,
        author: "ann".into(),
        author_id: 1,
        base_ref: "main".into(),
        labels: vec![],
        requested_reviewers: vec![],
        additions: None,
        deletions: None,
        created_at: created,
        updated_at: at,
        closed_at: Some(at),
        merged_at: Some(at),
        version: version(at, 2),
    })
}

async fn seed(store: &dyn Store, durations: &[i64]) {
    let setup = vec![
        EntityWrite::Org(Org {
            key: "acme".into(),
            login: "acme".into(),
            id: None,
        }),
        EntityWrite::Team(Team {
            id: 100,
            org: "acme".into(),
            slug: Some("core".into()),
            name: None,
            deleted: false,
            version: version(T0, 0),
        }),
        EntityWrite::TeamMember {
            team_id: 100,
            member: Membership {
                org: "acme".into(),
                user_id: 1,
                login: "ann".into(),
                present: true,
                version: version(T0, 0),
            },
        },
    ];
    store
        .write_batch(vec![envelope("setup".into(), setup)])
        .await
        .unwrap();
    let prs: Vec<(i64, i64)> = durations
        .iter()
        .enumerate()
        .map(|(i, d)| (i as i64 + 1, *d))
        .collect();
    for chunk in prs.chunks(250) {
        let batch = chunk
            .iter()
            .map(|&(id, d)| envelope(format!("pr-{id}"), vec![merged(id, d)]))
            .collect();
        let out = store.write_batch(batch).await.unwrap();
        assert!(out.iter().all(|o| *o == WriteOutcome::Accepted));
    }
}

fn exact(values: &[i64]) -> f64 {
    let mut v = values.to_vec();
    reckon::stats::median(&mut v).unwrap()
}

async fn medians(store: &dyn Store, range: TimeRange) -> (Option<f64>, Option<f64>) {
    let filter = PrFilter {
        org: "acme".into(),
        range,
        ..Default::default()
    };
    let stats = store.pr_stats(&filter, 3).await.unwrap();
    let teams = store.team_stats("acme", range).await.unwrap();
    (
        stats.median_time_to_merge_seconds,
        teams[0].median_time_to_merge_seconds,
    )
}

/// 1,001 skewed durations (a t-digest keeps about 100 centroids): the PR stats and the
/// team table give SQLite's exact median, over all time and over a range.
#[tokio::test]
async fn medians_equal_sqlite_beyond_what_a_t_digest_keeps_exactly() {
    let durations: Vec<i64> = (0..1001)
        .map(|i| (i * 37 % 1001) * (i * 37 % 1001) + 60)
        .collect();
    let (_standin, config) = es_standin::test_cluster().await;
    let (es, _) = ElasticsearchStore::open(&config).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(
        &dir.path().join("reckon.sqlite3"),
        &SqliteOptions::default(),
    )
    .unwrap();
    let stores: [Arc<dyn Store>; 2] = [Arc::new(es), Arc::new(sqlite)];
    for store in &stores {
        seed(&**store, &durations).await;
    }
    let all = exact(&durations);
    let recent = TimeRange {
        from: Some(T0 - 395 * 86_400_000),
        to: None,
    };
    for store in &stores {
        assert_eq!(
            medians(&**store, TimeRange::default()).await,
            (Some(all), Some(all))
        );
    }
    let (es, sqlite) = (
        medians(&*stores[0], recent).await,
        medians(&*stores[1], recent).await,
    );
    assert_eq!(es, sqlite);
    assert!(es.0.is_some());
}

/// Past the 10,000 documents a search pages to (`index.max_result_window`): an even
/// count of skewed values, and one where the value at the median is shared by more
/// than a result window of documents. Loaded straight into the stand-in.
#[tokio::test]
async fn medians_past_the_result_window_are_exact() {
    let skewed: Vec<i64> = (0..25_000)
        .map(|i| (i * 7_919 % 25_000) * (i * 7_919 % 25_000))
        .collect();
    let mut tied = vec![5; 20_001];
    tied.extend(6..10_006);
    for durations in [skewed, tied] {
        let (standin, url) = StandIn::start().await;
        let mut config = reckon::settings::Config::defaults().elasticsearch;
        config.url = vec![url];
        config.refresh = reckon::store::elasticsearch::Refresh::WaitFor;
        config.follow_settle_ms = 0;
        let (store, _) = ElasticsearchStore::open(&config).await.unwrap();
        seed(&store, &[]).await;
        let docs = durations
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let created = T0 - 400 * 86_400_000;
                let at = created + d * 1000;
                let id = i as i64 + 1;
                (
                    id.to_string(),
                    json!({
                        "id": id, "org": "acme", "repo_id": 10, "repo": "acme/api",
                        "repo_lower": "acme/api", "number": id, "title": "t", "state": "merged",
                        "draft": false, "author": "ann", "author_lower": "ann", "author_id": 1,
                        "base_ref": "main", "labels": [], "requested_reviewers": [],
                        "created_at": created, "updated_at": at, "closed_at": at,
                        "merged_at": at, "time_to_merge_seconds": d, "version": version(at, 2) + 1,
                    }),
                )
            })
            .collect();
        standin.load("reckon-pull-requests", docs);
        let want = Some(exact(&durations));
        assert_eq!(
            medians(&store, TimeRange::default()).await,
            (want, want),
            "{} values",
            durations.len()
        );
    }
}
