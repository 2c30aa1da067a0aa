//! The queue conformance suite: the contract every `Queue` implementation passes.
//! Runs against the embedded SQLite queue (two handles on one file, as `serve` and
//! `worker` processes share it), and against SQS on moto (two handles on one queue,
//! as two replicas share it) with its ledger on SQLite and on the Elasticsearch
//! stand-in (or a real cluster with `RECKON_TEST_ELASTICSEARCH_URL`). `kinds` is the
//! part of the contract about task kinds; `*_reads_old_*` cover data from before kinds.

use std::sync::Arc;
use std::time::Duration;

use reckon::launcher::Job;
use reckon::launcher::{Attempt, JobLauncher, JobOutcome};
use reckon::queue::sqlite::SqliteQueue;
use reckon::queue::sqs::{Ledger, SqsConfig, SqsQueue};
use reckon::queue::Task;
use reckon::queue::{Enqueued, Failed, Queue, RetryPolicy, TaskState, LEGACY_KIND};
use reckon::sources::github::sync::TaskSpec;
use reckon::store::Store;
use reckon::worker::Worker;

use crate::es_standin;
use crate::moto;

fn teams(org: &str) -> Task {
    TaskSpec::Teams { org: org.into() }.to_task().unwrap()
}

/// `ordered`: leases come strictly oldest first (SQLite). SQS standard queues only try.
async fn conformance(queue: Arc<dyn Queue>, other: Arc<dyn Queue>, ordered: bool) {
    let visibility = Duration::from_secs(60);

    // Identical pending tasks are one task; different ones are not.
    let a = queue.enqueue(&teams("a")).await.unwrap();
    assert!(a.added);
    assert_eq!(
        other.enqueue(&teams("a")).await.unwrap(),
        reckon::queue::Enqueued {
            id: a.id,
            added: false
        }
    );
    let b = queue.enqueue(&teams("b")).await.unwrap();
    assert!(b.added && b.id != a.id);
    assert_eq!(queue.counts().await.unwrap().ready, 2);

    // Leases go oldest first, to one worker at a time.
    let one = queue.lease("w1", visibility).await.unwrap().unwrap();
    let two = other.lease("w2", visibility).await.unwrap().unwrap();
    if ordered {
        assert_eq!(one.id, a.id);
    }
    let (first, second) = if one.id == a.id {
        (one, two)
    } else {
        (two, one)
    };
    assert_eq!(
        (first.id, first.attempt, first.spec.clone()),
        (a.id, 1, teams("a"))
    );
    assert_eq!(second.id, b.id);
    // A lease can be extended by its holder only.
    assert!(queue.extend(&first, visibility).await.unwrap());
    assert!(queue.lease("w3", visibility).await.unwrap().is_none());
    // A leased task still deduplicates.
    assert!(!queue.enqueue(&teams("a")).await.unwrap().added);

    // Done is final; a finished task no longer blocks an identical new one.
    assert!(queue.complete(&first).await.unwrap());
    assert!(
        !queue.complete(&first).await.unwrap(),
        "a second completion is refused"
    );
    assert_eq!(
        queue.get(a.id).await.unwrap().unwrap().state,
        TaskState::Done
    );
    let again = queue.enqueue(&teams("a")).await.unwrap();
    assert!(again.added && again.id != a.id);

    // A retryable failure comes back after the backoff; `retry_at` can push it later.
    let later = chrono::Utc::now().timestamp_millis() + 3_600_000;
    match other
        .fail(&second, "upstream 502", true, Some(later))
        .await
        .unwrap()
    {
        Failed::RetryAt(at) => assert!(at >= later),
        other => panic!("expected a retry, got {other:?}"),
    }
    let row = queue.get(b.id).await.unwrap().unwrap();
    assert_eq!(
        (row.state, row.attempts, row.last_error.as_deref()),
        (TaskState::Ready, 1, Some("upstream 502"))
    );
    let next = queue.lease("w1", visibility).await.unwrap().unwrap();
    assert_eq!(next.id, again.id, "the backed-off task is not due yet");

    // A permanent failure is dead at once; retry brings it back with fresh attempts.
    assert_eq!(
        queue.fail(&next, "bad spec", false, None).await.unwrap(),
        Failed::Dead
    );
    assert_eq!(
        queue.list(Some(TaskState::Dead), 10).await.unwrap().len(),
        1
    );
    assert!(queue.retry(again.id).await.unwrap());
    assert!(
        !queue.retry(again.id).await.unwrap(),
        "only dead tasks are retried"
    );
    let row = queue.get(again.id).await.unwrap().unwrap();
    assert_eq!((row.state, row.attempts), (TaskState::Ready, 0));

    // An expired lease makes the task due again, and the old holder's report is refused.
    let held = queue.lease("w1", Duration::ZERO).await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let taken = other.lease("w2", visibility).await.unwrap().unwrap();
    assert_eq!(taken.id, held.id);
    assert_eq!(taken.attempt, held.attempt + 1);
    assert!(!queue.complete(&held).await.unwrap());
    assert!(!queue.extend(&held, visibility).await.unwrap());
    assert_eq!(
        queue.fail(&held, "late", true, None).await.unwrap(),
        Failed::LeaseLost
    );
    assert!(other.complete(&taken).await.unwrap());

    // Out of attempts: dead, whether by failures or by leases that keep expiring.
    let c = queue.enqueue(&teams("c")).await.unwrap().id;
    for attempt in 1..=3 {
        let lease = queue.lease("w1", Duration::ZERO).await.unwrap().unwrap();
        assert_eq!((lease.id, lease.attempt), (c, attempt));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(queue.lease("w1", visibility).await.unwrap().is_none());
    let row = queue.get(c).await.unwrap().unwrap();
    assert_eq!(row.state, TaskState::Dead);
    assert!(row.last_error.unwrap().contains("lease expired"));

    // Purge removes finished tasks only.
    let counts = queue.counts().await.unwrap();
    assert_eq!(queue.purge(TaskState::Done).await.unwrap(), counts.done);
    assert_eq!(queue.purge(TaskState::Dead).await.unwrap(), counts.dead);
    assert_eq!(queue.counts().await.unwrap().pending(), counts.pending());
}

/// A launcher that must not be reached.
struct NeverLaunched;

#[async_trait::async_trait]
impl JobLauncher for NeverLaunched {
    async fn launch(&self, task: &Task, _: Attempt) -> JobOutcome {
        panic!("a task that can never run was launched: {task:?}");
    }
}

/// Tasks are `(kind, json)`: the kind is part of their identity, and a task no job
/// reads fails for good, naming its kind, without being launched.
async fn kinds(queue: Arc<dyn Queue>, other: Arc<dyn Queue>) {
    let visibility = Duration::from_secs(60);
    let json = serde_json::json!({"task": "teams", "org": "a"});
    let one = Task {
        kind: "one".into(),
        payload: json.clone(),
    };
    let two = Task {
        kind: "two".into(),
        payload: json,
    };

    // Equal JSON of two kinds: two tasks.
    let a = queue.enqueue(&one).await.unwrap();
    let b = other.enqueue(&two).await.unwrap();
    assert!(a.added && b.added && a.id != b.id);
    // Equal kind and JSON, keys in another order: one task.
    let reordered = Task {
        kind: "one".into(),
        payload: serde_json::from_str(r#"{"org":"a","task":"teams"}"#).unwrap(),
    };
    assert_eq!(
        other.enqueue(&reordered).await.unwrap(),
        Enqueued {
            id: a.id,
            added: false
        }
    );
    assert_eq!(queue.get(b.id).await.unwrap().unwrap().spec, two);

    // Leases hand the kind back.
    let mut leased = vec![
        queue.lease("w1", visibility).await.unwrap().unwrap(),
        other.lease("w2", visibility).await.unwrap().unwrap(),
    ];
    leased.sort_by_key(|l| l.id);
    assert_eq!(
        leased.iter().map(|l| l.spec.clone()).collect::<Vec<_>>(),
        vec![one, two]
    );
    for lease in &leased {
        assert!(queue.complete(lease).await.unwrap());
    }

    // An unknown kind is queued like any task, and the worker dead-letters it.
    let worker = Worker::new(queue.clone(), Arc::new(NeverLaunched), visibility);
    let unknown = Task {
        kind: "no-such-kind".into(),
        payload: serde_json::json!({"x": 1}),
    };
    let c = queue.enqueue(&unknown).await.unwrap().id;
    assert!(worker.run_one().await.unwrap());
    let row = queue.get(c).await.unwrap().unwrap();
    assert_eq!(
        (row.state, row.attempts, &row.spec),
        (TaskState::Dead, 1, &unknown)
    );
    let error = row.last_error.unwrap();
    assert!(
        error.contains("unknown task kind `no-such-kind`"),
        "{error}"
    );

    // So is a known kind whose JSON is not a task of that kind.
    let bad = Task {
        kind: LEGACY_KIND.into(),
        payload: serde_json::json!({"task": "teams", "org": "not/an/org"}),
    };
    let d = queue.enqueue(&bad).await.unwrap().id;
    assert!(worker.run_one().await.unwrap());
    let row = queue.get(d).await.unwrap().unwrap();
    assert_eq!(row.state, TaskState::Dead);
    let error = row.last_error.unwrap();
    assert!(error.contains("invalid `github-sync` task"), "{error}");
    assert_eq!(worker.status().dead, 2);
    assert!(!worker.run_one().await.unwrap(), "nothing left to run");
}

#[tokio::test]
async fn sqlite_queue_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue.sqlite3");
    let policy = RetryPolicy {
        max_attempts: 3,
        backoff: Duration::from_secs(30),
    };
    let one = SqliteQueue::open(&path, policy).unwrap();
    let two = SqliteQueue::open(&path, policy).unwrap();
    conformance(Arc::new(one), Arc::new(two), true).await;
}

fn sqlite_pair(path: &std::path::Path) -> (Arc<dyn Queue>, Arc<dyn Queue>) {
    let policy = RetryPolicy {
        max_attempts: 3,
        backoff: Duration::from_secs(30),
    };
    (
        Arc::new(SqliteQueue::open(path, policy).unwrap()),
        Arc::new(SqliteQueue::open(path, policy).unwrap()),
    )
}

#[tokio::test]
async fn sqlite_queue_kinds() {
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = sqlite_pair(&dir.path().join("queue.sqlite3"));
    kinds(one, two).await;
}

/// A queue file from before kinds: rows hold a GitHub sync spec, `dedup` is its JSON.
#[tokio::test]
async fn sqlite_queue_reads_old_rows_as_github_sync_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue.sqlite3");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            r#"CREATE TABLE tasks (
                id INTEGER PRIMARY KEY, dedup TEXT NOT NULL, spec TEXT NOT NULL,
                state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
                not_before INTEGER NOT NULL, lease_token TEXT, leased_by TEXT,
                lease_until INTEGER, last_error TEXT, created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL);
            CREATE UNIQUE INDEX tasks_pending ON tasks (dedup) WHERE state IN ('ready', 'leased');
            CREATE INDEX tasks_due ON tasks (state, not_before, id);
            INSERT INTO tasks (id, dedup, spec, state, not_before, created_at, updated_at) VALUES
                (1, '{"task":"teams","org":"a"}', '{"task":"teams","org":"a"}', 'ready', 0, 0, 0),
                (2, '{"task":"teams","org":"b"}', '{"task":"teams","org":"b"}', 'done', 0, 0, 0);"#,
        )
        .unwrap();
    }
    let (queue, other) = sqlite_pair(&path);
    let version: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, reckon::queue::sqlite::SCHEMA_VERSION);
    assert_eq!(queue.get(2).await.unwrap().unwrap().spec, teams("b"));
    // The old pending row still deduplicates the same task queued now.
    assert_eq!(
        other.enqueue(&teams("a")).await.unwrap(),
        Enqueued {
            id: 1,
            added: false
        }
    );
    let lease = queue
        .lease("w1", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((lease.id, &lease.spec), (1, &teams("a")));
    assert_eq!(lease.spec.kind, LEGACY_KIND);
    assert!(queue.complete(&lease).await.unwrap());
}

