//! The reconciler: compares an org's counts on GitHub with Reckon's, scans webhook
//! deliveries for ones that never arrived, plans the narrowest sync tasks, and writes
//! the drift report. Runs on a schedule in `reckon serve` or as `reckon reconcile`.

mod checks;
mod config;
mod deliveries;
mod plan;
pub mod report;
pub mod schedule;

use std::sync::Arc;

use self::checks::{compare, Upstream};
pub use self::config::ReconcileConfig;
use self::report::{
    cursor_key, report_key, ApiCost, Cursor, DeliveryScan, DriftReport, PlannedTask,
};
use crate::launcher::Job;
use crate::queue::{Queue, QueueError};
use crate::settings::Config;
use crate::sources::github::sync::SyncContext;
use crate::sources::github::upstream::{GithubError, Usage};
use crate::store::StoreError;
use crate::telemetry::chain as error_chain;
use crate::worker::Worker;

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error(transparent)]
    Github(#[from] GithubError),
    #[error("cannot read or write the store")]
    Store(#[from] StoreError),
    #[error("cannot reach the sync queue")]
    Queue(#[from] QueueError),
}

/// How one run behaves.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Compare and report only: no tasks, no redeliveries, nothing saved.
    pub dry_run: bool,
    /// Run the planned tasks here until they finish, then check again.
    pub drain: bool,
}

pub struct Reconciler {
    ctx: SyncContext,
    queue: Arc<dyn Queue>,
    config: Arc<Config>,
    worker: Option<Worker>,
}

impl Reconciler {
    /// `worker` drains tasks when a run asks to; without one, tasks wait for a worker.
    pub fn new(
        ctx: SyncContext,
        queue: Arc<dyn Queue>,
        config: Arc<Config>,
        worker: Option<Worker>,
    ) -> Reconciler {
        Reconciler {
            ctx,
            queue,
            config,
            worker,
        }
    }

    async fn upstream(&self, org: &str) -> Result<Upstream, GithubError> {
        Ok(Upstream {
            counts: self.ctx.github.org_counts(org).await?,
            repos: self.ctx.github.repo_pr_counts(org).await?,
        })
    }

    /// Runs one reconcile of `org` and returns its report. A failure is recorded in
    /// the saved report as well as returned.
    pub async fn run(&self, org: &str, options: RunOptions) -> Result<DriftReport, ReconcileError> {
        let span = tracing::info_span!("reconcile", org, dry_run = options.dry_run);
        use tracing::Instrument;
        let started = chrono::Utc::now();
        let result = self.run_inner(org, options, started).instrument(span).await;
        match result {
            Ok(report) => Ok(report),
            Err(e) => {
                tracing::error!(org, error = %error_chain(&e), "reconcile failed");
                if !options.dry_run {
                    self.record_failure(org, started, &e).await;
                }
                Err(e)
            }
        }
    }

    /// Marks the saved report failed, keeping the last good checks visible.
    async fn record_failure(
        &self,
        org: &str,
        started: chrono::DateTime<chrono::Utc>,
        error: &ReconcileError,
    ) {
        let store = self.ctx.store.as_ref();
        let mut report = match last_report(store, org).await {
            Ok(Some(report)) => report,
            _ => DriftReport {
                org: org.to_lowercase(),
                started_at: started.to_rfc3339(),
                ..DriftReport::default()
            },
        };
        report.status = "failed".into();
        report.error = Some(error_chain(error));
        report.finished_at = chrono::Utc::now().to_rfc3339();
        let value = serde_json::to_value(&report).expect("reports serialize");
        if let Err(e) = store.put_state(&report_key(org), value).await {
            tracing::warn!(org, error = %error_chain(&e), "cannot save the failed reconcile's report");
        }
    }

    async fn run_inner(
        &self,
        org: &str,
        options: RunOptions,
        started: chrono::DateTime<chrono::Utc>,
    ) -> Result<DriftReport, ReconcileError> {
        let key = org.to_lowercase();
        let store = &self.ctx.store;
        let github = &self.ctx.github;
        let usage0 = github.usage();
        let mut cursor: Cursor = match store.state(&cursor_key(org)).await? {
            Some(v) => serde_json::from_value(v).unwrap_or_default(),
            None => Cursor::default(),
        };

        let upstream = self.upstream(org).await?;
        let snapshot = store.org_snapshot(&key).await?;
        let (mut checks, drift) = compare(&key, &upstream, &snapshot);
        let usage1 = github.usage();
        tracing::info!(
            drifting = checks.iter().filter(|c| c.drift != 0).count(),
            requests = usage1.requests - usage0.requests,
            "compared counts"
        );

        let mut repos: Vec<String> = upstream.repos.iter().map(|r| r.name.clone()).collect();
        repos.sort();
        let settings = &self.config.github.api;
        let default_url = self
            .config
            .public_url
            .as_ref()
            .map(|u| format!("{}/hooks/github", u.trim_end_matches('/')));
        let webhook_url = settings.webhook_url.clone().or(default_url);
        let scanned = deliveries::scan(
            github,
            store.as_ref(),
            org,
            &repos,
            &mut cursor,
            &deliveries::ScanOptions {
                webhook_url: webhook_url.as_deref(),
                max_redeliveries: settings.max_redeliveries,
                lookback_hours: settings.deliveries_lookback_hours,
                repo_hooks_per_run: settings.repo_hooks_per_run as usize,
                dry_run: options.dry_run,
            },
        )
        .await;
        // A token without hook admin rights still reconciles counts; the scan says why
        // it was skipped.
        let (deliveries, delivery_checks) = match scanned {
            Ok(found) => found,
            Err(e) if !e.retryable() => {
                tracing::warn!(org, error = %error_chain(&e), "cannot scan webhook deliveries; counts are still reconciled");
                let scan = DeliveryScan {
                    error: Some(error_chain(&e)),
                    ..DeliveryScan::default()
                };
                (scan, Vec::new())
            }
            Err(e) => return Err(e.into()),
        };

        let planned = plan::plan(org, &drift, &cursor);
        let mut tasks = Vec::new();
        let mut ids = Vec::new();
        if !options.dry_run {
            for spec in &planned {
                let task = spec.to_task().map_err(QueueError::from)?;
                let queued = self.queue.enqueue(&task).await?;
                ids.push(queued.id);
                tasks.push(PlannedTask {
                    task: serde_json::to_value(spec).expect("task specs serialize"),
                    added: queued.added,
                });
                tracing::info!(task = spec.kind(), scope = %spec.scope(), added = queued.added, "planned sync task");
            }
        } else {
            tasks = planned
                .iter()
                .map(|spec| PlannedTask {
                    task: serde_json::to_value(spec).expect("task specs serialize"),
                    added: false,
                })
                .collect();
        }

        let mut found = Vec::new();
        let mut cost = cost_between(&usage0, &usage1);
        if options.drain && !ids.is_empty() {
            if let Some(worker) = &self.worker {
                worker.drain(&ids).await?;
                let before = github.usage();
                let upstream = self.upstream(org).await?;
                let snapshot = store.org_snapshot(&key).await?;
                found = std::mem::replace(&mut checks, compare(&key, &upstream, &snapshot).0);
                let again = cost_between(&before, &github.usage());
                cost.requests += again.requests;
                cost.graphql += again.graphql;
                cost.not_modified += again.not_modified;
                cost.rate_limited += again.rate_limited;
            }
        }

        // Repos whose counts match now are clean as of this run; the others are not.
        let drifting: std::collections::BTreeSet<&str> = checks
            .iter()
            .filter(|c| c.drift != 0)
            .filter_map(|c| c.scope.strip_prefix("repo/"))
            .collect();
        for repo in &upstream.repos {
            if drifting.contains(repo.name.as_str()) {
                if !found.is_empty() {
                    // Still off after an incremental sync: list everything next time.
                    cursor.repo_clean.remove(&repo.id);
                }
            } else {
                cursor
                    .repo_clean
                    .insert(repo.id, started.timestamp_millis());
            }
        }
        checks.extend(delivery_checks);
        let finished = chrono::Utc::now();
        let report = DriftReport {
            org: key.clone(),
            started_at: started.to_rfc3339(),
            finished_at: finished.to_rfc3339(),
            status: "ok".into(),
            error: None,
            dry_run: options.dry_run,
            checks,
            found,
            tasks,
            deliveries,
            api: cost,
            duration_ms: (finished - started).num_milliseconds().max(0) as u64,
        };
        if !options.dry_run {
            store
                .put_state(
                    &cursor_key(org),
                    serde_json::to_value(&cursor).expect("cursors serialize"),
                )
                .await?;
            store
                .put_state(
                    &report_key(org),
                    serde_json::to_value(&report).expect("reports serialize"),
                )
                .await?;
        }
        tracing::info!(
            drifting = report.drifting().count(),
            tasks = report.tasks.len(),
            redelivered = report.deliveries.redelivered,
            requests = report.api.requests,
            delivery_requests = report.deliveries.requests,
            "reconcile finished"
        );
        Ok(report)
    }
}

fn cost_between(a: &Usage, b: &Usage) -> ApiCost {
    ApiCost {
        requests: b.requests - a.requests,
        graphql: b.graphql - a.graphql,
        not_modified: b.not_modified - a.not_modified,
        rate_limited: b.rate_limited - a.rate_limited,
    }
}

/// The saved report of an org, if a reconcile has run.
pub async fn last_report(
    store: &dyn crate::store::Coordination,
    org: &str,
) -> Result<Option<DriftReport>, StoreError> {
    Ok(store
        .state(&report_key(org))
        .await?
        .and_then(|v| serde_json::from_value(v).ok()))
}
