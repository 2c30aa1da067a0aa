//! The store conformance suite: the same writes must give the same answers on every
//! `Store` implementation. It runs against SQLite always; later backends add one
//! `#[tokio::test]` that hands their store to `conformance`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use reckon::model::{
    version, EntityWrite, Envelope, Membership, Org, PrState, PullRequest, Repo, Team, WriteOutcome,
};
use reckon::stats::{DeliveryQuery, EventsQuery, Interval, PrFilter, TimeRange};
use reckon::store::elasticsearch::ElasticsearchStore;
use reckon::store::sqlite::{SqliteOptions, SqliteStore};
use reckon::store::{ApiKeyRecord, Projector, RawEvent, Store};
use serde_json::json;

use crate::es_standin;

const DAY: i64 = 86_400_000;
/// 2026-03-02T00:00:00Z, a Monday.
const T0: i64 = 1_772_409_600_000;

/// The writes each (source, delivery) was first stored with: what a projector must derive
/// from its payload again when the projections are rebuilt.
static FIRST_WRITES: Mutex<BTreeMap<(String, String), Vec<EntityWrite>>> =
    Mutex::new(BTreeMap::new());

fn envelope(source: &str, delivery: &str, received_at: i64, writes: Vec<EntityWrite>) -> Envelope {
    FIRST_WRITES
        .lock()
        .unwrap()
        .entry((source.into(), delivery.into()))
        .or_insert_with(|| writes.clone());
    let payload = serde_json::to_vec(&json!({ "delivery": delivery })).unwrap();
    Envelope {
        source: source.into(),
        kind: "pull_request".into(),
        action: Some("opened".into()),
        delivery_id: delivery.into(),
        hook_id: Some("1".into()),
        dedup_key: format!("1:{delivery}"),
        received_at,
        size: payload.len(),
        payload,
        content_type: Default::default(),
        writes,
    }
}

fn pr(id: i64, author: (&str, i64), state: PrState, created: i64, updated: i64) -> PullRequest {
    PullRequest {
        id,
        org: "acme".into(),
        repo_id: 10,
        repo: "Acme/api".into(),
        number: id,
        title: format!("PR {id}"),
        state,
        draft: false,
        author: author.0.into(),
        author_id: author.1,
        base_ref: "main".into(),
        labels: vec![],
        requested_reviewers: vec![],
        additions: Some(id),
        deletions: None,
        created_at: created,
        updated_at: updated,
        closed_at: (state != PrState::Open).then_some(updated),
        merged_at: (state == PrState::Merged).then_some(updated),
        version: version(updated, state.rank()),
    }
}

fn member(user: (&str, i64), present: bool, at: i64) -> Membership {
    Membership {
        org: "acme".into(),
        user_id: user.1,
        login: user.0.into(),
        present,
        version: version(at, 0),
    }
}

const ANN: (&str, i64) = ("ann", 1);
const BEN: (&str, i64) = ("ben", 2);

