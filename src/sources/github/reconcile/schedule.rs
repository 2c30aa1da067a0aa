//! The reconcile scheduler: tokio-cron-scheduler fires on the configured schedules,
//! and each firing reconciles every configured org only if this process holds the
//! deployment-wide scheduler lock, kept in the store every replica shares, so
//! replicas never reconcile twice.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio_cron_scheduler::{Job, JobScheduler};

use super::{Reconciler, RunOptions};
use crate::store::Coordination;
use crate::telemetry::metrics::Metrics;

/// Long enough to outlast one run of every org; renewed at each firing.
const LOCK_TTL: Duration = Duration::from_secs(30 * 60);
const LOCK: &str = "reconcile-scheduler";

/// The scheduler's last firing, for `/api/v1/reconcile/status`.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct SchedulerStatus {
    pub schedules: Vec<String>,
    pub last_fired_at: Option<String>,
    /// Whether this process held the lock at the last firing.
    pub leader: bool,
    pub runs: u64,
    pub failures: u64,
}

pub struct Scheduler {
    inner: JobScheduler,
    status: Arc<Mutex<SchedulerStatus>>,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot start the reconcile scheduler: {0}")]
pub struct ScheduleError(String);

impl Scheduler {
    pub async fn start(
        schedules: &[String],
        orgs: Vec<String>,
        reconciler: Arc<Reconciler>,
        locks: Arc<dyn Coordination>,
        metrics: Arc<Metrics>,
    ) -> Result<Scheduler, ScheduleError> {
        let inner = JobScheduler::new()
            .await
            .map_err(|e| ScheduleError(e.to_string()))?;
        let status = Arc::new(Mutex::new(SchedulerStatus {
            schedules: schedules.to_vec(),
            ..SchedulerStatus::default()
        }));
        let holder = format!("{}-{:08x}", std::process::id(), rand::random::<u32>());
        let running = Arc::new(tokio::sync::Mutex::new(()));
        for schedule in schedules {
            let firing = Firing {
                reconciler: reconciler.clone(),
                locks: locks.clone(),
                orgs: orgs.clone(),
                status: status.clone(),
                holder: holder.clone(),
                metrics: metrics.clone(),
            };
            let running = running.clone();
            let job = Job::new_async(schedule.as_str(), move |_, _| {
                let (firing, running) = (firing.clone(), running.clone());
                Box::pin(async move {
                    // A firing while the previous one still runs is skipped.
                    let Ok(_guard) = running.try_lock() else {
                        tracing::info!("previous reconcile still running; skipping this firing");
                        return;
                    };
                    firing.fire().await;
                })
            })
            .map_err(|e| ScheduleError(format!("`{schedule}`: {e}")))?;
            inner
                .add(job)
                .await
                .map_err(|e| ScheduleError(e.to_string()))?;
        }
        inner
            .start()
            .await
            .map_err(|e| ScheduleError(e.to_string()))?;
        tracing::info!(?schedules, orgs = orgs.len(), "reconcile scheduler started");
        Ok(Scheduler { inner, status })
    }

    pub fn status(&self) -> SchedulerStatus {
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn status_handle(&self) -> Arc<Mutex<SchedulerStatus>> {
        self.status.clone()
    }

    pub async fn shutdown(mut self) {
        if let Err(e) = self.inner.shutdown().await {
            tracing::warn!(error = %e, "reconcile scheduler did not stop cleanly");
        }
    }
}

/// What one firing needs; cloned into each cron job.
#[derive(Clone)]
struct Firing {
    reconciler: Arc<Reconciler>,
    /// Where the scheduler lock is kept: the store every replica shares.
    locks: Arc<dyn Coordination>,
    orgs: Vec<String>,
    status: Arc<Mutex<SchedulerStatus>>,
    holder: String,
    metrics: Arc<Metrics>,
}

impl Firing {
    async fn fire(&self) {
        let Firing {
            reconciler,
            locks,
            orgs,
            status,
            holder,
            metrics,
        } = self;
        let leader = match locks
            .try_lock(LOCK, holder, LOCK_TTL.as_millis() as i64)
            .await
        {
            Ok(leader) => leader,
            Err(e) => {
                tracing::error!(error = %crate::telemetry::chain(&e), "cannot take the scheduler lock");
                false
            }
        };
        {
            let mut s = status.lock().unwrap_or_else(|p| p.into_inner());
            s.last_fired_at = Some(chrono::Utc::now().to_rfc3339());
            s.leader = leader;
        }
        if !leader {
            tracing::debug!("another process holds the scheduler lock; skipping");
            return;
        }
        for org in orgs {
            let ok = reconciler.run(org, RunOptions::default()).await.is_ok();
            metrics.reconcile_run(ok);
            let mut s = status.lock().unwrap_or_else(|p| p.into_inner());
            s.runs += 1;
            if !ok {
                s.failures += 1;
            }
        }
    }
}
