//! `[access]`: who may read. Tokens issued with `reckon tokens add` live in the store;
//! this section adds tokens from configuration (a secrets manager) and the throttle on
//! failed reads. What is public is said where it lives (`github.public_orgs`,
//! `sources.NAME.public`).

use secrecy::ExposeSecret;
use serde::Deserialize;

use crate::config::{ConfigError, SecretList};

/// Shortest configured token: as hard to guess as a generated one.
const MIN_TOKEN_LEN: usize = 32;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessConfig {
    /// Tokens that may read everything, for deployments that keep them in a secrets
    /// manager (`RECKON_ACCESS_ADMIN_TOKENS`); several while rotating.
    pub admin_tokens: SecretList,
    /// Failed reads one client address may make per minute before it is answered 429.
    pub failed_reads_per_minute: u32,
}

impl AccessConfig {
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        self.admin_tokens.check_not_blank("access.admin_tokens")?;
        if let Some(i) = self
            .admin_tokens
            .iter()
            .position(|t| t.expose_secret().trim().len() < MIN_TOKEN_LEN)
        {
            return Err(ConfigError::invalid(
                format!("access.admin_tokens[{i}]"),
                format!("must be at least {MIN_TOKEN_LEN} characters (`openssl rand -hex 32` makes one)"),
            ));
        }
        if self.failed_reads_per_minute == 0 {
            return Err(ConfigError::invalid(
                "access.failed_reads_per_minute",
                "must be greater than 0",
            ));
        }
        Ok(())
    }
}
