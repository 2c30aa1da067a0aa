//! The limits a real cluster enforces, on the stand-in playing one: `_bulk` bodies
//! stay under `elasticsearch.max_bulk_bytes` and the cluster's `http.max_content_length`
//! (10 MiB on Amazon OpenSearch's smaller instance types), a delivery too big for one
//! request is refused before anything of its batch is written, and the stand-in itself
//! refuses what clusters refuse, so a test cannot pass on something a cluster rejects.

use reckon::model::{version, EntityWrite, Envelope, Org, PrState, PullRequest, WriteOutcome};
use reckon::stats::PrFilter;
use reckon::store::elasticsearch::cluster::{Action, BulkOp, Cluster, EsError, ItemResult};
use reckon::store::elasticsearch::ElasticsearchConfig;
use reckon::store::elasticsearch::{client, layout, ElasticsearchStore};
use reckon::store::{GithubReadModel, Journal};
use serde_json::json;

use crate::common;
use crate::es_standin::{Options, StandIn};

const MIB: usize = 1024 * 1024;
/// 2026-02-01T00:01:00Z.
const FEB_1: i64 = 1_769_904_060_000;

/// A stand-in with Amazon OpenSearch's small-instance limit, and a store on it.
async fn cluster(max_content_length: usize) -> (StandIn, ElasticsearchConfig) {
    let (standin, url) = StandIn::start_with(Options {
        max_content_length,
        ..Options::default()
    })
    .await;
    let mut config = reckon::settings::Config::defaults().elasticsearch;
    config.url = vec![url];
    config.index_prefix = "rk".into();
    config.refresh = reckon::store::elasticsearch::Refresh::WaitFor;
    config.max_retries = 1;
    config.follow_settle_ms = 0;
    (standin, config)
}

fn pr(id: i64, org: &str) -> EntityWrite {
    EntityWrite::PullRequest(PullRequest {
        id,
        org: org.into(),
        repo_id: 10,
        repo: format!("{org}/api"),
        number: id,
        title: format!("PR {id}"),
        state: PrState::Open,
        draft: false,
        author: "ann".into(),
        author_id: 1,
        base_ref: "main".into(),
        labels: vec![],
        requested_reviewers: vec![],
        additions: None,
        deletions: None,
        created_at: FEB_1,
        updated_at: FEB_1,
        closed_at: None,
        merged_at: None,
        version: version(FEB_1, 0),
    })
}

/// A delivery whose payload is about `bytes` long, carrying one PR.
fn delivery(id: i64, bytes: usize) -> Envelope {
    let payload = serde_json::to_vec(&json!({
        "delivery": format!("d{id}"),
        "pad": "x".repeat(bytes.saturating_sub(40)),
    }))
    .unwrap();
    Envelope {
        source: "github".into(),
        kind: "pull_request".into(),
        action: Some("opened".into()),
        delivery_id: format!("d{id}"),
        hook_id: None,
        dedup_key: format!("1:d{id}"),
        received_at: FEB_1 + id,
        size: payload.len(),
        payload,
        content_type: Default::default(),
        writes: vec![pr(id, "acme")],
    }
}

fn bulk_sizes(standin: &StandIn) -> Vec<usize> {
    standin
        .requests()
        .into_iter()
        .filter(|r| r.path == "/_bulk")
        .map(|r| r.body.len())
        .collect()
}

async fn opened(store: &dyn GithubReadModel, org: &str) -> u64 {
    let filter = PrFilter {
        org: org.into(),
        ..Default::default()
    };
    store.pr_stats(&filter, 5).await.unwrap().opened
}

/// 48 deliveries of 320 KiB (15 MiB, like 512 PR payloads) in one group commit: every
/// request stays under the 5 MiB default, so a 10 MiB cluster takes them all.
#[tokio::test]
async fn a_group_commit_is_split_into_bulks_under_the_byte_cap() {
    let (standin, config) = cluster(10 * MIB).await;
    let (store, _) = ElasticsearchStore::open(&config).await.unwrap();
    standin.clear_log();
    let batch: Vec<Envelope> = (1..=48).map(|i| delivery(i, 320 * 1024)).collect();
    let out = store.write_batch(batch).await.unwrap();
    assert!(out.iter().all(|o| *o == WriteOutcome::Accepted));
    let sizes = bulk_sizes(&standin);
    assert!(sizes.iter().all(|&s| s <= 5 * MIB), "{sizes:?}");
    assert!(sizes.len() > 3, "{sizes:?}");
    assert_eq!(standin.docs("rk-events").len(), 48);
    assert_eq!(opened(&store, "acme").await, 48);
}

