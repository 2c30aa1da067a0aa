//! The reconcile-side subcommands: `reckon reconcile`, `reckon backfill`, `reckon
//! worker` and `reckon queue`. They build the same parts `reckon serve` runs and print
//! for people (or JSON with `--json`).

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use crate::background::{open_queue, BackgroundError, SyncParts};
use crate::queue::{QueueError, TaskState};
use crate::settings::Config;
use crate::sources::github::reconcile::report::DriftReport;
use crate::sources::github::reconcile::{ReconcileError, RunOptions};
use crate::sources::github::sync::{self, SyncError, TaskSpec};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum SyncAdminError {
    #[error(transparent)]
    Background(#[from] BackgroundError),
    #[error(transparent)]
    Reconcile(#[from] ReconcileError),
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("cannot open the store")]
    Store(#[from] StoreError),
    #[error("no org to reconcile: pass --org or set github.orgs (RECKON_GITHUB_ORGS)")]
    NoOrgs,
    #[error("{0}")]
    Usage(String),
}

async fn parts(config: Config) -> Result<SyncParts, SyncAdminError> {
    let store = crate::open_store(&config).await?;
    Ok(SyncParts::build(&Arc::new(config), store).await?)
}

/// `reckon reconcile`: one run per org; on the embedded queue it then runs the tasks
/// it planned and checks again, so the report shows the repaired state.
pub async fn reconcile(
    config: Config,
    org: Option<String>,
    dry_run: bool,
    json: bool,
) -> Result<String, SyncAdminError> {
    let orgs = match org {
        Some(org) => vec![org],
        None if !config.github.api.orgs.is_empty() => config.github.api.orgs.clone(),
        None => return Err(SyncAdminError::NoOrgs),
    };
    let parts = parts(config).await?;
    let mut out = String::new();
    let mut reports = Vec::new();
    for org in &orgs {
        let report = parts
            .reconciler
            .run(
                org,
                RunOptions {
                    dry_run,
                    drain: !dry_run,
                },
            )
            .await?;
        if !json {
            out.push_str(&describe(&report));
        }
        reports.push(report);
    }
    if json {
        return Ok(serde_json::to_string_pretty(&reports).expect("reports serialize"));
    }
    Ok(out.trim_end().to_owned())
}

fn describe(report: &DriftReport) -> String {
    let mut out = format!(
        "{}: {} in {:.1} s, {} API requests ({} GraphQL, {} answered 304), deliveries scan {} requests\n",
        report.org,
        if report.dry_run { "dry run" } else { "reconciled" },
        report.duration_ms as f64 / 1000.0,
        report.api.requests,
        report.api.graphql,
        report.api.not_modified,
        report.deliveries.requests,
    );
    if !report.found.is_empty() {
        let found: Vec<_> = report.found.iter().filter(|c| c.drift != 0).collect();
        out.push_str(&format!(
            "  found {} drifting checks before the repair:\n",
            found.len()
        ));
        for c in found {
            out.push_str(&format!(
                "    {:<28} {:<28} github {:>7}  reckon {:>7}  drift {:>+6}\n",
                c.check, c.scope, c.github, c.reckon, c.drift
            ));
        }
    }
    let drifting: Vec<_> = report.drifting().collect();
    if drifting.is_empty() {
        out.push_str("  no drift\n");
    } else {
        out.push_str(&format!(
            "  {} drifting checks{}:\n",
            drifting.len(),
            if report.found.is_empty() {
                ""
            } else {
                " after the repair"
            }
        ));
        for c in drifting {
            out.push_str(&format!(
                "    {:<28} {:<28} github {:>7}  reckon {:>7}  drift {:>+6}\n",
                c.check, c.scope, c.github, c.reckon, c.drift
            ));
        }
    }
    for t in &report.tasks {
        out.push_str(&format!(
            "  task {}{}\n",
            t.task,
            if t.added { "" } else { " (already queued)" }
        ));
    }
    let d = &report.deliveries;
    out.push_str(&format!(
        "  deliveries: {} hooks, {} new since the last scan, {} failed, {} never stored, {} redelivered\n",
        d.hooks, d.scanned, d.failed, d.missing, d.redelivered
    ));
    out
}

/// `reckon backfill --org X`: loads an org's history, with a progress bar on a
/// terminal and structured progress in the logs.
pub async fn backfill(config: Config, org: String) -> Result<String, SyncAdminError> {
    let parts = parts(config).await?;
    let started = std::time::Instant::now();
    let progress: sync::Progress = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {msg:<14} [{bar:30}] {pos}/{len} ({elapsed})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        Arc::new(move |stage: &str, done: u64, total: u64| {
            bar.set_message(stage.to_owned());
            bar.set_length(total.max(done));
            bar.set_position(done);
            if stage == "repos" && done == total {
                bar.finish();
            }
        })
    } else {
        sync::log_progress()
    };
    let spec = TaskSpec::Backfill { org: org.clone() };
    let report = sync::run(&parts.ctx, &spec, progress).await?;
    let usage = parts.ctx.github.usage();
    Ok(format!(
        "backfilled {org}: {} items read, {} writes, {} marked gone, in {:.1} s with {} API requests ({} answered 304)",
        report.fetched,
        report.written,
        report.removed,
        started.elapsed().as_secs_f64(),
        usage.requests,
        usage.not_modified
    ))
}

/// `reckon worker`: runs queued sync tasks until stopped (or, with `once`, until no
/// task is due).
pub async fn worker(config: Config, once: bool) -> Result<String, SyncAdminError> {
    let (concurrency, poll) = (
        config.worker.concurrency,
        Duration::from_millis(config.worker.poll_interval_ms),
    );
    let parts = parts(config).await?;
    if once {
        let mut n = 0;
        while parts.worker.run_one().await? {
            n += 1;
        }
        let s = parts.worker.status();
        return Ok(format!(
            "ran {n} tasks: {} done, {} to retry, {} dead",
            s.done, s.retried, s.dead
        ));
    }
    let (tx, rx) = tokio::sync::watch::channel(false);
    let run = tokio::spawn(parts.worker.clone().run(concurrency, poll, rx));
    tracing::info!(
        concurrency,
        "worker running; ctrl-c or sigterm stops it after the running tasks"
    );
    crate::shutdown_signal().await;
    let _ = tx.send(true);
    let _ = run.await;
    let s = parts.worker.status();
    Ok(format!(
        "worker stopped: {} done, {} to retry, {} dead",
        s.done, s.retried, s.dead
    ))
}

pub async fn queue_list(
    config: &Config,
    state: Option<String>,
    limit: usize,
    json: bool,
) -> Result<String, SyncAdminError> {
    let queue = open_queue(config, crate::open_store(config).await?).await?;
    let state = state.map(|s| parse_state(&s)).transpose()?;
    let rows = queue.list(state, limit).await?;
    if json {
        let listed: Vec<_> = rows.iter().map(ListedTask::from).collect();
        return Ok(serde_json::to_string_pretty(&listed).expect("rows serialize"));
    }
    let kinds = crate::sources::task_kinds();
    let counts = queue.counts().await?;
    let mut out = format!(
        "{} ready, {} leased, {} done, {} dead\n",
        counts.ready, counts.leased, counts.done, counts.dead
    );
    if rows.is_empty() {
        out.push_str("no tasks");
        return Ok(out);
    }
    out.push_str(&format!(
        "{:<6} {:<7} {:<8} {:<14} {:<32} {}\n",
        "ID", "STATE", "ATTEMPTS", "TASK", "SCOPE", "LAST ERROR"
    ));
    for r in rows {
        // A task no registered kind reads is listed by its kind alone.
        let (task, scope) = match kinds.describe(&r.spec) {
            Ok(d) => (d.name, d.scope),
            Err(_) => (r.spec.kind.clone(), String::new()),
        };
        out.push_str(&format!(
            "{:<6} {:<7} {:<8} {:<14} {:<32} {}\n",
            r.id,
            r.state.as_str(),
            r.attempts,
            task,
            scope,
            r.last_error.unwrap_or_default()
        ));
    }
    Ok(out.trim_end().to_owned())
}

/// A task as `reckon queue list --json` prints it: the shape it had before the queue
/// stored kinds (`spec` is the task's JSON), with `kind` added only for tasks that are
/// not GitHub sync tasks.
#[derive(serde::Serialize)]
struct ListedTask<'a> {
    id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'a str>,
    spec: ListedSpec<'a>,
    state: TaskState,
    attempts: u32,
    not_before: i64,
    last_error: &'a Option<String>,
    created_at: i64,
    updated_at: i64,
}

