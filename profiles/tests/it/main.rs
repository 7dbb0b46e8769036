//! Integration tests of corral-profiles, in one binary: data-driven snapshot tests of
//! diagnostics, resolution, diffs and plans; property tests of versions and the planner;
//! the fuzz entry point over mutated inputs; and the tidy checks of the crate's
//! invariants.

// Test helpers unwrap too: a failure there is a failed test, not bad input handling.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod canonical;
mod capture;
mod diagnostics;
mod diff;
mod fixture;
mod fuzz;
mod planner;
mod properties;
mod resolve;
mod tidy;
