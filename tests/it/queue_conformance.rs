//! The queue conformance suite: the contract every `Queue` implementation passes.
//! Runs against the embedded SQLite queue (two handles on one file, as `serve` and
//! `worker` processes share it), and against SQS on moto (two handles on one queue,
//! as two replicas share it) with its ledger on SQLite and on the Elasticsearch
//! stand-in (or a real cluster with `RECKON_TEST_ELASTICSEARCH_URL`).

use std::sync::Arc;
use std::time::Duration;

use reckon::queue::sqlite::SqliteQueue;
use reckon::queue::sqs::{Ledger, SqsConfig, SqsQueue};
use reckon::queue::{Failed, Queue, RetryPolicy, TaskState};
use reckon::sources::github::sync::TaskSpec;
use reckon::store::Store;

use crate::es_standin;
use crate::moto;

fn teams(org: &str) -> TaskSpec {
    TaskSpec::Teams { org: org.into() }
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

async fn sqs_conformance(store: Arc<dyn Store>, other_store: Arc<dyn Store>) {
    let aws = moto::Aws::start();
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
    };
    conformance(handle(store).await, handle(other_store).await, false).await;
}

#[tokio::test]
async fn sqs_queue_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let open = || -> Arc<dyn Store> {
        let options = reckon::store::sqlite::SqliteOptions {
            synchronous: reckon::store::sqlite::Synchronous::Normal,
            read_pool_size: 2,
        };
        Arc::new(
            reckon::store::sqlite::SqliteStore::open(&dir.path().join("reckon.sqlite3"), &options)
                .unwrap(),
        )
    };
    sqs_conformance(open(), open()).await;
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
