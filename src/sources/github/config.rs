//! `[github]`: the webhook's settings and the API client the reconciler and sync tasks
//! use. The two are one section, so the client's keys are flattened into it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

use crate::config::{list_or_csv, non_empty_secret, ConfigError, RateLimit, SecretList};

#[derive(Debug, Clone, Deserialize)]
pub struct GithubConfig {
    pub webhook_secret: SecretList,
    pub allow_sha1: bool,
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// Orgs anyone may read without a read token.
    #[serde(default, deserialize_with = "crate::config::list_or_csv")]
    pub public_orgs: Vec<String>,
    /// The API client the reconciler and sync jobs use.
    #[serde(flatten)]
    pub api: GithubApiConfig,
    /// Keys neither part knows (`deny_unknown_fields` does not work with `flatten`).
    #[serde(flatten)]
    unknown: BTreeMap<String, serde::de::IgnoredAny>,
}

impl GithubConfig {
    /// Checks `[github]`: the webhook settings, then the API client's.
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        self.webhook_secret
            .check_not_blank("github.webhook_secret")?;
        if let Some(limit) = &self.rate_limit {
            limit.check("github.rate_limit")?;
        }
        if let Some(key) = self.unknown.keys().next() {
            return Err(ConfigError::invalid(
                format!("github.{key}"),
                "is not a config key (see `reckon config defaults`)",
            ));
        }
        self.api.check()
    }
}

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

impl GithubApiConfig {
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
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