async fn seed(store: &dyn Store) {
    let org = EntityWrite::Org(Org {
        key: "acme".into(),
        login: "Acme".into(),
        id: Some(7),
    });
    let repo = |id, name: &str, deleted| {
        EntityWrite::Repo(Repo {
            id,
            org: "acme".into(),
            name: name.into(),
            full_name: format!("Acme/{name}"),
            private: false,
            archived: false,
            deleted,
            version: version(T0, u8::from(deleted)),
        })
    };
    let team = |id, slug: &str, deleted| {
        EntityWrite::Team(Team {
            id,
            org: "acme".into(),
            slug: Some(slug.into()),
            name: Some(slug.to_uppercase()),
            deleted,
            version: version(T0, u8::from(deleted)),
        })
    };
    let batch = vec![
        envelope(
            "github",
            "d1",
            T0,
            vec![
                org,
                repo(10, "api", false),
                repo(11, "web", false),
                team(100, "core", false),
                team(101, "infra", false),
            ],
        ),
        envelope(
            "github",
            "d2",
            T0 + 1,
            vec![
                EntityWrite::TeamMember {
                    team_id: 100,
                    member: member(ANN, true, T0),
                },
                EntityWrite::OrgMemberSeen(member(ANN, true, T0)),
                EntityWrite::TeamMember {
                    team_id: 101,
                    member: member(BEN, true, T0),
                },
                EntityWrite::OrgMember(member(BEN, true, T0)),
            ],
        ),
        // PR 1: opened day 0, merged day 1 (delivered newest first).
        envelope(
            "github",
            "d3",
            T0 + 2,
            vec![EntityWrite::PullRequest(pr(
                1,
                ANN,
                PrState::Merged,
                T0,
                T0 + DAY,
            ))],
        ),
        envelope(
            "github",
            "d4",
            T0 + 3,
            vec![EntityWrite::PullRequest(pr(1, ANN, PrState::Open, T0, T0))],
        ),
        // PR 2: opened day 1, closed day 3. PR 3: opened day 8, still open.
        envelope(
            "github",
            "d5",
            T0 + 4,
            vec![EntityWrite::PullRequest(pr(
                2,
                BEN,
                PrState::Closed,
                T0 + DAY,
                T0 + 3 * DAY,
            ))],
        ),
        envelope(
            "github",
            "d6",
            T0 + 5,
            vec![EntityWrite::PullRequest(pr(
                3,
                BEN,
                PrState::Open,
                T0 + 8 * DAY,
                T0 + 8 * DAY,
            ))],
        ),
        // A repo and team deleted; a late non-deleted write must not revive them.
        envelope(
            "github",
            "d7",
            T0 + 6,
            vec![repo(11, "web", true), team(101, "infra", true)],
        ),
        envelope("github", "d8", T0 + 7, vec![repo(11, "web", false)]),
        envelope("github", "d9", T0 + 8, vec![]),
    ];
    let outcomes = store.write_batch(batch).await.unwrap();
    assert!(outcomes.iter().all(|o| *o == WriteOutcome::Accepted));
}