async fn sqs_pair(
    aws: &moto::Aws,
    store: Arc<dyn Store>,
    other_store: Arc<dyn Store>,
) -> (Arc<dyn Queue>, Arc<dyn Queue>, String) {
    let (url, dlq) = aws.queues(10).await;
    let config = SqsConfig {
        queue_url: Some(url),
        dead_letter_queue_url: Some(dlq),
        receive_wait_seconds: 0,
        done_retention_hours: 168,
    };
    let policy = RetryPolicy {
        max_attempts: 3,
        backoff: Duration::from_secs(30),
    };
    let handle = |store| async {
        Arc::new(SqsQueue::new(aws.sqs().await, &config, Ledger::new(store), policy).unwrap())
            as Arc<dyn Queue>
    };
    let url = config.queue_url.clone().unwrap_or_default();
    (handle(store).await, handle(other_store).await, url)
}

async fn sqs_conformance(store: Arc<dyn Store>, other_store: Arc<dyn Store>) {
    let aws = moto::Aws::start();
    let (one, two, _) = sqs_pair(&aws, store, other_store).await;
    conformance(one, two, false).await;
}

fn sqlite_store(dir: &std::path::Path) -> Arc<dyn Store> {
    let options = reckon::store::sqlite::SqliteOptions {
        synchronous: reckon::store::sqlite::Synchronous::Normal,
        read_pool_size: 2,
    };
    Arc::new(
        reckon::store::sqlite::SqliteStore::open(&dir.join("reckon.sqlite3"), &options).unwrap(),
    )
}

