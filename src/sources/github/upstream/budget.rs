//! The rate-limit budget of one credential, read from every response's
//! `X-RateLimit-*` headers, per resource (`core`, `graphql`, ...), plus the pause a
//! secondary limit imposes. Decides when a credential may be used again.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use serde::Serialize;

/// One rate-limit window as GitHub last reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    pub limit: u64,
    pub remaining: u64,
    /// Unix seconds at which `remaining` goes back to `limit`.
    pub reset: u64,
}

#[derive(Debug, Default)]
pub struct Budget {
    windows: HashMap<String, Window>,
    /// Unix milliseconds before which this credential must not be used (secondary limit).
    paused_until_ms: u64,
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// `Retry-After` in seconds (GitHub sends seconds, never a date).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    header_u64(headers, "retry-after").map(Duration::from_secs)
}

/// The window a response reports, and which resource it belongs to.
pub fn window_of(headers: &HeaderMap) -> Option<(String, Window)> {
    let window = Window {
        limit: header_u64(headers, "x-ratelimit-limit")?,
        remaining: header_u64(headers, "x-ratelimit-remaining")?,
        reset: header_u64(headers, "x-ratelimit-reset")?,
    };
    let resource = headers
        .get("x-ratelimit-resource")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("core")
        .to_owned();
    Some((resource, window))
}

impl Budget {
    pub fn observe(&mut self, headers: &HeaderMap) {
        if let Some((resource, window)) = window_of(headers) {
            self.windows.insert(resource, window);
        }
    }

    pub fn pause_until(&mut self, until_ms: u64) {
        self.paused_until_ms = self.paused_until_ms.max(until_ms);
    }

    /// Marks a resource as spent until its reset (a primary limit was hit).
    pub fn exhaust(&mut self, resource: &str, reset: u64) {
        let window = self.windows.entry(resource.to_owned()).or_insert(Window {
            limit: 0,
            remaining: 0,
            reset,
        });
        window.remaining = 0;
        window.reset = window.reset.max(reset);
    }

    /// Requests this credential may still spend on `resource` now, keeping `reserve`
    /// for others; `None` when it has not been used yet (so the budget is unknown).
    pub fn spendable(&self, resource: &str, reserve: u64, now_ms: u64) -> Option<u64> {
        if self.paused_until_ms > now_ms {
            return Some(0);
        }
        let window = self.windows.get(resource)?;
        if window.reset * 1000 <= now_ms {
            return None;
        }
        Some(window.remaining.saturating_sub(reserve))
    }

    /// When this credential can next spend on `resource`, in Unix milliseconds.
    pub fn available_at(&self, resource: &str, reserve: u64, now_ms: u64) -> u64 {
        let mut at = self.paused_until_ms.max(now_ms);
        if let Some(window) = self.windows.get(resource) {
            if window.remaining <= reserve && window.reset * 1000 > now_ms {
                // One second of slack: GitHub's reset is rounded down to the second.
                at = at.max(window.reset * 1000 + 1000);
            }
        }
        at
    }

    pub fn windows(&self) -> &HashMap<String, Window> {
        &self.windows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn reads_windows_per_resource_and_keeps_a_reserve() {
        let mut budget = Budget::default();
        let now = 1_000_000_000;
        assert_eq!(budget.spendable("core", 10, now), None);
        budget.observe(&headers(&[
            ("x-ratelimit-limit", "5000"),
            ("x-ratelimit-remaining", "12"),
            ("x-ratelimit-reset", "1000060"),
            ("x-ratelimit-resource", "core"),
        ]));
        assert_eq!(budget.spendable("core", 10, now), Some(2));
        assert_eq!(budget.spendable("graphql", 10, now), None);
        assert_eq!(budget.available_at("core", 10, now), now);
        assert_eq!(budget.available_at("core", 12, now), 1_000_061_000);
        // After the reset the old window no longer binds.
        assert_eq!(budget.spendable("core", 12, 1_000_060_000), None);
    }

    #[test]
    fn a_pause_blocks_every_resource() {
        let mut budget = Budget::default();
        budget.pause_until(5_000);
        assert_eq!(budget.spendable("core", 0, 1_000), Some(0));
        assert_eq!(budget.available_at("graphql", 0, 1_000), 5_000);
        assert_eq!(budget.spendable("core", 0, 5_000), None);
    }
}
