//! When to renew the device certificate: at 70% of its lifetime, never sooner than
//! `min` from now and never later than `max` from now (linkerd2-proxy's `refresh_in`).
//! Pure: the caller reads the certificate's validity and the clock.

use std::time::Duration;

/// Bounds of the renewal schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Renewal {
    /// Never renew sooner than this from now (a broken clock must not cause a storm).
    pub min: Duration,
    /// Never wait longer than this (a renewal that failed is retried).
    pub max: Duration,
}

impl Default for Renewal {
    /// 10 s to 24 h, as linkerd2-proxy.
    fn default() -> Self {
        Renewal {
            min: Duration::from_secs(10),
            max: Duration::from_secs(24 * 3600),
        }
    }
}

/// The share of the lifetime after which a certificate is renewed.
pub const RENEW_AT: f64 = 0.7;

impl Renewal {
    /// How long from `now` until the renewal of a certificate valid from `not_before` to
    /// `not_after` (all in seconds since the Unix epoch).
    pub fn renew_in(&self, not_before: i64, not_after: i64, now: i64) -> Duration {
        let lifetime = not_after.saturating_sub(not_before).max(0) as f64;
        let at = not_before as f64 + lifetime * RENEW_AT;
        let wait = (at - now as f64).max(0.0);
        Duration::from_secs_f64(wait).clamp(self.min, self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 24 * 3600;

    #[test]
    fn seventy_percent_of_the_lifetime() {
        let r = Renewal {
            min: Duration::from_secs(10),
            max: Duration::from_secs(365 * 24 * 3600),
        };
        // 30 days issued now: 21 days.
        assert_eq!(
            r.renew_in(0, 30 * DAY, 0),
            Duration::from_secs(21 * DAY as u64)
        );
        // One hour: 42 minutes.
        assert_eq!(
            r.renew_in(1000, 1000 + 3600, 1000),
            Duration::from_secs(2520)
        );
        // One day, half gone: 0.2 days left.
        assert_eq!(
            r.renew_in(0, DAY, DAY / 2),
            Duration::from_secs_f64(0.2 * DAY as f64)
        );
    }

    #[test]
    fn clamped_to_the_bounds() {
        let r = Renewal::default();
        // Past due: the minimum, not zero.
        assert_eq!(r.renew_in(0, 100, 1000), Duration::from_secs(10));
        // 30 days: capped at a day, then re-evaluated.
        assert_eq!(r.renew_in(0, 30 * DAY, 0), Duration::from_secs(DAY as u64));
        // Nonsense validity (after before before).
        assert_eq!(r.renew_in(100, 0, 0), Duration::from_secs(100));
    }
}
