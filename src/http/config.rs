//! `[limits]`, `[api]` and `[dashboard]`: what the HTTP layer accepts and serves.

use std::time::Duration;

use serde::Deserialize;

use crate::config::{list_or_csv, ConfigError};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    pub max_body_bytes: usize,
    /// From accept, or from the first byte after an idle keep-alive, to the end of the
    /// request headers.
    pub header_timeout_ms: u64,
    /// From the end of the headers to the end of the body.
    pub body_timeout_ms: u64,
    /// How long a keep-alive connection may sit between requests.
    pub idle_timeout_ms: u64,
    /// Open connections per listener; past it, the oldest idle or slow one is shed.
    pub max_connections: usize,
    /// Bytes of all request bodies being read before their sender is verified.
    pub unverified_body_bytes: usize,
    /// Bodies over 1 MiB one client IP may be sending at once.
    pub large_bodies_per_client: usize,
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

impl LimitsConfig {
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        let positive = [
            ("limits.max_body_bytes", self.max_body_bytes as u64),
            ("limits.header_timeout_ms", self.header_timeout_ms),
            ("limits.body_timeout_ms", self.body_timeout_ms),
            ("limits.idle_timeout_ms", self.idle_timeout_ms),
            ("limits.max_connections", self.max_connections as u64),
            (
                "limits.unverified_body_bytes",
                self.unverified_body_bytes as u64,
            ),
            (
                "limits.large_bodies_per_client",
                self.large_bodies_per_client as u64,
            ),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err(ConfigError::invalid(key, "must be greater than 0"));
            }
        }
        Ok(())
    }

    pub fn header_timeout(&self) -> Duration {
        Duration::from_millis(self.header_timeout_ms)
    }

    pub fn body_timeout(&self) -> Duration {
        Duration::from_millis(self.body_timeout_ms)
    }

    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.idle_timeout_ms)
    }
}

impl ApiConfig {
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        for origin in &self.cors_origins {
            check_origin(origin)?;
        }
        Ok(())
    }
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

#[cfg(test)]
mod tests {
    // figment::Jail's closures must return figment's own (large) error type.
    #![allow(clippy::result_large_err)]
    use crate::config::Overrides;
    use crate::settings::Config;

    #[test]
    fn limits_have_safe_defaults_and_name_the_key_when_zero() {
        figment::Jail::expect_with(|jail| {
            let limits = Config::load(None, Overrides::default()).unwrap().limits;
            assert_eq!(limits.header_timeout_ms, 10_000);
            assert_eq!(limits.body_timeout_ms, 60_000);
            assert_eq!(limits.idle_timeout_ms, 60_000);
            assert_eq!(limits.max_connections, 1024);
            assert_eq!(limits.unverified_body_bytes, 256 * 1024 * 1024);
            assert_eq!(limits.large_bodies_per_client, 4);

            jail.set_env("RECKON_LIMITS_HEADER_TIMEOUT_MS", "2500");
            let limits = Config::load(None, Overrides::default()).unwrap().limits;
            assert_eq!(limits.header_timeout().as_millis(), 2500);

            jail.set_env("RECKON_LIMITS_MAX_CONNECTIONS", "0");
            let err = Config::load(None, Overrides::default()).unwrap_err();
            assert!(err.to_string().contains("limits.max_connections"), "{err}");
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
}
