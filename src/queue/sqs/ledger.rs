//! Task records and dedup claims of the SQS queue, kept in the store (SQLite or
//! Elasticsearch) because SQS itself cannot list, look up or deduplicate messages. SQS
//! carries the work; the ledger says what each task is, how often it ran and how it ended.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::queue::{QueueError, Task, TaskRow, TaskState, LEGACY_KIND};
use crate::store::Store;

const TASK: &str = "queue/task/";
const CLAIM: &str = "queue/claim/";
const SEQUENCE: &str = "queue/sequence";
/// Short store locks that make read-modify-write steps atomic across replicas.
const MUTEX_TTL_MS: i64 = 30_000;
const MUTEX_WAIT: Duration = Duration::from_secs(10);
/// Most records one scan reads; a queue holds far fewer unless never purged.
pub const SCAN_LIMIT: usize = 100_000;

fn legacy_kind() -> String {
    LEGACY_KIND.to_owned()
}

/// One task as the ledger keeps it. Records written before kinds existed have no
/// `kind`: they read as `LEGACY_KIND`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    pub id: i64,
    #[serde(default = "legacy_kind")]
    pub kind: String,
    /// The task's JSON.
    pub spec: serde_json::Value,
    pub state: TaskState,
    pub attempts: u32,
    /// Unix ms before which it will not run.
    pub not_before: i64,
    pub last_error: Option<String>,
    /// The current lease's token; a report carrying another one comes too late.
    pub lease_token: Option<String>,
    pub lease_until: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TaskRecord {
    pub fn new(id: i64, task: Task, now: i64) -> TaskRecord {
        TaskRecord {
            id,
            kind: task.kind,
            spec: task.payload,
            state: TaskState::Ready,
            attempts: 0,
            not_before: now,
            last_error: None,
            lease_token: None,
            lease_until: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// Ready, or leased: an identical task enqueued now would be a duplicate.
    pub fn pending(&self) -> bool {
        matches!(self.state, TaskState::Ready | TaskState::Leased)
    }

    /// The task this record is of.
    pub fn task(&self) -> Task {
        Task {
            kind: self.kind.clone(),
            payload: self.spec.clone(),
        }
    }

    pub fn row(&self) -> TaskRow {
        TaskRow {
            id: self.id,
            spec: self.task(),
            state: self.state,
            attempts: self.attempts,
            not_before: self.not_before,
            last_error: self.last_error.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// The dedup key of a task: a hash of its kind and canonical JSON. (Claims written
/// before kinds hashed the spec's JSON alone; a task pending across the upgrade may
/// be queued once more, and its old claim is ignored once the task is finished.)
pub fn dedup_key(task: &Task) -> String {
    task.identity_hash()
}

#[derive(Clone)]
pub struct Ledger {
    store: Arc<dyn Store>,
}

/// The store lock under which the claim of one dedup key changes.
pub fn claim_lock(key: &str) -> String {
    format!("queue-claim/{key}")
}

fn task_key(id: i64) -> String {
    // Zero-padded so that key order is id order (oldest first).
    format!("{TASK}{id:020}")
}

impl Ledger {
    pub fn new(store: Arc<dyn Store>) -> Ledger {
        Ledger { store }
    }

    pub async fn get(&self, id: i64) -> Result<Option<TaskRecord>, QueueError> {
        let Some(value) = self.store.state(&task_key(id)).await? else {
            return Ok(None);
        };
        serde_json::from_value(value)
            .map(Some)
            .map_err(|e| QueueError::BadSpec {
                id,
                message: e.to_string(),
            })
    }

    pub async fn put(&self, record: &TaskRecord) -> Result<(), QueueError> {
        let value = serde_json::to_value(record).expect("task records serialize");
        Ok(self.store.put_state(&task_key(record.id), value).await?)
    }

    pub async fn delete(&self, id: i64) -> Result<bool, QueueError> {
        Ok(self.store.delete_state(&task_key(id)).await?)
    }

    /// Every record, oldest first. A record that no longer parses is reported, not skipped.
    pub async fn all(&self) -> Result<Vec<TaskRecord>, QueueError> {
        let docs = self.store.states(TASK, SCAN_LIMIT).await?;
        docs.into_iter()
            .map(|(key, value)| {
                serde_json::from_value(value).map_err(|e| QueueError::BadSpec {
                    id: key[TASK.len()..].parse().unwrap_or(-1),
                    message: e.to_string(),
                })
            })
            .collect()
    }

    /// The task that holds the dedup claim for `key`, if any.
    pub async fn claim(&self, key: &str) -> Result<Option<i64>, QueueError> {
        let value = self.store.state(&format!("{CLAIM}{key}")).await?;
        Ok(value.and_then(|v| v["id"].as_i64()))
    }

    pub async fn set_claim(&self, key: &str, id: i64) -> Result<(), QueueError> {
        let value = serde_json::json!({ "id": id });
        Ok(self
            .store
            .put_state(&format!("{CLAIM}{key}"), value)
            .await?)
    }

    /// Drops the claim if `id` still holds it, so an identical task can be queued again.
    pub async fn release_claim(&self, key: &str, id: i64) -> Result<(), QueueError> {
        self.exclusive(&claim_lock(key), || async {
            if self.claim(key).await? == Some(id) {
                self.store.delete_state(&format!("{CLAIM}{key}")).await?;
            }
            Ok(())
        })
        .await
    }

    /// Runs `f` while holding the store lock `name`: one replica at a time.
    pub async fn exclusive<T, F, Fut>(&self, name: &str, f: F) -> Result<T, QueueError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, QueueError>>,
    {
        let holder = format!("{:016x}", rand::random::<u64>());
        let started = std::time::Instant::now();
        let mut pause = Duration::from_millis(5);
        while !self.store.try_lock(name, &holder, MUTEX_TTL_MS).await? {
            if started.elapsed() > MUTEX_WAIT {
                return Err(QueueError::Contended(name.to_owned()));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(200));
        }
        let out = f().await;
        // A zero lifetime frees the lock at once; if this fails it expires by itself.
        if let Err(e) = self.store.try_lock(name, &holder, 0).await {
            tracing::warn!(lock = name, error = %crate::telemetry::chain(&e), "cannot release a queue lock; it expires by itself");
        }
        out
    }

    /// The next task id: a counter in the store, so ids stay small and ordered.
    pub async fn next_id(&self) -> Result<i64, QueueError> {
        self.exclusive("queue-sequence", || async {
            let last = self
                .store
                .state(SEQUENCE)
                .await?
                .and_then(|v| v["last"].as_i64())
                .unwrap_or(0);
            let next = last + 1;
            self.store
                .put_state(SEQUENCE, serde_json::json!({ "last": next }))
                .await?;
            Ok(next)
        })
        .await
    }
}
