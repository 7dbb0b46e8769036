//! The latency model: how long a real phone on USB takes, so timing-sensitive code
//! (batching, parallel provisioning) is exercised against realistic costs.
//!
//! Off (`LatencyModel::none()`) in unit tests. The defaults of [`LatencyModel::real`]
//! and where they come from are documented on the constructor. The transport pays
//! `round_trip` and `shell_spawn` per opened stream and `transfer_time` per WRTE; the
//! phone pays `command_cost` per simple command.

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

    /// Costs measured on or reported for real phones on USB 2.0. Where no measurement was
    /// found the value is an estimate and says so; docs/devsim.md lists the same table.
    ///
    /// - `round_trip` 2 ms: one OPEN → OKAY over USB. handsets.dev's benchmark (2026-05,
    ///   Android 15 emulator) measured 1.6 ms p50 for a request on an already-open
    ///   socket; USB adds a little (estimate).
    /// - `shell_spawn` 20 ms: starting `/system/bin/sh` for a `shell:` stream. The same
    ///   benchmark measured `adb shell true` at 27.7 ms p50 including the host's `adb`
    ///   process; ~20 ms of that is the device side (estimate).
    /// - `bandwidth_bytes_per_sec` 36 MB/s: `adb push` to a Pixel 3 (blueline) over USB
    ///   2.0 without compression, from the AOSP commit "adb: implement compression for
    ///   file sync" (36 MB/s uncompressed, 70 MB/s with brotli; 125 MB/s on USB 3.0).
    ///   adb 29 has no sync compression, so 36 MB/s is its ceiling on USB 2.0.
    /// - Commands served by `cmd` (a binder call into system_server: `pm`, `am`,
    ///   `settings`, `dpm` on Android 12+) 40 ms: handsets.dev measured `adb shell wm
    ///   size` 18 ms slower than `adb shell true` on an emulator; a phone is slower
    ///   (estimate).
    /// - `app_process` Java programs (`content`, `bmgr`, `input`) 350 ms: "300~400 ms to
    ///   execute input tap" (quamotion/madb#56); starting the Java process is the main
    ///   delay (Genymobile/scrcpy#231).
    /// - Heavy package-manager and user operations (estimates, no measurement found):
    ///   `pm install`/`cmd package install` 2 s (parsing and dexopt), `pm create-user`
    ///   1.5 s, `pm remove-user` 1 s, `am start-user -w` 3 s, `am start-user` 1 s,
    ///   `pm install-existing` 250 ms.
    /// - Anything else (toybox and shell builtins: `echo`, `getprop`, `ls`) 3 ms
    ///   (estimate).
    pub fn real() -> Self {
        let ms = Duration::from_millis;
        let costs: [(&str, u64); 18] = [
            ("pm install-existing", 250),
            ("pm install", 2000),
            ("cmd package install", 2000),
            ("pm create-user", 1500),
            ("pm remove-user", 1000),
            ("am start-user -w", 3000),
            ("am start-user", 1000),
            ("content", 350),
            ("bmgr", 350),
            ("input", 350),
            ("pm", 40),
            ("am", 40),
            ("cmd", 40),
            ("dpm", 40),
            ("settings", 40),
            ("dumpsys", 60),
            ("getprop", 3),
            ("echo", 3),
        ];
        LatencyModel {
            enabled: true,
            round_trip: ms(2),
            shell_spawn: ms(20),
            command_costs: costs
                .iter()
                .map(|(prefix, cost)| ((*prefix).to_owned(), ms(*cost)))
                .collect(),
            default_command: ms(3),
            bandwidth_bytes_per_sec: 36_000_000,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_costs_nothing() {
        let none = LatencyModel::none();
        assert_eq!(
            none.command_cost("pm create-user --profileOf 0 --managed Work"),
            Duration::ZERO
        );
        assert_eq!(none.transfer_time(1 << 30), Duration::ZERO);
    }

    #[test]
    fn real_matches_the_most_specific_prefix_first() {
        let real = LatencyModel::real();
        assert_eq!(
            real.command_cost("pm install-existing --user 10 com.whatsapp"),
            Duration::from_millis(250)
        );
        assert_eq!(
            real.command_cost("pm list users"),
            Duration::from_millis(40)
        );
        assert_eq!(
            real.command_cost("am start-user -w 10"),
            Duration::from_secs(3)
        );
        assert_eq!(real.command_cost("true"), Duration::from_millis(3));
        assert_eq!(real.transfer_time(36_000_000), Duration::from_secs(1));
    }
}
