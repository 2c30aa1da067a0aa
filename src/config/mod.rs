//! Layered configuration: the commented defaults file built into the binary, then a
//! TOML file, then `RECKON_*` environment variables, then command-line overrides.
//! Everything is validated once at start, and every error names the offending key.

mod secret_list;
mod sync;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

pub use secret_list::SecretList;
pub use sync::{
    GithubApiConfig, LauncherKind, QueueBackend, QueueConfig, ReconcileConfig, WorkerConfig,
};

/// The commented defaults, also printed by `reckon config defaults`.
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
];
/// Top-level keys that `RECKON_<KEY>` environment variables map onto.
const ENV_TOP_LEVEL: &[&str] = &["listen", "data_dir", "store", "public_url"];
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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub listen: String,
    pub data_dir: PathBuf,
    pub store: StoreKind,
    #[serde(default)]
    pub public_url: Option<String>,
    pub log: LogConfig,
    pub limits: LimitsConfig,
    pub intake: IntakeConfig,
    pub sqlite: SqliteConfig,
    pub github: GithubConfig,
    pub dashboard: DashboardConfig,
    pub api: ApiConfig,
    pub elasticsearch: ElasticsearchConfig,
    pub reconcile: ReconcileConfig,
    pub queue: QueueConfig,
    pub worker: WorkerConfig,
    pub sqs: crate::queue::sqs::SqsConfig,
    pub ecs: crate::launcher::ecs::EcsConfig,
    pub aws: crate::aws::AwsConfig,
    #[serde(default)]
    pub sources: BTreeMap<String, SourceConfig>,
}

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
    fn check(&self) -> Result<(), ConfigError> {
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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardConfig {
    pub enabled: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Browser origins allowed to read the API (CORS); `*` allows any.
    #[serde(deserialize_with = "list_or_csv")]
    pub cors_origins: Vec<String>,
}

/// An optional string where an empty one (`RECKON_X=`) means unset.
pub(crate) fn non_empty<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.filter(|s| !s.is_empty()))
}

