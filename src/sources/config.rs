//! `[sources.NAME]`: the sources an operator adds (Standard Webhooks senders, API-key
//! submitters such as game servers), each under its own name.

use serde::Deserialize;

use crate::config::{ConfigError, RateLimit, SecretList};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    pub auth: SourceAuth,
    #[serde(default)]
    pub secrets: SecretList,
    #[serde(default = "default_tolerance")]
    pub tolerance_seconds: u64,
    /// Per API key for `api-key` sources, per source otherwise.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// The servers (`src` values, e.g. `cpo`) that may submit to this source through
    /// `POST /submit`; empty allows any `src` a key is bound to.
    #[serde(default)]
    pub srcs: Vec<String>,
    /// Whether anyone may read this source's events (`GET /events`, the follow API)
    /// without a read token.
    #[serde(default)]
    pub public: bool,
    /// Tokens that may read this source's events when it is not public, sent as
    /// `Authorization: Bearer <token>`.
    #[serde(default)]
    pub read_tokens: SecretList,
}

/// A server name as events carry it in `src`: short, plain, and safe in a URL.
pub fn is_valid_src(src: &str) -> bool {
    !src.is_empty()
        && src.len() <= 64
        && src
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn default_tolerance() -> u64 {
    300
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceAuth {
    StandardWebhooks,
    ApiKey,
}

pub fn is_valid_source_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name != "github"
        && name != crate::sources::heartbeats::SOURCE
        && name != crate::sources::github::sync::SOURCE
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

impl SourceConfig {
    /// Checks `[sources.<name>]`.
    pub(crate) fn check(&self, name: &str) -> Result<(), ConfigError> {
        let key = format!("sources.{name}");
        if !is_valid_source_name(name) {
            return Err(ConfigError::invalid(
                key,
                "source names use a-z, 0-9, '-' and '_', at most 64 characters, and `github`, `github-sync` and `heartbeats` are reserved",
            ));
        }
        self.secrets.check_not_blank(&format!("{key}.secrets"))?;
        match self.auth {
            SourceAuth::StandardWebhooks => {
                if self.secrets.is_empty() {
                    return Err(ConfigError::invalid(
                        format!("{key}.secrets"),
                        "standard-webhooks sources need at least one secret",
                    ));
                }
                for (i, secret) in self.secrets.iter().enumerate() {
                    crate::verify::standard::decode_secret(secret).map_err(|e| {
                        ConfigError::invalid(format!("{key}.secrets[{i}]"), e.to_string())
                    })?;
                }
            }
            SourceAuth::ApiKey => {
                if !self.secrets.is_empty() {
                    return Err(ConfigError::invalid(
                        format!("{key}.secrets"),
                        "api-key sources take keys from `reckon keys add`, not secrets",
                    ));
                }
            }
        }
        if let Some(limit) = &self.rate_limit {
            limit.check(&format!("{key}.rate_limit"))?;
        }
        self.read_tokens
            .check_not_blank(&format!("{key}.read_tokens"))?;
        if let Some((i, src)) = self.srcs.iter().enumerate().find(|(_, s)| !is_valid_src(s)) {
            return Err(ConfigError::invalid(
                format!("{key}.srcs[{i}]"),
                format!("`{src}` is not a server name: use a-z, A-Z, 0-9, '-', '_' and '.', at most 64 characters"),
            ));
        }
        if self.tolerance_seconds == 0 {
            return Err(ConfigError::invalid(
                format!("{key}.tolerance_seconds"),
                "must be greater than 0",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    // figment::Jail's closures must return figment's own (large) error type.
    #![allow(clippy::result_large_err)]
    use crate::config::Overrides;
    use crate::settings::Config;

    #[test]
    fn sources_are_validated() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "reckon.toml",
                "[sources.ci]\nauth = \"standard-webhooks\"\n",
            )?;
            let err = Config::load(None, Overrides::default()).unwrap_err();
            assert!(err.to_string().contains("sources.ci.secrets"), "{err}");

            jail.create_file(
                "reckon.toml",
                "[sources.ci]\nauth = \"standard-webhooks\"\nsecrets = [\"whsec_%%%\"]\n",
            )?;
            let err = Config::load(None, Overrides::default()).unwrap_err();
            assert!(err.to_string().contains("sources.ci.secrets[0]"), "{err}");

            jail.create_file("reckon.toml", "[sources.github]\nauth = \"api-key\"\n")?;
            let err = Config::load(None, Overrides::default()).unwrap_err();
            assert!(err.to_string().contains("sources.github"), "{err}");
            Ok(())
        });
    }
}
