//! Per-directory rate limits (off unless configured): a token bucket per directory, refilled at
//! `per_second` up to `burst`. Over the limit a SCIM client gets 429 with `Retry-After`, which
//! Entra and Okta wait out before retrying. Each instance counts its own requests.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::domain::ids::DirectoryId;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: f64,
}

struct Bucket {
    tokens: f64,
    refilled: Instant,
}

pub struct RateLimiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<DirectoryId, Bucket>>,
}

impl RateLimiter {
    pub fn new(limit: RateLimit) -> RateLimiter {
        RateLimiter {
            limit,
            buckets: Mutex::default(),
        }
    }

    /// Takes one request from `directory`'s bucket; when it is empty, how long until it holds
    /// one again.
    pub fn take(&self, directory: &DirectoryId, now: Instant) -> Result<(), Duration> {
        let RateLimit { per_second, burst } = self.limit;
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = buckets.entry(directory.clone()).or_insert(Bucket {
            tokens: burst,
            refilled: now,
        });
        let elapsed = now.saturating_duration_since(bucket.refilled).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(burst);
        bucket.refilled = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_second))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_rate_holds() {
        let limiter = RateLimiter::new(RateLimit {
            per_second: 2.0,
            burst: 3.0,
        });
        let (a, b) = (DirectoryId::from_raw("a"), DirectoryId::from_raw("b"));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.take(&a, t0).is_ok());
        }
        let wait = limiter.take(&a, t0).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        assert!(
            limiter.take(&b, t0).is_ok(),
            "another directory has its own bucket"
        );
        assert!(limiter.take(&a, t0 + Duration::from_millis(500)).is_ok());
        assert!(limiter.take(&a, t0 + Duration::from_millis(500)).is_err());
    }
}
