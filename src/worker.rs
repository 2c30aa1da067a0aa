//! The worker: leases tasks from the queue, finds each one's job by its kind, launches
//! it, and reports back: done, retry later, or dead (an unknown kind is dead at once).
//! Runs inside `reckon serve`, as `reckon worker`, and drains a reconcile's tasks in
//! `reckon reconcile`.

mod config;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tracing::Instrument;

pub use self::config::{LauncherKind, WorkerConfig};
use crate::launcher::{Attempt, Described, JobLauncher, JobOutcome, Jobs};
use crate::queue::{Failed, Leased, Queue, QueueError, TaskState};

/// What the worker did last, for the API and logs.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct WorkerStatus {
    pub done: u64,
    pub retried: u64,
    pub dead: u64,
    pub last_task: Option<String>,
    pub last_outcome: Option<String>,
    pub last_finished_at: Option<String>,
}

#[derive(Clone)]
pub struct Worker {
    queue: Arc<dyn Queue>,
    launcher: Arc<dyn JobLauncher>,
    visibility: Duration,
    name: String,
    status: Arc<Mutex<WorkerStatus>>,
    metrics: Option<Arc<crate::telemetry::metrics::Metrics>>,
    /// The task kinds: how a task is named and checked, and how the ones that run in
    /// the worker itself (a scheduled `reconcile`) run.
    jobs: Jobs,
}

impl Worker {
    pub fn new(
        queue: Arc<dyn Queue>,
        launcher: Arc<dyn JobLauncher>,
        visibility: Duration,
    ) -> Worker {
        Worker {
            queue,
            launcher,
            visibility,
            name: format!("{}-{:08x}", std::process::id(), rand::random::<u32>()),
            status: Arc::new(Mutex::new(WorkerStatus::default())),
            metrics: None,
            jobs: crate::sources::task_kinds(),
        }
    }

    /// Runs the task kinds of `jobs` that run in the worker (see `Job::in_worker`)
    /// with their contexts; by default they are only known.
    pub fn with_jobs(mut self, jobs: Jobs) -> Worker {
        self.jobs = jobs;
        self
    }

    /// Runs one task: one that runs in the worker here, anything else through the
    /// launcher, extending the lease while it runs. A task of an unknown kind, or whose
    /// JSON is not a task of its kind, fails permanently without running.
    async fn execute(&self, lease: &Leased, described: &Result<Described, String>) -> JobOutcome {
        let in_worker = match described {
            Ok(d) => d.in_worker,
            Err(error) => return JobOutcome::Permanent(error.clone()),
        };
        let run = async {
            if in_worker {
                return self.jobs.run(&lease.spec).await;
            }
            let attempt = Attempt {
                task: lease.id,
                number: lease.attempt,
            };
            self.launcher.launch(&lease.spec, attempt).await
        };
        tokio::pin!(run);
        let every = (self.visibility / 2).max(Duration::from_secs(1));
        let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        loop {
            tokio::select! {
                outcome = &mut run => return outcome,
                _ = heartbeat.tick() => match self.queue.extend(lease, self.visibility).await {
                    Ok(true) => tracing::debug!(id = lease.id, "lease extended"),
                    Ok(false) => tracing::warn!(id = lease.id, "lease lost while the task runs; another worker may run it too"),
                    Err(e) => tracing::warn!(id = lease.id, error = %crate::telemetry::chain(&e), "cannot extend the lease"),
                },
            }
        }
    }

    /// Counts task outcomes in `reckon_sync_tasks_total`.
    pub fn with_metrics(mut self, metrics: Arc<crate::telemetry::metrics::Metrics>) -> Worker {
        self.metrics = Some(metrics);
        self
    }

