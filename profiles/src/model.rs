//! The resolved profile: what every phone holding it is held to, with every default
//! filled in and every value normalised.
//!
//! Types here can only be built by resolution (`resolve.rs`) or by code that already holds
//! valid parts, so the planner and the controller never re-check them. A contact reaches
//! a phone only as an [`AllowedContact`](crate::contacts::AllowedContact), which carries a
//! lawful basis.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::contacts::{ContactsMode, InlineContact};
use crate::names::{
    DeviceSerial, GroupName, Interval, PackageName, Permission, ProfileName, Sha256Hex,
};

/// The two WhatsApp packages corral knows. Others are accepted with a warning.
pub const KNOWN_MESSENGERS: [&str; 2] = ["com.whatsapp", "com.whatsapp.w4b"];

/// A profile after inheritance: its own settings and each device's overrides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedProfile {
    /// The profile's name.
    pub name: ProfileName,
    /// Free text for people; part of the canonical form.
    pub description: Option<String>,
    /// The chain of parents, nearest first (informational; not hashed).
    pub parents: Vec<ProfileName>,
    /// Settings for every phone without an override.
    pub settings: Settings,
    /// Full settings of each device that has overrides.
    pub devices: BTreeMap<DeviceSerial, Settings>,
}

/// The settings one phone is held to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// The messenger app and where it lives.
    pub messenger: Messenger,
    /// The managed work profile.
    pub work_profile: WorkProfile,
    /// The work profile's contact book.
    pub contacts: Contacts,
    /// Backup, accounts and cross-profile leaks.
    pub privacy: Privacy,
    /// How often the agent reports and reconciles.
    pub agent: AgentTiming,
}

/// What happens to a copy of the messenger in the personal profile (user 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonalCopy {
    /// Leave it alone.
    Keep,
    /// `pm hide --user 0`: invisible and unusable, data kept, reversible.
    Hide,
    /// `pm uninstall --user 0`: removed for the personal user with its data.
    Uninstall,
}

impl PersonalCopy {
    pub(crate) const ALL: [(&'static str, PersonalCopy); 3] = [
        ("keep", PersonalCopy::Keep),
        ("hide", PersonalCopy::Hide),
        ("uninstall", PersonalCopy::Uninstall),
    ];
}

/// An APK to install instead of copying the personal user's installation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApkSource {
    /// File name as the controller stores it (relative to its APK store).
    pub file: String,
    /// Its SHA-256; the agent checks it on the phone before installing.
    pub sha256: Sha256Hex,
}

/// The messenger section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Messenger {
    /// Packages placed in the work profile.
    pub packages: BTreeSet<PackageName>,
    /// What happens to a personal copy.
    pub personal_copy: PersonalCopy,
    /// Runtime permissions granted to every messenger package in the work profile.
    pub grant: BTreeSet<Permission>,
    /// Packages installed from an APK; the others are copied with `pm install-existing`.
    pub apk: BTreeMap<PackageName, ApkSource>,
}

/// What happens to apps in the work profile that the profile does not name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OtherApps {
    /// Hide every app a person could open (third-party or with a launcher icon).
    Hide,
    /// Leave them.
    Keep,
}

/// The work-profile section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkProfile {
    /// The profile's user name (`pm create-user … --managed NAME`).
    pub name: String,
    /// Apps that may stay visible besides the messenger and `install`.
    pub allowed_apps: BTreeSet<PackageName>,
    /// Apps copied into the profile with `pm install-existing` (visible too).
    pub install: BTreeSet<PackageName>,
    /// Everything else.
    pub other_apps: OtherApps,
}

/// The contacts section. Groups are references resolved against the contact book; see
/// [`ResolvedProfile::allow_list`](crate::ResolvedProfile::allow_list).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contacts {
    /// Whether contacts outside the allow-list are removed or only reported.
    pub mode: ContactsMode,
    /// Contact-book groups whose members are allowed.
    pub groups: BTreeSet<GroupName>,
    /// Contacts written in the profile, sorted by number.
    pub entries: Vec<InlineContact>,
}

