//! `[queue]`: where sync tasks wait, and how they are retried.

use serde::Deserialize;

use crate::config::ConfigError;

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

impl QueueConfig {
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
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