fn non_empty_secret<'de, D: serde::Deserializer<'de>>(
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    Sqlite,
    Elasticsearch,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    pub level: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    pub max_body_bytes: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeConfig {
    pub max_batch: usize,
    pub queue_capacity: usize,
}

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

#[derive(Debug, Clone, Deserialize)]
pub struct GithubConfig {
    pub webhook_secret: SecretList,
    pub allow_sha1: bool,
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// The API client the reconciler and sync jobs use.
    #[serde(flatten)]
    pub api: GithubApiConfig,
    /// Keys neither part knows (`deny_unknown_fields` does not work with `flatten`).
    #[serde(flatten)]
    unknown: BTreeMap<String, serde::de::IgnoredAny>,
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
    fn check(&self, key: &str) -> Result<(), ConfigError> {
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

/// A CORS origin is `*` or `scheme://host[:port]`, exactly as browsers send it.
fn check_origin(origin: &str) -> Result<(), ConfigError> {
    if origin == "*" {
        return Ok(());
    }
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(['/', ' ', '?', '#']) => Ok(()),
        _ => Err(ConfigError::invalid(
            "api.cors_origins",
            format!(
                "`{origin}` is not an origin: expected `*` or `https://host[:port]` with no path"
            ),
        )),
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

impl Config {
    /// Loads every layer. `file` is an explicit `--config` path (which must exist);
    /// without it `./reckon.toml` is read when present.
    pub fn load(file: Option<&Path>, overrides: Overrides) -> Result<Config, ConfigError> {
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
        Self::from_figment(figment)
    }

    /// The built-in defaults alone; the starting point for tests and embedding.
    pub fn defaults() -> Config {
        Self::from_figment(Figment::from(Toml::string(DEFAULTS_TOML)))
            .expect("built-in defaults are valid")
    }

    fn from_figment(figment: Figment) -> Result<Config, ConfigError> {
        let config: Config = figment.extract().map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what types alone cannot. Called at load; call it again after editing a
    /// `Config` by hand.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.listen_addr()?;
        if self.data_dir.as_os_str().is_empty() {
            return Err(ConfigError::invalid("data_dir", "must not be empty"));
        }
        if let Some(url) = &self.public_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(ConfigError::invalid(
                    "public_url",
                    "must start with http:// or https://",
                ));
            }
        }
        if self.limits.max_body_bytes == 0 {
            return Err(ConfigError::invalid(
                "limits.max_body_bytes",
                "must be greater than 0",
            ));
        }
        if self.intake.max_batch == 0 {
            return Err(ConfigError::invalid(
                "intake.max_batch",
                "must be greater than 0",
            ));
        }
        if self.intake.queue_capacity == 0 {
            return Err(ConfigError::invalid(
                "intake.queue_capacity",
                "must be greater than 0",
            ));
        }
        if self.sqlite.read_pool_size == 0 {
            return Err(ConfigError::invalid(
                "sqlite.read_pool_size",
                "must be greater than 0",
            ));
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            return Err(ConfigError::invalid(
                "log.level",
                format!("`{}` is not a valid log filter", self.log.level),
            ));
        }
        self.elasticsearch.check()?;
        for origin in &self.api.cors_origins {
            check_origin(origin)?;
        }
        self.github
            .webhook_secret
            .check_not_blank("github.webhook_secret")?;
        if let Some(limit) = &self.github.rate_limit {
            limit.check("github.rate_limit")?;
        }
        if let Some(key) = self.github.unknown.keys().next() {
            return Err(ConfigError::invalid(
                format!("github.{key}"),
                "is not a config key (see `reckon config defaults`)",
            ));
        }
        self.github.api.check()?;
        self.reconcile.check()?;
        self.queue.check()?;
        self.worker.check()?;
        self.aws.check()?;
        if self.queue.backend == QueueBackend::Sqs {
            self.sqs.check()?;
        }
        if self.worker.launcher == LauncherKind::Ecs {
            self.ecs.check()?;
        }
        for (name, source) in &self.sources {
            let key = format!("sources.{name}");
            if !is_valid_source_name(name) {
                return Err(ConfigError::invalid(
                    key,
                    "source names use a-z, 0-9, '-' and '_', at most 64 characters, and `github` and `github-sync` are reserved",
                ));
            }
            source.secrets.check_not_blank(&format!("{key}.secrets"))?;
            match source.auth {
                SourceAuth::StandardWebhooks => {
                    if source.secrets.is_empty() {
                        return Err(ConfigError::invalid(
                            format!("{key}.secrets"),
                            "standard-webhooks sources need at least one secret",
                        ));
                    }
                    for (i, secret) in source.secrets.iter().enumerate() {
                        crate::verify::standard::decode_secret(secret).map_err(|e| {
                            ConfigError::invalid(format!("{key}.secrets[{i}]"), e.to_string())
                        })?;
                    }
                }
                SourceAuth::ApiKey => {
                    if !source.secrets.is_empty() {
                        return Err(ConfigError::invalid(
                            format!("{key}.secrets"),
                            "api-key sources take keys from `reckon keys add`, not secrets",
                        ));
                    }
                }
            }
            if let Some(limit) = &source.rate_limit {
                limit.check(&format!("{key}.rate_limit"))?;
            }
            source
                .read_tokens
                .check_not_blank(&format!("{key}.read_tokens"))?;
            if let Some((i, src)) = source
                .srcs
                .iter()
                .enumerate()
                .find(|(_, s)| !is_valid_src(s))
            {
                return Err(ConfigError::invalid(
                    format!("{key}.srcs[{i}]"),
                    format!("`{src}` is not a server name: use a-z, A-Z, 0-9, '-', '_' and '.', at most 64 characters"),
                ));
            }
            if source.tolerance_seconds == 0 {
                return Err(ConfigError::invalid(
                    format!("{key}.tolerance_seconds"),
                    "must be greater than 0",
                ));
            }
        }
        Ok(())
    }

    pub fn listen_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.listen.parse().map_err(|_| {
            ConfigError::invalid(
                "listen",
                format!("`{}` is not an address like 127.0.0.1:8080", self.listen),
            )
        })
    }

    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join("reckon.sqlite3")
    }

    /// The embedded sync-task queue: its own file, so it works beside any store.
    pub fn queue_path(&self) -> PathBuf {
        self.data_dir.join("queue.sqlite3")
    }
}

