//! Rate limits on intake, checked after authentication: per API key for `api-key`
//! sources, per source otherwise, and for GitHub when configured. Over the limit a
//! sender gets 429 with `Retry-After` and nothing is stored.

use std::collections::HashMap;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::RateLimit;
use crate::settings::Config;

pub struct RateLimits {
    limiters: HashMap<String, DefaultKeyedRateLimiter<String>>,
}

/// The quota of a configured limit (`None` for a zero rate, which validation refuses).
pub(crate) fn quota(limit: &RateLimit) -> Option<Quota> {
    let rate = NonZeroU32::new(limit.per_second)?;
    let burst = limit.burst.and_then(NonZeroU32::new).unwrap_or(rate);
    Some(Quota::per_second(rate).allow_burst(burst))
}

/// Whole seconds until `not_until` lets a request through, rounded up, at least one.
pub(crate) fn retry_after(not_until: &governor::NotUntil<<DefaultClock as Clock>::Instant>) -> u64 {
    let wait = not_until.wait_time_from(DefaultClock::default().now());
    wait.as_secs_f64().ceil().max(1.0) as u64
}

fn limiter(limit: &RateLimit) -> Option<DefaultKeyedRateLimiter<String>> {
    Some(RateLimiter::keyed(quota(limit)?))
}

impl RateLimits {
    pub fn from_config(config: &Config) -> RateLimits {
        let github = config
            .github
            .rate_limit
            .as_ref()
            .map(|l| (crate::sources::github::hook::SOURCE.to_owned(), l));
        let sources = config
            .sources
            .iter()
            .filter_map(|(name, s)| s.rate_limit.as_ref().map(|l| (name.clone(), l)));
        RateLimits {
            limiters: github
                .into_iter()
                .chain(sources)
                .filter_map(|(name, limit)| Some((name, limiter(limit)?)))
                .collect(),
        }
    }

    /// `Ok` if `source` (and, for keyed sources, `key`) may submit now; otherwise the
    /// whole seconds to wait.
    pub fn check(&self, source: &str, key: &str) -> Result<(), u64> {
        let Some(limiter) = self.limiters.get(source) else {
            return Ok(());
        };
        limiter
            .check_key(&key.to_owned())
            .map_err(|not_until| retry_after(&not_until))
    }
}
