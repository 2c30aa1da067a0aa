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
    clock: DefaultClock,
}

fn limiter(limit: &RateLimit) -> Option<DefaultKeyedRateLimiter<String>> {
    let rate = NonZeroU32::new(limit.per_second)?;
    let burst = limit.burst.and_then(NonZeroU32::new).unwrap_or(rate);
    Some(RateLimiter::keyed(
        Quota::per_second(rate).allow_burst(burst),
    ))
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
            clock: DefaultClock::default(),
        }
    }

    /// `Ok` if `source` (and, for keyed sources, `key`) may submit now; otherwise the
    /// whole seconds to wait.
    pub fn check(&self, source: &str, key: &str) -> Result<(), u64> {
        let Some(limiter) = self.limiters.get(source) else {
            return Ok(());
        };
        limiter.check_key(&key.to_owned()).map_err(|not_until| {
            // Whole seconds, rounded up, at least one.
            let wait = not_until.wait_time_from(self.clock.now());
            wait.as_secs_f64().ceil().max(1.0) as u64
        })
    }
}
