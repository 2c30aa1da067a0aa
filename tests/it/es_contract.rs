//! Contract tests that need no cluster. Response handling runs on recorded Elasticsearch
//! 8.x and Amazon OpenSearch answers (in `tests/it/es_responses/`) played back by a scripted
//! stub: partial bulk failure, a 429 rejection, a write block, 409 conflicts, a missing
//! index, an `_mget` error entry, a 413, and an unreachable cluster. Golden snapshots pin
//! the mappings, bulk bodies and queries Reckon sends.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{StatusCode, Uri};
use axum::Router;
use elasticsearch::http::Method;
use reckon::model::{version, EntityWrite, Envelope, Org, PrState, PullRequest};
use reckon::stats::{Interval, PrFilter, TimeRange};
use reckon::store::elasticsearch::cluster::{Action, BulkOp, Cluster, EsError, ItemResult};
use reckon::store::elasticsearch::layout::{self, Names, ENTITIES, SINGLES};
use reckon::store::elasticsearch::{client, read, ElasticsearchStore};
use reckon::store::Journal;
use serde_json::{json, Value};

use crate::es_standin;

fn recorded(name: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/it/es_responses")
            .join(name),
    )
    .unwrap()
}

type Script = Arc<Mutex<VecDeque<(u16, String)>>>;
type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// A node that answers from a script, in order, and records (path, body) it receives.
async fn scripted(answers: Vec<(u16, String)>) -> (Cluster, Seen) {
    let script: Script = Arc::new(Mutex::new(answers.into()));
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let (s, log) = (script.clone(), seen.clone());
    let app = Router::new().fallback(move |uri: Uri, body: Bytes| {
        let (s, log) = (s.clone(), log.clone());
        async move {
            log.lock().unwrap().push((
                uri.path().to_owned(),
                String::from_utf8_lossy(&body).into_owned(),
            ));
            let (status, body) = s
                .lock()
                .unwrap()
                .pop_front()
                .expect("an answer is scripted");
            (
                StatusCode::from_u16(status).unwrap(),
                [("content-type", "application/json")],
                body,
            )
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (cluster_at(&url, 3), seen)
}

fn cluster_at(url: &str, retries: u32) -> Cluster {
    let mut config = reckon::settings::Config::defaults().elasticsearch;
    config.url = vec![url.to_owned()];
    config.request_timeout_seconds = 5;
    Cluster::new(client::build(&config).unwrap(), retries)
}

fn op(id: &str) -> BulkOp {
    BulkOp::new(
        Action::Index,
        "reckon-pull-requests",
        id.into(),
        Some(br#"{"id":1}"#.to_vec()),
    )
    .versioned(5)
}

#[tokio::test]
async fn a_partial_bulk_failure_retries_only_the_rejected_item() {
    let (cluster, seen) = scripted(vec![
        (200, recorded("bulk_partial_failure.json")),
        (200, recorded("bulk_retry_ok.json")),
    ])
    .await;
    let ops = [op("1"), op("2"), op("3"), op("4")];
    let results = cluster.bulk(&ops, "false").await.unwrap();
    assert_eq!(results[0], ItemResult::Done { version: Some(4) });
    assert_eq!(results[1], ItemResult::Done { version: Some(3) }, "retried");
    assert!(
        matches!(&results[2], ItemResult::Failed { status: 400, kind, .. } if kind == "document_parsing_exception"),
        "a mapping failure is final: {:?}",
        results[2]
    );
    assert_eq!(
        results[3],
        ItemResult::Conflict,
        "an older version is an expected outcome"
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[1].1.lines().count(),
        2,
        "only item 2 again: {}",
        seen[1].1
    );
    assert!(seen[1].1.contains(r#""_id":"2""#));
}

#[tokio::test]
async fn a_rejected_request_is_retried_with_backoff() {
    let (cluster, seen) = scripted(vec![
        (429, recorded("rejected_429.json")),
        (503, recorded("unavailable_503.json")),
        (200, recorded("bulk_retry_ok.json")),
    ])
    .await;
    let results = cluster.bulk(&[op("2")], "false").await.unwrap();
    assert_eq!(results, [ItemResult::Done { version: Some(3) }]);
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_write_block_is_retried_like_a_rejection() {
    let (cluster, seen) = scripted(vec![
        (403, recorded("write_block_403.json")),
        (200, recorded("bulk_retry_ok.json")),
    ])
    .await;
    let results = cluster.bulk(&[op("2")], "false").await.unwrap();
    assert_eq!(results, [ItemResult::Done { version: Some(3) }]);
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn an_mget_error_entry_is_an_error_not_a_missing_document() {
    let (cluster, _) = scripted(vec![(200, recorded("mget_error.json"))]).await;
    let ids = [("reckon-orgs", "acme"), ("reckon-orgs", "other")]
        .map(|(i, d)| (i.to_owned(), d.to_owned()));
    let err = cluster.mget(&ids).await.unwrap_err();
    assert!(
        matches!(&err, EsError::Mget { id, kind, .. } if id == "acme" && kind == "no_shard_available_action_exception"),
        "{err}"
    );
}

/// Amazon OpenSearch refuses bodies over 10 MiB on smaller instance types with a 413
/// and a `Message`: the bulk is halved and sent again; an item refused on its own is
/// `TooLarge`, which names it, never a permanent item failure.
#[tokio::test]
async fn a_413_halves_the_bulk_and_an_item_refused_alone_is_too_large() {
    let ok = |id: &str| {
        format!(
            r#"{{"errors":false,"took":1,"items":[{{"index":{{"_index":"reckon-pull-requests-v1-0","_id":"{id}","_version":5,"result":"updated","_seq_no":1,"_primary_term":1,"status":200}}}}]}}"#
        )
    };
    let (cluster, seen) = scripted(vec![
        (413, recorded("too_large_413_aws.json")),
        (200, ok("1")),
        (200, ok("2")),
    ])
    .await;
    let results = cluster.bulk(&[op("1"), op("2")], "false").await.unwrap();
    assert_eq!(results, vec![ItemResult::Done { version: Some(5) }; 2]);
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 3);
        assert!(seen[1].1.contains(r#""_id":"1""#) && seen[2].1.contains(r#""_id":"2""#));
    }

    let (cluster, _) = scripted(vec![(413, String::new())]).await;
    let err = cluster.bulk(&[op("7")], "false").await.unwrap_err();
    assert!(matches!(err, EsError::TooLarge { item: 0, .. }), "{err}");
}

#[tokio::test]
async fn rejections_that_outlast_the_retries_are_an_error_not_a_success() {
    let (cluster, _) = scripted(vec![(429, recorded("rejected_429.json")); 4]).await;
    let err = cluster.bulk(&[op("2")], "false").await.unwrap_err();
    assert!(
        matches!(&err, EsError::Status { status: 429, kind, .. } if kind == "es_rejected_execution_exception"),
        "{err}"
    );
}

#[tokio::test]
async fn create_conflicts_and_realtime_reads_are_parsed() {
    let (cluster, _) = scripted(vec![
        (200, recorded("create_conflict.json")),
        (200, recorded("mget_missing.json")),
    ])
    .await;
    let create = |id: &str| {
        BulkOp::new(
            Action::Create,
            "reckon-dedup",
            id.into(),
            Some(b"{}".to_vec()),
        )
    };
    let results = cluster
        .bulk(&[create("2f0c8f3a"), create("9b1d")], "false")
        .await
        .unwrap();
    assert_eq!(results[0], ItemResult::Conflict);
    assert!(matches!(results[1], ItemResult::Done { .. }));
    let docs = cluster
        .mget(&[
            ("reckon-dedup".into(), "2f0c8f3a".into()),
            ("reckon-dedup".into(), "77aa".into()),
        ])
        .await
        .unwrap();
    let stored = docs[0].as_ref().unwrap();
    assert_eq!((stored.seq_no, stored.primary_term), (Some(41), Some(1)));
    assert_eq!(stored.source.as_ref().unwrap()["state"], "stored");
    assert!(docs[1].is_none());
}

#[tokio::test]
async fn a_missing_index_is_a_clear_error_or_absent_when_asked() {
    let (cluster, _) = scripted(vec![
        (404, recorded("index_not_found.json")),
        (404, recorded("index_not_found.json")),
    ])
    .await;
    let err = cluster
        .json(Method::Get, "/reckon-teams/_mapping", &[], None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), Some("index_not_found_exception"));
    assert!(
        err.to_string().contains("no such index [reckon-teams]"),
        "{err}"
    );
    let absent = cluster
        .call(Method::Get, "/reckon-teams/_mapping", &[], None, true)
        .await
        .unwrap();
    assert!(absent.is_none());
}

#[tokio::test]
async fn an_unreachable_cluster_is_an_error_after_the_retries() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let cluster = cluster_at(&format!("http://127.0.0.1:{port}"), 1);
    let err = cluster.bulk(&[op("1")], "false").await.unwrap_err();
    assert!(matches!(err, EsError::Unreachable { .. }), "{err}");

    let mut config = reckon::settings::Config::defaults().elasticsearch;
    config.url = vec![format!("http://127.0.0.1:{port}")];
    config.max_retries = 0;
    let err = ElasticsearchStore::open(&config)
        .await
        .err()
        .expect("setup fails");
    assert!(
        reckon::telemetry::chain(&err).contains("cannot reach the cluster"),
        "{}",
        reckon::telemetry::chain(&err)
    );
}

#[test]
fn templates_and_mappings_match_the_snapshot() {
    let names = Names {
        prefix: "reckon".into(),
    };
    let all: serde_json::Map<String, Value> = layout::journals()
        .iter()
        .chain(&SINGLES)
        .chain(&ENTITIES)
        .map(|n| (names.template(n), layout::template(&names, n)))
        .collect();
    insta::assert_json_snapshot!("templates", all);
}

#[test]
fn stats_queries_match_the_snapshot() {
    let filter = PrFilter {
        org: "acme".into(),
        team: Some("core".into()),
        repo: Some("API".into()),
        author: Some("Ann".into()),
        range: TimeRange {
            from: Some(1_772_409_600_000),
            to: Some(1_775_001_600_000),
        },
    };
    let teams: std::collections::BTreeMap<i64, Vec<i64>> =
        [(100, vec![1, 2]), (101, vec![])].into_iter().collect();
    insta::assert_json_snapshot!(
        "queries",
        json!({
            "series_week": read::series_body(&filter, Some(&[1i64, 2][..]), Interval::Week),
            "stats_top_5": read::stats_body(&filter, Some(&[1i64, 2][..]), 5),
            "stats_all_time": read::stats_body(&PrFilter { org: "acme".into(), ..Default::default() }, None, 10),
            "team_stats": read::team_stats_body("acme", filter.range, &teams),
        })
    );
}

/// The bulk bodies of one delivery, with the per-process owner and claim time masked.
#[tokio::test]
async fn bulk_bodies_match_the_snapshot() {
    let (standin, url) = es_standin::StandIn::start().await;
    let mut config = reckon::settings::Config::defaults().elasticsearch;
    config.url = vec![url];
    let (store, _) = ElasticsearchStore::open(&config).await.unwrap();
    standin.clear_log();
    let at = 1_772_409_600_000;
    let pr = PullRequest {
        id: 7,
        org: "acme".into(),
        repo_id: 10,
        repo: "Acme/api".into(),
        number: 7,
        title: "Fix \"quotes\"\nand lines".into(),
        state: PrState::Merged,
        draft: false,
        author: "Ann".into(),
        author_id: 1,
        base_ref: "main".into(),
        labels: vec!["bug".into()],
        requested_reviewers: vec!["ben".into()],
        additions: Some(3),
        deletions: None,
        created_at: at - 3_600_000,
        updated_at: at,
        closed_at: Some(at),
        merged_at: Some(at),
        version: version(at, 2),
    };
    let payload = b"{\n  \"action\": \"closed\",\n  \"number\": 7\n}".to_vec();
    store
        .write_batch(vec![Envelope {
            source: "github".into(),
            kind: "pull_request".into(),
            action: Some("closed".into()),
            delivery_id: "d-7".into(),
            hook_id: Some("42".into()),
            dedup_key: "42:d-7".into(),
            received_at: at,
            size: payload.len(),
            payload,
            content_type: Default::default(),
            writes: vec![
                EntityWrite::Org(Org {
                    key: "acme".into(),
                    login: "Acme".into(),
                    id: Some(9),
                }),
                EntityWrite::PullRequest(pr),
            ],
        }])
        .await
        .unwrap();
    let bodies: Vec<Value> = standin
        .requests()
        .into_iter()
        .filter(|r| r.path == "/_bulk")
        .map(|r| {
            let lines: Vec<Value> = String::from_utf8(r.body)
                .unwrap()
                .lines()
                .map(|l| {
                    let mut v: Value = serde_json::from_str(l).unwrap();
                    for masked in ["owner", "claimed_at"] {
                        if v.get(masked).is_some() {
                            v[masked] = json!(format!("[{masked}]"));
                        }
                    }
                    v
                })
                .collect();
            json!({"query": r.query, "lines": lines})
        })
        .collect();
    insta::assert_json_snapshot!("bulk_bodies", bodies);
}