/// A sync spec printed as its type prints it (fields in their order), anything else as
/// stored.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum ListedSpec<'a> {
    Sync(super::sync::TaskSpec),
    Other(&'a serde_json::Value),
}

impl<'a> From<&'a crate::queue::TaskRow> for ListedTask<'a> {
    fn from(r: &'a crate::queue::TaskRow) -> ListedTask<'a> {
        use crate::launcher::Job;
        let sync = r.spec.kind == <super::sync::TaskSpec as Job>::KIND;
        let spec = match serde_json::from_value(r.spec.payload.clone()) {
            Ok(spec) if sync => ListedSpec::Sync(spec),
            _ => ListedSpec::Other(&r.spec.payload),
        };
        ListedTask {
            id: r.id,
            kind: (!sync).then_some(r.spec.kind.as_str()),
            spec,
            state: r.state,
            attempts: r.attempts,
            not_before: r.not_before,
            last_error: &r.last_error,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

fn parse_state(s: &str) -> Result<TaskState, SyncAdminError> {
    match s {
        "ready" => Ok(TaskState::Ready),
        "leased" => Ok(TaskState::Leased),
        "done" => Ok(TaskState::Done),
        "dead" => Ok(TaskState::Dead),
        other => Err(SyncAdminError::Usage(format!(
            "unknown state `{other}`: use ready, leased, done or dead"
        ))),
    }
}

pub async fn queue_retry(
    config: &Config,
    ids: Vec<i64>,
    all_dead: bool,
) -> Result<String, SyncAdminError> {
    let queue = open_queue(config, crate::open_store(config).await?).await?;
    let ids = if all_dead {
        queue
            .list(Some(TaskState::Dead), usize::MAX >> 1)
            .await?
            .into_iter()
            .map(|r| r.id)
            .collect()
    } else if ids.is_empty() {
        return Err(SyncAdminError::Usage(
            "name task ids, or pass --dead to retry every dead task".into(),
        ));
    } else {
        ids
    };
    let mut retried = 0;
    for id in &ids {
        if queue.retry(*id).await? {
            retried += 1;
        } else {
            tracing::warn!(id, "not a dead task; left alone");
        }
    }
    Ok(format!("{retried} of {} tasks queued again", ids.len()))
}

pub async fn queue_purge(config: &Config, state: String) -> Result<String, SyncAdminError> {
    let state = parse_state(&state)?;
    if matches!(state, TaskState::Ready | TaskState::Leased) {
        return Err(SyncAdminError::Usage(
            "only done and dead tasks can be purged".into(),
        ));
    }
    let queue = open_queue(config, crate::open_store(config).await?).await?;
    let n = queue.purge(state).await?;
    Ok(format!("purged {n} {} tasks", state.as_str()))
}
