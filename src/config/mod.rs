//! Layered configuration, the generic part: the commented defaults file built into the
//! binary, then a TOML file, then `RECKON_*` environment variables, then command-line
//! overrides. Every error names the offending key.
//!
//! This module only layers and holds what sections share ([`ConfigError`],
//! [`SecretList`], [`RateLimit`], the deserialize helpers). Each section type lives with
//! its owner (`store::sqlite::SqliteConfig`, `sources::github::GithubConfig`, …), and the
//! aggregate that lists them is `settings::Config` (src/settings.rs); nothing here imports them.

mod secret_list;

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use secret_list::SecretList;

/// The commented defaults, also printed by `reckon config defaults`. The one place
/// where every key and its default is written down.
pub const DEFAULTS_TOML: &str = include_str!("defaults.toml");

/// The config file read from the working directory when no other is named.
pub const DEFAULT_FILE: &str = "reckon.toml";

/// Sections that `RECKON_<SECTION>_<KEY>` environment variables map into.
const ENV_SECTIONS: &[&str] = &[
    "log",
    "limits",
    "intake",
    "sqlite",
    "github",
    "dashboard",
    "api",
    "elasticsearch",
    "reconcile",
    "queue",
    "worker",
    "sqs",
    "ecs",
    "aws",
    "access",
];
/// Top-level keys that `RECKON_<KEY>` environment variables map onto.
const ENV_TOP_LEVEL: &[&str] = &["listen", "public_listen", "data_dir", "store", "public_url"];
/// `RECKON_*` variables that are read elsewhere and are not config keys.
const ENV_IGNORED: &[&str] = &["config"];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Load(#[from] Box<figment::Error>),
    #[error("invalid config key `{key}`: {message}")]
    Invalid { key: String, message: String },
    #[error("config file {path} does not exist")]
    MissingFile { path: PathBuf },
}

impl ConfigError {
    pub(crate) fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Command-line values that override every other layer.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
}

/// Reads every layer into `T`. `file` is an explicit `--config` path (which must
/// exist); without it `./reckon.toml` is read when present. Validation is the caller's.
pub fn load<T: DeserializeOwned>(
    file: Option<&Path>,
    overrides: Overrides,
) -> Result<T, ConfigError> {
    let mut figment = Figment::from(Toml::string(DEFAULTS_TOML));
    match file {
        Some(path) if !path.exists() => {
            return Err(ConfigError::MissingFile {
                path: path.to_owned(),
            })
        }
        Some(path) => figment = figment.merge(Toml::file_exact(path)),
        None if Path::new(DEFAULT_FILE).exists() => {
            figment = figment.merge(Toml::file_exact(DEFAULT_FILE))
        }
        None => {}
    }
    let figment = figment
        .merge(env_provider())
        .merge(Serialized::defaults(overrides));
    extract(figment)
}

/// The built-in defaults alone, read into `T`.
pub fn load_defaults<T: DeserializeOwned>() -> Result<T, ConfigError> {
    extract(Figment::from(Toml::string(DEFAULTS_TOML)))
}

fn extract<T: DeserializeOwned>(figment: Figment) -> Result<T, ConfigError> {
    figment
        .extract()
        .map_err(|e| ConfigError::Load(Box::new(e)))
}

/// A request rate: a steady `per_second`, with bursts of up to `burst` requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub per_second: u32,
    #[serde(default)]
    pub burst: Option<u32>,
}

impl RateLimit {
    pub(crate) fn check(&self, key: &str) -> Result<(), ConfigError> {
        if self.per_second == 0 {
            return Err(ConfigError::invalid(
                format!("{key}.per_second"),
                "must be greater than 0",
            ));
        }
        if self.burst == Some(0) {
            return Err(ConfigError::invalid(
                format!("{key}.burst"),
                "must be greater than 0",
            ));
        }
        Ok(())
    }
}

/// An optional string where an empty one (`RECKON_X=`) means unset.
pub(crate) fn non_empty<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.filter(|s| !s.is_empty()))
}

/// An optional secret where an empty one (`RECKON_X=`) means unset.
pub(crate) fn non_empty_secret<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<SecretString>, D::Error> {
    Ok(non_empty(d)?.map(SecretString::from))
}

/// A list written as a TOML array or as one comma-separated string (from the environment).
pub(crate) fn list_or_csv<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        Many(Vec<String>),
        Csv(String),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::Many(list) => list,
        OneOrMany::Csv(csv) => csv
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
    })
}

/// Maps `RECKON_GITHUB_WEBHOOK_SECRET` to `github.webhook_secret`, `RECKON_LISTEN` to
/// `listen`, and `RECKON_A__B__C` to `a.b.c`. Unknown variables are ignored by the
/// provider and reported by [`unknown_env_vars`].
fn env_provider() -> Env {
    Env::prefixed("RECKON_").filter_map(|key| map_env_key(key.as_str()).map(Into::into))
}

fn map_env_key(key: &str) -> Option<String> {
    let key = key.to_ascii_lowercase();
    let mut parts = key.split("__");
    let head = parts.next()?;
    let head = if ENV_TOP_LEVEL.contains(&head) || ENV_SECTIONS.contains(&head) || head == "sources"
    {
        head.to_owned()
    } else {
        let (section, rest) = head.split_once('_')?;
        if !ENV_SECTIONS.contains(&section) {
            return None;
        }
        format!("{section}.{rest}")
    };
    Some(
        std::iter::once(head.as_str())
            .chain(parts)
            .collect::<Vec<_>>()
            .join("."),
    )
}

/// `RECKON_*` variables that map to no config key: most likely typos, worth a warning.
pub fn unknown_env_vars() -> Vec<String> {
    std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .filter(|k| {
            k.strip_prefix("RECKON_").is_some_and(|rest| {
                let lower = rest.to_ascii_lowercase();
                !ENV_IGNORED.contains(&lower.as_str())
                    && !lower.starts_with("test_")
                    && map_env_key(rest).is_none()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_keys_map_to_sections() {
        assert_eq!(map_env_key("LISTEN").as_deref(), Some("listen"));
        assert_eq!(map_env_key("DATA_DIR").as_deref(), Some("data_dir"));
        assert_eq!(
            map_env_key("GITHUB_WEBHOOK_SECRET").as_deref(),
            Some("github.webhook_secret")
        );
        assert_eq!(
            map_env_key("LIMITS_MAX_BODY_BYTES").as_deref(),
            Some("limits.max_body_bytes")
        );
        assert_eq!(
            map_env_key("SOURCES__CI__AUTH").as_deref(),
            Some("sources.ci.auth")
        );
        assert_eq!(
            map_env_key("GITHUB_RATE_LIMIT__PER_SECOND").as_deref(),
            Some("github.rate_limit.per_second")
        );
        assert_eq!(map_env_key("LISTN"), None);
        assert_eq!(map_env_key("TEST_ELASTICSEARCH_URL"), None);
    }
}
