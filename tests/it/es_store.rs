//! What only the Elasticsearch store has to get right, run against the stand-in (or a
//! real cluster with `RECKON_TEST_ELASTICSEARCH_URL`, where fault injection is skipped):
//! dedup across monthly indices, external versions, retries of rejected bulk items,
//! dead letters, stale claims after a failed batch, and 503s while the cluster is down.

use reckon::model::{version, EntityWrite, Envelope, PrState, PullRequest, WriteOutcome};
use reckon::settings::StoreKind;
use reckon::stats::{DeliveryQuery, PrFilter};
use reckon::store::elasticsearch::ElasticsearchConfig;
use reckon::store::elasticsearch::ElasticsearchStore;
use reckon::store::{GithubReadModel, Journal};
use serde_json::json;

use crate::common;
use crate::es_standin::{self, Fault, StandIn};

/// 2026-01-31T23:59:00Z and two minutes later, in February.
const JAN_31: i64 = 1_769_903_940_000;
const FEB_1: i64 = JAN_31 + 120_000;

fn pr(id: i64, state: PrState, updated: i64) -> EntityWrite {
    EntityWrite::PullRequest(PullRequest {
        id,
        org: "acme".into(),
        repo_id: 10,
        repo: "acme/api".into(),
        number: id,
        title: "t".into(),
        state,
        draft: false,
        author: "ann".into(),
        author_id: 1,
        base_ref: "main".into(),
        labels: vec!["bug".into()],
        requested_reviewers: vec![],
        additions: Some(3),
        deletions: Some(1),
        created_at: JAN_31 - 86_400_000,
        updated_at: updated,
        closed_at: (state != PrState::Open).then_some(updated),
        merged_at: (state == PrState::Merged).then_some(updated),
        version: version(updated, state.rank()),
    })
}

fn envelope(delivery: &str, received_at: i64, mut writes: Vec<EntityWrite>) -> Envelope {
    writes.insert(
        0,
        EntityWrite::Org(reckon::model::Org {
            key: "acme".into(),
            login: "Acme".into(),
            id: None,
        }),
    );
    let payload = format!("{{\n  \"delivery\": \"{delivery}\"\n}}").into_bytes();
    Envelope {
        source: "github".into(),
        kind: "pull_request".into(),
        action: Some("opened".into()),
        delivery_id: delivery.into(),
        hook_id: None,
        dedup_key: format!("1:{delivery}"),
        received_at,
        size: payload.len(),
        payload,
        content_type: Default::default(),
        writes,
    }
}

async fn open(config: &ElasticsearchConfig) -> ElasticsearchStore {
    ElasticsearchStore::open(config).await.unwrap().0
}

/// A stand-in of our own, even when a real cluster is configured: these tests inject faults.
async fn standin() -> (StandIn, ElasticsearchConfig) {
    let (standin, url) = StandIn::start().await;
    let mut config = reckon::settings::Config::defaults().elasticsearch;
    config.url = vec![url];
    config.index_prefix = "rk".into();
    config.refresh = reckon::store::elasticsearch::Refresh::WaitFor;
    config.max_retries = 2;
    config.follow_settle_ms = 0;
    (standin, config)
}

async fn opened(store: &dyn GithubReadModel) -> u64 {
    let filter = PrFilter {
        org: "acme".into(),
        ..Default::default()
    };
    store.pr_stats(&filter, 5).await.unwrap().opened
}

