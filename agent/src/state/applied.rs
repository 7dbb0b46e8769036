//! `applied.json`: the profile the phone is held to, and the bookkeeping that makes a push
//! act at most once and its result reach the outbox exactly once.
//!
//! Applying a push is a two-phase write: (1) `applied.json` gets the new state *and* the
//! result with the outbox number reserved for it (`pending`), (2) the result is appended to
//! the outbox under that number, (3) `pending` is cleared. A crash after (1) replays (2) at
//! start-up; the outbox refuses a number it already holds, so the result is written once.

use corral_wire::AgentMessage;
use serde::{Deserialize, Serialize};

/// A result waiting to be written to the outbox under a reserved number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingResult {
    /// The outbox number reserved for it.
    pub seq: u64,
    /// The report (carrying `seq`).
    pub message: AgentMessage,
}

/// A pushed version that failed to apply: retried at every reconcile until it applies
/// (or another push replaces it), then reported as applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wanted {
    /// Its version.
    pub version: String,
    /// Its canonical TOML.
    pub profile: String,
    /// The push that carried it.
    pub push_seq: u64,
}

/// What `applied.json` holds.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Applied {
    /// The applied profile version (`sha256:…`), if any.
    #[serde(default)]
    pub version: Option<String>,
    /// Its canonical TOML, to enforce while offline and after restarts.
    #[serde(default)]
    pub profile: Option<String>,
    /// The highest push sequence number acted on.
    #[serde(default)]
    pub push_seq: u64,
    /// A pushed version that failed to apply and is being retried.
    #[serde(default)]
    pub wanted: Option<Wanted>,
    /// A result not yet in the outbox.
    #[serde(default)]
    pub pending: Option<PendingResult>,
}
