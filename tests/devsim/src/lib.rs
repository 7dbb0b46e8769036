//! corral-devsim: simulated Android phones that real ADB clients cannot tell from a phone.
//!
//! Layout:
//! - [`adb`]: the device side of the ADB transport — packets, AUTH, streams, and the
//!   `shell:`, `exec:`, `sync:`, `abb_exec:` and `reboot:` services. Owns sockets; knows
//!   nothing about Android commands.
//! - [`phone`]: the phone behind the transport — persisted state, a sandboxed file system,
//!   a small shell and the Android commands (`pm`, `am`, `dpm`, `content`, `settings`,
//!   `bmgr`, `getprop`) with the exact output of the configured Android version.
//! - [`faults`] and [`latency`]: what tests use to make a phone misbehave or be slow.
//! - [`simulator`]: starts many phones in one process, one TCP port each.
//! - [`host`]: test support — a private Debian `adb` server to look at the phones with.
#![forbid(unsafe_code)]

pub mod adb;
pub mod faults;
pub mod host;
pub mod latency;
pub mod phone;
pub mod simulator;