/// A delivery bigger than the cap is still stored: in a request of its own, sent
/// before the rest of the batch.
#[tokio::test]
async fn a_delivery_bigger_than_the_cap_is_sent_alone_and_stored() {
    let (standin, config) = cluster(10 * MIB).await;
    let (store, _) = ElasticsearchStore::open(&config).await.unwrap();
    standin.clear_log();
    let batch = vec![delivery(1, 1000), delivery(2, 7 * MIB), delivery(3, 1000)];
    let out = store.write_batch(batch).await.unwrap();
    assert_eq!(out, [WriteOutcome::Accepted; 3]);
    let bulks: Vec<String> = standin
        .requests()
        .into_iter()
        .filter(|r| r.path == "/_bulk")
        .map(|r| String::from_utf8(r.body).unwrap())
        .collect();
    let alone = bulks
        .iter()
        .position(|b| b.contains(r#""delivery":"d2""#))
        .unwrap();
    assert_eq!(bulks[alone].lines().count(), 2, "only the big event");
    let small = bulks
        .iter()
        .position(|b| b.contains(r#""delivery":"d1""#))
        .unwrap();
    assert!(alone < small, "the big one goes first");
    assert_eq!(standin.docs("rk-events").len(), 3);
}

/// A delivery bigger than the cluster takes in one request is refused before
/// anything of its batch is written (the intake can answer it 413 and commit the
/// rest): no event, no delivery record, no entity write, and no dead letter.
#[tokio::test]
async fn a_delivery_too_big_for_the_cluster_is_refused_and_the_rest_of_its_batch_stored() {
    let (standin, config) = cluster(10 * MIB).await;
    let (store, _) = ElasticsearchStore::open(&config).await.unwrap();
    let batch = vec![delivery(1, 1000), delivery(2, 12 * MIB), delivery(3, 1000)];
    let out = store.write_batch(batch).await.unwrap();
    assert_eq!(out[0], WriteOutcome::Accepted);
    assert!(
        matches!(out[1], WriteOutcome::TooLarge { bytes } if bytes > 12 * MIB),
        "{out:?}"
    );
    assert_eq!(out[2], WriteOutcome::Accepted);
    // Nothing of the refused delivery is anywhere; the other two are stored once.
    assert_eq!(standin.docs("rk-events").len(), 2);
    assert_eq!(standin.docs("rk-deliveries").len(), 2);
    assert!(standin.docs("rk-dead-letters").is_empty());
    assert_eq!(opened(&store, "acme").await, 2);
    // A redelivery of the same big one is refused again, never half-stored.
    let again = store
        .write_batch(vec![delivery(2, 12 * MIB)])
        .await
        .unwrap();
    assert!(
        matches!(again[0], WriteOutcome::TooLarge { .. }),
        "{again:?}"
    );
    assert_eq!(standin.docs("rk-events").len(), 2);
}

/// A cluster whose limit is below the configured cap answers 413: the bulk is halved
/// until it fits, and everything is stored.
#[tokio::test]
async fn a_cluster_limit_below_the_cap_is_met_by_halving_on_413() {
    let (standin, mut config) = cluster(MIB).await;
    config.max_bulk_bytes = 8 * MIB;
    let (store, _) = ElasticsearchStore::open(&config).await.unwrap();
    let batch: Vec<Envelope> = (1..=20).map(|i| delivery(i, 200 * 1024)).collect();
    let out = store.write_batch(batch).await.unwrap();
    assert!(out.iter().all(|o| *o == WriteOutcome::Accepted));
    assert_eq!(standin.docs("rk-events").len(), 20);
    assert_eq!(opened(&store, "acme").await, 20);
}

/// An org rename moves every document of the org; the move is split like any bulk.
#[tokio::test]
async fn an_org_rename_moving_more_than_one_request_holds_is_split() {
    let (standin, mut config) = cluster(256 * 1024).await;
    config.max_bulk_bytes = 64 * 1024;
    let (store, _) = ElasticsearchStore::open(&config).await.unwrap();
    for chunk in (1..=1000).collect::<Vec<i64>>().chunks(200) {
        let batch = chunk.iter().map(|&i| delivery(i, 100)).collect::<Vec<_>>();
        store.write_batch(batch).await.unwrap();
    }
    let mut rename = delivery(5000, 100);
    rename.writes = vec![
        EntityWrite::Org(Org {
            key: "acme-corp".into(),
            login: "Acme-Corp".into(),
            id: None,
        }),
        EntityWrite::OrgRenamed {
            from: "acme".into(),
            to: "acme-corp".into(),
        },
    ];
    standin.clear_log();
    store.write_batch(vec![rename]).await.unwrap();
    assert_eq!(opened(&store, "acme-corp").await, 1000);
    assert_eq!(opened(&store, "acme").await, 0);
    let sizes = bulk_sizes(&standin);
    assert!(sizes.iter().all(|&s| s <= 64 * 1024), "{sizes:?}");
}

fn raw_cluster(url: &str) -> Cluster {
    let mut config = reckon::settings::Config::defaults().elasticsearch;
    config.url = vec![url.to_owned()];
    Cluster::new(client::build(&config).unwrap(), 0)
}

fn doc(id: &str) -> BulkOp {
    BulkOp::new(
        Action::Index,
        "things",
        id.into(),
        Some(br#"{"n":1}"#.to_vec()),
    )
}

fn rejected(err: &EsError, status: u16, kind: &str, reason: &str) -> bool {
    matches!(err, EsError::Status { status: s, kind: k, reason: r, .. } if *s == status && k == kind && r.contains(reason))
}

/// Bulk items a real cluster refuses fail the whole request, as `BulkRequest.validate()`
/// does: nothing of it is applied.
#[tokio::test]
async fn the_stand_in_refuses_bulk_items_real_clusters_refuse() {
    let (standin, url) = StandIn::start().await;
    let cluster = raw_cluster(&url);
    let mut create_versioned =
        BulkOp::new(Action::Create, "things", "a".into(), Some(b"{}".to_vec())).versioned(3);
    let mut create_cas = BulkOp::new(Action::Create, "things", "a".into(), Some(b"{}".to_vec()));
    create_cas.if_seq_no = Some(1);
    create_cas.if_primary_term = Some(1);
    let mut internal_version = doc("a");
    internal_version.version = Some(3);
    let cases = [
        (
            create_versioned.clone(),
            "create operations only support internal versioning",
        ),
        (
            create_cas,
            "create operations do not support compare and set",
        ),
        (
            internal_version,
            "internal versioning can not be used for optimistic concurrency control",
        ),
    ];
    for (op, reason) in cases {
        let err = cluster.bulk(&[doc("ok"), op], "false").await.unwrap_err();
        assert!(
            rejected(&err, 400, "action_request_validation_exception", reason),
            "{err:?}"
        );
    }
    assert!(standin.docs("things").is_empty(), "nothing applied");
    create_versioned.version = None;
    create_versioned.version_type = None;
    cluster.bulk(&[create_versioned], "false").await.unwrap();
}

#[tokio::test]
async fn the_stand_in_answers_413_over_max_content_length() {
    let (_standin, url) = StandIn::start_with(Options {
        max_content_length: MIB,
        ..Options::default()
    })
    .await;
    let cluster = raw_cluster(&url);
    let mut big = doc("big");
    big.source = Some(format!(r#"{{"n":"{}"}}"#, "x".repeat(MIB)).into_bytes());
    let err = cluster.bulk(&[big], "false").await.unwrap_err();
    assert!(matches!(err, EsError::TooLarge { item: 0, .. }), "{err:?}");
    cluster.bulk(&[doc("small")], "false").await.unwrap();
}

/// A deleted document's version outlives it for `index.gc_deletes`: an external version
/// below it conflicts, as on a real cluster; once collected, it does not.
#[tokio::test]
async fn the_stand_in_keeps_delete_tombstones_for_gc_deletes() {
    for (gc_deletes, after_delete) in [
        (std::time::Duration::from_secs(60), ItemResult::Conflict),
        (
            std::time::Duration::ZERO,
            ItemResult::Done { version: Some(5) },
        ),
    ] {
        let (_standin, url) = StandIn::start_with(Options {
            gc_deletes,
            ..Options::default()
        })
        .await;
        let cluster = raw_cluster(&url);
        cluster
            .bulk(&[doc("a").versioned(5)], "false")
            .await
            .unwrap();
        let delete = BulkOp::new(Action::Delete, "things", "a".into(), None);
        cluster
            .bulk(std::slice::from_ref(&delete), "false")
            .await
            .unwrap();
        // The tombstone holds version 6: version 5 is older.
        let results = cluster
            .bulk(&[doc("a").versioned(5)], "false")
            .await
            .unwrap();
        assert_eq!(results, [after_delete], "{gc_deletes:?}");
    }
    // A delete at the document's own external version leaves that version, which a
    // write of the same version passes.
    let (_standin, url) = StandIn::start().await;
    let cluster = raw_cluster(&url);
    cluster
        .bulk(&[doc("a").versioned(5)], "false")
        .await
        .unwrap();
    let delete = BulkOp::new(Action::Delete, "things", "a".into(), None).versioned(5);
    assert_eq!(
        cluster
            .bulk(std::slice::from_ref(&delete), "false")
            .await
            .unwrap(),
        [ItemResult::Done { version: Some(5) }]
    );
    assert_eq!(
        cluster.bulk(&[delete], "false").await.unwrap(),
        [ItemResult::Missing]
    );
    assert_eq!(
        cluster
            .bulk(&[doc("a").versioned(5)], "false")
            .await
            .unwrap(),
        [ItemResult::Done { version: Some(5) }]
    );
}

/// Searches see writes only after a refresh; `_mget` sees them at once.
#[tokio::test]
async fn the_stand_in_shows_writes_to_searches_only_after_a_refresh() {
    let (standin, url) = StandIn::start().await;
    let cluster = raw_cluster(&url);
    let hits = |c: &Cluster| {
        let c = c.clone();
        async move {
            c.search("things", &json!({"query": {"match_all": {}}}))
                .await
                .unwrap()
                .hits
                .hits
                .len()
        }
    };
    cluster.bulk(&[doc("a")], "false").await.unwrap();
    assert_eq!(hits(&cluster).await, 0);
    let got = cluster
        .mget(&[("things".into(), "a".into())])
        .await
        .unwrap();
    assert!(got[0].is_some(), "realtime");
    cluster.refresh("things").await.unwrap();
    assert_eq!(hits(&cluster).await, 1);
    cluster.bulk(&[doc("b")], "wait_for").await.unwrap();
    assert_eq!(hits(&cluster).await, 2);
    cluster.bulk(&[doc("c")], "false").await.unwrap();
    standin.refresh();
    assert_eq!(hits(&cluster).await, 3, "the periodic refresh");
    let delete = BulkOp::new(Action::Delete, "things", "c".into(), None);
    cluster.bulk(&[delete], "false").await.unwrap();
    assert_eq!(hits(&cluster).await, 3, "deleted, but not refreshed");
    // `from + size` stops at `index.max_result_window`.
    let err = cluster
        .search("things", &json!({"from": 9_999, "size": 2}))
        .await
        .unwrap_err();
    assert!(
        rejected(&err, 400, "search_phase_execution_exception", ""),
        "{err:?}"
    );
}

/// Only one index of an alias may be its write index.
#[tokio::test]
async fn the_stand_in_refuses_a_second_write_index_on_an_alias() {
    let (_standin, url) = StandIn::start().await;
    let cluster = raw_cluster(&url);
    assert!(layout::create_index(&cluster, "things-1", Some("things"))
        .await
        .unwrap());
    let err = layout::create_index(&cluster, "things-2", Some("things"))
        .await
        .unwrap_err();
    assert!(
        rejected(
            &err,
            500,
            "illegal_state_exception",
            "more than one write index"
        ),
        "{err:?}"
    );
}

/// Over HTTP: a webhook the cluster refuses even alone gets 413 `payload_too_large`,
/// never an acknowledgement, and the deliveries committed beside it are stored.
#[tokio::test]
async fn a_webhook_too_big_for_the_cluster_gets_413_and_nothing_is_stored() {
    let (standin, es) = cluster(MIB).await;
    let app = common::TestApp::spawn_with(|c| {
        c.store = reckon::settings::StoreKind::Elasticsearch;
        c.elasticsearch = es.clone();
        c.worker.enabled = false;
        c.reconcile.enabled = false;
    })
    .await;
    let body = |padding: usize| {
        serde_json::to_vec(&json!({
            "zen": "x".repeat(padding),
            "hook_id": 1,
            "hook": {"id": 1, "type": "Organization"},
        }))
        .unwrap()
    };
    let big = app.github("ping", "big-1", &body(2 * MIB)).await;
    assert_eq!(big.status(), 413);
    let answer: serde_json::Value = big.json().await.unwrap();
    assert_eq!(answer["code"], "payload_too_large", "{answer}");
    let small = app.github("ping", "small-1", &body(10)).await;
    assert_eq!(small.status(), 200);
    assert_eq!(
        standin.docs("rk-deliveries").len(),
        1,
        "only the small delivery"
    );
    assert!(standin.docs("rk-dead-letters").is_empty());
}
