//! `[limits]`, `[api]` and `[dashboard]`: what the HTTP layer accepts and serves.

use serde::Deserialize;

use crate::config::{list_or_csv, ConfigError};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    pub max_body_bytes: usize,
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
        if self.max_body_bytes == 0 {
            return Err(ConfigError::invalid(
                "limits.max_body_bytes",
                "must be greater than 0",
            ));
        }
        Ok(())
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
