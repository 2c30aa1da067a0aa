//! What the store's conformance suites share: the backends under test, the seeded GitHub
//! org the journal and read-model cases start from, and the suite of what remains on
//! `Store` itself (`store_conformance!`: ping and size). Each narrow trait has its own
//! suite, one named test per case per backend (SQLite, and Elasticsearch: the in-process
//! stand-in, or a real cluster when `RECKON_TEST_ELASTICSEARCH_URL` is set):
//! `journal_conformance.rs`, `github_read_model_conformance.rs`, `keys_conformance.rs`
//! and `coordination_conformance.rs`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use reckon::model::{
    version, EntityWrite, Envelope, Membership, Org, PrState, PullRequest, Repo, Team, WriteOutcome,
};
use reckon::stats::{Interval, PrFilter, TimeRange};
use reckon::store::elasticsearch::ElasticsearchStore;
use reckon::store::sqlite::{SqliteOptions, SqliteStore};
use reckon::store::{Projector, RawEvent, Store};
use serde_json::json;

use crate::es_standin;

/// A store under test, and whatever keeps its backend alive.
pub struct Subject {
    pub store: Arc<dyn Store>,
    _keep: Box<dyn std::any::Any + Send>,
}

pub async fn sqlite() -> Subject {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(
        &dir.path().join("reckon.sqlite3"),
        &SqliteOptions::default(),
    )
    .unwrap();
    Subject {
        store: Arc::new(store),
        _keep: Box::new(dir),
    }
}

pub async fn elasticsearch() -> Subject {
    let (standin, config) = es_standin::test_cluster().await;
    let (store, report) = ElasticsearchStore::open(&config).await.unwrap();
    assert!(!report.indices_created.is_empty());
    Subject {
        store: Arc::new(store),
        _keep: Box::new(standin),
    }
}

pub const DAY: i64 = 86_400_000;
/// 2026-03-02T00:00:00Z, a Monday.
pub const T0: i64 = 1_772_409_600_000;

/// The writes each (source, delivery) was first stored with: what a projector must derive
/// from its payload again when the projections are rebuilt.
pub static FIRST_WRITES: Mutex<BTreeMap<(String, String), Vec<EntityWrite>>> =
    Mutex::new(BTreeMap::new());

pub fn envelope(
    source: &str,
    delivery: &str,
    received_at: i64,
    writes: Vec<EntityWrite>,
) -> Envelope {
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

pub fn pr(id: i64, author: (&str, i64), state: PrState, created: i64, updated: i64) -> PullRequest {
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

pub fn member(user: (&str, i64), present: bool, at: i64) -> Membership {
    Membership {
        org: "acme".into(),
        user_id: user.1,
        login: user.0.into(),
        present,
        version: version(at, 0),
    }
}

pub const ANN: (&str, i64) = ("ann", 1);
pub const BEN: (&str, i64) = ("ben", 2);

pub async fn seed(store: &dyn Store) {
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

/// The seeded org, then a batch of duplicates (within the batch and of the seed) and one
/// delivery of another source: the state the journal and read-model cases start from.
pub async fn seed_with_duplicates(store: &dyn Store) {
    seed(store).await;
    duplicates(store).await;
}

/// Duplicates: within one batch and across batches; their writes are skipped.
pub async fn duplicates(store: &dyn Store) {
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
}

/// The filters the read-model cases share.
pub struct Filters {
    pub all: PrFilter,
    pub by_team: PrFilter,
    pub by_author: PrFilter,
    pub by_repo: PrFilter,
    pub ranged: PrFilter,
}

pub fn filters() -> Filters {
    let all = PrFilter {
        org: "acme".into(),
        ..Default::default()
    };
    Filters {
        by_team: PrFilter {
            team: Some("core".into()),
            ..all.clone()
        },
        by_author: PrFilter {
            author: Some("BEN".into()),
            ..all.clone()
        },
        by_repo: PrFilter {
            repo: Some("web".into()),
            ..all.clone()
        },
        ranged: PrFilter {
            range: TimeRange {
                from: Some(T0 + DAY),
                to: Some(T0 + 2 * DAY),
            },
            ..all.clone()
        },
        all,
    }
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

pub async fn rebuild_catches_up(store: &Arc<dyn Store>, org: &str) {
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
        &format!("late-{org}"),
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

/// A store in use answers its liveness check and occupies some bytes.
async fn a_used_store_answers_ping_and_has_a_size(store: Arc<dyn Store>) {
    seed(&*store).await;
    store.ping().await.unwrap();
    assert!(store.size_bytes().await.unwrap() > 0);
}

/// One named test per case and backend, for every store suite (journal, keys,
/// coordination, GitHub read model, operations): `shared` cases take the
/// `Arc<dyn Store>`, `borrowed` ones a `&dyn Store`.
macro_rules! store_suite {
    (@call $subject:ident, $case:ident, shared) => {
        super::$case($subject.store.clone()).await
    };
    (@call $subject:ident, $case:ident, borrowed) => {
        super::$case(&*$subject.store).await
    };
    (@backend $backend:ident, $open:path, $how:ident, [$($case:ident),*]) => {
        mod $backend {
            $(
                #[tokio::test]
                async fn $case() {
                    let subject = $open().await;
                    crate::store_conformance::store_suite!(@call subject, $case, $how);
                }
            )*
        }
    };
    ($how:ident: $($case:ident),* $(,)?) => {
        crate::store_conformance::store_suite!(@backend sqlite_backend, crate::store_conformance::sqlite, $how, [$($case),*]);
        crate::store_conformance::store_suite!(@backend elasticsearch_backend, crate::store_conformance::elasticsearch, $how, [$($case),*]);
    };
}
pub(crate) use store_suite;

store_suite!(shared: a_used_store_answers_ping_and_has_a_size);