pub async fn conformance(store: Arc<dyn Store>) {
    seed(&*store).await;

    // Duplicates: within one batch and across batches; their writes are skipped.
    let dup_write =
        EntityWrite::PullRequest(pr(3, BEN, PrState::Merged, T0 + 8 * DAY, T0 + 9 * DAY));
    let outcomes = store
        .write_batch(vec![
            envelope("github", "d1", T0 + DAY, vec![dup_write.clone()]),
            envelope("github", "x1", T0 + DAY, vec![]),
            envelope("github", "x1", T0 + DAY, vec![dup_write]),
            envelope("ci", "d1", T0 + DAY, vec![]),
        ])
        .await
        .unwrap();
    assert_eq!(
        outcomes,
        [
            WriteOutcome::Duplicate,
            WriteOutcome::Accepted,
            WriteOutcome::Duplicate,
            WriteOutcome::Accepted
        ]
    );

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

    // Series by day and week, with filters.
    let all = PrFilter {
        org: "acme".into(),
        ..Default::default()
    };
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
    let by_team = PrFilter {
        team: Some("core".into()),
        ..all.clone()
    };
    let opened: u64 = store
        .pr_series(&by_team, Interval::Month)
        .await
        .unwrap()
        .iter()
        .map(|p| p.opened)
        .sum();
    assert_eq!(opened, 1);
    let by_author = PrFilter {
        author: Some("BEN".into()),
        ..all.clone()
    };
    let opened: u64 = store
        .pr_series(&by_author, Interval::Month)
        .await
        .unwrap()
        .iter()
        .map(|p| p.opened)
        .sum();
    assert_eq!(opened, 2);
    let by_repo = PrFilter {
        repo: Some("web".into()),
        ..all.clone()
    };
    assert!(store
        .pr_series(&by_repo, Interval::Month)
        .await
        .unwrap()
        .is_empty());
    let ranged = PrFilter {
        range: TimeRange {
            from: Some(T0 + DAY),
            to: Some(T0 + 2 * DAY),
        },
        ..all.clone()
    };
    assert_eq!(
        serde_json::to_value(store.pr_series(&ranged, Interval::Day).await.unwrap()).unwrap(),
        json!([{"bucket": "2026-03-03", "opened": 1, "merged": 1, "closed": 0}])
    );

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

    // Repos: deleted ones stay gone; open PRs counted per repo.
    assert_eq!(
        serde_json::to_value(store.repos("acme").await.unwrap()).unwrap(),
        json!([{"name": "api", "full_name": "Acme/api", "private": false, "archived": false, "open_pull_requests": 1}])
    );
    assert!(store.repos("nobody").await.unwrap().is_empty());

    // Raw events by source and day, paged by cursor.
    let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .events(&EventsQuery {
                source: "github".into(),
                day,
                after,
                limit: 4,
            })
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        after = Some(page.last().unwrap().seq);
        seen.extend(page.into_iter().map(|e| e.delivery_id));
    }
    assert_eq!(seen, ["d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8", "d9"]);
    let days = store.event_days(None, TimeRange::default()).await.unwrap();
    assert_eq!(
        serde_json::to_value(&days).unwrap(),
        json!([
            {"source": "github", "day": "2026-03-02", "events": 9},
            {"source": "ci", "day": "2026-03-03", "events": 1},
            {"source": "github", "day": "2026-03-03", "events": 1},
        ])
    );

    // The delivery log: newest first, filterable, paged.
    let q = |status: Option<&str>, before, limit| DeliveryQuery {
        status: status.map(Into::into),
        before,
        limit,
        ..Default::default()
    };
    let log = store.deliveries(&q(None, None, 100)).await.unwrap();
    assert_eq!(log.len(), 13);
    assert_eq!(log[0].source, "ci");
    let dups = store
        .deliveries(&q(Some("duplicate"), None, 100))
        .await
        .unwrap();
    assert_eq!(
        dups.iter()
            .map(|d| d.delivery_id.clone().unwrap())
            .collect::<Vec<_>>(),
        ["x1", "d1"]
    );
    let page = store.deliveries(&q(None, None, 5)).await.unwrap();
    let next = store
        .deliveries(&q(None, page.last().unwrap().seq, 100))
        .await
        .unwrap();
    assert_eq!(page.len() + next.len(), 13);

    // API keys.
    let key = ApiKeyRecord {
        id: "abcdefghijkl".into(),
        source: "ci".into(),
        name: Some("runner".into()),
        hash: vec![1, 2, 3],
        created_at: String::new(),
        revoked_at: None,
    };
    store.create_api_key(key).await.unwrap();
    let got = store.api_key("abcdefghijkl").await.unwrap().unwrap();
    assert_eq!(
        (got.source.as_str(), got.hash.as_slice()),
        ("ci", &[1u8, 2, 3][..])
    );
    assert!(store.revoke_api_key("abcdefghijkl").await.unwrap());
    assert!(!store.revoke_api_key("abcdefghijkl").await.unwrap());
    assert!(store
        .api_key("abcdefghijkl")
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .is_some());
    assert_eq!(store.api_keys().await.unwrap().len(), 1);

    reconcile_reads(store.as_ref()).await;

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

    store.ping().await.unwrap();
    assert!(store.size_bytes().await.unwrap() > 0);
}

/// Against a real cluster when `RECKON_TEST_ELASTICSEARCH_URL` is set; otherwise
/// against the in-process stand-in (see `tests/it/es_standin`).
#[tokio::test]
async fn elasticsearch_store_conforms() {
    let (_standin, config) = es_standin::test_cluster().await;
    let (store, report) = ElasticsearchStore::open(&config).await.unwrap();
    assert!(!report.indices_created.is_empty());
    conformance(Arc::new(store)).await;
}

#[tokio::test]
async fn sqlite_store_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(
        &dir.path().join("reckon.sqlite3"),
        &SqliteOptions::default(),
    )
    .unwrap();
    conformance(Arc::new(store)).await;
}

#[tokio::test]
async fn elasticsearch_state_documents_scan_by_prefix() {
    let (_standin, config) = es_standin::test_cluster().await;
    let (store, _) = ElasticsearchStore::open(&config).await.unwrap();
    state_scans(&store).await;
}

#[tokio::test]
async fn sqlite_state_documents_scan_by_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(
        &dir.path().join("reckon.sqlite3"),
        &SqliteOptions::default(),
    )
    .unwrap();
    state_scans(&store).await;
}

