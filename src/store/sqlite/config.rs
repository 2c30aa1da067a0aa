//! `[sqlite]`: the SQLite store used when `store = "sqlite"`.

use serde::Deserialize;

use crate::config::ConfigError;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqliteConfig {
    pub synchronous: Synchronous,
    pub read_pool_size: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    Full,
    Normal,
}

impl SqliteConfig {
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        if self.read_pool_size == 0 {
            return Err(ConfigError::invalid(
                "sqlite.read_pool_size",
                "must be greater than 0",
            ));
        }
        Ok(())
    }
}
