//! Counters of one agent's wake-ups, for the idle-cost checks (`tests/controller_e2e.rs`,
//! `benches/idle.rs`, docs/benchmarks.md): every loop iteration of the keeper and the
//! session, reconciles, heartbeats, connection attempts. Atomics; reading costs nothing.

use std::sync::atomic::{AtomicU64, Ordering};

/// A monotonically increasing counter.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds one.
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// One agent's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Iterations of the keeper's loop (events, reconcile timer).
    pub keeper_wakeups: Counter,
    /// Reconciles run.
    pub reconciles: Counter,
    /// Iterations of the session's loop (frames, heartbeats, outbox).
    pub session_wakeups: Counter,
    /// Heartbeats sent.
    pub heartbeats: Counter,
    /// Connection attempts to the gateway.
    pub connects: Counter,
}

impl Metrics {
    /// All counters by name.
    pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("keeper_wakeups", self.keeper_wakeups.get()),
            ("reconciles", self.reconciles.get()),
            ("session_wakeups", self.session_wakeups.get()),
            ("heartbeats", self.heartbeats.get()),
            ("connects", self.connects.get()),
        ]
    }
}