#[tokio::test]
async fn sqs_queue_kinds() {
    let dir = tempfile::tempdir().unwrap();
    let aws = moto::Aws::start();
    let (one, two, _) = sqs_pair(&aws, sqlite_store(dir.path()), sqlite_store(dir.path())).await;
    kinds(one, two).await;
}

/// Messages and ledger records from before kinds: no `kind`, a GitHub sync spec.
#[tokio::test]
async fn sqs_queue_reads_old_messages_and_records_as_github_sync_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let aws = moto::Aws::start();
    let store = sqlite_store(dir.path());
    let (queue, _, url) = sqs_pair(&aws, store.clone(), sqlite_store(dir.path())).await;
    store
        .put_state(
            &format!("queue/task/{:020}", 41),
            serde_json::json!({
                "id": 41, "spec": {"task": "teams", "org": "old"}, "state": "dead",
                "attempts": 3, "not_before": 0, "last_error": "boom", "lease_token": null,
                "lease_until": null, "created_at": 0, "updated_at": 0,
            }),
        )
        .await
        .unwrap();
    let row = queue.get(41).await.unwrap().unwrap();
    assert_eq!((row.spec, row.state), (teams("old"), TaskState::Dead));

    let body = r#"{"id":42,"spec":{"task":"teams","org":"older"}}"#;
    aws.sqs()
        .await
        .send_message()
        .queue_url(&url)
        .message_body(body)
        .send()
        .await
        .unwrap();
    let lease = queue
        .lease("w1", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((lease.id, &lease.spec), (42, &teams("older")));
    assert_eq!(lease.spec.kind, LEGACY_KIND);
    assert!(queue.complete(&lease).await.unwrap());
}

#[tokio::test]
async fn sqs_queue_conforms() {
    let dir = tempfile::tempdir().unwrap();
    sqs_conformance(sqlite_store(dir.path()), sqlite_store(dir.path())).await;
}

#[tokio::test]
async fn sqs_queue_conforms_with_its_ledger_on_elasticsearch() {
    let (_standin, config) = es_standin::test_cluster().await;
    let open = || async {
        let (store, _) = reckon::store::elasticsearch::ElasticsearchStore::open(&config)
            .await
            .unwrap();
        Arc::new(store) as Arc<dyn Store>
    };
    sqs_conformance(open().await, open().await).await;
}

#[test]
fn backoff_doubles_up_to_an_hour() {
    let policy = RetryPolicy {
        max_attempts: 10,
        backoff: Duration::from_secs(30),
    };
    assert_eq!(policy.delay(1), Duration::from_secs(30));
    assert_eq!(policy.delay(2), Duration::from_secs(60));
    assert_eq!(policy.delay(4), Duration::from_secs(240));
    assert_eq!(policy.delay(30), Duration::from_secs(3600));
}
