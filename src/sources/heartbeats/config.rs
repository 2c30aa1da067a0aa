//! `[heartbeats]`: the coding-time source. Which heartbeats are refused (too old, from
//! the future), how long a pause ends a stretch of work, and the time zone of users
//! whose editors never said theirs; each user may override the last two.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::config::ConfigError;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatsConfig {
    /// Heartbeats older than this many days are refused, per item.
    pub max_age_days: u32,
    /// Heartbeats more than this many seconds in the future are refused, per item.
    pub max_future_seconds: u32,
    /// A pause shorter than this joins two heartbeats (1–60).
    pub keystroke_timeout_minutes: u32,
    /// Where days start for a user whose editor sends no `Timezone` header.
    pub default_timezone: String,
    /// Per-user overrides: `[heartbeats.users.ada] timezone = "Europe/Berlin"`.
    #[serde(default)]
    pub users: BTreeMap<String, UserConfig>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// Fixes the user's time zone; otherwise their editors' `Timezone` header decides.
    pub timezone: Option<String>,
    pub keystroke_timeout_minutes: Option<u32>,
}

fn check_timeout(key: String, minutes: u32) -> Result<(), ConfigError> {
    if !(1..=60).contains(&minutes) {
        return Err(ConfigError::invalid(
            key,
            "must be between 1 and 60 minutes",
        ));
    }
    Ok(())
}

fn check_timezone(key: String, tz: &str) -> Result<(), ConfigError> {
    tz.parse::<chrono_tz::Tz>().map(|_| ()).map_err(|_| {
        ConfigError::invalid(
            key,
            format!("`{tz}` is not an IANA time zone such as `Europe/Berlin` or `UTC`"),
        )
    })
}

impl HeartbeatsConfig {
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        if self.max_age_days == 0 {
            return Err(ConfigError::invalid(
                "heartbeats.max_age_days",
                "must be greater than 0",
            ));
        }
        check_timeout(
            "heartbeats.keystroke_timeout_minutes".into(),
            self.keystroke_timeout_minutes,
        )?;
        check_timezone("heartbeats.default_timezone".into(), &self.default_timezone)?;
        for (name, user) in &self.users {
            if !super::keys::is_valid_user(name) {
                return Err(ConfigError::invalid(
                    format!("heartbeats.users.{name}"),
                    "user names use a-z, A-Z, 0-9, '-', '_' and '.', at most 64 characters",
                ));
            }
            if let Some(tz) = &user.timezone {
                check_timezone(format!("heartbeats.users.{name}.timezone"), tz)?;
            }
            if let Some(minutes) = user.keystroke_timeout_minutes {
                check_timeout(
                    format!("heartbeats.users.{name}.keystroke_timeout_minutes"),
                    minutes,
                )?;
            }
        }
        Ok(())
    }
}
