//! Fleet tests' harness: the real `corral`, `corral-agent` and `corral-devsim` binaries as
//! processes, and Debian's `adb` to look at the phones. A [`Fleet`] is one controller
//! (`corral serve`), N simulated phones (`corral-devsim`), one agent per phone
//! (`corral-agent run --adb 127.0.0.1:PORT`) and a private adb server, in one temporary
//! directory; any of them can be killed (SIGKILL), stopped (SIGTERM) and started again.
//!
//! The binaries are found next to the test executable (see [`binaries`]): run the tests
//! with `cargo test --workspace`, or build the binaries first
//! ([`binaries::BUILD_COMMAND`]) and then `cargo test -p corral-fleet-tests`.
//! Must never: reach into a process's memory — everything is checked the way an operator
//! would (`adb shell`, the REST API, the controller's database file, the agent's files).
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod agents;
pub mod binaries;
pub mod controller;
pub mod eventually;
pub mod fleet;
pub mod http;
pub mod phones;
pub mod process;
pub mod shop;

pub use fleet::{Fleet, Published};
pub use phones::Latency;
