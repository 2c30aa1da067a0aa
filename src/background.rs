//! The background roles `reckon serve` runs beside HTTP: the sync worker and the
//! reconcile scheduler. Built from config, and each can be switched off; both need
//! GitHub credentials, and neither starts without them.

use std::sync::Arc;
use std::time::Duration;

use crate::launcher::{EcsLauncher, InProcessLauncher, JobLauncher, ProcessLauncher};
use crate::queue::sqlite::SqliteQueue;
use crate::queue::sqs::{Ledger, SqsQueue};
use crate::queue::QueueBackend;
use crate::queue::{Queue, QueueError, RetryPolicy};
use crate::settings::Config;
use crate::sources::github::reconcile::schedule::{ScheduleError, Scheduler};
use crate::sources::github::reconcile::Reconciler;
use crate::sources::github::sync::{SyncContext, SyncJobs};
use crate::sources::github::upstream::{GithubClient, GithubError};
use crate::store::Store;
use crate::worker::LauncherKind;
use crate::worker::Worker;

/// Opens the sync-task queue `queue.backend` names: the embedded one in the data dir,
/// or SQS with its task records in `store`.
pub async fn open_queue(
    config: &Config,
    store: Arc<dyn Store>,
) -> Result<Arc<dyn Queue>, QueueError> {
    let policy = RetryPolicy {
        max_attempts: config.queue.max_attempts,
        backoff: Duration::from_secs(config.queue.backoff_seconds),
    };
    Ok(match config.queue.backend {
        QueueBackend::Sqlite => Arc::new(SqliteQueue::open(&config.queue_path(), policy)?),
        QueueBackend::Sqs => {
            let client = aws_sdk_sqs::Client::new(&crate::aws::sdk_config(&config.aws).await);
            Arc::new(SqsQueue::new(
                client,
                &config.sqs,
                Ledger::new(store),
                policy,
            )?)
        }
    })
}

/// The launcher `worker.launcher` names; in process, it runs tasks with `jobs`.
pub async fn launcher(config: &Config, jobs: crate::launcher::Jobs) -> Arc<dyn JobLauncher> {
    match config.worker.launcher {
        LauncherKind::InProcess => InProcessLauncher::new(jobs),
        // The child reads the same config: RECKON_CONFIG and RECKON_* are inherited.
        LauncherKind::Process => {
            Arc::new(ProcessLauncher::new(config.worker.job_binary.clone(), None))
        }
        LauncherKind::Ecs => {
            let client = aws_sdk_ecs::Client::new(&crate::aws::sdk_config(&config.aws).await);
            Arc::new(EcsLauncher::new(client, config.ecs.clone()))
        }
    }
}

/// A worker running every source's task kinds (`sources::jobs`).
pub async fn worker(config: &Config, queue: Arc<dyn Queue>, jobs: crate::launcher::Jobs) -> Worker {
    Worker::new(
        queue,
        launcher(config, jobs.clone()).await,
        Duration::from_secs(config.queue.visibility_timeout_seconds),
    )
    .with_jobs(jobs)
}

/// Everything the reconcile side needs, built once.
pub struct SyncParts {
    pub ctx: SyncContext,
    pub queue: Arc<dyn Queue>,
    pub worker: Worker,
    pub reconciler: Arc<Reconciler>,
}

#[derive(Debug, thiserror::Error)]
pub enum BackgroundError {
    #[error(transparent)]
    Github(#[from] GithubError),
    #[error("cannot open the sync queue")]
    Queue(#[from] QueueError),
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
}

impl SyncParts {
    pub async fn build(
        config: &Arc<Config>,
        store: Arc<dyn Store>,
    ) -> Result<SyncParts, BackgroundError> {
        let github = GithubClient::new(&config.github.api)?;
        let queue = open_queue(config, store.clone()).await?;
        let ctx = SyncContext { store, github };
        let sync_jobs = SyncJobs::new(ctx.clone());
        let jobs = crate::sources::jobs(sync_jobs.clone());
        let worker = worker(config, queue.clone(), jobs).await;
        let reconciler = Arc::new(Reconciler::new(
            ctx.clone(),
            queue.clone(),
            config.clone(),
            Some(worker.clone()),
        ));
        sync_jobs.set_reconciler(&reconciler);
        Ok(SyncParts {
            ctx,
            queue,
            worker,
            reconciler,
        })
    }
}

/// The running background roles of `reckon serve`.
#[derive(Default)]
pub struct Background {
    stop: Option<tokio::sync::watch::Sender<bool>>,
    worker: Option<tokio::task::JoinHandle<()>>,
    scheduler: Option<Scheduler>,
    pub queue: Option<Arc<dyn Queue>>,
    pub scheduler_status:
        Option<Arc<std::sync::Mutex<crate::sources::github::reconcile::schedule::SchedulerStatus>>>,
}

impl Background {
    pub async fn start(
        config: &Arc<Config>,
        store: Arc<dyn Store>,
        metrics: Arc<crate::telemetry::metrics::Metrics>,
    ) -> Result<Background, BackgroundError> {
        let wanted = config.worker.enabled
            || (config.reconcile.enabled && !config.github.api.orgs.is_empty());
        if !wanted {
            return Ok(Background::default());
        }
        if !config.github.api.has_credentials() {
            if !config.github.api.orgs.is_empty() {
                tracing::warn!(
                    "github.orgs is set but no github.token or github.app_id: reconciling is off"
                );
            }
            return Ok(Background {
                queue: open_queue(config, store).await.ok(),
                ..Background::default()
            });
        }
        let parts = SyncParts::build(config, store).await?;
        let mut background = Background {
            queue: Some(parts.queue.clone()),
            ..Background::default()
        };
        if config.worker.enabled {
            let (tx, rx) = tokio::sync::watch::channel(false);
            let worker = parts.worker.clone().with_metrics(metrics.clone());
            let (n, poll) = (
                config.worker.concurrency,
                Duration::from_millis(config.worker.poll_interval_ms),
            );
            background.worker = Some(tokio::spawn(worker.run(n, poll, rx)));
            background.stop = Some(tx);
            tracing::info!(concurrency = n, launcher = ?config.worker.launcher, "sync worker started");
        }
        if config.reconcile.enabled
            && !config.github.api.orgs.is_empty()
            && !config.reconcile.schedule.is_empty()
        {
            let scheduler = Scheduler::start(
                &config.reconcile.schedule,
                config.github.api.orgs.clone(),
                parts.reconciler.clone(),
                parts.ctx.store.clone(),
                metrics,
            )
            .await?;
            background.scheduler_status = Some(scheduler.status_handle());
            background.scheduler = Some(scheduler);
        }
        Ok(background)
    }

    /// Stops the scheduler, lets running tasks finish, and stops the worker.
    pub async fn shutdown(self) {
        if let Some(scheduler) = self.scheduler {
            scheduler.shutdown().await;
        }
        if let Some(stop) = self.stop {
            let _ = stop.send(true);
        }
        if let Some(worker) = self.worker {
            let _ = worker.await;
        }
    }
}