/// The privacy section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Privacy {
    /// Android backup for the work profile (`bmgr --user N enable`).
    pub backup: bool,
    /// Account types allowed in the work profile besides the messenger's own sync
    /// account (whose type is its package name). Empty: no accounts.
    pub allowed_accounts: BTreeSet<String>,
    /// Personal apps may search work contacts
    /// (`secure managed_profile_contact_remote_search`).
    pub cross_profile_contact_search: bool,
    /// Personal apps may see work calendar events (`secure cross_profile_calendar_enabled`).
    pub cross_profile_calendar: bool,
    /// Caller ID for work contacts in the personal dialer. Needs the profile-owner admin
    /// component; `None` leaves the platform default.
    pub cross_profile_caller_id: Option<bool>,
    /// Work contacts shared over Bluetooth (car kits). Needs the profile-owner admin
    /// component; `None` leaves the platform default.
    pub bluetooth_contact_sharing: Option<bool>,
}

/// The agent section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentTiming {
    /// How often the agent reports that it is alive.
    pub heartbeat: Interval,
    /// How often it observes the phone and applies a plan.
    pub reconcile: Interval,
}

/// Defaults for everything a profile may leave out.
pub(crate) mod defaults {
    use crate::names::Interval;

    pub const WORK_PROFILE_NAME: &str = "Work";
    pub const HEARTBEAT: Interval = Interval::from_secs(60);
    pub const RECONCILE: Interval = Interval::from_secs(15 * 60);
    pub const HEARTBEAT_RANGE: (u32, u32) = (10, 3600);
    pub const RECONCILE_RANGE: (u32, u32) = (60, 24 * 3600);
}

/// The settings one device is held to, with the version it reports back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceProfile {
    /// The profile's name.
    pub profile: ProfileName,
    /// The device, when its overrides were applied.
    pub device: Option<DeviceSerial>,
    /// Version of the whole profile ([`ResolvedProfile::version`](crate::ResolvedProfile::version)).
    pub profile_version: crate::Version,
    /// Version of just these settings: changes only when this device's target changes.
    pub effective_version: crate::Version,
    /// The settings.
    pub settings: Settings,
}

impl ResolvedProfile {
    /// The version: a hash of the canonical form.
    pub fn version(&self) -> crate::Version {
        crate::Version::of_canonical(&self.canonical_json())
    }

    /// The canonical form as compact JSON with sorted keys (what the version hashes).
    pub fn canonical_json(&self) -> String {
        crate::canonical::to_sorted_json(&crate::canonical::profile_tree(self))
    }

    /// The canonical form as TOML: a valid profile file that resolves to the same version.
    pub fn canonical_toml(&self) -> String {
        crate::canonical::to_toml(&crate::canonical::profile_tree(self))
    }

    /// The settings `device` is held to: its overrides applied when it has any.
    pub fn for_device(&self, device: Option<&DeviceSerial>) -> DeviceProfile {
        let (device, settings) = match device.and_then(|d| self.devices.get_key_value(d)) {
            Some((d, s)) => (Some(d.clone()), s.clone()),
            None => (device.cloned(), self.settings.clone()),
        };
        let tree = crate::canonical::settings_tree(&settings);
        DeviceProfile {
            profile: self.name.clone(),
            device,
            profile_version: self.version(),
            effective_version: crate::Version::of_canonical(&crate::canonical::to_sorted_json(
                &tree,
            )),
            settings,
        }
    }

    /// The allow-list of the profile's own settings (see [`Settings::allow_list`]).
    pub fn allow_list(
        &self,
        directory: &dyn crate::ContactDirectory,
    ) -> Result<crate::AllowList, crate::UnknownGroups> {
        self.settings.allow_list(directory)
    }
}

impl Settings {
    /// Inline entries plus the members of the contact-book groups, one per number.
    pub fn allow_list(
        &self,
        directory: &dyn crate::ContactDirectory,
    ) -> Result<crate::AllowList, crate::UnknownGroups> {
        crate::AllowList::build(&self.contacts.entries, &self.contacts.groups, directory)
    }
}
