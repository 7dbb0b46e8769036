//! Planner actions and the Android shell command lines each one runs.
//!
//! Every action maps to one or a few shell commands, rendered here and nowhere else.
//! Users are symbolic ([`UserRef`]) because the work profile's id is only known once
//! `pm create-user` has printed it; rendering takes the real ids.

use serde::{Deserialize, Serialize};

use crate::contacts::AllowedContact;
use crate::model::ApkSource;
use crate::names::{PackageName, Permission};
use crate::observed::{RawContactId, UserId};

/// Which user an action applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserRef {
    /// The personal user (the work profile's parent).
    Personal,
    /// The managed work profile.
    Work,
}

/// One step of a plan. Each is idempotent: running it again on the state it produced
/// changes nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// `pm create-user --profileOf P --managed NAME`; prints `Success: created user id N`.
    CreateWorkProfile { name: String },
    /// `am start-user -w N` (prints `Success: user started`; exits 0 even on failure).
    StartUser { user: UserRef },
    /// `pm install-existing --user N PKG`: the package is already on the phone.
    InstallExisting { user: UserRef, package: PackageName },
    /// Checks the staged APK's SHA-256, then `pm install --user N PATH`.
    InstallApk {
        user: UserRef,
        package: PackageName,
        apk: ApkSource,
    },
    /// `pm unhide --user N PKG`.
    Unhide { user: UserRef, package: PackageName },
    /// `pm hide --user N PKG`.
    Hide { user: UserRef, package: PackageName },
    /// `pm enable --user N PKG`.
    Enable { user: UserRef, package: PackageName },
    /// `pm unsuspend --user N PKG`.
    Unsuspend { user: UserRef, package: PackageName },
    /// `pm uninstall --user N PKG`.
    Uninstall { user: UserRef, package: PackageName },
    /// `pm grant --user N PKG PERMISSION`.
    Grant {
        user: UserRef,
        package: PackageName,
        permission: Permission,
    },
    /// `settings put --user N secure KEY VALUE`.
    PutSecureSetting {
        user: UserRef,
        key: String,
        value: String,
    },
    /// `bmgr --user N enable true|false`; turning backup on first activates the user's
    /// backup service (`bmgr --user N activate true`): on Android 10+ it is active only for
    /// the system user, and every other `bmgr` command fails until it is.
    SetBackup { user: UserRef, enabled: bool },
    /// One `content delete … --where "_id IN (…)"` for a chunk of raw contacts.
    RemoveContacts {
        user: UserRef,
        ids: Vec<RawContactId>,
    },
    /// A chunk of contacts written with `content insert`, several per shell invocation.
    AddContacts {
        user: UserRef,
        contacts: Vec<AllowedContact>,
    },
}

/// The real user ids to render actions with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Users {
    /// The personal user, usually 0.
    pub personal: UserId,
    /// The work profile, once it exists.
    pub work: Option<UserId>,
}

/// An action could not be rendered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The work profile's id is not known yet: run `CreateWorkProfile` first and render
    /// the rest with the id it printed.
    #[error("the work profile's user id is not known yet; create the profile first")]
    WorkUserUnknown,
}

/// Where the agent stages APKs before installing them; named by digest so a staged file
/// can never be mistaken for another version.
pub const APK_STAGING_DIR: &str = "/data/local/tmp/corral";
const CONTACTS_AUTHORITY: &str = "content://com.android.contacts";

impl Action {
    /// The user the action applies to (`None` for profile creation).
    pub fn user(&self) -> Option<UserRef> {
        match self {
            Action::CreateWorkProfile { .. } => None,
            Action::StartUser { user }
            | Action::InstallExisting { user, .. }
            | Action::InstallApk { user, .. }
            | Action::Unhide { user, .. }
            | Action::Hide { user, .. }
            | Action::Enable { user, .. }
            | Action::Unsuspend { user, .. }
            | Action::Uninstall { user, .. }
            | Action::Grant { user, .. }
            | Action::PutSecureSetting { user, .. }
            | Action::SetBackup { user, .. }
            | Action::RemoveContacts { user, .. }
            | Action::AddContacts { user, .. } => Some(*user),
        }
    }