/// `states` lists exactly the keys under a prefix, in key order, up to the limit, and
/// sees the writes and deletes made just before; locks are never listed.
async fn state_scans(store: &dyn Store) {
    assert!(store.states("queue/", 10).await.unwrap().is_empty());
    assert!(!store.delete_state("queue/nothing").await.unwrap());
    // Written out of order; neighbours that share all but the last character.
    for key in [
        "queue/b",
        "queue/a",
        "queue/c/1",
        "queue0",
        "queue",
        "queuf/a",
    ] {
        store.put_state(key, json!({ "k": key })).await.unwrap();
    }
    store.put_state("queue/%_", json!(1)).await.unwrap();
    assert!(store.try_lock("queue", "p1", 60_000).await.unwrap());
    let keys = |list: Vec<(String, serde_json::Value)>| -> Vec<String> {
        list.into_iter().map(|(k, _)| k).collect()
    };
    let all = store.states("queue/", 10).await.unwrap();
    assert_eq!(all[0], ("queue/%_".to_owned(), json!(1)));
    assert_eq!(all[1], ("queue/a".to_owned(), json!({"k": "queue/a"})));
    assert_eq!(
        keys(all),
        ["queue/%_", "queue/a", "queue/b", "queue/c/1"],
        "only the prefix, in key order"
    );
    assert_eq!(
        keys(store.states("queue/", 2).await.unwrap()),
        ["queue/%_", "queue/a"]
    );
    assert!(store.states("queue/", 0).await.unwrap().is_empty());
    assert_eq!(
        keys(store.states("queue/c", 10).await.unwrap()),
        ["queue/c/1"]
    );
    assert_eq!(
        keys(store.states("QUEUE/", 10).await.unwrap()),
        Vec::<String>::new(),
        "prefixes are case-sensitive"
    );
    assert_eq!(
        keys(store.states("queue/_", 10).await.unwrap()),
        Vec::<String>::new(),
        "`_` and `%` are not wildcards"
    );
    // Everything but the lock, whatever the prefix.
    assert_eq!(
        keys(store.states("", 100).await.unwrap()),
        [
            "queue",
            "queue/%_",
            "queue/a",
            "queue/b",
            "queue/c/1",
            "queue0",
            "queuf/a"
        ]
    );

    // Deletes are seen at once, and only the named key goes.
    assert!(store.delete_state("queue/a").await.unwrap());
    assert!(!store.delete_state("queue/a").await.unwrap());
    assert_eq!(store.state("queue/a").await.unwrap(), None);
    assert_eq!(
        keys(store.states("queue/", 10).await.unwrap()),
        ["queue/%_", "queue/b", "queue/c/1"]
    );
    // A replaced document is listed with its new value.
    store.put_state("queue/b", json!("new")).await.unwrap();
    assert_eq!(
        store.states("queue/b", 10).await.unwrap(),
        [("queue/b".to_owned(), json!("new"))]
    );
    // The lock is untouched by all of this.
    assert!(!store.try_lock("queue", "p2", 60_000).await.unwrap());
}

/// Everything the stats say about the org, for before/after comparisons.
async fn org_answers(store: &dyn Store, org: &str) -> serde_json::Value {
    let all = PrFilter {
        org: org.into(),
        ..Default::default()
    };
    json!({
        "orgs": store.orgs().await.unwrap(),
        "summary": store.org_summary(org).await.unwrap(),
        "series": store.pr_series(&all, Interval::Day).await.unwrap(),
        "stats": store.pr_stats(&all, 10).await.unwrap(),
        "teams": store.team_stats(org, TimeRange::default()).await.unwrap(),
        "members": store.team_members(org, "core").await.unwrap(),
        "repos": store.repos(org).await.unwrap(),
    })
}

