//! What each action does to an observed phone: the planner's model of Android, used by
//! the fixpoint property tests and by simulated phones.
//!
//! Kept next to the planner so the two cannot drift apart: every action the planner can
//! emit has its effect here.

use crate::observed::{
    FLAGS_SHELL_MANAGED_PROFILE, ObservedContact, ObservedPhone, ObservedUser, PackageState,
    RawContactId, UserId, WorkSide,
};
use crate::plan::{Action, UserRef};

/// Applies one action as Android would when it succeeds. Actions on a work profile that
/// does not exist do nothing (as the shell command would fail).
pub fn apply(phone: &mut ObservedPhone, action: &Action) {
    match action {
        Action::CreateWorkProfile { name } => {
            if phone.work.is_some() {
                return;
            }
            let id = phone
                .users
                .iter()
                .map(|u| u.id.0 + 1)
                .max()
                .unwrap_or(10)
                .max(10);
            phone.users.push(ObservedUser {
                id: UserId(id),
                name: name.clone(),
                flags: FLAGS_SHELL_MANAGED_PROFILE,
                running: false,
            });
            phone.work = Some(WorkSide::new(UserId(id)));
        }
        Action::StartUser { user } => {
            let id = match user {
                UserRef::Personal => Some(phone.personal_user),
                UserRef::Work => phone.work.as_ref().map(|w| w.user),
            };
            for u in phone.users.iter_mut().filter(|u| Some(u.id) == id) {
                u.running = true;
            }
        }
        Action::InstallExisting { user, package } | Action::InstallApk { user, package, .. } => {
            if let Some(packages) = packages(phone, *user) {
                packages
                    .entry(package.clone())
                    .or_insert_with(|| PackageState {
                        launcher: true,
                        ..PackageState::default()
                    });
            }
        }
        Action::Unhide { user, package } => {
            with_package(phone, *user, package, |s| s.hidden = false)
        }
        Action::Hide { user, package } => with_package(phone, *user, package, |s| s.hidden = true),
        Action::Enable { user, package } => {
            with_package(phone, *user, package, |s| s.disabled = false)
        }
        Action::Unsuspend { user, package } => {
            with_package(phone, *user, package, |s| s.suspended = false)
        }
        Action::Uninstall { user, package } => {
            if let Some(packages) = packages(phone, *user) {
                packages.remove(package);
            }
        }
        Action::Grant {
            user,
            package,
            permission,
        } => {
            with_package(phone, *user, package, |s| {
                s.granted.insert(permission.clone());
            });
        }
        Action::PutSecureSetting { key, value, .. } => {
            if let Some(w) = phone.work.as_mut() {
                w.settings.insert(key.clone(), value.clone());
            }
        }
        Action::SetBackup { enabled, .. } => {
            if let Some(w) = phone.work.as_mut() {
                w.backup_enabled = Some(*enabled);
            }
        }
        Action::RemoveContacts { ids, .. } => {
            if let Some(w) = phone.work.as_mut() {
                let ids: std::collections::BTreeSet<&RawContactId> = ids.iter().collect();
                w.contacts.retain(|c| !ids.contains(&c.id));
            }
        }
        Action::AddContacts { contacts, .. } => {
            if let Some(w) = phone.work.as_mut() {
                let first = w.contacts.iter().map(|c| c.id.0 + 1).max().unwrap_or(1);
                for (id, c) in (first..).zip(contacts) {
                    w.contacts.push(ObservedContact {
                        id: RawContactId(id),
                        name: Some(c.name.clone()),
                        numbers: vec![c.number.to_string()],
                        account_type: None,
                    });
                }
            }
        }
    }
}

/// Applies every action of a plan in order.
pub fn apply_all<'a>(phone: &mut ObservedPhone, actions: impl IntoIterator<Item = &'a Action>) {
    for a in actions {
        apply(phone, a);
    }
}

fn packages(
    phone: &mut ObservedPhone,
    user: UserRef,
) -> Option<&mut std::collections::BTreeMap<crate::names::PackageName, PackageState>> {
    match user {
        UserRef::Personal => Some(&mut phone.personal_packages),
        UserRef::Work => phone.work.as_mut().map(|w| &mut w.packages),
    }
}

fn with_package(
    phone: &mut ObservedPhone,
    user: UserRef,
    package: &crate::names::PackageName,
    f: impl FnOnce(&mut PackageState),
) {
    if let Some(state) = packages(phone, user).and_then(|p| p.get_mut(package)) {
        f(state);
    }
}
