//! The phone's persisted state: users, packages, settings, accounts, contacts, owners,
//! backup and properties, as plain serde data.
//!
//! This module owns the data model and its JSON file (`state.json` in the phone's state
//! directory, replaced atomically). It never prints anything Android would print: the
//! commands in `phone::cmd` read and change this model and do the printing.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::PhoneError;
use crate::phone::contacts::ContactsDb;

/// Bumped when the file layout changes incompatibly.
pub const SCHEMA: u32 = 1;

/// The file name of the state inside the state directory.
pub const STATE_FILE: &str = "state.json";

/// `UserInfo` flag bits (frameworks/base `UserInfo.java`).
pub mod flags {
    pub const PRIMARY: u32 = 0x1;
    pub const ADMIN: u32 = 0x2;
    pub const INITIALIZED: u32 = 0x10;
    pub const MANAGED_PROFILE: u32 = 0x20;
    pub const QUIET_MODE: u32 = 0x80;
    pub const FULL: u32 = 0x400;
    pub const SYSTEM: u32 = 0x800;
    pub const PROFILE: u32 = 0x1000;
    pub const MAIN: u32 = 0x4000;
}

/// The managed-profile user type.
pub const USER_TYPE_MANAGED: &str = "android.os.usertype.profile.MANAGED";
/// The headful system user type.
pub const USER_TYPE_SYSTEM: &str = "android.os.usertype.full.SYSTEM";
/// A secondary full user.
pub const USER_TYPE_SECONDARY: &str = "android.os.usertype.full.SECONDARY";

/// Everything the phone remembers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct State {
    /// File layout version.
    pub schema: u32,
    /// System properties that are not derived from the configuration.
    pub props: BTreeMap<String, String>,
    /// Users and profiles by id.
    pub users: BTreeMap<u32, User>,
    /// The id the next created user gets.
    pub next_user_id: u32,
    /// Packages by name, with their per-user state.
    pub packages: BTreeMap<String, Package>,
    /// The next application id (uid within a user) for a newly installed package.
    pub next_app_id: u32,
    /// `settings … global`: device-wide.
    pub global_settings: BTreeMap<String, String>,
    /// Per-user data: settings, backup, accounts, contacts, restrictions.
    pub user_data: BTreeMap<u32, UserData>,
    /// The device owner, if any.
    pub device_owner: Option<Owner>,
    /// Profile owners by user id (flattened component).
    pub profile_owners: BTreeMap<u32, String>,
    /// Active device admins by user id (flattened components).
    pub active_admins: BTreeMap<u32, BTreeSet<String>>,
    /// Host keys that may connect without asking (`adbkey.pub` lines).
    pub authorized_keys: Vec<String>,
    /// Bytes left on `/data`.
    pub free_storage_bytes: u64,
    /// How often the phone has booted.
    pub boot_count: u64,
    /// The next install session id (`vmdl<N>.tmp`).
    pub next_session: u32,
}

/// A user or profile.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct User {
    pub id: u32,
    pub name: String,
    /// `UserInfo` flags.
    pub flags: u32,
    pub running: bool,
    /// The parent of a profile.
    pub parent: Option<u32>,
    pub user_type: String,
}

impl User {
    /// True for a managed (work) profile.
    pub fn is_managed_profile(&self) -> bool {
        self.flags & flags::MANAGED_PROFILE != 0
    }

    /// True for any profile.
    pub fn is_profile(&self) -> bool {
        self.flags & flags::PROFILE != 0 || self.parent.is_some()
    }
}

/// The device owner and the user it lives in.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Owner {
    pub user: u32,
    pub component: String,
}

/// One account (`AccountManager`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub account_type: String,
}

/// Data kept per user.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct UserData {
    /// `settings … system`.
    pub system: BTreeMap<String, String>,
    /// `settings … secure`.
    pub secure: BTreeMap<String, String>,
    /// Whether the backup service is activated for this user (`bmgr activate`).
    pub backup_activated: bool,
    pub accounts: Vec<Account>,
    pub contacts: ContactsDb,
    /// User restrictions (`pm set-user-restriction`).
    pub restrictions: BTreeMap<String, bool>,
}

