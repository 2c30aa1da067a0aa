//! The whole configuration: the list of sections and the top-level keys. Each section
//! type and its checks live with the code that owns it; `crate::config` layers the
//! sources (defaults, file, `RECKON_*`, command line) and this struct is what they fill.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::access::AccessConfig;
use crate::aws::AwsConfig;
use crate::config::{ConfigError, Overrides};
use crate::http::{ApiConfig, DashboardConfig, LimitsConfig};
use crate::intake::IntakeConfig;
use crate::launcher::ecs::EcsConfig;
use crate::queue::sqs::SqsConfig;
use crate::queue::{QueueBackend, QueueConfig};
use crate::sources::github::reconcile::ReconcileConfig;
use crate::sources::github::GithubConfig;
use crate::sources::SourceConfig;
use crate::store::elasticsearch::ElasticsearchConfig;
use crate::store::sqlite::SqliteConfig;
use crate::telemetry::LogConfig;
use crate::worker::{LauncherKind, WorkerConfig};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub listen: String,
    /// A second address serving only what must face the internet (intake, public
    /// reads, `/healthz`), so that `listen` can stay private.
    #[serde(default, deserialize_with = "crate::config::non_empty")]
    pub public_listen: Option<String>,
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
    pub sqs: SqsConfig,
    pub ecs: EcsConfig,
    pub aws: AwsConfig,
    pub access: AccessConfig,
    pub heartbeats: crate::sources::heartbeats::HeartbeatsConfig,
    pub pageviews: crate::sources::pageviews::PageviewsConfig,
    #[serde(default)]
    pub sources: BTreeMap<String, SourceConfig>,
}

/// `store`: which backend holds the journal and the read models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    Sqlite,
    Elasticsearch,
}

impl Config {
    /// Loads every layer. `file` is an explicit `--config` path (which must exist);
    /// without it `./reckon.toml` is read when present.
    pub fn load(file: Option<&Path>, overrides: Overrides) -> Result<Config, ConfigError> {
        let config: Config = crate::config::load(file, overrides)?;
        config.validate()?;
        Ok(config)
    }

    /// The built-in defaults alone; the starting point for tests and embedding.
    pub fn defaults() -> Config {
        crate::config::load_defaults::<Config>()
            .and_then(|config| config.validate().map(|()| config))
            .expect("built-in defaults are valid")
    }

    /// Checks what types alone cannot, section by section. Called at load; call it
    /// again after editing a `Config` by hand.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.listen_addr()?;
        if let Some(public) = self.public_listen_addr()? {
            if Some(public) == self.listen_addr().ok() {
                return Err(ConfigError::invalid(
                    "public_listen",
                    "must differ from `listen`: leave it unset to serve everything on `listen`",
                ));
            }
        }
        self.access.check()?;
        self.heartbeats.check()?;
        self.pageviews.check()?;
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
        self.limits.check()?;
        self.intake.check()?;
        self.sqlite.check()?;
        self.log.check()?;
        self.elasticsearch.check()?;
        self.api.check()?;
        self.github.check()?;
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
            source.check(name)?;
        }
        Ok(())
    }

    /// `public_listen`, parsed, when set.
    pub fn public_listen_addr(&self) -> Result<Option<SocketAddr>, ConfigError> {
        self.public_listen
            .as_deref()
            .map(|listen| {
                listen.parse().map_err(|_| {
                    ConfigError::invalid(
                        "public_listen",
                        format!("`{listen}` is not an address like 0.0.0.0:8081"),
                    )
                })
            })
            .transpose()
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

#[cfg(test)]
mod tests {
    // figment::Jail's closures must return figment's own (large) error type.
    #![allow(clippy::result_large_err)]
    use super::*;
    use crate::config::unknown_env_vars;

    #[test]
    fn defaults_parse_and_validate() {
        let config = Config::defaults();
        assert_eq!(config.listen, "127.0.0.1:8080");
        assert_eq!(config.data_dir, PathBuf::from("./reckon-data"));
        assert_eq!(config.limits.max_body_bytes, 25 * 1024 * 1024);
        assert!(config.github.webhook_secret.is_empty());
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