pub fn is_valid_source_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name != "github"
        && name != crate::sources::github::sync::SOURCE
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
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
    // figment::Jail's closures must return figment's own (large) error type.
    #![allow(clippy::result_large_err)]
    use super::*;

    #[test]
    fn defaults_parse_and_validate() {
        let config = Config::defaults();
        assert_eq!(config.listen, "127.0.0.1:8080");
        assert_eq!(config.data_dir, PathBuf::from("./reckon-data"));
        assert_eq!(config.limits.max_body_bytes, 25 * 1024 * 1024);
        assert!(config.github.webhook_secret.is_empty());
    }

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

    #[test]
    fn layers_apply_in_order_and_errors_name_the_key() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "reckon.toml",
                "listen = \"127.0.0.1:9000\"\n[limits]\nmax_body_bytes = 10\n",
            )?;
            jail.set_env("RECKON_LISTEN", "127.0.0.1:9100");
            jail.set_env("RECKON_GITHUB_WEBHOOK_SECRET", "one,two");
            let config = Config::load(None, Overrides::default()).unwrap();
            assert_eq!(config.listen, "127.0.0.1:9100");
            assert_eq!(config.limits.max_body_bytes, 10);
            assert_eq!(config.github.webhook_secret.len(), 2);

            let config = Config::load(
                None,
                Overrides {
                    listen: Some("127.0.0.1:9200".into()),
                    data_dir: None,
                },
            )
            .unwrap();
            assert_eq!(config.listen, "127.0.0.1:9200");

            jail.set_env("RECKON_LISTEN", "nonsense");
            let err = Config::load(None, Overrides::default()).unwrap_err();
            assert!(err.to_string().contains("`listen`"), "{err}");

            jail.set_env("RECKON_LISTEN", "127.0.0.1:9100");
            jail.set_env("RECKON_LIMITS_MAX_BODY_BYTES", "lots");
            let err = Config::load(None, Overrides::default()).unwrap_err();
            assert!(
                err.to_string()
                    .to_lowercase()
                    .contains("limits.max_body_bytes"),
                "{err}"
            );
            Ok(())
        });
    }

    #[test]
    fn unknown_file_keys_are_rejected_by_name() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("reckon.toml", "lisen = \"127.0.0.1:9000\"\n")?;
            let err = Config::load(None, Overrides::default()).unwrap_err();
            assert!(err.to_string().contains("lisen"), "{err}");
            Ok(())
        });
    }

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

    #[test]
    fn cors_origins_come_as_a_list_or_from_the_environment() {
        figment::Jail::expect_with(|jail| {
            let config = Config::load(None, Overrides::default()).unwrap();
            assert!(config.api.cors_origins.is_empty() && config.dashboard.enabled);

            jail.set_env(
                "RECKON_API_CORS_ORIGINS",
                "https://stats.example.com, http://localhost:5173",
            );
            jail.set_env("RECKON_DASHBOARD_ENABLED", "false");
            let config = Config::load(None, Overrides::default()).unwrap();
            assert_eq!(
                config.api.cors_origins,
                ["https://stats.example.com", "http://localhost:5173"]
            );
            assert!(!config.dashboard.enabled);

            for bad in [
                "https://stats.example.com/",
                "stats.example.com",
                "https://",
            ] {
                jail.set_env("RECKON_API_CORS_ORIGINS", bad);
                let err = Config::load(None, Overrides::default()).unwrap_err();
                assert!(err.to_string().contains("api.cors_origins"), "{bad}: {err}");
            }
            jail.create_file("reckon.toml", "[api]\ncors_origins = [\"*\"]\n")?;
            jail.set_env("RECKON_API_CORS_ORIGINS", "");
            let config = Config::load(None, Overrides::default()).unwrap();
            assert!(config.api.cors_origins.is_empty(), "the environment wins");
            Ok(())
        });
    }

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

    /// The config the service runs with on AWS (terraform/ sets these variables).
    #[test]
    fn aws_settings_come_from_the_environment_and_are_validated() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("RECKON_QUEUE_BACKEND", "sqs");
            jail.set_env(
                "RECKON_SQS_QUEUE_URL",
                "https://sqs.us-east-1.amazonaws.com/1/reckon",
            );
            jail.set_env(
                "RECKON_SQS_DEAD_LETTER_QUEUE_URL",
                "https://sqs.us-east-1.amazonaws.com/1/reckon-dlq",
            );
            jail.set_env("RECKON_WORKER_LAUNCHER", "ecs");
            jail.set_env("RECKON_ECS_CLUSTER", "reckon");
            jail.set_env("RECKON_ECS_TASK_DEFINITION", "reckon-job");
            jail.set_env("RECKON_ECS_SUBNETS", "subnet-a,subnet-b");
            jail.set_env("RECKON_RECONCILE_ENABLED", "false");
            jail.set_env("RECKON_AWS_REGION", "eu-west-1");
            let config = Config::load(None, Default::default()).expect("valid");
            assert_eq!(config.queue.backend, QueueBackend::Sqs);
            assert_eq!(config.worker.launcher, LauncherKind::Ecs);
            assert_eq!(config.ecs.subnets, vec!["subnet-a", "subnet-b"]);
            assert!(!config.reconcile.enabled);
            assert!(unknown_env_vars().is_empty());

            for (var, value, key) in [
                ("RECKON_SQS_QUEUE_URL", "", "sqs.queue_url"),
                (
                    "RECKON_SQS_DEAD_LETTER_QUEUE_URL",
                    "reckon-dlq",
                    "sqs.dead_letter_queue_url",
                ),
                (
                    "RECKON_SQS_RECEIVE_WAIT_SECONDS",
                    "21",
                    "sqs.receive_wait_seconds",
                ),
                ("RECKON_ECS_CLUSTER", "", "ecs.cluster"),
                ("RECKON_ECS_SUBNETS", "", "ecs.subnets"),
                ("RECKON_ECS_LAUNCH_TYPE", "LAMBDA", "ecs.launch_type"),
                ("RECKON_AWS_ENDPOINT_URL", "moto", "aws.endpoint_url"),
            ] {
                let saved = std::env::var(var).ok();
                jail.set_env(var, value);
                let err = Config::load(None, Default::default())
                    .expect_err(var)
                    .to_string();
                assert!(err.contains(&format!("`{key}`")), "{var}={value}: {err}");
                match saved {
                    Some(v) => jail.set_env(var, v),
                    None => std::env::remove_var(var),
                }
            }
            Ok(())
        });
    }
}
