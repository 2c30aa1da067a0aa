//! Settings of the reconcile side: the GitHub API client, the reconcile schedule, the
//! sync-task queue and the worker that runs the tasks. Kept apart from the ingest
//! settings; validated with the rest at start.

use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

use super::{list_or_csv, non_empty_secret, ConfigError, SecretList};

/// How Reckon calls GitHub's API (`[github]` keys next to the webhook ones). Flattened
/// into `[github]`, so unknown keys are caught there rather than by serde.
#[derive(Debug, Clone, Deserialize)]
pub struct GithubApiConfig {
    /// REST base URL; GraphQL is `{api_url}/graphql`.
    pub api_url: String,
    /// Personal access tokens; requests go to the one with the most budget left.
    pub token: SecretList,
    /// A GitHub App to authenticate as, through each org's installation.
    #[serde(default)]
    pub app_id: Option<u64>,
    /// The App's private key (PEM), inline or from `app_private_key_file`.
    #[serde(default, deserialize_with = "non_empty_secret")]
    pub app_private_key: Option<SecretString>,
    #[serde(default)]
    pub app_private_key_file: Option<PathBuf>,
    /// Orgs to reconcile (lower-cased on use).
    #[serde(deserialize_with = "list_or_csv")]
    pub orgs: Vec<String>,
    pub request_timeout_seconds: u64,
    /// Requests left in a rate-limit window that Reckon keeps for others.
    pub min_remaining: u64,
    /// Longest a task waits for a rate limit to reset before it is retried later.
    pub max_wait_seconds: u64,
    /// Pause after a secondary rate limit that came without `Retry-After`.
    pub secondary_backoff_seconds: u64,
    /// The URL of Reckon's webhook as GitHub has it; hooks with another URL are not
    /// Reckon's and their deliveries are not checked. Empty: `{public_url}/hooks/github`,
    /// or any hook whose URL ends in `/hooks/github` when `public_url` is unset too.
    #[serde(default)]
    pub webhook_url: Option<String>,
    /// Most failed or missing deliveries one reconcile asks GitHub to redeliver.
    pub max_redeliveries: u32,
    /// How far back the first scan of a hook's deliveries looks (GitHub keeps 3 days).
    pub deliveries_lookback_hours: u32,
    /// Repos whose hooks one reconcile looks up (round-robin), to find repo hooks.
    pub repo_hooks_per_run: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReconcileConfig {
    /// Run the scheduler in `reckon serve`. Exactly one process per deployment holds
    /// the scheduler lease; the others skip their turns.
    pub enabled: bool,
    /// Cron schedules (with seconds), e.g. "0 */30 * * * *" for every 30 minutes.
    #[serde(deserialize_with = "list_or_csv")]
    pub schedule: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueConfig {
    /// Where tasks wait: the embedded SQLite queue, or SQS (`[sqs]`).
    pub backend: QueueBackend,
    /// How long a leased task stays invisible to other workers before it is retried.
    pub visibility_timeout_seconds: u64,
    /// Attempts before a task goes to the dead letters.
    pub max_attempts: u32,
    /// First retry delay; it doubles per attempt, up to an hour.
    pub backoff_seconds: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QueueBackend {
    /// `data_dir/queue.sqlite3`, shared by the processes of one machine.
    Sqlite,
    /// Amazon SQS with a dead-letter queue; task records and dedup claims in the store.
    Sqs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LauncherKind {
    /// Run tasks as tokio tasks in this process.
    InProcess,
    /// Run each task as a `reckon-job` child process (what a container platform does).
    Process,
    /// Run each task as an ECS task of the jobs image (`[ecs]`).
    Ecs,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerConfig {
    /// Run sync tasks inside `reckon serve` too.
    pub enabled: bool,
    /// Tasks run at once.
    pub concurrency: usize,
    pub launcher: LauncherKind,
    /// The `reckon-job` binary for `launcher = "process"`.
    pub job_binary: PathBuf,
    /// How often an idle worker looks for tasks.
    pub poll_interval_ms: u64,
}

impl GithubApiConfig {
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        let ok = url::Url::parse(&self.api_url)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
        if !ok {
            return Err(ConfigError::invalid(
                "github.api_url",
                format!("`{}` is not an http:// or https:// URL", self.api_url),
            ));
        }
        self.token.check_not_blank("github.token")?;
        match (
            self.app_id,
            self.app_private_key.is_some() || self.app_private_key_file.is_some(),
        ) {
            (Some(_), false) => {
                return Err(ConfigError::invalid(
                    "github.app_private_key",
                    "is required with github.app_id (or give github.app_private_key_file)",
                ))
            }
            (None, true) => {
                return Err(ConfigError::invalid(
                    "github.app_id",
                    "is required with a GitHub App private key",
                ))
            }
            _ => {}
        }
        if self.app_private_key.is_some() && self.app_private_key_file.is_some() {
            return Err(ConfigError::invalid(
                "github.app_private_key_file",
                "give the key inline or as a file, not both",
            ));
        }
        for (i, org) in self.orgs.iter().enumerate() {
            let ok = !org.is_empty()
                && org.len() <= 39
                && org.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            if !ok {
                return Err(ConfigError::invalid(
                    format!("github.orgs[{i}]"),
                    format!("`{org}` is not a GitHub org login"),
                ));
            }
        }
        if self.request_timeout_seconds == 0 {
            return Err(ConfigError::invalid(
                "github.request_timeout_seconds",
                "must be greater than 0",
            ));
        }
        if self.deliveries_lookback_hours == 0 || self.deliveries_lookback_hours > 72 {
            return Err(ConfigError::invalid(
                "github.deliveries_lookback_hours",
                "must be between 1 and 72 (GitHub keeps deliveries for 3 days)",
            ));
        }
        Ok(())
    }

    /// Whether any credential is configured.
    pub fn has_credentials(&self) -> bool {
        !self.token.is_empty() || self.app_id.is_some()
    }
}

impl ReconcileConfig {
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        for (i, schedule) in self.schedule.iter().enumerate() {
            tokio_cron_scheduler::Job::new_async(schedule.as_str(), |_, _| Box::pin(async {}))
                .map_err(|e| {
                    ConfigError::invalid(
                        format!("reconcile.schedule[{i}]"),
                        format!("`{schedule}` is not a cron schedule with seconds: {e}"),
                    )
                })?;
        }
        Ok(())
    }
}

impl QueueConfig {
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        if self.visibility_timeout_seconds == 0 {
            return Err(ConfigError::invalid(
                "queue.visibility_timeout_seconds",
                "must be greater than 0",
            ));
        }
        if self.max_attempts == 0 {
            return Err(ConfigError::invalid(
                "queue.max_attempts",
                "must be at least 1",
            ));
        }
        Ok(())
    }
}

impl WorkerConfig {
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        if self.concurrency == 0 {
            return Err(ConfigError::invalid(
                "worker.concurrency",
                "must be at least 1",
            ));
        }
        if self.poll_interval_ms == 0 {
            return Err(ConfigError::invalid(
                "worker.poll_interval_ms",
                "must be greater than 0",
            ));
        }
        Ok(())
    }
}