    /// The shell command lines this action runs, in order; each must succeed before the
    /// next.
    pub fn commands(&self, users: Users) -> Result<Vec<String>, RenderError> {
        let user = match self.user() {
            Some(UserRef::Personal) => users.personal,
            Some(UserRef::Work) => users.work.ok_or(RenderError::WorkUserUnknown)?,
            None => users.personal,
        };
        let pm =
            |verb: &str, package: &PackageName| vec![format!("pm {verb} --user {user} {package}")];
        Ok(match self {
            Action::CreateWorkProfile { name } => {
                vec![format!(
                    "pm create-user --profileOf {} --managed {}",
                    users.personal,
                    quote(name)
                )]
            }
            Action::StartUser { .. } => vec![format!("am start-user -w {user}")],
            Action::InstallExisting { package, .. } => pm("install-existing", package),
            Action::InstallApk { apk, .. } => {
                let path = format!("{APK_STAGING_DIR}/{}.apk", apk.sha256);
                vec![
                    format!(
                        "[ \"$(sha256sum {path} | cut -d' ' -f1)\" = {} ]",
                        apk.sha256
                    ),
                    format!("pm install --user {user} {path}"),
                ]
            }
            Action::Unhide { package, .. } => pm("unhide", package),
            Action::Hide { package, .. } => pm("hide", package),
            Action::Enable { package, .. } => pm("enable", package),
            Action::Unsuspend { package, .. } => pm("unsuspend", package),
            Action::Uninstall { package, .. } => pm("uninstall", package),
            Action::Grant {
                package,
                permission,
                ..
            } => vec![format!("pm grant --user {user} {package} {permission}")],
            Action::PutSecureSetting { key, value, .. } => {
                vec![format!(
                    "settings put --user {user} secure {} {}",
                    quote(key),
                    quote(value)
                )]
            }
            Action::SetBackup { enabled: true, .. } => vec![
                format!("bmgr --user {user} activate true"),
                format!("bmgr --user {user} enable true"),
            ],
            Action::SetBackup { enabled: false, .. } => {
                vec![format!("bmgr --user {user} enable false")]
            }
            Action::RemoveContacts { ids, .. } => {
                let list: Vec<String> = ids.iter().map(ToString::to_string).collect();
                vec![format!(
                    "content delete --user {user} --uri '{CONTACTS_AUTHORITY}/raw_contacts?caller_is_syncadapter=true' --where '_id IN ({})'",
                    list.join(",")
                )]
            }
            Action::AddContacts { contacts, .. } => {
                contacts.iter().flat_map(|c| add_contact(user, c)).collect()
            }
        })
    }

    /// The whole action as one shell line (`&&`-joined commands).
    pub fn script(&self, users: Users) -> Result<String, RenderError> {
        Ok(self.commands(users)?.join(" && "))
    }
}

/// The commands that write one contact: drop any earlier copy carrying the same tag (so
/// running this twice leaves one copy), insert the raw contact, read back its id, then
/// insert its name and mobile number rows.
fn add_contact(user: UserId, c: &AllowedContact) -> Vec<String> {
    let tag = source_tag(c);
    let raw = format!("'{CONTACTS_AUTHORITY}/raw_contacts?caller_is_syncadapter=true'");
    let query = format!(
        "content query --user {user} --uri {CONTACTS_AUTHORITY}/raw_contacts --projection _id --where \"sourceid='{tag}' AND deleted=0\" --sort '_id DESC'"
    );
    vec![
        format!("content delete --user {user} --uri {raw} --where \"sourceid='{tag}'\""),
        format!(
            "content insert --user {user} --uri {CONTACTS_AUTHORITY}/raw_contacts --bind account_type:n: --bind account_name:n: --bind sourceid:s:{tag}"
        ),
        format!("R=$({query} | sed -n 's/^Row: 0 _id=\\([0-9]*\\).*/\\1/p')"),
        "[ -n \"$R\" ]".to_owned(),
        format!(
            "content insert --user {user} --uri {CONTACTS_AUTHORITY}/data --bind raw_contact_id:i:$R --bind mimetype:s:vnd.android.cursor.item/name --bind data1:s:{}",
            quote(&c.name)
        ),
        format!(
            "content insert --user {user} --uri {CONTACTS_AUTHORITY}/data --bind raw_contact_id:i:$R --bind mimetype:s:vnd.android.cursor.item/phone_v2 --bind data1:s:{} --bind data2:i:2",
            c.number
        ),
    ]
}

/// The `sourceid` corral gives a contact it writes: its number's digits plus a short hash
/// of its name, so a renamed contact is a different tag.
pub fn source_tag(c: &AllowedContact) -> String {
    // FNV-1a: stable across releases and platforms, unlike std's hasher.
    let mut h: u32 = 0x811c_9dc5;
    for b in c.name.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("corral-{}-{h:08x}", c.number.digits())
}

/// Single-quotes a word for `sh`.
pub(crate) fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.,+/=@%".contains(&b))
    {
        return s.to_owned();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}
