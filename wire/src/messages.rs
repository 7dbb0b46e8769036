//! Every message of the protocol, as plain serde DTOs: the agent's frames to the gateway
//! ([`AgentMessage`]), the gateway's replies ([`ControllerMessage`]), and the one
//! request/response pair of enrollment ([`EnrollRequest`], [`EnrollResponse`]).
//!
//! Owns: field names and JSON shapes (`"type"` in snake case selects the variant).
//! Must never: hold domain types or validate domain rules; identifiers travel as strings
//! and each end parses them into its own types at the boundary.
//!
//! Unknown fields are ignored (a newer peer may add optional ones); an unknown `"type"` is
//! an error ([`crate::FrameError::UnknownType`]).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A message type that can travel in a frame: the `"type"` values it accepts.
pub trait Message: Serialize + for<'de> Deserialize<'de> {
    /// Every `"type"` value this message accepts, for precise errors.
    const TYPES: &'static [&'static str];
    /// Who sends it, for error messages ("agent", "controller", …).
    const SENDER: &'static str;
}

// === Agent → controller (gateway) ===

/// What an agent sends on the gateway connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentMessage {
    /// First frame of every connection.
    Hello(Hello),
    /// The outcome of a [`ProfilePush`]; acknowledges the push.
    ApplyResult(ApplyResult),
    /// What the phone looks like now.
    StateReport(StateReport),
    /// Where the phone differs from its profile.
    DriftReport(DriftReport),
    /// Keeps the connection alive and updates "last seen".
    Heartbeat {},
    /// The outcome of a [`Command`]; acknowledges the command's push.
    CommandResult(CommandResult),
    /// Asks for a new certificate for a new key (at 70% of the current one's lifetime).
    RenewRequest(RenewRequest),
    /// The outcome of a [`ContactsPush`]; acknowledges the push.
    ContactsResult(ContactsResult),
}

impl Message for AgentMessage {
    const TYPES: &'static [&'static str] = &[
        "hello",
        "apply_result",
        "state_report",
        "drift_report",
        "heartbeat",
        "command_result",
        "renew_request",
        "contacts_result",
    ];
    const SENDER: &'static str = "agent";
}

/// The agent introduces itself and says where it is, so nothing is lost or done twice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    pub agent_version: String,
    /// The protocol version the agent speaks (also in every frame's `"v"`).
    pub protocol_version: u32,
    /// The profile version (hash) the agent has applied, if any.
    pub last_applied_version: Option<String>,
    /// The highest push `seq` the agent has acted on; the controller acknowledges every
    /// push up to it instead of sending it again.
    pub last_push_seq_processed: u64,
    /// The `seq` the agent's next report will get (its outbox position).
    pub outbox_next_seq: u64,
}

/// What applying a pushed profile version did. A report: `seq` is the agent's outbox seq.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplyResult {
    /// Agent outbox sequence number (exactly-once delivery of this report).
    pub seq: u64,
    /// The push this answers.
    pub push_seq: u64,
    /// The profile version (hash) that was applied or failed.
    pub version: String,
    pub outcome: ApplyOutcome,
    /// Human-readable actions taken, e.g. "added 25 contacts".
    #[serde(default)]
    pub actions: Vec<String>,
}

/// Whether a profile version was applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ApplyOutcome {
    /// Applied (or already in place: the version equals the applied one).
    Applied,
    /// Not applied; the phone keeps its previous version.
    Failed { errors: Vec<String> },
}

/// The phone's observed state. A report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateReport {
    pub seq: u64,
    pub observed: serde_json::Value,
}

/// Differences between the profile and the phone. A report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    pub seq: u64,
    /// One JSON object per difference.
    pub items: Vec<serde_json::Value>,
    /// Whether the agent already repaired them.
    pub repaired: bool,
}

/// The outcome of a command. A report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandResult {
    pub seq: u64,
    /// The push that carried the command.
    pub push_seq: u64,
    pub command_id: String,
    pub outcome: CommandOutcome,
    /// What the command produced for the operator (`collect_logs`: a bounded `logcat`
    /// excerpt); absent for commands that produce nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}

/// Whether a command ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CommandOutcome {
    Done,
    Failed { error: String },
}

/// A certificate signing request for a key the agent generated on the phone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenewRequest {
    pub csr_pem: String,
}

// === Controller → agent (gateway) ===

/// What the gateway sends to an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ControllerMessage {
    /// The answer to [`Hello`].
    Welcome(Welcome),
    /// A profile version to apply.
    ProfilePush(ProfilePush),
    /// The agent's outbox is stored up to and including `agent_seq`.
    Ack(Ack),
    /// Something to do now.
    Command(Command),
    /// The answer to a heartbeat.
    HeartbeatAck {},
    /// The connection is closing, and why.
    Goodbye(Goodbye),
    /// The answer to [`RenewRequest`].
    Renewed(Renewed),
    /// The members of the contact groups the device's profile references.
    ContactsPush(ContactsPush),
}

