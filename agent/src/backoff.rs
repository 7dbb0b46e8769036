//! The reconnect schedule: jittered exponential backoff with bounds. Pure: the caller
//! draws the random number and sleeps.
//!
//! Attempt `n` (0-based) waits `min(max, base · 2ⁿ)` scaled by a factor in
//! `[1 − JITTER, 1]` ("equal jitter" style, so a fleet that lost the controller at the
//! same moment does not come back in step, and no wait is ever longer than `max`). A
//! connection that stayed up for `reset_after` starts again from attempt 0.

use std::time::Duration;

/// Bounds of the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first wait (before jitter).
    pub base: Duration,
    /// No wait is longer than this.
    pub max: Duration,
    /// A connection that lasted this long resets the schedule.
    pub reset_after: Duration,
}

/// How much of a wait jitter may take away.
pub const JITTER: f64 = 0.5;

impl Default for Backoff {
    /// 1 s doubling up to 5 min; a connection of a minute resets it.
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(1),
            max: Duration::from_secs(300),
            reset_after: Duration::from_secs(60),
        }
    }
}

impl Backoff {
    /// The wait before attempt `attempt` (0-based), for a uniform random `unit` in
    /// `[0, 1)` (out-of-range values are clamped).
    pub fn delay(&self, attempt: u32, unit: f64) -> Duration {
        let cap = self.max.as_secs_f64();
        let exp = self.base.as_secs_f64() * 2f64.powi(attempt.min(62) as i32);
        let ceiling = exp.min(cap);
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let wait = ceiling * (1.0 - JITTER * unit);
        Duration::from_secs_f64(wait.clamp(0.0, cap))
    }

    /// After a connection that lasted `connected_for` ended (or failed to open): how long
    /// to wait, and the attempt number to pass next time. `attempt` starts at 0.
    pub fn after(&self, attempt: u32, connected_for: Duration, unit: f64) -> (Duration, u32) {
        let attempt = if connected_for >= self.reset_after {
            0
        } else {
            attempt
        };
        (self.delay(attempt, unit), attempt.saturating_add(1))
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn doubles_up_to_the_cap() {
        let b = Backoff::default();
        let waits: Vec<String> = (0..12).map(|n| format!("{:?}", b.delay(n, 0.0))).collect();
        expect![[r#"["1s", "2s", "4s", "8s", "16s", "32s", "64s", "128s", "256s", "300s", "300s", "300s"]"#]]
            .assert_eq(&format!("{waits:?}"));
    }

    #[test]
    fn jitter_takes_at_most_half() {
        let b = Backoff::default();
        assert_eq!(b.delay(3, 1.0), Duration::from_secs(4));
        assert_eq!(b.delay(3, 0.5), Duration::from_secs(6));
        assert_eq!(b.delay(3, f64::NAN), Duration::from_secs(8));
        assert_eq!(b.delay(3, 7.0), Duration::from_secs(4));
    }

    #[test]
    fn failures_walk_the_schedule_and_a_long_connection_resets_it() {
        let b = Backoff::default();
        let (w, next) = b.after(0, Duration::ZERO, 0.0);
        assert_eq!((w, next), (Duration::from_secs(1), 1));
        let (w, next) = b.after(next, Duration::from_millis(5), 0.0);
        assert_eq!((w, next), (Duration::from_secs(2), 2));
        let (w, next) = b.after(5, Duration::from_secs(61), 0.0);
        assert_eq!((w, next), (Duration::from_secs(1), 1));
        assert_eq!(b.after(u32::MAX, Duration::ZERO, 0.0).1, u32::MAX);
    }

    proptest! {
        #[test]
        fn always_within_bounds(attempt in 0u32..10_000, unit in 0.0f64..1.0) {
            let b = Backoff::default();
            let d = b.delay(attempt, unit);
            prop_assert!(d <= b.max);
            prop_assert!(d >= b.base.mul_f64(1.0 - JITTER));
            prop_assert!(b.delay(attempt + 1, 0.0) >= b.delay(attempt, 0.0));
        }
    }
}
