//! `[sqs]`: the SQS queues used when `queue.backend = "sqs"`. The queues themselves are
//! created by the Terraform in `terraform/` (main queue with a redrive policy to the
//! dead-letter queue); Reckon only needs their URLs.

use serde::Deserialize;

use crate::config::ConfigError;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqsConfig {
    /// The task queue (RECKON_SQS_QUEUE_URL).
    #[serde(default, deserialize_with = "crate::config::non_empty")]
    pub queue_url: Option<String>,
    /// Where tasks go when they fail for good (RECKON_SQS_DEAD_LETTER_QUEUE_URL): the
    /// queue the main queue's redrive policy names.
    #[serde(default, deserialize_with = "crate::config::non_empty")]
    pub dead_letter_queue_url: Option<String>,
    /// Long-poll wait of one receive, 0 to 20 seconds.
    pub receive_wait_seconds: i32,
    /// Records of finished tasks are dropped from the ledger this long after they
    /// finished, so the ledger a scan reads stays small. Dead tasks stay until purged.
    pub done_retention_hours: u64,
}

impl SqsConfig {
    /// Checked when `queue.backend = "sqs"`.
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        for (key, url) in [
            ("sqs.queue_url", &self.queue_url),
            ("sqs.dead_letter_queue_url", &self.dead_letter_queue_url),
        ] {
            let Some(url) = url else {
                return Err(ConfigError::invalid(
                    key,
                    "is required with queue.backend = \"sqs\"",
                ));
            };
            if !url.starts_with("https://") && !url.starts_with("http://") {
                return Err(ConfigError::invalid(
                    key,
                    format!("`{url}` is not a queue URL such as https://sqs.eu-west-1.amazonaws.com/123456789012/reckon-tasks"),
                ));
            }
        }
        if self.queue_url == self.dead_letter_queue_url {
            return Err(ConfigError::invalid(
                "sqs.dead_letter_queue_url",
                "must differ from sqs.queue_url",
            ));
        }
        if self.done_retention_hours == 0 {
            return Err(ConfigError::invalid(
                "sqs.done_retention_hours",
                "must be at least 1",
            ));
        }
        if !(0..=20).contains(&self.receive_wait_seconds) {
            return Err(ConfigError::invalid(
                "sqs.receive_wait_seconds",
                "must be between 0 and 20 (SQS's long-poll limit)",
            ));
        }
        Ok(())
    }
}
