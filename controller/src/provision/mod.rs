//! Provisioning: a phone on the station's USB hub (or reachable over ADB on TCP) becomes
//! a managed phone — work profile, messenger in it, personal copy dealt with, profile
//! settings, the agent pushed, enrolled and running. See docs/provisioning.md.
//!
//! Layout — a pure core and an I/O edge:
//! - [`preflight`] (pure): the facts script, its strict parser, and the checks that turn
//!   facts into per-phone errors (Android too old, no space, no agent build for the ABI,
//!   a foreign owner, no messenger).
//! - [`steps`] (pure): which of the planner's actions (`corral_profiles::plan`) belong to
//!   which step, the half-created-profile rule, and the agent's commands.
//! - [`link`]: the seam to the controller ([`ControllerLink`]: record runs and steps,
//!   issue an enrollment token, wait until the agent has enrolled and applied the
//!   profile) and its in-process implementation over the store ([`StoreLink`]).
//! - [`engine`] (edge): runs the steps for one phone through [`crate::adb`], records each
//!   one, and [`provision_all`] runs many phones with bounded concurrency.
//!
//! **Architecture invariant:** the Android command lines and their success checks are
//! the planner's and the agent's (`corral_agent::observe`, `corral_agent::enforce`): a
//! provisioned phone is exactly what the agent would make of it, and the agent's first
//! reconcile finds nothing to do but the contacts.
//!
//! Must never: retry a step on its own (a re-run does, after looking at the phone), or
//! skip the record of a step it ran.

pub mod engine;
mod error;
pub mod link;
pub mod preflight;
pub mod steps;

pub use engine::{
    PhoneResult, Progress, ProgressState, ProvisionSpec, provision_all, provision_phone,
};
pub use error::ProvisionError;
pub use link::{ControllerLink, EnrollmentTarget, LinkError, StoreLink};
