//! Counters of the agent's wake-ups, for the idle-cost measurement (`benches/idle.rs`,
//! docs/benchmarks.md): every loop iteration of the keeper and the session, timers that
//! fired, heartbeats sent. Process-wide atomics; reading them costs nothing.

use std::sync::atomic::{AtomicU64, Ordering};

/// A monotonically increasing counter.
#[derive(Debug)]
pub struct Counter(AtomicU64);

impl Counter {
    const fn new() -> Self {
        Counter(AtomicU64::new(0))
    }

    /// Adds one.
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Iterations of the keeper's loop (events, reconcile timer).
pub static KEEPER_WAKEUPS: Counter = Counter::new();
/// Reconciles run.
pub static RECONCILES: Counter = Counter::new();
/// Iterations of the session's loop (frames, heartbeats, outbox).
pub static SESSION_WAKEUPS: Counter = Counter::new();
/// Heartbeats sent.
pub static HEARTBEATS: Counter = Counter::new();
/// Connection attempts to the gateway.
pub static CONNECTS: Counter = Counter::new();

/// All counters by name.
pub fn snapshot() -> Vec<(&'static str, u64)> {
    vec![
        ("keeper_wakeups", KEEPER_WAKEUPS.get()),
        ("reconciles", RECONCILES.get()),
        ("session_wakeups", SESSION_WAKEUPS.get()),
        ("heartbeats", HEARTBEATS.get()),
        ("connects", CONNECTS.get()),
    ]
}
