//! `[intake]`: the group commit.

use serde::Deserialize;

use crate::config::ConfigError;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeConfig {
    pub max_batch: usize,
    pub queue_capacity: usize,
}

impl IntakeConfig {
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        if self.max_batch == 0 {
            return Err(ConfigError::invalid(
                "intake.max_batch",
                "must be greater than 0",
            ));
        }
        if self.queue_capacity == 0 {
            return Err(ConfigError::invalid(
                "intake.queue_capacity",
                "must be greater than 0",
            ));
        }
        Ok(())
    }
}
