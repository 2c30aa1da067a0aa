//! The job-launcher boundary: how one queued task gets run. In-process runs it as a
//! tokio task through the `Jobs` registry; `process` runs the `reckon-job` binary once
//! per task; `ecs` starts the jobs image with ECS RunTask. The last two read the
//! outcome from the exit code. None of them knows a source: tasks are `(kind, json)`.

pub mod ecs;
mod job;
mod process;

use std::sync::Arc;

use async_trait::async_trait;

pub use self::ecs::EcsLauncher;
pub use self::job::{Described, Job, Jobs};
pub use self::process::{ProcessLauncher, EXIT_DONE, EXIT_PERMANENT, EXIT_RETRYABLE};
use crate::queue::Task;

/// How a launched task ended.
#[derive(Debug, Clone, PartialEq)]
pub enum JobOutcome {
    /// Done; the job's report as JSON (`null` when it gave none).
    Done(serde_json::Value),
    /// Worth running again; `retry_at` (Unix ms) when the cause says when.
    Retryable {
        error: String,
        retry_at: Option<i64>,
    },
    Permanent(String),
}

impl JobOutcome {
    /// What an exit code of the jobs binary means: 0 done, 75 retryable, 65 permanent,
    /// anything else a crash (retryable). `error` is the job's own word, when it gave one.
    pub fn from_exit_code(code: i32, error: Option<String>, retry_at: Option<i64>) -> JobOutcome {
        match code {
            EXIT_DONE => JobOutcome::Done(serde_json::Value::Null),
            EXIT_PERMANENT => {
                JobOutcome::Permanent(error.unwrap_or_else(|| "the job failed permanently".into()))
            }
            EXIT_RETRYABLE => JobOutcome::Retryable {
                error: error.unwrap_or_else(|| "the job failed".into()),
                retry_at,
            },
            code => JobOutcome::Retryable {
                error: format!("the job crashed with exit code {code}"),
                retry_at: None,
            },
        }
    }
}

/// Which attempt of which queued task a launch is. ECS takes it as RunTask's
/// idempotency token, so a dispatch that is retried does not start a second task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    pub task: i64,
    pub number: u32,
}

#[async_trait]
pub trait JobLauncher: Send + Sync + 'static {
    /// Runs one task to its end. Never panics: a crashed job is a retryable outcome.
    async fn launch(&self, task: &Task, attempt: Attempt) -> JobOutcome;
}

/// Runs tasks in this process, each by its kind's registered job.
pub struct InProcessLauncher {
    jobs: Jobs,
}

impl InProcessLauncher {
    pub fn new(jobs: Jobs) -> Arc<InProcessLauncher> {
        Arc::new(InProcessLauncher { jobs })
    }
}

#[async_trait]
impl JobLauncher for InProcessLauncher {
    async fn launch(&self, task: &Task, _attempt: Attempt) -> JobOutcome {
        let (jobs, task) = (self.jobs.clone(), task.clone());
        // A panicking task must not take the worker down with it.
        match tokio::spawn(async move { jobs.run(&task).await }).await {
            Ok(outcome) => outcome,
            Err(e) => JobOutcome::Retryable {
                error: format!("the task crashed: {e}"),
                retry_at: None,
            },
        }
    }
}
