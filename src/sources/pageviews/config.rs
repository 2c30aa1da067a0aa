//! `[pageviews]`: the page-view source. Which query parameters survive in a counted
//! path, where the client's address comes from behind a proxy, how long a visit lasts
//! (and so how long yesterday's salt lives), and how live counters are fed.

use serde::Deserialize;

use crate::config::{ConfigError, RateLimit};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageviewsConfig {
    /// Query parameters kept in counted paths (e.g. `page`); every other one is dropped.
    #[serde(default)]
    pub keep_query: Vec<String>,
    /// The header a trusted proxy puts the client's address in (e.g. `X-Forwarded-For`,
    /// whose last entry is taken); empty: the connection's peer address.
    #[serde(default)]
    pub client_ip_header: String,
    /// A visit ends after this many minutes without a view (1–240). Yesterday's salt
    /// is destroyed this long after UTC midnight, once no visit can still continue it.
    pub session_minutes: u32,
    /// How often live counters look in the store for views other replicas took (50–5000).
    pub live_poll_ms: u64,
    /// Most WebSocket and event-stream readers one process serves at once.
    pub max_live_connections: usize,
    /// Hits one client address may send one site: a steady `per_second`, bursts of up
    /// to `burst`. Unset: no limit.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// `[pageviews.logs]`: access logs.
    pub logs: LogsConfig,
}

/// `[pageviews.logs]`: what access-log lines count, how their addresses are masked,
/// and how large an upload may be.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogsConfig {
    /// Count static assets (by extension) as views too.
    pub count_assets: bool,
    /// Count redirects (3xx other than 304) as views too.
    pub count_redirects: bool,
    /// Prefix IPv4 addresses in journaled lines are cut to (at most 24).
    pub mask_ipv4: u8,
    /// Prefix IPv6 addresses in journaled lines are cut to (at most 48).
    pub mask_ipv6: u8,
    /// Largest upload to `POST /api/v1/beacon/log`, in bytes as sent.
    pub max_upload_bytes: u64,
}

impl PageviewsConfig {
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        if !(1..=240).contains(&self.session_minutes) {
            return Err(ConfigError::invalid(
                "pageviews.session_minutes",
                "must be between 1 and 240 minutes",
            ));
        }
        if !(50..=5000).contains(&self.live_poll_ms) {
            return Err(ConfigError::invalid(
                "pageviews.live_poll_ms",
                "must be between 50 and 5000 milliseconds",
            ));
        }
        if self.max_live_connections == 0 {
            return Err(ConfigError::invalid(
                "pageviews.max_live_connections",
                "must be greater than 0",
            ));
        }
        if self.logs.mask_ipv4 > super::logs::mask::FINEST_V4 {
            return Err(ConfigError::invalid(
                "pageviews.logs.mask_ipv4",
                "must be at most 24: a finer prefix keeps a household's address",
            ));
        }
        if self.logs.mask_ipv6 > super::logs::mask::FINEST_V6 {
            return Err(ConfigError::invalid(
                "pageviews.logs.mask_ipv6",
                "must be at most 48: a finer prefix keeps a household's address",
            ));
        }
        if self.logs.max_upload_bytes == 0 {
            return Err(ConfigError::invalid(
                "pageviews.logs.max_upload_bytes",
                "must be greater than 0",
            ));
        }
        if let Some(limit) = &self.rate_limit {
            limit.check("pageviews.rate_limit")?;
        }
        if let Some(bad) = self
            .keep_query
            .iter()
            .find(|p| p.is_empty() || p.len() > 64)
        {
            return Err(ConfigError::invalid(
                "pageviews.keep_query",
                format!("`{bad}` is not a query parameter name (1-64 characters)"),
            ));
        }
        if !self.client_ip_header.is_empty()
            && axum::http::HeaderName::try_from(self.client_ip_header.as_str()).is_err()
        {
            return Err(ConfigError::invalid(
                "pageviews.client_ip_header",
                format!("`{}` is not a header name", self.client_ip_header),
            ));
        }
        Ok(())
    }
}
