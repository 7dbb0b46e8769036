//! The planner: (device profile, allow-list, observed phone) → an ordered list of
//! idempotent actions plus drift reports. Pure and deterministic.
//!
//! Order: create and start the work profile; put the messenger (and apps to install) in
//! it, visible and enabled, with its permissions; hide everything else; deal with the
//! personal copy (only after the work copy exists); settings; backup; contact removals,
//! then additions. The agent runs the actions in order, stops at the first failure and
//! observes again, so a failed install never leads to the personal copy being removed.
//!
//! **Fixpoint:** applying a plan to the state it was made from (`simulate::apply`) and
//! planning again yields no actions; only drift no shell command can fix remains.

mod action;
mod contacts;
mod outcome;

use std::collections::BTreeSet;

pub use action::{APK_STAGING_DIR, Action, RenderError, UserRef, Users, source_tag};
pub use outcome::{Drift, Plan};

use crate::contacts::{AllowList, ContactsMode};
use crate::model::{DeviceProfile, OtherApps, PersonalCopy, Settings};
use crate::names::PackageName;
use crate::observed::{
    ObservedPhone, PackageState, SETTING_CALENDAR, SETTING_CONTACT_SEARCH, WorkSide,
};

/// Contacts written per shell invocation (each takes six commands, four of them
/// `content` runs of a few hundred milliseconds on a phone).
pub const ADD_CHUNK: usize = 25;
/// Raw contact ids per `content delete … IN (…)`.
pub const REMOVE_CHUNK: usize = 200;
/// Package and settings commands joined into one shell invocation.
pub const BATCH_COMMANDS: usize = 16;

/// Plans what to do so that `phone` matches `target` with exactly the contacts in
/// `allow` (see the module docs for the order).
pub fn plan(target: &DeviceProfile, allow: &AllowList, phone: &ObservedPhone) -> Plan {
    let s = &target.settings;
    let mut p = Plan::default();
    let fresh;
    let work: &WorkSide = match &phone.work {
        Some(w) => {
            if phone.work_user().is_none_or(|u| !u.running) {
                p.actions.push(Action::StartUser {
                    user: UserRef::Work,
                });
            }
            w
        }
        None => {
            p.actions.push(Action::CreateWorkProfile {
                name: s.work_profile.name.clone(),
            });
            p.actions.push(Action::StartUser {
                user: UserRef::Work,
            });
            fresh = WorkSide::new(crate::observed::UserId(u32::MAX));
            &fresh
        }
    };
    if let Some(u) = phone
        .work_user()
        .filter(|u| phone.work.is_some() && u.name != s.work_profile.name)
    {
        p.drift.push(Drift::NeedsProfileOwner {
            setting: "work_profile.name".into(),
            wanted: s.work_profile.name.clone(),
            observed: Some(u.name.clone()),
        });
    }
    let available = packages(&mut p, s, phone, work);
    hide_others(&mut p, s, work);
    personal_copy(&mut p, s, phone, &available);
    settings(&mut p, s, work);
    contacts(&mut p, s, allow, work);
    p
}

/// Messenger and `install` apps: present, visible, enabled, unsuspended, granted.
/// Returns the packages that are (or will be) in the work profile.
fn packages(
    p: &mut Plan,
    s: &Settings,
    phone: &ObservedPhone,
    work: &WorkSide,
) -> BTreeSet<PackageName> {
    let mut available = BTreeSet::new();
    let install = s
        .work_profile
        .install
        .iter()
        .filter(|i| !s.messenger.packages.contains(*i));
    let wanted = s
        .messenger
        .packages
        .iter()
        .map(|m| (m, true))
        .chain(install.map(|i| (i, false)));
    for (package, is_messenger) in wanted {
        let user = UserRef::Work;
        let state = match work.packages.get(package) {
            Some(state) => state.clone(),
            None => {
                if let Some(apk) = s.messenger.apk.get(package) {
                    p.actions.push(Action::InstallApk {
                        user,
                        package: package.clone(),
                        apk: apk.clone(),
                    });
                } else if phone.personal_packages.contains_key(package) {
                    p.actions.push(Action::InstallExisting {
                        user,
                        package: package.clone(),
                    });
                } else {
                    p.drift.push(Drift::PackageUnavailable {
                        package: package.clone(),
                    });
                    continue;
                }
                PackageState::default()
            }
        };
        available.insert(package.clone());
        make_usable(p, UserRef::Work, package, &state);
        if is_messenger {
            for permission in s
                .messenger
                .grant
                .iter()
                .filter(|perm| !state.granted.contains(*perm))
            {
                p.actions.push(Action::Grant {
                    user,
                    package: package.clone(),
                    permission: permission.clone(),
                });
            }
        }
    }
    for package in s
        .work_profile
        .allowed_apps
        .iter()
        .filter(|a| !available.contains(*a))
    {
        if let Some(state) = work.packages.get(package).filter(|st| st.hidden) {
            make_usable(p, UserRef::Work, package, state);
        }
    }
    available
}

