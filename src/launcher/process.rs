//! Runs each task as a `reckon-job` child process given its kind (`--kind`) and JSON
//! (`--spec`), the same contract a container platform uses: exit 0 done, 75
//! retryable, 65 permanent, and anything else (a crash, a kill) retryable.

use std::path::PathBuf;
use std::process::Stdio;

use async_trait::async_trait;
use tokio::io::AsyncReadExt;

use super::{Attempt, JobLauncher, JobOutcome};
use crate::queue::Task;

/// The task is done.
pub const EXIT_DONE: i32 = 0;
/// The task failed and may succeed later (sysexits `EX_TEMPFAIL`).
pub const EXIT_RETRYABLE: i32 = 75;
/// The task can never succeed as given (sysexits `EX_DATAERR`).
pub const EXIT_PERMANENT: i32 = 65;

pub struct ProcessLauncher {
    binary: PathBuf,
    /// Passed on as `--config`, so the job reads the same configuration.
    config: Option<PathBuf>,
}

impl ProcessLauncher {
    pub fn new(binary: PathBuf, config: Option<PathBuf>) -> ProcessLauncher {
        ProcessLauncher { binary, config }
    }
}

#[async_trait]
impl JobLauncher for ProcessLauncher {
    async fn launch(&self, task: &Task, _attempt: Attempt) -> JobOutcome {
        let json = task.canonical_json();
        let mut command = tokio::process::Command::new(&self.binary);
        if let Some(config) = &self.config {
            command.arg("--config").arg(config);
        }
        command
            .arg("--kind")
            .arg(&task.kind)
            .arg("--spec")
            .arg(&json)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => {
                return JobOutcome::Retryable {
                    error: format!("cannot start {}: {e}", self.binary.display()),
                    retry_at: None,
                }
            }
        };
        let mut stdout = String::new();
        if let Some(mut out) = child.stdout.take() {
            let _ = out.read_to_string(&mut stdout).await;
        }
        let status = match child.wait().await {
            Ok(status) => status,
            Err(e) => {
                return JobOutcome::Retryable {
                    error: format!("lost the job process: {e}"),
                    retry_at: None,
                }
            }
        };
        // The job prints its outcome as one JSON line last.
        let last: serde_json::Value = stdout
            .lines()
            .rev()
            .find_map(|l| serde_json::from_str(l).ok())
            .unwrap_or_default();
        let error = last["error"].as_str().map(str::to_owned);
        match status.code() {
            Some(EXIT_DONE) => JobOutcome::Done(last["report"].clone()),
            Some(code) => JobOutcome::from_exit_code(code, error, last["retry_at"].as_i64()),
            None => JobOutcome::Retryable {
                error: "the job was killed by a signal".into(),
                retry_at: None,
            },
        }
    }
}
