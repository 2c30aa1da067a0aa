//! `[elasticsearch]`: the cluster used when `store = "elasticsearch"`.

use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

use crate::config::{list_or_csv, non_empty, non_empty_secret, ConfigError};

/// The Elasticsearch (or OpenSearch) cluster used when `store = "elasticsearch"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElasticsearchConfig {
    /// Node URLs; requests go round-robin between them.
    #[serde(deserialize_with = "list_or_csv")]
    pub url: Vec<String>,
    #[serde(default, deserialize_with = "non_empty")]
    pub username: Option<String>,
    #[serde(default, deserialize_with = "non_empty_secret")]
    pub password: Option<SecretString>,
    /// `id:key`, or the base64 `encoded` form Elasticsearch prints.
    #[serde(default, deserialize_with = "non_empty_secret")]
    pub api_key: Option<SecretString>,
    /// A PEM file with the CA that signed the cluster's certificate.
    #[serde(default)]
    pub ca_cert: Option<PathBuf>,
    /// Every index, alias and template name starts with this.
    pub index_prefix: String,
    pub request_timeout_seconds: u64,
    /// Attempts for bulk items rejected with 429 or 5xx, after the first.
    pub max_retries: u32,
    /// Whether entity writes wait for the next refresh before the delivery is acked.
    pub refresh: Refresh,
    /// Largest `_bulk` body Reckon sends; a single document bigger than this is sent
    /// alone. Keep it under the cluster's `http.max_content_length` (10 MiB on Amazon
    /// OpenSearch's smaller instance types).
    pub max_bulk_bytes: usize,
    /// How far behind the clock cursor reads (`after=`) stay, in milliseconds: only
    /// events whose sequence number is older than this are handed to followers, so a
    /// batch another replica has numbered but not yet landed cannot be skipped. 0 turns
    /// the horizon off (right for a single writer). See [`DEFAULT_FOLLOW_SETTLE_MS`].
    pub follow_settle_ms: u64,
}

/// The default `elasticsearch.follow_settle_ms`. It must cover the time from numbering
/// a batch to its events being searchable: the dedup claim and journal `_bulk` (tens to
/// hundreds of milliseconds, more under retries), the index refresh (1 s) and the clock
/// skew between replicas (well under a second with NTP). A batch that lands later than
/// this is logged as a warning by the writer.
pub const DEFAULT_FOLLOW_SETTLE_MS: u64 = 5_000;

/// Largest `elasticsearch.follow_settle_ms`: followers would lag by more than this.
const MAX_FOLLOW_SETTLE_MS: u64 = 600_000;

/// `refresh` on entity writes: `false` makes them searchable within the index refresh
/// interval (1 s by default); `wait_for` holds the ack until they are searchable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    False,
    WaitFor,
}

impl<'de> Deserialize<'de> for Refresh {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // The environment provider reads `false` as a boolean.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Bool(bool),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Bool(false) => Ok(Refresh::False),
            Raw::Text(t) if t == "false" => Ok(Refresh::False),
            Raw::Text(t) if t == "wait_for" => Ok(Refresh::WaitFor),
            _ => Err(serde::de::Error::custom(
                "expected \"false\" or \"wait_for\"",
            )),
        }
    }
}

/// Smallest sensible `elasticsearch.max_bulk_bytes`: below it a group commit of small
/// deliveries becomes many requests.
const MIN_BULK_BYTES: usize = 64 * 1024;