impl Message for ControllerMessage {
    const TYPES: &'static [&'static str] = &[
        "welcome",
        "profile_push",
        "ack",
        "command",
        "heartbeat_ack",
        "goodbye",
        "renewed",
        "contacts_push",
    ];
    const SENDER: &'static str = "controller";
}

/// The controller accepted the connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Welcome {
    /// The identity in the agent's certificate, as the controller sees it.
    pub device_id: String,
    /// Milliseconds since the Unix epoch, UTC.
    pub server_time: i64,
    /// The agent's outbox is stored up to here: re-send only what comes after.
    pub acked_agent_seq: u64,
}

/// A profile version for the agent to apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfilePush {
    /// Per-device push sequence number: act on each at most once.
    pub push_seq: u64,
    /// The version hash of `profile`.
    pub version: String,
    /// The canonical TOML text of the profile version.
    pub profile: String,
}

/// Acknowledges the agent's outbox up to and including `agent_seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    pub agent_seq: u64,
}

/// A command for the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    /// Per-device push sequence number (commands share the outbox with profiles).
    pub push_seq: u64,
    pub command_id: String,
    pub kind: CommandKind,
}

/// What a command asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandKind {
    /// Report state again and re-apply the assigned profile if it drifted.
    ReSync,
    Reboot,
    RemoveWorkProfile,
    CollectLogs,
}

/// Why the controller is closing the connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Goodbye {
    pub reason: String,
}

/// A new certificate for the key in the agent's [`RenewRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Renewed {
    pub certificate_pem: String,
}

// === Contact allow-lists ===

/// The most members one [`ContactsPush`] may carry (all groups together); the frame limit
/// ([`crate::MAX_FRAME_LEN`]) holds them many times over.
pub const MAX_PUSHED_CONTACTS: usize = 20_000;

/// The members (with a lawful basis) of each contact group the device's profile
/// references: what the agent's contact directory holds from now on. Replaces the previous
/// one whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactsPush {
    /// Per-device push sequence number (shared with profiles and commands).
    pub push_seq: u64,
    /// `sha256:<16 hex>` of the groups' canonical JSON: equal lists, equal versions.
    pub version: String,
    /// Group name → its members, sorted by number.
    pub groups: std::collections::BTreeMap<String, Vec<PushedContact>>,
}

/// One member of a pushed contact group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushedContact {
    /// The contact book's id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// E.164.
    pub number: String,
    /// `consent`, `contract` or `legitimate_interest`.
    pub basis: String,
}

impl ContactsPush {
    /// How many members all groups hold together.
    pub fn len(&self) -> usize {
        self.groups.values().map(Vec::len).sum()
    }

    /// Whether no group has a member.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What applying a [`ContactsPush`] did. A report: `seq` is the agent's outbox seq. An
/// `applied` result is the phone's confirmation that its work profile holds exactly the
/// pushed members (and so none that left them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactsResult {
    pub seq: u64,
    /// The push this answers.
    pub push_seq: u64,
    /// The pushed version.
    pub version: String,
    pub outcome: ApplyOutcome,
    /// What was done, e.g. "removed 1 contact".
    #[serde(default)]
    pub actions: Vec<String>,
}

// === Enrollment (its own listener, one request, one response) ===

/// The agent's one request on the enrollment listener. Only the token and the CSR travel;
/// the private key stays on the phone. `Debug` redacts the token.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "enroll_request")]
pub struct EnrollRequest {
    pub token: String,
    pub csr_pem: String,
    pub device_info: DeviceInfo,
}

impl fmt::Debug for EnrollRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnrollRequest")
            .field("token", &"…")
            .field("csr_pem", &format_args!("{} bytes", self.csr_pem.len()))
            .field("device_info", &self.device_info)
            .finish()
    }
}

impl Message for EnrollRequest {
    const TYPES: &'static [&'static str] = &["enroll_request"];
    const SENDER: &'static str = "agent";
}

/// What the phone says about itself at enrollment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    pub model: String,
    pub android_release: String,
    pub sdk: u32,
    pub abi: String,
    #[serde(default)]
    pub serial: Option<String>,
}

/// The enrollment listener's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EnrollResponse {
    Enrolled(Enrolled),
    Refused(Refused),
}

impl Message for EnrollResponse {
    const TYPES: &'static [&'static str] = &["enrolled", "refused"];
    const SENDER: &'static str = "controller";
}

/// The device is enrolled: its identity and certificate, and how to reach the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolled {
    pub device_id: String,
    /// Client-auth-only certificate for the CSR's key; identity = `device_id`.
    pub certificate_pem: String,
    /// The CA: the agent's only trust root for the gateway from now on.
    pub ca_certificate_pem: String,
    /// The gateway's port; the host is the one the agent enrolled with unless
    /// `gateway_host` names another.
    pub gateway_port: u16,
    #[serde(default)]
    pub gateway_host: Option<String>,
}

/// Enrollment was refused; `reason` is safe to show and reveals nothing internal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refused {
    pub reason: String,
}
