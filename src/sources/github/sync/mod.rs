//! Sync tasks: the narrow repairs the reconciler plans (one repo's PRs since a time, an
//! org's teams, one team's members, ...) and the full backfill of an org. The same code
//! runs in `reckon serve`, `reckon worker` and the `reckon-job` batch binary; `job`
//! registers them with the queue as the kind `github-sync`.

mod job;
mod journal;
mod tasks;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tracing::Instrument;

pub use self::job::{outcome, SyncJobs};
pub use self::journal::{project_stored, SOURCE};
use crate::sources::github::upstream::{GithubClient, GithubError};
use crate::store::{Store, StoreError};

/// One unit of sync work. Its JSON form is what the queue stores (as a task of kind
/// `github-sync`) and what the `reckon-job` binary takes; identical specs are
/// deduplicated while pending.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "task", rename_all = "snake_case", deny_unknown_fields)]
pub enum TaskSpec {
    /// PRs of one repo updated at or after `since` (Unix ms), or all of them.
    PullRequests {
        org: String,
        repo: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<i64>,
    },
    /// The org's repos: new ones added, gone ones confirmed and marked deleted.
    Repos { org: String },
    /// The org's teams: new ones added, gone ones marked deleted.
    Teams { org: String },
    /// One team's direct members.
    TeamMembers { org: String, team: String },
    /// The org's members.
    OrgMembers { org: String },
    /// Everything of an org: repos, teams and their members, members, every PR.
    Backfill { org: String },
    /// Compare the org with GitHub and queue the repairs: what a schedule fires. The
    /// worker runs it itself (it plans tasks into the queue); `scheduled_at` is the
    /// firing time EventBridge Scheduler puts in the message, kept for the logs.
    Reconcile {
        org: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scheduled_at: Option<String>,
    },
}

impl TaskSpec {
    pub fn org(&self) -> &str {
        match self {
            TaskSpec::PullRequests { org, .. }
            | TaskSpec::Repos { org }
            | TaskSpec::Teams { org }
            | TaskSpec::TeamMembers { org, .. }
            | TaskSpec::OrgMembers { org }
            | TaskSpec::Backfill { org }
            | TaskSpec::Reconcile { org, .. } => org,
        }
    }

    /// A short name for logs, metrics and the journal's `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            TaskSpec::PullRequests { .. } => "pull_requests",
            TaskSpec::Repos { .. } => "repos",
            TaskSpec::Teams { .. } => "teams",
            TaskSpec::TeamMembers { .. } => "team_members",
            TaskSpec::OrgMembers { .. } => "org_members",
            TaskSpec::Backfill { .. } => "backfill",
            TaskSpec::Reconcile { .. } => "reconcile",
        }
    }

    /// What the task covers, e.g. `acme/widgets` or `acme team docs`.
    pub fn scope(&self) -> String {
        match self {
            TaskSpec::PullRequests { org, repo, .. } => format!("{org}/{repo}"),
            TaskSpec::TeamMembers { org, team } => format!("{org} team {team}"),
            other => other.org().to_owned(),
        }
    }

    /// Checks a spec from outside (a queue row, the job binary's input).
    pub fn validate(&self) -> Result<(), SyncError> {
        let bad = |what: &str| Err(SyncError::InvalidSpec(what.to_owned()));
        let org = self.org();
        if org.is_empty()
            || org.len() > 39
            || !org.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return bad("`org` must be a GitHub org login");
        }
        match self {
            TaskSpec::PullRequests { repo, .. } if repo.is_empty() || repo.contains('/') => {
                bad("`repo` must be a repo name without its owner")
            }
            TaskSpec::TeamMembers { team, .. } if team.is_empty() || team.contains('/') => {
                bad("`team` must be a team slug")
            }
            _ => Ok(()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Github(#[from] GithubError),
    #[error("cannot store synced data")]
    Store(#[from] StoreError),
    #[error("invalid task spec: {0}")]
    InvalidSpec(String),
    #[error("the task was cancelled")]
    Cancelled,
}

impl SyncError {
    /// Whether running the task again later can succeed.
    pub fn retryable(&self) -> bool {
        match self {
            SyncError::Github(e) => e.retryable(),
            SyncError::Store(_) | SyncError::Cancelled => true,
            SyncError::InvalidSpec(_) => false,
        }
    }
}

/// What a finished task did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskReport {
    /// Items read from GitHub.
    pub fetched: u64,
    /// Entity writes journaled (including ones an equal or newer version already had).
    pub written: u64,
    /// Entities found gone on GitHub and marked deleted or absent.
    pub removed: u64,
}

impl TaskReport {
    fn add(&mut self, other: &TaskReport) {
        self.fetched += other.fetched;
        self.written += other.written;
        self.removed += other.removed;
    }
}

/// Told `(stage, done, total)` as a task goes; total is 0 when unknown.
pub type Progress = Arc<dyn Fn(&str, u64, u64) + Send + Sync>;

/// Everything a task needs.
#[derive(Clone)]
pub struct SyncContext {
    pub store: Arc<dyn Store>,
    pub github: Arc<GithubClient>,
}

/// Runs one task to completion.
pub async fn run(
    ctx: &SyncContext,
    spec: &TaskSpec,
    progress: Progress,
) -> Result<TaskReport, SyncError> {
    spec.validate()?;
    let span = tracing::info_span!("sync", task = spec.kind(), scope = %spec.scope());
    async {
        let started = std::time::Instant::now();
        let report = tasks::run(ctx, spec, &progress).await?;
        tracing::info!(
            fetched = report.fetched,
            written = report.written,
            removed = report.removed,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "sync task done"
        );
        Ok(report)
    }
    .instrument(span)
    .await
}

/// A progress sink that only logs, every `every` items and at the end of a stage.
pub fn log_progress() -> Progress {
    Arc::new(|stage, done, total| {
        if total == 0 || done == total || done % 500 == 0 {
            tracing::info!(stage, done, total, "sync progress");
        }
    })
}
