//! Plain records of the fleet: devices, profile versions, assignments, deliveries, pushes
//! (the outbox), device reports, certificates, enrollment tokens and events.

use super::{
    CertSerial, DeviceId, DeviceName, GroupName, KeyHash, ParseError, ProfileName, Timestamp,
    TokenPrefix, VersionHash,
};

/// Whether a device may talk to the controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    /// Enrolled and allowed to connect.
    Active,
    /// Revoked: its certificates are refused and it must be enrolled again.
    Revoked,
}

impl DeviceStatus {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceStatus::Active => "active",
            DeviceStatus::Revoked => "revoked",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s {
            "active" => Ok(DeviceStatus::Active),
            "revoked" => Ok(DeviceStatus::Revoked),
            other => Err(ParseError::new(
                "device status",
                format!("unknown status {other:?}"),
            )),
        }
    }
}

/// A managed phone as the controller knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    pub id: DeviceId,
    pub name: DeviceName,
    /// The hardware serial seen over ADB at provisioning, when known.
    pub serial: Option<String>,
    pub group: Option<GroupName>,
    pub status: DeviceStatus,
    pub enrolled_at: Timestamp,
    pub last_seen_at: Option<Timestamp>,
    /// The certificate the device currently authenticates with.
    pub cert_serial: Option<CertSerial>,
    pub cert_key_hash: Option<KeyHash>,
    /// The profile version the device last reported as applied.
    pub applied_version: Option<VersionHash>,
    /// The device's last reported observed state (JSON), and when it was reported.
    pub observed_state: Option<serde_json::Value>,
    pub observed_at: Option<Timestamp>,
    /// Differences between the assigned profile and the observed state (JSON).
    pub drift: Option<serde_json::Value>,
    /// The highest agent report sequence number recorded (inbound de-duplication).
    pub last_report_seq: u64,
}

/// What enrollment knows about a new device.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDevice {
    pub id: DeviceId,
    pub name: DeviceName,
    pub serial: Option<String>,
}

/// One immutable version of a profile: its canonical TOML and the hash of it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileVersion {
    pub profile: ProfileName,
    pub version: VersionHash,
    pub canonical_toml: String,
    pub created_at: Timestamp,
}

impl ProfileVersion {
    /// The version resolved again: its canonical TOML is itself a complete profile. `Err`
    /// (the resolver's message) means the stored text no longer resolves.
    pub fn resolve(&self) -> Result<corral_profiles::ResolvedProfile, String> {
        let file = corral_profiles::SourceFile::new(
            format!("{}@{}", self.profile, self.version),
            self.canonical_toml.clone(),
        );
        corral_profiles::resolve_one(&[file], self.profile.as_str(), None)
            .map_err(|e| e.to_string())
    }
}

/// What a profile is assigned to. A device's own assignment wins over its group's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssignmentTarget {
    Device(DeviceId),
    Group(GroupName),
}

/// A profile assigned to a device or a group.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub target: AssignmentTarget,
    pub profile: ProfileName,
    pub assigned_at: Timestamp,
}

/// Where a profile version is on its way to one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Queued in the outbox, not yet acknowledged by the agent.
    Assigned,
    /// The agent acknowledged receiving it.
    Delivered,
    /// The agent reported it applied.
    Applied,
    /// The agent reported that applying it failed.
    Failed,
}

/// One profile version sent to one device, with its milestones.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: i64,
    pub device: DeviceId,
    pub profile: ProfileName,
    pub version: VersionHash,
    pub assigned_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
    pub applied_at: Option<Timestamp>,
    pub failed_at: Option<Timestamp>,
    pub error: Option<String>,
}

impl Delivery {
    /// The furthest milestone reached.
    pub fn state(&self) -> DeliveryState {
        if self.applied_at.is_some() {
            DeliveryState::Applied
        } else if self.failed_at.is_some() {
            DeliveryState::Failed
        } else if self.delivered_at.is_some() {
            DeliveryState::Delivered
        } else {
            DeliveryState::Assigned
        }
    }
}

/// What a push carries. `profile` pushes carry a profile version's canonical TOML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushKind(String);

impl PushKind {
    /// A profile version push.
    pub const PROFILE: &'static str = "profile";

    /// The profile version push kind.
    pub fn profile() -> Self {
        PushKind(Self::PROFILE.to_owned())
    }

    /// Parses a push kind: 1–32 of `a-z 0-9 . _`.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let ok = (1..=32).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._".contains(&b));
        if !ok {
            return Err(ParseError::new(
                "push kind",
                "expected 1 to 32 of a-z, 0-9, '.', '_'",
            ));
        }
        Ok(PushKind(s.to_owned()))
    }

    /// The stored form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One entry of a device's durable outbox. `seq` increases by one per device; the agent
/// acknowledges by `seq`, and the controller re-sends until it does.
#[derive(Debug, Clone, PartialEq)]
pub struct Push {
    pub device: DeviceId,
    pub seq: u64,
    pub kind: PushKind,
    pub body: String,
    /// Set for `profile` pushes.
    pub version: Option<VersionHash>,
    pub created_at: Timestamp,
    pub attempts: u32,
    pub acked_at: Option<Timestamp>,
}

/// What the agent says about one profile version it tried to apply.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplyResult {
    pub version: VersionHash,
    pub outcome: ApplyOutcome,
}

/// The outcome of applying a profile version on the phone.
#[derive(Debug, Clone, PartialEq)]
pub enum ApplyOutcome {
    Applied,
    Failed(String),
}

/// One report from an agent. `seq` comes from the agent's own outbox; a report whose `seq`
/// is not above the last recorded one is a re-send and changes nothing.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeviceReport {
    pub seq: u64,
    pub observed_state: Option<serde_json::Value>,
    pub drift: Option<serde_json::Value>,
    pub applied: Vec<ApplyResult>,
}

/// Whether a report changed anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportOutcome {
    /// First time this `seq` was seen: recorded.
    Recorded,
    /// Already recorded earlier (a re-send): nothing changed.
    Duplicate,
}

/// A certificate the CA issued, as recorded in the store.
#[derive(Debug, Clone, PartialEq)]
pub struct CertificateRecord {
    pub serial: CertSerial,
    pub device: DeviceId,
    pub key_hash: KeyHash,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
    pub issued_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// A certificate just issued, to be recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCertificate {
    pub serial: CertSerial,
    pub key_hash: KeyHash,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
}

/// What an enrollment token enrolls a device into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrollmentBinding {
    Profile(ProfileName),
    Group(GroupName),
}

/// An enrollment token as stored (the secret itself is never stored).
#[derive(Debug, Clone, PartialEq)]
pub struct EnrollmentToken {
    pub prefix: TokenPrefix,
    pub binding: EnrollmentBinding,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub created_by: Option<String>,
    pub used_at: Option<Timestamp>,
    pub used_by: Option<DeviceId>,
    pub revoked_at: Option<Timestamp>,
}

/// An entry of the append-only event log.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: i64,
    pub at: Timestamp,
    pub device: Option<DeviceId>,
    /// Who caused it: `user:<name>`, `device`, `controller`.
    pub actor: String,
    /// Dotted kind, e.g. `device.enrolled`.
    pub kind: String,
    /// Details as JSON.
    pub detail: serde_json::Value,
}

/// An event to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub device: Option<DeviceId>,
    pub actor: String,
    pub kind: String,
    pub detail: serde_json::Value,
}