#[tokio::test]
async fn a_redelivery_in_another_month_is_a_duplicate() {
    let (_standin, config) = es_standin::test_cluster().await;
    let store = open(&config).await;
    let first = store
        .write_batch(vec![envelope(
            "d1",
            JAN_31,
            vec![pr(1, PrState::Open, JAN_31)],
        )])
        .await
        .unwrap();
    let again = store
        .write_batch(vec![envelope(
            "d1",
            FEB_1,
            vec![pr(1, PrState::Merged, FEB_1)],
        )])
        .await
        .unwrap();
    assert_eq!(
        (first[0], again[0]),
        (WriteOutcome::Accepted, WriteOutcome::Duplicate)
    );
    let days = store.event_days(None, Default::default()).await.unwrap();
    assert_eq!(
        serde_json::to_value(&days).unwrap(),
        json!([{"source": "github", "day": "2026-01-31", "events": 1}])
    );
    // The duplicate's writes were skipped: the PR is still open.
    let summary = store.org_summary("acme").await.unwrap().unwrap();
    assert_eq!(summary.pull_requests.open, 1);
    let log = store
        .deliveries(&DeliveryQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let statuses: Vec<_> = log.iter().map(|d| d.status.as_str()).collect();
    assert_eq!(statuses, ["duplicate", "accepted"]);
    // The pretty-printed payload went out as one NDJSON line and comes back as JSON.
    let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 31).unwrap();
    let events = store
        .events(&reckon::stats::EventsQuery {
            source: "github".into(),
            day,
            after: None,
            limit: 5,
            max_bytes: usize::MAX,
        })
        .await
        .unwrap();
    assert_eq!(events[0].payload.get(), r#"{"delivery":"d1"}"#);
}

#[tokio::test]
async fn late_writes_lose_to_newer_versions_without_an_error() {
    let (standin, config) = es_standin::test_cluster().await;
    let store = open(&config).await;
    store
        .write_batch(vec![envelope(
            "new",
            FEB_1,
            vec![pr(1, PrState::Merged, FEB_1)],
        )])
        .await
        .unwrap();
    let late = store
        .write_batch(vec![envelope(
            "old",
            FEB_1 + 1,
            vec![pr(1, PrState::Open, JAN_31)],
        )])
        .await
        .unwrap();
    assert_eq!(late, [WriteOutcome::Accepted]);
    let summary = store.org_summary("acme").await.unwrap().unwrap();
    assert_eq!(
        (summary.pull_requests.merged, summary.pull_requests.open),
        (1, 0)
    );
    if let Some(standin) = standin {
        // Every entity write carries its external version.
        let bulk = standin
            .requests()
            .into_iter()
            .filter(|r| r.path == "/_bulk")
            .map(|r| String::from_utf8(r.body).unwrap())
            .find(|b| b.contains("pull-requests"))
            .unwrap();
        assert!(bulk.contains(r#""version_type":"external_gte""#), "{bulk}");
    }
}

#[tokio::test]
async fn rejected_bulk_items_are_retried_and_only_they_are_sent_again() {
    let (standin, config) = standin().await;
    let store = open(&config).await;
    standin.clear_log();
    standin.inject(Fault {
        index_prefix: "rk-pull-requests".into(),
        status: 429,
        kind: "es_rejected_execution_exception".into(),
        times: 2,
    });
    let out = store
        .write_batch(vec![envelope(
            "d1",
            FEB_1,
            vec![pr(1, PrState::Open, FEB_1), pr(2, PrState::Open, FEB_1)],
        )])
        .await
        .unwrap();
    assert_eq!(out, [WriteOutcome::Accepted]);
    assert_eq!(opened(&store).await, 2);
    let bulks: Vec<String> = standin
        .requests()
        .into_iter()
        .filter(|r| r.path == "/_bulk")
        .map(|r| String::from_utf8(r.body).unwrap())
        .collect();
    // claim, journal, entities, the retry of the two rejected PRs, settle.
    assert_eq!(bulks.len(), 5, "{bulks:#?}");
    let retry = &bulks[3];
    assert_eq!(
        retry.lines().count(),
        4,
        "only the two PR items again: {retry}"
    );
    assert!(retry.lines().all(|l| !l.contains("rk-events")));
}

#[tokio::test]
async fn items_that_keep_failing_are_not_acknowledged_and_the_retry_stores_them_once() {
    let (standin, config) = standin().await;
    let store = open(&config).await;
    standin.inject(Fault {
        index_prefix: "rk-events".into(),
        status: 503,
        kind: "unavailable_shards_exception".into(),
        times: 3,
    });
    let err = store
        .write_batch(vec![envelope(
            "d1",
            FEB_1,
            vec![pr(1, PrState::Open, FEB_1)],
        )])
        .await
        .unwrap_err();
    assert!(
        reckon::telemetry::chain(&err).contains("unavailable_shards_exception"),
        "{}",
        reckon::telemetry::chain(&err)
    );
    // The sender retries: this process retakes its own pending claim at once.
    let out = store
        .write_batch(vec![envelope(
            "d1",
            FEB_1 + 5,
            vec![pr(1, PrState::Open, FEB_1)],
        )])
        .await
        .unwrap();
    assert_eq!(out, [WriteOutcome::Accepted]);
    let events = standin.docs("rk-events");
    assert_eq!(events.len(), 1, "stored once: {events:?}");
    assert_eq!(opened(&store).await, 1);
    // Another replica seeing the claim while it is fresh would answer "busy", not
    // "duplicate"; once stored, it is a duplicate everywhere.
    let other = open(&config).await;
    let again = other
        .write_batch(vec![envelope("d1", FEB_1 + 9, vec![])])
        .await
        .unwrap();
    assert_eq!(again, [WriteOutcome::Duplicate]);
}

#[tokio::test]
async fn a_fresh_claim_held_by_another_writer_is_busy_not_a_duplicate() {
    let (standin, config) = standin().await;
    let store = open(&config).await;
    standin.inject(Fault {
        index_prefix: "rk-events".into(),
        status: 500,
        kind: "internal_server_error".into(),
        times: 3,
    });
    store
        .write_batch(vec![envelope("d1", FEB_1, vec![])])
        .await
        .unwrap_err();
    let other = open(&config).await;
    let err = other
        .write_batch(vec![envelope("d1", FEB_1, vec![])])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("elasticsearch"), "{err}");
    assert!(reckon::telemetry::chain(&err).contains("being stored by another Reckon"));
}

#[tokio::test]
async fn mapping_failures_become_dead_letters_the_delivery_log_shows() {
    let (standin, config) = standin().await;
    let store = open(&config).await;
    standin.inject(Fault {
        index_prefix: "rk-pull-requests".into(),
        status: 400,
        kind: "document_parsing_exception".into(),
        times: 1,
    });
    let out = store
        .write_batch(vec![envelope(
            "d1",
            FEB_1,
            vec![pr(1, PrState::Open, FEB_1)],
        )])
        .await
        .unwrap();
    assert_eq!(out, [WriteOutcome::Accepted], "the raw delivery is stored");
    let log = store
        .deliveries(&DeliveryQuery {
            status: Some("dead_letter".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 1);
    let reason = log[0].reason.as_deref().unwrap();
    assert!(
        reason.contains("pull-requests 1") && reason.contains("document_parsing_exception"),
        "{reason}"
    );
    let dead = standin.docs("rk-dead-letters");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].2["target"], "pull-requests 1");
    assert!(dead[0].2["document"]
        .as_str()
        .unwrap()
        .contains("\"number\":1"));
    // The event itself is in the journal, so `reckon reindex` can apply it later.
    assert_eq!(standin.docs("rk-events").len(), 1);
}

#[tokio::test]
async fn the_service_answers_503_while_the_cluster_is_down_and_stores_the_retry() {
    let (standin, url) = StandIn::start().await;
    let app = common::TestApp::spawn_with(|c| {
        c.store = StoreKind::Elasticsearch;
        c.elasticsearch.url = vec![url.clone()];
        c.elasticsearch.max_retries = 1;
        c.elasticsearch.refresh = reckon::store::elasticsearch::Refresh::WaitFor;
    })
    .await;
    let body = common::fixture("pull_request/opened.with-organization.payload.json").to_string();
    standin.set_down(true);
    let down = app.github("pull_request", "dlv-1", body.as_bytes()).await;
    assert_eq!(down.status(), 503);
    assert!(down.headers().contains_key("retry-after"));
    let (status, ready) = app.get("/readyz").await;
    assert_eq!(status, 503, "{ready}");
    standin.set_down(false);
    let up = app.github("pull_request", "dlv-1", body.as_bytes()).await;
    assert_eq!(up.status(), 200, "{:?}", up.text().await);
    let orgs = app.get_ok("/api/v1/github/orgs").await;
    assert!(
        orgs["orgs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["org"] == "octocoders"),
        "{orgs}"
    );
    assert_eq!(standin.docs("reckon-events").len(), 1);
}

/// Every real GitHub fixture through the real service on both stores: all accepted, and
/// every stats answer the dashboard reads is the same JSON on Elasticsearch as on SQLite.
#[tokio::test]
async fn every_fixture_gives_the_same_answers_as_sqlite() {
    let (_standin, es) = es_standin::test_cluster().await;
    let on_es = common::TestApp::spawn_with(|c| {
        c.store = StoreKind::Elasticsearch;
        c.elasticsearch = es.clone();
    })
    .await;
    let on_sqlite = common::TestApp::spawn().await;
    let fixtures = common::fixtures();
    for (i, f) in fixtures.iter().enumerate() {
        for app in [&on_es, &on_sqlite] {
            let response = app.github(&f.event, &format!("fixture-{i}"), &f.body).await;
            assert_eq!(response.status(), 200, "{}/{}", f.event, f.name);
        }
    }
    assert_eq!(on_es.event_count().await, fixtures.len() as u64);
    let orgs = on_sqlite.get_ok("/api/v1/github/orgs").await;
    assert_eq!(on_es.get_ok("/api/v1/github/orgs").await, orgs);
    let mut paths = vec!["/api/v1/events/days".to_owned()];
    for org in orgs["orgs"].as_array().unwrap() {
        let org = org["org"].as_str().unwrap();
        for tail in [
            "/summary",
            "/repos",
            "/teams",
            "/pulls/stats",
            "/pulls/stats?from=2019-01-01&to=2019-06-01",
            "/pulls/series?interval=week&from=2018-01-01&to=2030-01-01",
        ] {
            paths.push(format!("/api/v1/github/orgs/{org}{tail}"));
        }
    }
    for path in paths {
        let (a, b) = (on_sqlite.get(&path).await, on_es.get(&path).await);
        assert_eq!(a, b, "{path}");
        assert_eq!(a.0, 200, "{path}: {}", a.1);
    }
}

/// `reckon setup` creates the layout once and then finds it current: idempotent.
#[tokio::test]
async fn setup_is_idempotent() {
    let (standin, url) = StandIn::start().await;
    let run = move || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_reckon"))
            .arg("setup")
            .env("RECKON_STORE", "elasticsearch")
            .env("RECKON_ELASTICSEARCH_URL", &url)
            .env("RECKON_ELASTICSEARCH_INDEX_PREFIX", "acme-reckon")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let first = tokio::task::spawn_blocking(run.clone()).await.unwrap();
    assert!(
        first.contains("templates written:   acme-reckon-events-v1"),
        "{first}"
    );
    let indices = standin.index_names();
    assert!(
        indices
            .iter()
            .any(|i| i.starts_with("acme-reckon-pull-requests-v1-")),
        "{indices:?}"
    );
    let second = tokio::task::spawn_blocking(run).await.unwrap();
    assert!(second.contains("templates written:   none"), "{second}");
    assert!(second.contains("indices created:     none"), "{second}");
    assert!(second.contains("the index layout is current"), "{second}");
    assert_eq!(standin.index_names(), indices);
}

/// Amazon OpenSearch blocks writes (`cluster_block_exception`, a 403) while disk or JVM
/// memory runs low. A block is retried like a 429; one that outlasts the retries means
/// "not stored" (the sender gets a 503 and retries), never a dead letter of an
/// acknowledged delivery.
#[tokio::test]
async fn write_blocks_are_retried_and_never_dead_letter_an_acknowledged_delivery() {
    let (standin, config) = standin().await;
    let store = open(&config).await;
    let block = |index: &str, times| Fault {
        index_prefix: index.into(),
        status: 403,
        kind: "cluster_block_exception".into(),
        times,
    };
    standin.inject(block("rk-pull-requests", 1));
    let out = store
        .write_batch(vec![envelope(
            "d1",
            FEB_1,
            vec![pr(1, PrState::Open, FEB_1)],
        )])
        .await
        .unwrap();
    assert_eq!(out, [WriteOutcome::Accepted]);
    assert_eq!(opened(&store).await, 1);

    // Blocks that outlast the retries (three attempts), on the journal and on entities.
    let blocked = |index: &str, id| envelope(index, FEB_1, vec![pr(id, PrState::Open, FEB_1)]);
    for (index, id) in [("rk-events", 2), ("rk-pull-requests", 3)] {
        standin.inject(block(index, 3));
        let err = store
            .write_batch(vec![blocked(index, id)])
            .await
            .unwrap_err();
        let chain = reckon::telemetry::chain(&err);
        assert!(chain.contains("cluster_block_exception"), "{chain}");
    }
    assert!(standin.docs("rk-dead-letters").is_empty());
    let dead = store
        .deliveries(&DeliveryQuery {
            status: Some("dead_letter".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(dead.is_empty(), "{dead:?}");
    // Once the block lifts, the senders' retries are stored.
    for (index, id) in [("rk-events", 2), ("rk-pull-requests", 3)] {
        let out = store.write_batch(vec![blocked(index, id)]).await.unwrap();
        assert_eq!(out, [WriteOutcome::Accepted]);
    }
    assert_eq!(opened(&store).await, 3);
}

/// A document `_mget` could not read (a shard unavailable) is an error, not "absent":
/// merging into "absent" would overwrite what is stored.
#[tokio::test]
async fn a_document_mget_could_not_read_fails_the_batch_instead_of_being_overwritten() {
    let (standin, config) = standin().await;
    let store = open(&config).await;
    let org = |id| {
        EntityWrite::Org(reckon::model::Org {
            key: "acme".into(),
            login: "Acme".into(),
            id,
        })
    };
    store
        .write_batch(vec![envelope("d1", FEB_1, vec![org(Some(7))])])
        .await
        .unwrap();
    standin.inject_mget(Fault {
        index_prefix: "rk-orgs".into(),
        status: 503,
        kind: "no_shard_available_action_exception".into(),
        times: 1,
    });
    // A write without the org's id merges into the stored document, which keeps it.
    let err = store
        .write_batch(vec![envelope("d2", FEB_1 + 1, vec![org(None)])])
        .await
        .unwrap_err();
    let chain = reckon::telemetry::chain(&err);
    assert!(
        chain.contains("no_shard_available_action_exception"),
        "{chain}"
    );
    let out = store
        .write_batch(vec![envelope("d2", FEB_1 + 2, vec![org(None)])])
        .await
        .unwrap();
    assert_eq!(out, [WriteOutcome::Accepted]);
    let orgs = standin.docs("rk-orgs");
    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0].2["id"], 7, "{orgs:?}");
}

/// A rename and its reversal within `index.gc_deletes` (a minute, and a rebuild replays
/// both at once): the documents that move back are not refused by the tombstones the
/// first move left under their ids.
#[tokio::test]
async fn an_org_renamed_and_renamed_back_keeps_its_members() {
    let (_standin, config) = standin().await;
    let store = open(&config).await;
    let member = EntityWrite::OrgMember(reckon::model::Membership {
        org: "acme".into(),
        user_id: 1,
        login: "ann".into(),
        present: true,
        version: version(FEB_1, 0),
    });
    store
        .write_batch(vec![envelope(
            "d1",
            FEB_1,
            vec![member, pr(1, PrState::Open, FEB_1)],
        )])
        .await
        .unwrap();
    let rename = |from: &str, to: &str| {
        vec![
            EntityWrite::Org(reckon::model::Org {
                key: to.into(),
                login: to.into(),
                id: None,
            }),
            EntityWrite::OrgRenamed {
                from: from.into(),
                to: to.into(),
            },
        ]
    };
    for (i, (from, to)) in [("acme", "acme-corp"), ("acme-corp", "acme")]
        .into_iter()
        .enumerate()
    {
        let mut env = envelope(&format!("rename-{i}"), FEB_1 + 1 + i as i64, vec![]);
        env.writes = rename(from, to);
        store.write_batch(vec![env]).await.unwrap();
    }
    assert!(store.org_summary("acme-corp").await.unwrap().is_none());
    let summary = store.org_summary("acme").await.unwrap().unwrap();
    assert_eq!(
        (summary.members, summary.pull_requests.open),
        (1, 1),
        "{summary:?}"
    );
}

/// Two replicas starting on an empty cluster at once: both look for the entity aliases
/// before either creates them (the stand-in holds each lookup until both ask). They
/// must agree on one first generation; a second write index on the alias would be
/// refused by the cluster and fail the start.
#[tokio::test]
async fn replicas_setting_up_an_empty_cluster_at_once_create_one_first_generation() {
    use reckon::store::elasticsearch::cluster::Cluster;
    use reckon::store::elasticsearch::{client, layout};
    let (standin, url) = StandIn::start().await;
    standin.rendezvous_on("GET /_alias/", 2);
    let mut config = reckon::settings::Config::defaults().elasticsearch;
    config.url = vec![url];
    let cluster = || Cluster::new(client::build(&config).unwrap(), 1);
    let (c1, c2) = (cluster(), cluster());
    let names = layout::Names {
        prefix: "rk".into(),
    };
    // Each started in its own millisecond.
    let (a, b) = tokio::join!(
        layout::setup(&c1, &names, FEB_1),
        layout::setup(&c2, &names, FEB_1 + 7)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    standin.clear_rendezvous();
    for entity in layout::ENTITIES {
        let targets = layout::alias_targets(&c1, &names.alias(entity))
            .await
            .unwrap();
        assert_eq!(targets.len(), 1, "{entity}: {targets:?}");
        let created = [&a, &b]
            .iter()
            .filter(|r| r.indices_created.contains(&targets[0]))
            .count();
        assert_eq!(created, 1, "one replica reports creating {}", targets[0]);
    }
}

/// `reckon reindex` while another replica stores a delivery received earlier: its
/// sequence number is below the cut-over, its event appears after the first pass read
/// that range, and its entity write goes to the old generation. The rebuild must still
/// apply it (the old cut-over, "everything above the highest visible sequence number",
/// lost it with the old generation).
#[tokio::test]
async fn a_rebuild_applies_a_batch_stored_late_below_its_cut_over() {
    use std::sync::{mpsc, Arc, Mutex};
    let (_standin, config) = standin().await;
    let store = Arc::new(open(&config).await);
    let mut writes = std::collections::HashMap::new();
    let mut batch = Vec::new();
    for id in 1..=3 {
        let env = envelope(
            &format!("d{id}"),
            FEB_1 + id,
            vec![pr(id, PrState::Open, FEB_1)],
        );
        writes.insert(env.delivery_id.clone(), env.writes.clone());
        batch.push(env);
    }
    let early = envelope("early", JAN_31, vec![pr(9, PrState::Open, JAN_31)]);
    writes.insert(early.delivery_id.clone(), early.writes.clone());
    store.write_batch(batch).await.unwrap();

    // The first replayed event holds the rebuild until the other replica has written.
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let pause = Mutex::new(Some((started_tx, go_rx)));
    let projector: reckon::store::Projector = Arc::new(move |event| {
        if let Some((started, go)) = pause.lock().unwrap().take() {
            started.send(()).unwrap();
            go.recv().unwrap();
        }
        let payload: serde_json::Value = serde_json::from_slice(&event.payload).unwrap();
        writes[payload["delivery"].as_str().unwrap()].clone()
    });
    let rebuild = tokio::spawn({
        let store = store.clone();
        async move {
            store
                .rebuild_projections(projector, Arc::new(|_, _| {}))
                .await
        }
    });
    tokio::task::spawn_blocking(move || started_rx.recv().unwrap())
        .await
        .unwrap();
    let other = open(&config).await;
    assert_eq!(
        other.write_batch(vec![early]).await.unwrap(),
        [WriteOutcome::Accepted]
    );
    go_tx.send(()).unwrap();
    let report = rebuild.await.unwrap().unwrap();
    assert_eq!(report.caught_up, 1, "{report:?}");
    assert_eq!(opened(&*store).await, 4, "PR 9 survived the cut-over");
}
