//! `[reconcile]`: when the scheduler plans sync tasks.

use serde::Deserialize;

use crate::config::{list_or_csv, ConfigError};

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

impl ReconcileConfig {
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
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
