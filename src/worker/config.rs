//! `[worker]`: what runs sync tasks, and how.

use std::path::PathBuf;

use serde::Deserialize;

use crate::config::ConfigError;

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

impl WorkerConfig {
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
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
