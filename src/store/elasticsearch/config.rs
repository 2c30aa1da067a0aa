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
}

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
            Ok(())
        });
    }
}
