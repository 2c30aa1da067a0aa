//! The job-launcher boundary: how one sync task gets run. In-process runs it as a
//! tokio task; `process` runs the `reckon-job` binary once per task, as ECS RunTask
//! would run the jobs image, and reads the outcome from its exit code.

mod process;

use std::sync::Arc;

use async_trait::async_trait;

pub use self::process::{ProcessLauncher, EXIT_DONE, EXIT_PERMANENT, EXIT_RETRYABLE};
use crate::sync::{self, SyncContext, SyncError, TaskReport, TaskSpec};

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
                        SyncError::Github(crate::upstream::github::GithubError::RateLimited {
                            until,
                        }) => Some(until.timestamp_millis()),
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

#[async_trait]
pub trait JobLauncher: Send + Sync + 'static {
    /// Runs one task to its end. Never panics: a crashed job is a retryable outcome.
    async fn launch(&self, spec: &TaskSpec) -> JobOutcome;
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
    async fn launch(&self, spec: &TaskSpec) -> JobOutcome {
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
