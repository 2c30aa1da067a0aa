//! Per-client limits on hits (`pageviews.rate_limit`): one address may send one site so
//! many hits a second, so a script looping on a beacon cannot inflate the counts. Over
//! the limit a hit is refused like any other (nothing stored); unset, nothing is limited.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use governor::{DefaultKeyedRateLimiter, RateLimiter};

use crate::config::RateLimit;
use crate::http::error::ApiError;
use crate::http::rate_limit;

/// Checks between sweeps of clients whose buckets are full again (forgotten).
const SWEEP_EVERY: u64 = 10_000;

pub struct HitLimits {
    limiter: DefaultKeyedRateLimiter<(String, Option<IpAddr>)>,
    checks: AtomicU64,
}

impl HitLimits {
    /// The limits of `limit`, or `None` without one.
    pub fn new(limit: Option<&RateLimit>) -> Option<HitLimits> {
        Some(HitLimits {
            limiter: RateLimiter::keyed(rate_limit::quota(limit?)?),
            checks: AtomicU64::new(0),
        })
    }

    /// `Ok` if the client at `ip` may send `site` a hit now; else 429 `rate_limited`.
    pub fn check(&self, site: &str, ip: Option<IpAddr>) -> Result<(), ApiError> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter
            .check_key(&(site.to_owned(), ip))
            .map_err(|not_until| ApiError::RateLimited {
                retry_after: rate_limit::retry_after(&not_until),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_client_of_each_site_has_its_own_bucket() {
        let limit = RateLimit {
            per_second: 1,
            burst: Some(2),
        };
        let limits = HitLimits::new(Some(&limit)).unwrap();
        let a: Option<IpAddr> = "192.0.2.1".parse().ok();
        let b: Option<IpAddr> = "192.0.2.2".parse().ok();
        assert!(limits.check("x.test", a).is_ok());
        assert!(limits.check("x.test", a).is_ok());
        let refused = limits.check("x.test", a).unwrap_err();
        assert!(matches!(refused, ApiError::RateLimited { retry_after } if retry_after >= 1));
        assert!(limits.check("x.test", b).is_ok());
        assert!(limits.check("y.test", a).is_ok());
        assert!(HitLimits::new(None).is_none());
    }
}
