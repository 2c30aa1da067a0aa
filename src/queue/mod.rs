//! The task queue boundary: at-least-once delivery with leases that expire, retries
//! with exponential backoff, dead letters, and deduplication of identical pending
//! tasks. It stores `(kind, json)` tasks (`Task`) and knows no source; SQLite is the
//! embedded default; `tests/it/queue_conformance.rs` is the contract every
//! implementation passes.

mod config;
pub mod sqlite;
pub mod sqs;
mod task;

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use self::config::{QueueBackend, QueueConfig};
pub use self::task::{EncodeError, Task, LEGACY_KIND};

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("queue database error")]
    Sqlite(#[from] rusqlite::Error),
    #[error("queue i/o error at {path}")]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the queue task failed")]
    Task(#[from] tokio::task::JoinError),
    #[error("queued task {id} has an unreadable spec: {message}")]
    BadSpec { id: i64, message: String },
    #[error(transparent)]
    Encode(#[from] EncodeError),
    #[error("cannot read or write task records")]
    Store(#[from] crate::store::StoreError),
    #[error("the queue service failed: {0}")]
    Service(String),
    #[error("the queue lock `{0}` stayed taken; another replica may be stuck")]
    Contended(String),
}

/// How retries are spaced and when a task gives up.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub backoff: Duration,
}

impl RetryPolicy {
    /// Delay before attempt `attempts + 1`: `backoff × 2^(attempts-1)`, at most an hour.
    pub fn delay(&self, attempts: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(16));
        self.backoff
            .saturating_mul(factor)
            .min(Duration::from_secs(3600))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskState {
    /// Waiting to run (now or after `not_before`).
    Ready,
    /// Held by a worker until its lease expires.
    Leased,
    Done,
    /// Gave up: out of attempts or failed permanently.
    Dead,
}

impl TaskState {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Ready => "ready",
            TaskState::Leased => "leased",
            TaskState::Done => "done",
            TaskState::Dead => "dead",
        }
    }

    fn parse(s: &str) -> TaskState {
        match s {
            "leased" => TaskState::Leased,
            "done" => TaskState::Done,
            "dead" => TaskState::Dead,
            _ => TaskState::Ready,
        }
    }
}

/// A task as `reckon queue list` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskRow {
    pub id: i64,
    /// The task: its kind and JSON.
    pub spec: Task,
    pub state: TaskState,
    pub attempts: u32,
    /// Unix ms before which it will not run.
    pub not_before: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A task handed to one worker until `lease_until`.
#[derive(Debug, Clone, PartialEq)]
pub struct Leased {
    pub id: i64,
    /// The task: its kind and JSON; the worker finds the job by the kind.
    pub spec: Task,
    /// 1 on the first run.
    pub attempt: u32,
    /// Proves this worker still holds the lease when it reports back.
    pub token: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enqueued {
    pub id: i64,
    /// `false` when an identical task was already pending.
    pub added: bool,
}

/// What became of a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failed {
    RetryAt(i64),
    Dead,
    /// The lease had expired and the task is another worker's now.
    LeaseLost,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct QueueCounts {
    pub ready: u64,
    pub leased: u64,
    pub done: u64,
    pub dead: u64,
}

impl QueueCounts {
    pub fn pending(&self) -> u64 {
        self.ready + self.leased
    }

    /// Counts `n` more tasks in `state`.
    pub fn add(&mut self, state: TaskState, n: u64) {
        match state {
            TaskState::Ready => self.ready += n,
            TaskState::Leased => self.leased += n,
            TaskState::Done => self.done += n,
            TaskState::Dead => self.dead += n,
        }
    }
}

#[async_trait]
pub trait Queue: Send + Sync + 'static {
    /// Adds a task, unless an identical one (same kind, same canonical JSON) is ready
    /// or leased.
    async fn enqueue(&self, spec: &Task) -> Result<Enqueued, QueueError>;
    /// Leases the next due task for `visibility`. A task whose lease expired is due
    /// again (the worker died); one that has expired `max_attempts` times goes dead.
    async fn lease(&self, worker: &str, visibility: Duration)
        -> Result<Option<Leased>, QueueError>;
    /// Extends a running task's lease to `visibility` from now; `false` if the lease
    /// was lost meanwhile. The worker calls it while a long task runs.
    async fn extend(&self, lease: &Leased, visibility: Duration) -> Result<bool, QueueError>;
    /// Marks a leased task done; `false` if the lease was lost meanwhile.
    async fn complete(&self, lease: &Leased) -> Result<bool, QueueError>;
    /// Records a failed attempt. Retryable failures run again after the backoff (or
    /// at `retry_at` when later, e.g. a rate-limit reset) while attempts remain.
    async fn fail(
        &self,
        lease: &Leased,
        error: &str,
        retryable: bool,
        retry_at: Option<i64>,
    ) -> Result<Failed, QueueError>;
    /// Tasks in `state` (all when `None`), oldest first, at most `limit`.
    async fn list(
        &self,
        state: Option<TaskState>,
        limit: usize,
    ) -> Result<Vec<TaskRow>, QueueError>;
    /// One task by id.
    async fn get(&self, id: i64) -> Result<Option<TaskRow>, QueueError>;
    /// Makes a dead task ready again with fresh attempts; `false` if it is not dead.
    async fn retry(&self, id: i64) -> Result<bool, QueueError>;
    /// Deletes tasks in `state`; returns how many.
    async fn purge(&self, state: TaskState) -> Result<u64, QueueError>;
    async fn counts(&self) -> Result<QueueCounts, QueueError>;
}
