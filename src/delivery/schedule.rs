//! When a failed delivery is tried again: the Standard Webhooks schedule, with jitter.

use std::time::Duration;

/// Waits after the 1st, 2nd, ... failed attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
/// 20 h, 24 h; every later retry waits 24 h, until the endpoint is disabled.
const WAITS_SECS: [u64; 9] = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400];

/// The longest any wait may be, `Retry-After` included.
pub const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);

/// An endpoint that has failed for this long is disabled.
pub const DISABLE_AFTER: Duration = Duration::from_secs(3 * 24 * 3600);

/// Each attempt gives up after this long.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);

/// The wait after `failed` attempts in a row (1 for the first failure). `jitter` in [0, 1)
/// moves it by up to ±10% so that endpoints failing together do not retry together. A
/// `Retry-After` asking for longer is honoured, up to `MAX_WAIT`.
pub fn next_wait(failed: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
    let index = (failed.max(1) as usize - 1).min(WAITS_SECS.len() - 1);
    let base = Duration::from_secs(WAITS_SECS[index]);
    let jittered = base.mul_f64(0.9 + 0.2 * jitter.clamp(0.0, 1.0));
    match retry_after {
        Some(asked) if asked > jittered => asked.min(MAX_WAIT),
        _ => jittered.min(MAX_WAIT),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_follow_the_schedule_with_jitter_and_retry_after() {
        let secs = |failed: u32, retry_after: Option<u64>, jitter: f64| {
            next_wait(failed, retry_after.map(Duration::from_secs), jitter).as_secs_f64()
        };
        for (failed, expected) in [
            (1, 5.0),
            (2, 300.0),
            (3, 1800.0),
            (9, 86400.0),
            (40, 86400.0),
        ] {
            assert_eq!(secs(failed, None, 0.5), expected, "after {failed} failures");
            assert!(secs(failed, None, 0.0) >= expected * 0.9 - 1e-9);
            assert!(secs(failed, None, 0.999) <= expected * 1.1);
        }
        assert_eq!(secs(1, Some(60), 0.5), 60.0, "Retry-After longer than 5 s");
        assert_eq!(
            secs(2, Some(60), 0.5),
            300.0,
            "Retry-After shorter than the schedule"
        );
        assert_eq!(secs(1, Some(10 * 86400), 0.5), 86400.0, "capped at 24 h");
    }
}