fn make_usable(p: &mut Plan, user: UserRef, package: &PackageName, state: &PackageState) {
    let package = package.clone();
    if state.hidden {
        p.actions.push(Action::Unhide {
            user,
            package: package.clone(),
        });
    }
    if state.disabled {
        p.actions.push(Action::Enable {
            user,
            package: package.clone(),
        });
    }
    if state.suspended {
        p.actions.push(Action::Unsuspend { user, package });
    }
}

/// Hides every app a person could open that the profile does not name. Non-launchable
/// system packages (providers, services, Play services) are never touched: hiding them
/// breaks the profile itself.
fn hide_others(p: &mut Plan, s: &Settings, work: &WorkSide) {
    if s.work_profile.other_apps == OtherApps::Keep {
        return;
    }
    let owner = work.profile_owner_package();
    for (package, state) in &work.packages {
        let named = s.messenger.packages.contains(package)
            || s.work_profile.install.contains(package)
            || s.work_profile.allowed_apps.contains(package)
            || owner == Some(package.as_str());
        if !named && !state.hidden && (!state.system || state.launcher) {
            p.actions.push(Action::Hide {
                user: UserRef::Work,
                package: package.clone(),
            });
        }
    }
}

fn personal_copy(
    p: &mut Plan,
    s: &Settings,
    phone: &ObservedPhone,
    available: &BTreeSet<PackageName>,
) {
    for package in &s.messenger.packages {
        // Never take the personal copy away before the work copy exists: it may be the
        // only installation `install-existing` can copy from.
        let (Some(state), true) = (
            phone.personal_packages.get(package),
            available.contains(package),
        ) else {
            continue;
        };
        let user = UserRef::Personal;
        match s.messenger.personal_copy {
            PersonalCopy::Keep => {}
            PersonalCopy::Hide if !state.hidden => p.actions.push(Action::Hide {
                user,
                package: package.clone(),
            }),
            PersonalCopy::Hide => {}
            PersonalCopy::Uninstall => p.actions.push(Action::Uninstall {
                user,
                package: package.clone(),
            }),
        }
    }
}

fn settings(p: &mut Plan, s: &Settings, work: &WorkSide) {
    let user = UserRef::Work;
    let flag = |b: bool| if b { "1" } else { "0" };
    for (key, wanted) in [
        (
            SETTING_CONTACT_SEARCH,
            s.privacy.cross_profile_contact_search,
        ),
        (SETTING_CALENDAR, s.privacy.cross_profile_calendar),
    ] {
        // Unset means the managed-profile default, which is "1".
        let current = work.settings.get(key).map_or("1", String::as_str);
        if current != flag(wanted) {
            p.actions.push(Action::PutSecureSetting {
                user,
                key: key.to_owned(),
                value: flag(wanted).to_owned(),
            });
        }
    }
    let backup_on = work.backup_enabled == Some(true);
    if backup_on != s.privacy.backup {
        p.actions.push(Action::SetBackup {
            user,
            enabled: s.privacy.backup,
        });
    }
    for (setting, wanted) in [
        (
            "privacy.cross_profile_caller_id",
            s.privacy.cross_profile_caller_id,
        ),
        (
            "privacy.bluetooth_contact_sharing",
            s.privacy.bluetooth_contact_sharing,
        ),
    ] {
        if let Some(wanted) = wanted {
            p.drift.push(Drift::NeedsProfileOwner {
                setting: setting.into(),
                wanted: wanted.to_string(),
                observed: None,
            });
        }
    }
    let allowed = allowed_account_types(s);
    let forbidden: Vec<String> = work
        .account_types
        .iter()
        .filter(|t| !allowed.contains(t.as_str()))
        .cloned()
        .collect();
    if !forbidden.is_empty() {
        p.drift.push(Drift::ForbiddenAccounts {
            account_types: forbidden,
        });
    }
}

/// The messenger's own sync account types (equal to its package names) plus the ones the
/// profile allows.
fn allowed_account_types(s: &Settings) -> BTreeSet<&str> {
    s.messenger
        .packages
        .iter()
        .map(PackageName::as_str)
        .chain(s.privacy.allowed_accounts.iter().map(String::as_str))
        .collect()
}

fn contacts(p: &mut Plan, s: &Settings, allow: &AllowList, work: &WorkSide) {
    let user = UserRef::Work;
    let delta = contacts::compare(allow, &work.contacts, &allowed_account_types(s));
    let exact = s.contacts.mode == ContactsMode::Exact;
    // Whoever left the list goes first and in every mode: a withdrawal is a legal
    // obligation, not a preference of the profile.
    for chunk in delta.retired.chunks(REMOVE_CHUNK) {
        p.actions.push(Action::RemoveContacts {
            user,
            ids: chunk.to_vec(),
        });
    }
    if !delta.foreign.is_empty() {
        if exact {
            for chunk in delta.foreign.chunks(REMOVE_CHUNK) {
                p.actions.push(Action::RemoveContacts {
                    user,
                    ids: chunk.to_vec(),
                });
            }
        }
        p.drift.push(Drift::ForeignContacts {
            ids: delta.foreign,
            removed: exact,
        });
    }
    for chunk in delta.missing.chunks(ADD_CHUNK) {
        p.actions.push(Action::AddContacts {
            user,
            contacts: chunk.iter().map(|c| (*c).clone()).collect(),
        });
    }
}
