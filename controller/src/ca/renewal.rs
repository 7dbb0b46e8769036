//! When a certificate should be renewed: at 70% of its lifetime (Linkerd's rule). Pure, so
//! the agent and the controller agree and tests can pick any clock.

use crate::domain::Timestamp;

/// The moment 70% of the lifetime `not_before..not_after` has passed.
pub fn renewal_at(not_before: Timestamp, not_after: Timestamp) -> Timestamp {
    let life = i128::from(not_after.unix_millis()) - i128::from(not_before.unix_millis());
    if life <= 0 {
        return not_before;
    }
    let at = i128::from(not_before.unix_millis()) + life * 7 / 10;
    Timestamp::from_unix_millis(i64::try_from(at).unwrap_or(i64::MAX))
}

/// Whether a certificate valid `not_before..not_after` is due for renewal at `now`.
pub fn renewal_due(not_before: Timestamp, not_after: Timestamp, now: Timestamp) -> bool {
    now >= renewal_at(not_before, not_after)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    fn t(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(ms)
    }

    #[test]
    fn renewal_is_due_at_seventy_percent_of_the_lifetime() {
        for life in [HOUR, 24 * HOUR, 30 * 24 * HOUR] {
            let start = 1_000_000;
            let end = start + life;
            assert_eq!(renewal_at(t(start), t(end)), t(start + life * 7 / 10));
            assert!(!renewal_due(t(start), t(end), t(start)));
            assert!(!renewal_due(t(start), t(end), t(start + life * 7 / 10 - 1)));
            assert!(renewal_due(t(start), t(end), t(start + life * 7 / 10)));
            assert!(renewal_due(t(start), t(end), t(end + 1)));
        }
    }

    #[test]
    fn an_empty_or_inverted_lifetime_is_due_at_once() {
        assert!(renewal_due(t(5), t(5), t(5)));
        assert!(renewal_due(t(10), t(5), t(10)));
    }

    #[test]
    fn extreme_timestamps_do_not_overflow() {
        assert_eq!(
            renewal_at(t(i64::MIN), t(i64::MAX)),
            t(
                (i128::from(i64::MIN) + (i128::from(i64::MAX) - i128::from(i64::MIN)) * 7 / 10)
                    as i64
            )
        );
    }
}
