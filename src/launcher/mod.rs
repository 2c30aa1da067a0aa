//! The job-launcher boundary: how one sync task gets run. In-process runs it as a
//! tokio task; `process` runs the `reckon-job` binary once per task; `ecs` starts the
//! jobs image with ECS RunTask. The last two read the outcome from the exit code.

pub mod ecs;
mod process;

use std::sync::Arc;

use async_trait::async_trait;

pub use self::ecs::EcsLauncher;
pub use self::process::{ProcessLauncher, EXIT_DONE, EXIT_PERMANENT, EXIT_RETRYABLE};
use crate::sources::github::sync::{self, SyncContext, SyncError, TaskReport, TaskSpec};

/// How a launched task ended.
#[derive(Debug, Clone, PartialEq)]
pub enum JobOutcome {
    Done(TaskReport),
    /// Worth running again; `retry_at` (Unix ms) when the cause says when.
    Retryable {
        error: String,
        retry_at: Option<i64>,
    },
    Permanent(String),
}

impl JobOutcome {
    pub fn from_result(result: Result<TaskReport, SyncError>) -> JobOutcome {
        match result {
            Ok(report) => JobOutcome::Done(report),
            Err(e) => {
                let error = crate::telemetry::chain(&e);
                if e.retryable() {
                    let retry_at = match &e {
                        SyncError::Github(
                            crate::sources::github::upstream::GithubError::RateLimited { until },
                        ) => Some(until.timestamp_millis()),
                        _ => None,
                    };
                    JobOutcome::Retryable { error, retry_at }
                } else {
                    JobOutcome::Permanent(error)
                }
            }
        }
    }
}

impl JobOutcome {
    /// What an exit code of the jobs binary means: 0 done, 75 retryable, 65 permanent,
    /// anything else a crash (retryable). `error` is the job's own word, when it gave one.
    pub fn from_exit_code(code: i32, error: Option<String>, retry_at: Option<i64>) -> JobOutcome {
        match code {
            EXIT_DONE => JobOutcome::Done(TaskReport::default()),
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
    async fn launch(&self, spec: &TaskSpec, attempt: Attempt) -> JobOutcome;
}

/// Runs tasks in this process.
pub struct InProcessLauncher {
    ctx: SyncContext,
}

impl InProcessLauncher {
    pub fn new(ctx: SyncContext) -> Arc<InProcessLauncher> {
        Arc::new(InProcessLauncher { ctx })
    }
}

#[async_trait]
impl JobLauncher for InProcessLauncher {
    async fn launch(&self, spec: &TaskSpec, _attempt: Attempt) -> JobOutcome {
        let (ctx, spec) = (self.ctx.clone(), spec.clone());
        // A panicking task must not take the worker down with it.
        match tokio::spawn(async move { sync::run(&ctx, &spec, sync::log_progress()).await }).await
        {
            Ok(result) => JobOutcome::from_result(result),
            Err(e) => JobOutcome::Retryable {
                error: format!("the task crashed: {e}"),
                retry_at: None,
            },
        }
    }
}