impl ElasticsearchConfig {
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        if self.url.is_empty() {
            return Err(ConfigError::invalid(
                "elasticsearch.url",
                "needs at least one node URL",
            ));
        }
        for url in &self.url {
            let ok = elasticsearch::http::Url::parse(url)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
            if !ok {
                return Err(ConfigError::invalid(
                    "elasticsearch.url",
                    format!("`{url}` is not an http:// or https:// URL"),
                ));
            }
        }
        match (&self.username, &self.password, &self.api_key) {
            (Some(_), None, _) => {
                return Err(ConfigError::invalid(
                    "elasticsearch.password",
                    "is required with elasticsearch.username",
                ))
            }
            (None, Some(_), _) => {
                return Err(ConfigError::invalid(
                    "elasticsearch.username",
                    "is required with elasticsearch.password",
                ))
            }
            (Some(_), Some(_), Some(_)) => {
                return Err(ConfigError::invalid(
                    "elasticsearch.api_key",
                    "give either an API key or a username and password, not both",
                ))
            }
            _ => {}
        }
        let prefix_ok = !self.index_prefix.is_empty()
            && self
                .index_prefix
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
            && !self.index_prefix.starts_with(['-', '_']);
        if !prefix_ok {
            return Err(ConfigError::invalid(
                "elasticsearch.index_prefix",
                "must be lowercase letters, digits, `-` or `_`, not starting with `-` or `_`",
            ));
        }
        if self.request_timeout_seconds == 0 {
            return Err(ConfigError::invalid(
                "elasticsearch.request_timeout_seconds",
                "must be greater than 0",
            ));
        }
        if self.max_bulk_bytes < MIN_BULK_BYTES {
            return Err(ConfigError::invalid(
                "elasticsearch.max_bulk_bytes",
                format!("must be at least {MIN_BULK_BYTES} bytes"),
            ));
        }
        if self.follow_settle_ms > MAX_FOLLOW_SETTLE_MS {
            return Err(ConfigError::invalid(
                "elasticsearch.follow_settle_ms",
                format!("must be at most {MAX_FOLLOW_SETTLE_MS} (ten minutes)"),
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
    fn elasticsearch_settings_come_from_the_fixed_env_names() {
        figment::Jail::expect_with(|jail| {
            jail.set_env(
                "RECKON_ELASTICSEARCH_URL",
                "https://es-1.example.com:9200,https://es-2.example.com:9200",
            );
            jail.set_env("RECKON_ELASTICSEARCH_USERNAME", "reckon");
            jail.set_env("RECKON_ELASTICSEARCH_PASSWORD", "s3cret");
            let config = Config::load(None, Overrides::default()).unwrap();
            assert_eq!(config.elasticsearch.url.len(), 2);
            assert!(config.elasticsearch.password.is_some());

            jail.set_env("RECKON_ELASTICSEARCH_API_KEY", "id:key");
            let err = Config::load(None, Overrides::default()).unwrap_err();
            assert!(err.to_string().contains("elasticsearch.api_key"), "{err}");

            jail.set_env("RECKON_ELASTICSEARCH_API_KEY", "");
            jail.set_env("RECKON_ELASTICSEARCH_PASSWORD", "");
            for (key, value, named) in [
                ("RECKON_ELASTICSEARCH_URL", "es-1:9200", "elasticsearch.url"),
                ("RECKON_ELASTICSEARCH_URL", "", "elasticsearch.url"),
                (
                    "RECKON_ELASTICSEARCH_INDEX_PREFIX",
                    "Reckon",
                    "elasticsearch.index_prefix",
                ),
                (
                    "RECKON_ELASTICSEARCH_MAX_BULK_BYTES",
                    "1000",
                    "elasticsearch.max_bulk_bytes",
                ),
            ] {
                jail.set_env("RECKON_ELASTICSEARCH_USERNAME", "");
                jail.set_env(key, value);
                let err = Config::load(None, Overrides::default()).unwrap_err();
                assert!(err.to_string().contains(named), "{value}: {err}");
                jail.set_env("RECKON_ELASTICSEARCH_URL", "http://127.0.0.1:9200");
                jail.set_env("RECKON_ELASTICSEARCH_INDEX_PREFIX", "reckon");
                jail.set_env("RECKON_ELASTICSEARCH_MAX_BULK_BYTES", "5242880");
            }
            jail.set_env("RECKON_ELASTICSEARCH_MAX_BULK_BYTES", "10485760");
            let config = Config::load(None, Overrides::default()).unwrap();
            assert_eq!(config.elasticsearch.max_bulk_bytes, 10 * 1024 * 1024);
            assert_eq!(
                config.elasticsearch.follow_settle_ms,
                super::DEFAULT_FOLLOW_SETTLE_MS,
                "defaults.toml and the constant agree"
            );
            jail.set_env("RECKON_ELASTICSEARCH_FOLLOW_SETTLE_MS", "600001");
            let err = Config::load(None, Overrides::default()).unwrap_err();
            assert!(
                err.to_string().contains("elasticsearch.follow_settle_ms"),
                "{err}"
            );
            jail.set_env("RECKON_ELASTICSEARCH_FOLLOW_SETTLE_MS", "0");
            let config = Config::load(None, Overrides::default()).unwrap();
            assert_eq!(config.elasticsearch.follow_settle_ms, 0);
            Ok(())
        });
    }
}