/// `PackageManager` enabled states.
pub mod enabled {
    pub const DEFAULT: u8 = 0;
    pub const ENABLED: u8 = 1;
    pub const DISABLED: u8 = 2;
    pub const DISABLED_USER: u8 = 3;
    pub const DISABLED_UNTIL_USED: u8 = 4;

    /// The word `pm` prints for a state.
    pub fn word(state: u8) -> &'static str {
        match state {
            DEFAULT => "default",
            ENABLED => "enabled",
            DISABLED => "disabled",
            DISABLED_USER => "disabled-user",
            DISABLED_UNTIL_USED => "disabled-until-used",
            _ => "unknown",
        }
    }
}

/// A package known to the phone.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    pub version_code: i64,
    pub version_name: String,
    /// Preinstalled on the system image (cannot be fully uninstalled).
    pub system: bool,
    /// `sourceDir` as `pm list packages -f` prints it.
    pub code_path: String,
    /// The app id (uid within user 0).
    pub app_id: u32,
    /// Permissions the manifest requests.
    pub requested_permissions: Vec<String>,
    /// Device-admin receivers (full class names) protected by `BIND_DEVICE_ADMIN`.
    pub admin_receivers: Vec<String>,
    /// `android:testOnly`.
    pub test_only: bool,
    /// Size of the APK in bytes.
    pub size: u64,
    /// Installer package, `None` for `null`.
    pub installer: Option<String>,
    /// State per user id; a user without an entry does not have the package.
    pub users: BTreeMap<u32, PackageUser>,
}

impl Package {
    /// The per-user state when the package is installed for `user`.
    pub fn installed_for(&self, user: u32) -> Option<&PackageUser> {
        self.users.get(&user).filter(|u| u.installed)
    }

    /// True when installed for at least one user.
    pub fn installed_anywhere(&self) -> bool {
        self.users.values().any(|u| u.installed)
    }

    /// The uid in `user`.
    pub fn uid(&self, user: u32) -> u32 {
        user.saturating_mul(100_000).saturating_add(self.app_id)
    }
}

/// A package's state in one user.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct PackageUser {
    pub installed: bool,
    pub hidden: bool,
    pub suspended: bool,
    /// One of [`enabled`].
    pub enabled: u8,
    /// Granted runtime permissions.
    pub granted: BTreeSet<String>,
}

impl PackageUser {
    /// Installed, with everything else at its default.
    pub fn fresh() -> Self {
        PackageUser {
            installed: true,
            ..PackageUser::default()
        }
    }
}

impl State {
    /// The user data of `user`, created on first use.
    pub fn data_mut(&mut self, user: u32) -> &mut UserData {
        self.user_data.entry(user).or_default()
    }

    /// Loads `state.json` from `dir`; `Ok(None)` when there is none yet.
    pub fn load(dir: &Path) -> Result<Option<State>, PhoneError> {
        let path = dir.join(STATE_FILE);
        let text = match fs::read(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(PhoneError::State { path, source }),
        };
        let state: State = serde_json::from_slice(&text).map_err(|e| PhoneError::Corrupt {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        if state.schema != SCHEMA {
            return Err(PhoneError::Corrupt {
                path,
                reason: format!("schema {} is not the supported {SCHEMA}", state.schema),
            });
        }
        if !state.users.contains_key(&0) {
            return Err(PhoneError::Corrupt {
                path,
                reason: "user 0 is missing".into(),
            });
        }
        Ok(Some(state))
    }

    /// Writes `state.json` atomically: a temporary file, fsync, rename.
    pub fn save(&self, dir: &Path) -> Result<(), PhoneError> {
        let path = dir.join(STATE_FILE);
        let tmp: PathBuf = dir.join(format!(".{STATE_FILE}.tmp"));
        let err = |source| PhoneError::State {
            path: path.clone(),
            source,
        };
        let text = serde_json::to_vec_pretty(self).map_err(|e| err(std::io::Error::other(e)))?;
        fs::create_dir_all(dir).map_err(err)?;
        let mut file = fs::File::create(&tmp).map_err(err)?;
        file.write_all(&text).map_err(err)?;
        file.sync_all().map_err(err)?;
        drop(file);
        fs::rename(&tmp, &path).map_err(err)
    }
}
