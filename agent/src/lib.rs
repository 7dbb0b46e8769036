//! corral's on-phone agent as a library: the binary (`main.rs`) and the integration tests
//! share every code path.
//!
//! Layout — pure decision logic apart from the edges that do I/O (linkerd2-proxy style):
//! - [`shell`] (edge): the Android shell trait, the phone's own `sh` and ADB to a phone.
//! - [`observe`]: the commands that read a phone and their strict parsers →
//!   `corral_profiles::ObservedPhone`.
//! - [`enforce`]: runs a plan's batches through the shell and checks every command's output.
//! - [`reconcile`]: observe → plan → enforce → observe again, and the reports it yields.
//! - [`outbox`]: the on-disk log of reports, delivered exactly once.
//! - [`state`] (edge): the state directory — key, certificates, configuration, applied profile.
//! - [`enroll`], [`session`], [`run`] (edges): enrollment, the gateway connection, the loop.
//! - [`backoff`], [`renew`]: pure schedules.
//! - [`cli`]: the command line.
#![forbid(unsafe_code)]

pub mod backoff;
pub mod cli;
pub mod enforce;
pub mod enroll;
pub mod fuzz;
pub mod metrics;
pub mod observe;
pub mod outbox;
pub mod reconcile;
pub mod renew;
pub mod run;
pub mod session;
pub mod shell;
pub mod state;
