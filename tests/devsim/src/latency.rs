//! The latency model: how long a real phone on USB takes, so timing-sensitive code
//! (batching, parallel provisioning) is exercised against realistic costs.
//!
//! Off (`LatencyModel::none()`) in unit tests. The defaults of [`LatencyModel::real`]
//! and where they come from are documented on the constructor.

use std::time::Duration;

/// Per-phone costs. All zero when disabled.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyModel {
    /// Master switch.
    pub enabled: bool,
    /// Cost of one ADB round trip (OPEN → OKAY), paid once per opened stream.
    pub round_trip: Duration,
    /// Cost of starting a shell process for a `shell:`/`exec:` stream.
    pub shell_spawn: Duration,
    /// Extra cost per simple command by program prefix (e.g. `pm install-existing`),
    /// first match wins; `default_command` otherwise.
    pub command_costs: Vec<(String, Duration)>,
    /// Cost of a simple command without a specific entry.
    pub default_command: Duration,
    /// Bulk transfer cap in bytes per second (`0` = unlimited).
    pub bandwidth_bytes_per_sec: u64,
}

impl LatencyModel {
    /// No delays at all.
    pub fn none() -> Self {
        LatencyModel {
            enabled: false,
            round_trip: Duration::ZERO,
            shell_spawn: Duration::ZERO,
            command_costs: Vec::new(),
            default_command: Duration::ZERO,
            bandwidth_bytes_per_sec: 0,
        }
    }

    /// The cost of one simple command (program plus arguments).
    pub fn command_cost(&self, command_line: &str) -> Duration {
        if !self.enabled {
            return Duration::ZERO;
        }
        self.command_costs
            .iter()
            .find(|(prefix, _)| command_line.starts_with(prefix.as_str()))
            .map(|(_, d)| *d)
            .unwrap_or(self.default_command)
    }

    /// How long moving `bytes` over the link takes.
    pub fn transfer_time(&self, bytes: u64) -> Duration {
        if !self.enabled || self.bandwidth_bytes_per_sec == 0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64(bytes as f64 / self.bandwidth_bytes_per_sec as f64)
    }
}