    pub fn status(&self) -> WorkerStatus {
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Leases and runs one due task; `false` when none was due.
    pub async fn run_one(&self) -> Result<bool, QueueError> {
        let Some(lease) = self.queue.lease(&self.name, self.visibility).await? else {
            return Ok(false);
        };
        self.finish(&lease).await?;
        Ok(true)
    }

    async fn finish(&self, lease: &Leased) -> Result<(), QueueError> {
        let described = self.jobs.describe(&lease.spec);
        let (name, scope) = match &described {
            Ok(d) => (d.name.clone(), d.scope.clone()),
            Err(_) => (lease.spec.kind.clone(), String::new()),
        };
        let span = tracing::info_span!("task", id = lease.id, kind = %lease.spec.kind, task = %name, scope = %scope, attempt = lease.attempt);
        let outcome = self.execute(lease, &described).instrument(span).await;
        let label = match &outcome {
            JobOutcome::Done(_) => {
                if !self.queue.complete(lease).await? {
                    tracing::warn!(
                        id = lease.id,
                        "task finished after its lease expired; another worker has it"
                    );
                }
                self.bump(|s| s.done += 1);
                "done".to_owned()
            }
            JobOutcome::Retryable { error, retry_at } => {
                match self.queue.fail(lease, error, true, *retry_at).await? {
                    Failed::RetryAt(at) => {
                        tracing::warn!(id = lease.id, %error, retry_at = at, "task failed; will retry");
                        self.bump(|s| s.retried += 1);
                        format!("retry: {error}")
                    }
                    Failed::Dead => {
                        tracing::error!(id = lease.id, %error, "task failed on its last attempt; dead-lettered");
                        self.bump(|s| s.dead += 1);
                        format!("dead: {error}")
                    }
                    Failed::LeaseLost => "lease lost".into(),
                }
            }
            JobOutcome::Permanent(error) => {
                self.queue.fail(lease, error, false, None).await?;
                tracing::error!(id = lease.id, %error, "task failed permanently; dead-lettered");
                self.bump(|s| s.dead += 1);
                format!("dead: {error}")
            }
        };
        if let Some(metrics) = &self.metrics {
            let outcome = label.split(':').next().unwrap_or("done");
            metrics.sync_task(&name, outcome);
        }
        let mut status = self.status.lock().unwrap_or_else(|p| p.into_inner());
        status.last_task = Some(format!("{name} {scope}"));
        status.last_outcome = Some(label);
        status.last_finished_at = Some(chrono::Utc::now().to_rfc3339());
        Ok(())
    }

    fn bump(&self, f: impl FnOnce(&mut WorkerStatus)) {
        f(&mut self.status.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// Runs due tasks until `shutdown` resolves, `concurrency` at a time.
    pub async fn run(
        self,
        concurrency: usize,
        poll: Duration,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut loops = tokio::task::JoinSet::new();
        for _ in 0..concurrency {
            let (worker, mut shutdown) = (self.clone(), shutdown.clone());
            loops.spawn(async move {
                loop {
                    if *shutdown.borrow() {
                        return;
                    }
                    let ran = match worker.run_one().await {
                        Ok(ran) => ran,
                        Err(e) => {
                            tracing::error!(error = %crate::telemetry::chain(&e), "worker cannot reach the queue");
                            false
                        }
                    };
                    if !ran {
                        tokio::select! {
                            _ = tokio::time::sleep(poll) => {}
                            _ = shutdown.changed() => {}
                        }
                    }
                }
            });
        }
        while loops.join_next().await.is_some() {}
    }

    /// Runs tasks until every one of `ids` is done or dead, waiting out backoffs.
    pub async fn drain(&self, ids: &[i64]) -> Result<(), QueueError> {
        loop {
            if self.run_one().await? {
                continue;
            }
            let mut next_due: Option<i64> = None;
            let mut open = false;
            for id in ids {
                if let Some(task) = self.queue.get(*id).await? {
                    if matches!(task.state, TaskState::Ready | TaskState::Leased) {
                        open = true;
                        next_due =
                            Some(next_due.map_or(task.not_before, |d: i64| d.min(task.not_before)));
                    }
                }
            }
            if !open {
                return Ok(());
            }
            let wait = next_due
                .map(|at| at - chrono::Utc::now().timestamp_millis())
                .unwrap_or(100)
                .clamp(20, 5_000);
            tracing::info!(wait_ms = wait, "waiting for sync tasks to become due");
            tokio::time::sleep(Duration::from_millis(wait as u64)).await;
        }
    }
}
