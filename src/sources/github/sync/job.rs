//! GitHub sync tasks as a queue job: `TaskSpec` is registered under the kind
//! `github-sync`, the kind every task had before the queue stored kinds, so old queue
//! rows and messages keep running. `reconcile` tasks run in the worker itself.

use std::sync::{Arc, OnceLock, Weak};

use async_trait::async_trait;

use super::{SyncContext, SyncError, TaskReport, TaskSpec};
use crate::launcher::{Job, JobOutcome};
use crate::sources::github::reconcile::{ReconcileError, Reconciler, RunOptions};
use crate::sources::github::upstream::GithubError;

/// What running sync tasks needs: the store and GitHub, and for `reconcile` tasks the
/// reconciler, set once it is built (it holds the worker that runs these tasks).
#[derive(Clone)]
pub struct SyncJobs {
    pub ctx: SyncContext,
    reconciler: Arc<OnceLock<Weak<Reconciler>>>,
}

impl SyncJobs {
    pub fn new(ctx: SyncContext) -> SyncJobs {
        SyncJobs {
            ctx,
            reconciler: Arc::new(OnceLock::new()),
        }
    }

    /// Lets `reconcile` tasks run with `reconciler` (weakly held: it holds the worker).
    pub fn set_reconciler(&self, reconciler: &Arc<Reconciler>) {
        let _ = self.reconciler.set(Arc::downgrade(reconciler));
    }

    async fn reconcile(&self, org: &str, scheduled_at: Option<&str>) -> JobOutcome {
        let Some(reconciler) = self.reconciler.get().and_then(Weak::upgrade) else {
            return JobOutcome::Retryable {
                error: "this worker cannot reconcile: no GitHub credentials here".into(),
                retry_at: None,
            };
        };
        tracing::info!(org, scheduled_at, "scheduled reconcile");
        // Boxed: a reconcile may drain its tasks through this worker again.
        match Box::pin(reconciler.run(org, RunOptions::default())).await {
            Ok(_) => JobOutcome::Done(serde_json::Value::Null),
            Err(ReconcileError::Github(e)) if !e.retryable() => {
                JobOutcome::Permanent(crate::telemetry::chain(&e))
            }
            Err(e) => JobOutcome::Retryable {
                error: crate::telemetry::chain(&e),
                retry_at: None,
            },
        }
    }
}

/// How a sync task's result ends its queued task.
pub fn outcome(result: Result<TaskReport, SyncError>) -> JobOutcome {
    match result {
        Ok(report) => JobOutcome::Done(serde_json::to_value(report).unwrap_or_default()),
        Err(e) => {
            let error = crate::telemetry::chain(&e);
            if e.retryable() {
                let retry_at = match &e {
                    SyncError::Github(GithubError::RateLimited { until }) => {
                        Some(until.timestamp_millis())
                    }
                    _ => None,
                };
                JobOutcome::Retryable { error, retry_at }
            } else {
                JobOutcome::Permanent(error)
            }
        }
    }
}

#[async_trait]
impl Job for TaskSpec {
    const KIND: &'static str = "github-sync";
    type Context = SyncJobs;

    fn name(&self) -> String {
        self.kind().to_owned()
    }

    fn scope(&self) -> String {
        TaskSpec::scope(self)
    }

    fn validate(&self) -> Result<(), String> {
        TaskSpec::validate(self).map_err(|e| match e {
            SyncError::InvalidSpec(why) => why,
            other => other.to_string(),
        })
    }

    /// A reconcile plans into the queue, so the worker runs it, not a job.
    fn in_worker(&self) -> bool {
        matches!(self, TaskSpec::Reconcile { .. })
    }

    async fn run(&self, jobs: &SyncJobs) -> JobOutcome {
        if let TaskSpec::Reconcile { org, scheduled_at } = self {
            return jobs.reconcile(org, scheduled_at.as_deref()).await;
        }
        outcome(super::run(&jobs.ctx, self, super::log_progress()).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_tasks_are_the_kind_old_tasks_read_as() {
        assert_eq!(<TaskSpec as Job>::KIND, crate::queue::LEGACY_KIND);
        let task = TaskSpec::Teams { org: "acme".into() }.to_task().unwrap();
        // The payload is the spec's JSON as it always was, so old rows are payloads.
        assert_eq!(
            task.payload,
            serde_json::json!({"task": "teams", "org": "acme"})
        );
    }
}
