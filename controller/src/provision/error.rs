//! Why a phone could not be provisioned: each variant names the phone and what to do.

use std::time::Duration;

use crate::adb::AdbError;
use crate::domain::ProvisionStep;

use super::link::LinkError;

/// A per-phone provisioning failure, named for its remedy.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProvisionError {
    /// Talking to the phone failed (unauthorized, offline, unplugged, …).
    #[error(transparent)]
    Adb(#[from] AdbError),
    /// The phone runs an Android release corral cannot manage.
    #[error(
        "{phone}: Android {release} (API {sdk}) is too old; corral needs Android 10 (API 29) or newer (per-user backup control and `am start-user -w`); use another phone"
    )]
    AndroidTooOld {
        phone: String,
        release: String,
        sdk: u32,
    },
    /// Not enough free space on `/data`.
    #[error(
        "{phone}: only {free_mib} MiB free on /data, {needed_mib} MiB needed; free some space on the phone and run again"
    )]
    NoSpace {
        phone: String,
        free_mib: u64,
        needed_mib: u64,
    },
    /// The messenger is neither on the phone nor supplied as an APK.
    #[error(
        "{phone}: {package} is neither installed on the phone nor supplied as an APK; install it from the Play Store on the phone, or add it to the profile's messenger.apk and put the file in the station's APK directory"
    )]
    MessengerMissing { phone: String, package: String },
    /// Another device-policy controller owns the phone or its work profile.
    #[error(
        "{phone}: {what} is managed by {owner}; corral does not take over another management app's phone — remove it (or its work profile) first, or factory-reset the phone"
    )]
    ForeignOwner {
        phone: String,
        what: String,
        owner: String,
    },
    /// No `corral-agent` for the phone's CPU.
    #[error(
        "{phone}: no corral-agent build for ABI {abi}; build one with `cargo ndk -t {abi} build --release -p corral-agent` and give the station its path"
    )]
    NoAgentBuild { phone: String, abi: String },
    /// A command did not print its success text.
    #[error("{phone}: step {step} failed: `{command}`: {reason}")]
    StepFailed {
        phone: String,
        step: ProvisionStep,
        command: String,
        reason: String,
    },
    /// The phone printed something corral does not understand.
    #[error("{phone}: step {step}: unexpected output: {detail}")]
    Unexpected {
        phone: String,
        step: ProvisionStep,
        detail: String,
    },
    /// The agent did not enroll, or did not apply the profile, in time.
    #[error(
        "{phone}: the agent did not enroll and apply the profile within {waited:?} ({reason}); check that the phone reaches the controller's enrollment address, then run again"
    )]
    NotEnrolled {
        phone: String,
        waited: Duration,
        reason: String,
    },
    /// The controller (record, token) could not be reached.
    #[error("{phone}: {source}")]
    Controller {
        phone: String,
        #[source]
        source: LinkError,
    },
}
