//! Provisioning records: the steps a phone goes through on its way from the box to the
//! fleet, one run per attempt, and what became of each step.

use std::fmt;
use std::str::FromStr;

use super::{DeviceId, ParseError, ProfileName, Timestamp};

/// One provisioning step, in the order they run. Each is idempotent: it looks at the
/// phone first and does only what is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProvisionStep {
    /// Authorized? Android version, ABI, free space, users, owners, accounts, messenger.
    Preflight,
    /// Create the managed work profile, or reuse (or repair) an earlier one.
    WorkProfile,
    /// Start it.
    StartProfile,
    /// The messenger into the profile (install-existing or a pushed APK).
    Messenger,
    /// Hide or uninstall the personal copy, as the profile says.
    PersonalCopy,
    /// Cross-profile settings, backup, the apps allowed in the profile.
    ProfileSettings,
    /// The agent build for the phone's ABI, verified by SHA-256.
    PushAgent,
    /// Enroll the agent with a one-time token, then start it.
    StartAgent,
    /// Wait until the agent has enrolled and applied the profile.
    AwaitEnrollment,
}

impl ProvisionStep {
    /// Every step, in order.
    pub const ALL: [ProvisionStep; 9] = [
        ProvisionStep::Preflight,
        ProvisionStep::WorkProfile,
        ProvisionStep::StartProfile,
        ProvisionStep::Messenger,
        ProvisionStep::PersonalCopy,
        ProvisionStep::ProfileSettings,
        ProvisionStep::PushAgent,
        ProvisionStep::StartAgent,
        ProvisionStep::AwaitEnrollment,
    ];

    /// The name stored and shown (`work_profile`).
    pub fn as_str(self) -> &'static str {
        match self {
            ProvisionStep::Preflight => "preflight",
            ProvisionStep::WorkProfile => "work_profile",
            ProvisionStep::StartProfile => "start_profile",
            ProvisionStep::Messenger => "messenger",
            ProvisionStep::PersonalCopy => "personal_copy",
            ProvisionStep::ProfileSettings => "profile_settings",
            ProvisionStep::PushAgent => "push_agent",
            ProvisionStep::StartAgent => "start_agent",
            ProvisionStep::AwaitEnrollment => "await_enrollment",
        }
    }
}

impl fmt::Display for ProvisionStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProvisionStep {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        ProvisionStep::ALL
            .into_iter()
            .find(|step| step.as_str() == s)
            .ok_or_else(|| ParseError::new("provisioning step", format!("unknown step {s:?}")))
    }
}

/// What became of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepOutcome {
    /// The step changed the phone.
    Done,
    /// The phone was already so; nothing was changed.
    Unchanged,
    /// The step failed (see the error).
    Failed,
}

impl StepOutcome {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            StepOutcome::Done => "done",
            StepOutcome::Unchanged => "unchanged",
            StepOutcome::Failed => "failed",
        }
    }
}

impl FromStr for StepOutcome {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        match s {
            "done" => Ok(StepOutcome::Done),
            "unchanged" => Ok(StepOutcome::Unchanged),
            "failed" => Ok(StepOutcome::Failed),
            _ => Err(ParseError::new(
                "step outcome",
                format!("unknown outcome {s:?}"),
            )),
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// Every step succeeded: the phone is managed.
    Done,
    /// A step failed; the next run resumes.
    Failed,
    /// A newer run for the same phone started while this one was unfinished (the station
    /// stopped mid-run).
    Interrupted,
}

impl RunOutcome {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Done => "done",
            RunOutcome::Failed => "failed",
            RunOutcome::Interrupted => "interrupted",
        }
    }
}

impl FromStr for RunOutcome {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        match s {
            "done" => Ok(RunOutcome::Done),
            "failed" => Ok(RunOutcome::Failed),
            "interrupted" => Ok(RunOutcome::Interrupted),
            _ => Err(ParseError::new(
                "run outcome",
                format!("unknown outcome {s:?}"),
            )),
        }
    }
}

/// One step of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRecord {
    pub step: ProvisionStep,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    /// `None` while the step runs (or when the station died during it).
    pub outcome: Option<StepOutcome>,
    /// What the step found or did, in words.
    pub detail: Option<String>,
    pub error: Option<String>,
}

/// One provisioning attempt for one phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisioningRun {
    pub id: i64,
    /// The phone's serial (`adb devices`), or `HOST:PORT` for direct TCP.
    pub serial: String,
    pub profile: ProfileName,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    pub outcome: Option<RunOutcome>,
    pub error: Option<String>,
    /// The device the agent enrolled as, once known.
    pub device: Option<DeviceId>,
    /// Its steps in the order they started.
    pub steps: Vec<StepRecord>,
}
