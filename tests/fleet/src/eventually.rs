//! "Eventually": poll a condition until it holds or a deadline passes, then fail with what
//! was awaited, for how long, and what the last look saw. Timing is never asserted;
//! deadlines are generous because two cores serve the whole fleet.

use std::time::{Duration, Instant};

/// How long a fleet condition may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(180);

/// Polls `probe` every 100 ms until it returns `Ok`, for at most `timeout`. `Err` says
/// what the probe saw instead; the last one is in the panic message with `what`.
pub fn eventually<T>(
    what: &str,
    timeout: Duration,
    mut probe: impl FnMut() -> Result<T, String>,
) -> T {
    let start = Instant::now();
    loop {
        match probe() {
            Ok(value) => return value,
            Err(last) if start.elapsed() > timeout => {
                panic!("timed out after {timeout:?} waiting for {what}; last seen: {last}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}
