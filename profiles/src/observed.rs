//! What the agent observed on a phone: the work profile in detail, the personal side only
//! as far as the profile needs it.
//!
//! **Data minimisation:** the personal user appears only as the state of the packages the
//! profile names (the messenger and the apps to install). No personal contacts, accounts
//! or app list are ever part of an observation.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::names::{PackageName, Permission};

/// An Android user id (0 is the personal/system user; work profiles are usually 10+).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct UserId(pub u32);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// `UserInfo.FLAG_MANAGED_PROFILE`.
pub const FLAG_MANAGED_PROFILE: u32 = 0x20;
/// Flags of a managed profile created from the shell: PROFILE | MANAGED_PROFILE | INITIALIZED.
pub const FLAGS_SHELL_MANAGED_PROFILE: u32 = 0x1030;

/// One line of `pm list users`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedUser {
    /// User id.
    pub id: UserId,
    /// User name (`null` for the system user on recent Android).
    pub name: String,
    /// `UserInfo` flags.
    pub flags: u32,
    /// Whether the user is running.
    pub running: bool,
}

impl ObservedUser {
    /// Whether this user is a managed (work) profile.
    pub fn is_managed_profile(&self) -> bool {
        self.flags & FLAG_MANAGED_PROFILE != 0
    }
}

/// A package's state for one user. A package absent from a user's map is not installed
/// for that user.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageState {
    /// `pm hide`.
    #[serde(default)]
    pub hidden: bool,
    /// Disabled for this user (`disabled`, `disabled-user`, `disabled-until-used`).
    #[serde(default)]
    pub disabled: bool,
    /// `pm suspend`.
    #[serde(default)]
    pub suspended: bool,
    /// A system (pre-installed) package.
    #[serde(default)]
    pub system: bool,
    /// Has a launcher icon, i.e. a person could open it.
    #[serde(default)]
    pub launcher: bool,
    /// Granted runtime permissions.
    #[serde(default)]
    pub granted: BTreeSet<Permission>,
}

/// A raw contact's `_id` in the work profile's contacts provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RawContactId(pub u64);

impl fmt::Display for RawContactId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// One raw contact in the work profile (not deleted).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedContact {
    /// `raw_contacts._id`.
    pub id: RawContactId,
    /// Display name, if it has one.
    pub name: Option<String>,
    /// Phone numbers as stored (corral writes E.164).
    #[serde(default)]
    pub numbers: Vec<String>,
    /// `account_type`; `None` for local contacts (the ones corral writes).
    #[serde(default)]
    pub account_type: Option<String>,
}

/// The work profile as observed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkSide {
    /// The profile's user id.
    pub user: UserId,
    /// Every package installed for the profile user.
    #[serde(default)]
    pub packages: BTreeMap<PackageName, PackageState>,
    /// The profile's `secure` settings that profiles manage (absent: unset).
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    /// `bmgr --user N enabled`; `None` when the backup service is not active for the user
    /// (which means no backup).
    #[serde(default)]
    pub backup_enabled: Option<bool>,
    /// Types of the accounts in the profile (no names: they identify people).
    #[serde(default)]
    pub account_types: BTreeSet<String>,
    /// The profile's raw contacts.
    #[serde(default)]
    pub contacts: Vec<ObservedContact>,
    /// The profile owner's component (`pkg/.Receiver`), if any.
    #[serde(default)]
    pub profile_owner: Option<String>,
}

impl WorkSide {
    /// A freshly created, empty work profile as `pm create-user --managed` leaves it:
    /// Android sets both cross-profile settings to `1` for a new managed profile.
    pub fn new(user: UserId) -> WorkSide {
        WorkSide {
            user,
            packages: BTreeMap::new(),
            settings: [(SETTING_CONTACT_SEARCH, "1"), (SETTING_CALENDAR, "1")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            backup_enabled: None,
            account_types: BTreeSet::new(),
            contacts: Vec::new(),
            profile_owner: None,
        }
    }

    /// The package name of the profile owner, if any.
    pub fn profile_owner_package(&self) -> Option<&str> {
        self.profile_owner
            .as_deref()
            .and_then(|c| c.split('/').next())
    }
}

/// `secure` setting: personal apps may search work contacts.
pub const SETTING_CONTACT_SEARCH: &str = "managed_profile_contact_remote_search";
/// `secure` setting: personal apps may see work calendar events.
pub const SETTING_CALENDAR: &str = "cross_profile_calendar_enabled";

/// Everything the planner needs to know about a phone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedPhone {
    /// All users (`pm list users`).
    pub users: Vec<ObservedUser>,
    /// The personal user (the work profile's parent), usually 0.
    #[serde(default)]
    pub personal_user: UserId,
    /// Personal-user state of only the packages the profile names; absent: not installed.
    #[serde(default)]
    pub personal_packages: BTreeMap<PackageName, PackageState>,
    /// The managed work profile, if one exists.
    #[serde(default)]
    pub work: Option<WorkSide>,
}

impl ObservedPhone {
    /// A phone with only the personal user, running.
    pub fn new() -> ObservedPhone {
        ObservedPhone {
            users: vec![ObservedUser {
                id: UserId(0),
                name: "Owner".into(),
                flags: 0xc13,
                running: true,
            }],
            personal_user: UserId(0),
            personal_packages: BTreeMap::new(),
            work: None,
        }
    }

    /// The user entry of the work profile.
    pub fn work_user(&self) -> Option<&ObservedUser> {
        let id = self.work.as_ref()?.user;
        self.users.iter().find(|u| u.id == id)
    }
}

impl Default for ObservedPhone {
    fn default() -> Self {
        ObservedPhone::new()
    }
}