async fn rebuild_catches_up(store: &Arc<dyn Store>, org: &str) {
    let before = org_answers(&**store, org).await;
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (started_tx, go_rx) = (Mutex::new(started_tx), Mutex::new(go_rx));
    let first = AtomicBool::new(true);
    // The first replayed event pauses the rebuild until a new event has been stored.
    let projector: Projector = Arc::new(move |event: &RawEvent| {
        if first.swap(false, Ordering::SeqCst) {
            started_tx.lock().unwrap().send(()).unwrap();
            go_rx.lock().unwrap().recv().unwrap();
        }
        let payload: serde_json::Value = serde_json::from_slice(&event.payload).unwrap();
        let delivery = payload["delivery"].as_str().unwrap().to_owned();
        FIRST_WRITES
            .lock()
            .unwrap()
            .get(&(event.source.clone(), delivery))
            .cloned()
            .unwrap_or_default()
    });
    let seen = Arc::new(Mutex::new(Vec::new()));
    let progress_seen = seen.clone();
    let rebuild = tokio::spawn({
        let store = store.clone();
        async move {
            store
                .rebuild_projections(
                    projector,
                    Arc::new(move |done, total| progress_seen.lock().unwrap().push((done, total))),
                )
                .await
        }
    });
    tokio::task::spawn_blocking(move || started_rx.recv().unwrap())
        .await
        .unwrap();
    let late = envelope(
        "github",
        "late-1",
        T0 + 20 * DAY,
        vec![EntityWrite::PullRequest(PullRequest {
            org: org.into(),
            ..pr(4, ("cy", 3), PrState::Open, T0 + 20 * DAY, T0 + 20 * DAY)
        })],
    );
    assert_eq!(
        store.write_batch(vec![late]).await.unwrap(),
        [WriteOutcome::Accepted]
    );
    go_tx.send(()).unwrap();
    let report = rebuild.await.unwrap().unwrap();
    assert_eq!(report.caught_up, 1);
    assert!(report.events >= 10, "{report:?}");
    let (done, total) = *seen.lock().unwrap().last().unwrap();
    assert_eq!(done, total);

    let after = org_answers(&**store, org).await;
    let count = |v: &serde_json::Value| v.as_u64().unwrap();
    assert_eq!(
        count(&after["summary"]["pull_requests"]["open"]),
        count(&before["summary"]["pull_requests"]["open"]) + 1
    );
    assert_eq!(
        count(&after["stats"]["opened"]),
        count(&before["stats"]["opened"]) + 1
    );
    assert_eq!(
        count(&after["repos"][0]["open_pull_requests"]),
        count(&before["repos"][0]["open_pull_requests"]) + 1
    );
    for key in ["orgs", "teams", "members"] {
        assert_eq!(after[key], before[key], "{key}");
    }
}

/// What the reconciler reads: the org snapshot agrees with the summary, stored dedup
/// keys are found and others not, and state documents round-trip and replace.
async fn reconcile_reads(store: &dyn Store) {
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

    let found = store
        .stored_dedup_keys("github", &["1:d1".to_owned(), "1:never-sent".to_owned()])
        .await
        .unwrap();
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        vec!["1:d1".to_owned()]
    );
    assert!(store
        .stored_dedup_keys("other-source", &["1:d1".to_owned()])
        .await
        .unwrap()
        .is_empty());

    assert_eq!(store.state("reconcile/acme/report").await.unwrap(), None);
    store
        .put_state("reconcile/acme/report", json!({"checks": [1, 2]}))
        .await
        .unwrap();
    store
        .put_state(
            "reconcile/acme/report",
            json!({"checks": [3], "big": "x".repeat(40_000)}),
        )
        .await
        .unwrap();
    // The scheduler lock: one holder at a time, renewable, free once it lapses.
    assert!(store.try_lock("scheduler", "p1", 80).await.unwrap());
    assert!(!store.try_lock("scheduler", "p2", 60_000).await.unwrap());
    assert!(store.try_lock("scheduler", "p1", 80).await.unwrap());
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(store.try_lock("scheduler", "p2", 60_000).await.unwrap());
    assert!(!store.try_lock("scheduler", "p1", 60_000).await.unwrap());
    assert!(store.try_lock("other", "p1", 60_000).await.unwrap());

    let back = store.state("reconcile/acme/report").await.unwrap().unwrap();
    assert_eq!(back["checks"], json!([3]));
    assert_eq!(back["big"].as_str().unwrap().len(), 40_000);
}
