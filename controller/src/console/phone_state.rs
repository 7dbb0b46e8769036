//! The phone page's "profile wants / phone reports" table: one row per managed setting,
//! derived from the settings the phone is held to and its last observed state. Pure.
//!
//! The status of a row comes from the planner (`corral_profiles::plan`): a row is in
//! drift exactly when the plan has an action or a drift item for it, and the row lists
//! those actions — so the table never disagrees with what the agent would do. Contacts
//! are compared from the report alone: the agent blanks the name and numbers of every
//! work contact that is not allow-listed, so blank local contacts and contacts of other
//! accounts are the ones outside the list.
//!
//! Must never: do I/O, or show a contact's name or number (only counts).

use std::collections::BTreeSet;

use corral_profiles::{
    Action, AllowList, DeviceProfile, Drift, ObservedPhone, OtherApps, PackageName, PackageState,
    PersonalCopy, SETTING_CALENDAR, SETTING_CONTACT_SEARCH, Settings, UserRef, WorkSide,
};
use serde::Serialize;

/// Whether the phone matches a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    /// The phone reports what the profile wants.
    Ok,
    /// It does not: the agent repairs it at its next reconcile or reports it.
    Drift,
    /// Nothing reported (no report yet, or not observable from the shell).
    Unknown,
}

/// One managed setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateRow {
    pub setting: String,
    pub wants: String,
    pub reports: String,
    pub status: RowStatus,
    /// What the agent would do about it (the planner's actions and drift, in words).
    pub repair: Vec<String>,
}

/// Where the phone's work contacts stand, from its last report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ContactCounts {
    /// Local contacts the agent reported by name: allow-listed ones it wrote.
    pub allow_listed: usize,
    /// Contacts outside the list (blank local ones and other accounts' not allowed).
    pub foreign: usize,
}

/// Counts the work profile's contacts in a report (see the module docs); `allowed`
/// are the account types whose contacts are not judged (the messenger's own, allowed
/// accounts).
pub fn contact_counts(work: &WorkSide, allowed: &BTreeSet<&str>) -> ContactCounts {
    let mut counts = ContactCounts::default();
    for c in &work.contacts {
        match c.account_type.as_deref() {
            Some(t) if allowed.contains(t) => {}
            Some(_) => counts.foreign += 1,
            None if c.name.is_some() && !c.numbers.is_empty() => counts.allow_listed += 1,
            None => counts.foreign += 1,
        }
    }
    counts
}

fn allowed_accounts(s: &Settings) -> BTreeSet<&str> {
    s.messenger
        .packages
        .iter()
        .map(PackageName::as_str)
        .chain(s.privacy.allowed_accounts.iter().map(String::as_str))
        .collect()
}

/// The table for a phone held to `target` that last reported `observed`.
pub fn compare(device: &DeviceProfile, observed: Option<&ObservedPhone>) -> Vec<StateRow> {
    let target = &device.settings;
    let mut rows = Vec::new();
    // Contacts are compared below from counts; the planner sees none of them.
    let phone = observed.map(|o| {
        let mut o = o.clone();
        if let Some(w) = &mut o.work {
            w.contacts.clear();
        }
        o
    });
    let plan = phone
        .as_ref()
        .map(|p| corral_profiles::plan(device, &AllowList::from_contacts([]), p));
    let work = observed.and_then(|o| o.work.as_ref());
    let mut row = |setting: String, wants: String, reports: Option<String>, key: Key| {
        let (mut status, repair) = match &plan {
            None => (RowStatus::Unknown, Vec::new()),
            Some(plan) => {
                let mut repair: Vec<String> = plan
                    .actions
                    .iter()
                    .filter(|a| key_of_action(a, target) == key)
                    .map(describe)
                    .collect();
                repair.extend(
                    plan.drift
                        .iter()
                        .filter(|d| key_of_drift(d) == key)
                        .map(describe_drift),
                );
                let status = if repair.is_empty() {
                    RowStatus::Ok
                } else {
                    RowStatus::Drift
                };
                (status, repair)
            }
        };
        if reports.is_none() && status == RowStatus::Ok {
            status = RowStatus::Unknown;
        }
        rows.push(StateRow {
            setting,
            wants,
            reports: reports.unwrap_or_else(|| "—".into()),
            status,
            repair,
        });
    };
    let reported = |f: &dyn Fn() -> String| observed.map(|_| f());

    row(
        "Work profile".into(),
        format!("exists, running, named “{}”", target.work_profile.name),
        reported(
            &|| match (work, observed.and_then(ObservedPhone::work_user)) {
                (Some(w), Some(u)) => format!(
                    "user {}, “{}”, {}",
                    w.user,
                    u.name,
                    if u.running { "running" } else { "stopped" }
                ),
                (Some(w), None) => format!("user {}, not listed", w.user),
                _ => "none".into(),
            },
        ),
        Key::WorkProfile,
    );
    let s = &target.messenger;
    for package in &s.packages {
        let mut wants = "installed, visible, enabled".to_owned();
        if !s.grant.is_empty() {
            let grants: Vec<&str> = s
                .grant
                .iter()
                .map(|p| short_permission(p.as_str()))
                .collect();
            wants.push_str(&format!("; granted {}", grants.join(", ")));
        }
        row(
            format!("Messenger {package} (work)"),
            wants,
            reported(&|| package_text(work.and_then(|w| w.packages.get(package)), true)),
            Key::Package(package.clone()),
        );
    }
    for package in target
        .work_profile
        .install
        .iter()
        .filter(|p| !s.packages.contains(*p))
    {
        row(
            format!("App {package} (work)"),
            "installed, visible, enabled".into(),
            reported(&|| package_text(work.and_then(|w| w.packages.get(package)), false)),
            Key::Package(package.clone()),
        );
    }
    for package in &s.packages {
        let wants = match s.personal_copy {
            PersonalCopy::Keep => "left alone",
            PersonalCopy::Hide => "hidden or not installed",
            PersonalCopy::Uninstall => "not installed",
        };
        row(
            format!("Messenger {package} (personal)"),
            wants.into(),
            reported(
                &|| match observed.and_then(|o| o.personal_packages.get(package)) {
                    None => "not installed".into(),
                    Some(st) if st.hidden => "installed, hidden".into(),
                    Some(_) => "installed, visible".into(),
                },
            ),
            Key::Personal(package.clone()),
        );
    }
    let other = |w: &WorkSide| -> Vec<String> {
        let owner = w.profile_owner_package();
        w.packages
            .iter()
            .filter(|(p, st)| {
                !s.packages.contains(*p)
                    && !target.work_profile.install.contains(*p)
                    && !target.work_profile.allowed_apps.contains(*p)
                    && owner != Some(p.as_str())
                    && !st.hidden
                    && (!st.system || st.launcher)
            })
            .map(|(p, _)| p.to_string())
            .collect()
    };
    let allowed_apps: Vec<String> = target
        .work_profile
        .allowed_apps
        .iter()
        .map(ToString::to_string)
        .collect();
    row(
        "Other apps (work)".into(),
        match target.work_profile.other_apps {
            OtherApps::Hide if allowed_apps.is_empty() => "hidden".into(),
            OtherApps::Hide => format!("hidden, except {}", allowed_apps.join(", ")),
            OtherApps::Keep => "left alone".into(),
        },
        reported(&|| match work.map(other) {
            None => "no work profile".into(),
            Some(v) if v.is_empty() => "none visible".into(),
            Some(v) => format!("visible: {}", v.join(", ")),
        }),
        Key::OtherApps,
    );
    let flag = |on: bool| if on { "on" } else { "off" };
    for (label, key, wanted) in [
        (
            "Personal apps search work contacts",
            SETTING_CONTACT_SEARCH,
            target.privacy.cross_profile_contact_search,
        ),
        (
            "Personal apps see work calendar",
            SETTING_CALENDAR,
            target.privacy.cross_profile_calendar,
        ),
    ] {
        row(
            label.into(),
            flag(wanted).into(),
            reported(&|| match work.map(|w| w.settings.get(key)) {
                None => "no work profile".into(),
                Some(None) => "on (unset: the platform default)".into(),
                Some(Some(v)) if v == "0" => "off".into(),
                Some(Some(v)) if v == "1" => "on".into(),
                Some(Some(v)) => format!("`{v}`"),
            }),
            Key::Setting(key),
        );
    }
    row(
        "Backup (work)".into(),
        flag(target.privacy.backup).into(),
        reported(&|| match work.map(|w| w.backup_enabled) {
            None => "no work profile".into(),
            Some(None) => "off (backup service inactive)".into(),
            Some(Some(b)) => flag(b).into(),
        }),
        Key::Backup,
    );
    let allowed = allowed_accounts(target);
    row(
        "Accounts (work)".into(),
        format!(
            "only {}",
            allowed.iter().copied().collect::<Vec<_>>().join(", ")
        ),
        reported(&|| match work {
            None => "no work profile".into(),
            Some(w) if w.account_types.is_empty() => "none".into(),
            Some(w) => w
                .account_types
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
        }),
        Key::Accounts,
    );
    for (label, setting, wanted) in [
        (
            "Caller ID for work contacts",
            "privacy.cross_profile_caller_id",
            target.privacy.cross_profile_caller_id,
        ),
        (
            "Work contacts over Bluetooth",
            "privacy.bluetooth_contact_sharing",
            target.privacy.bluetooth_contact_sharing,
        ),
    ] {
        if let Some(wanted) = wanted {
            rows.push(StateRow {
                setting: label.into(),
                wants: flag(wanted).into(),
                reports: "not observable without the profile-owner component".into(),
                status: RowStatus::Unknown,
                repair: vec![format!("needs the profile owner to set `{setting}`")],
            });
        }
    }
    let c = &target.contacts;
    let mut wants = match c.mode {
        corral_profiles::ContactsMode::Exact => "exact mode".to_owned(),
        corral_profiles::ContactsMode::Report => "report mode".to_owned(),
    };
    if !c.groups.is_empty() {
        let groups: Vec<&str> = c.groups.iter().map(|g| g.as_str()).collect();
        wants.push_str(&format!(", groups {}", groups.join(", ")));
    }
    if !c.entries.is_empty() {
        wants.push_str(&format!(", {} written in the profile", c.entries.len()));
    }
    wants.push_str(": only allow-listed contacts");
    let counts = work.map(|w| contact_counts(w, &allowed));
    rows.push(StateRow {
        setting: "Contacts (work)".into(),
        wants,
        reports: match (observed, counts) {
            (None, _) => "—".into(),
            (Some(_), None) => "no work profile".into(),
            (Some(_), Some(n)) => format!(
                "{} allow-listed, {} outside the list",
                n.allow_listed, n.foreign
            ),
        },
        status: match counts {
            None => RowStatus::Unknown,
            Some(n) if n.foreign > 0 => RowStatus::Drift,
            Some(_) => RowStatus::Ok,
        },
        repair: match counts {
            Some(n) if n.foreign > 0 && c.mode == corral_profiles::ContactsMode::Exact => {
                vec![format!("remove {} contacts", n.foreign)]
            }
            Some(n) if n.foreign > 0 => vec![format!("report {} contacts", n.foreign)],
            _ => Vec::new(),
        },
    });
    rows
}

/// Which row an action or drift item belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Key {
    WorkProfile,
    Package(PackageName),
    Personal(PackageName),
    OtherApps,
    Setting(&'static str),
    Backup,
    Accounts,
    Elsewhere,
}

fn key_of_action(a: &Action, s: &Settings) -> Key {
    let named =
        |p: &PackageName| s.messenger.packages.contains(p) || s.work_profile.install.contains(p);
    match a {
        Action::CreateWorkProfile { .. } | Action::StartUser { .. } => Key::WorkProfile,
        Action::Hide {
            user: UserRef::Personal,
            package,
        }
        | Action::Uninstall {
            user: UserRef::Personal,
            package,
        } => Key::Personal(package.clone()),
        Action::InstallExisting { package, .. }
        | Action::InstallApk { package, .. }
        | Action::Unhide { package, .. }
        | Action::Enable { package, .. }
        | Action::Unsuspend { package, .. }
        | Action::Grant { package, .. }
            if named(package) =>
        {
            Key::Package(package.clone())
        }
        Action::Hide { .. } | Action::Unhide { .. } | Action::Enable { .. } => Key::OtherApps,
        Action::Unsuspend { .. } => Key::OtherApps,
        Action::PutSecureSetting { key, .. } if key == SETTING_CONTACT_SEARCH => {
            Key::Setting(SETTING_CONTACT_SEARCH)
        }
        Action::PutSecureSetting { key, .. } if key == SETTING_CALENDAR => {
            Key::Setting(SETTING_CALENDAR)
        }
        Action::SetBackup { .. } => Key::Backup,
        _ => Key::Elsewhere,
    }
}

fn key_of_drift(d: &Drift) -> Key {
    match d {
        Drift::NeedsProfileOwner { setting, .. } if setting == "work_profile.name" => {
            Key::WorkProfile
        }
        Drift::ForbiddenAccounts { .. } => Key::Accounts,
        Drift::PackageUnavailable { package } => Key::Package(package.clone()),
        _ => Key::Elsewhere,
    }
}

fn describe(a: &Action) -> String {
    let user = |u: &UserRef| match u {
        UserRef::Personal => "personal",
        UserRef::Work => "work",
    };
    match a {
        Action::CreateWorkProfile { name } => format!("create the work profile “{name}”"),
        Action::StartUser { .. } => "start the work profile".into(),
        Action::InstallExisting { user: u, package } => {
            format!("install {package} ({}) from the phone", user(u))
        }
        Action::InstallApk {
            user: u, package, ..
        } => {
            format!("install {package} ({}) from its APK", user(u))
        }
        Action::Unhide { user: u, package } => format!("unhide {package} ({})", user(u)),
        Action::Hide { user: u, package } => format!("hide {package} ({})", user(u)),
        Action::Enable { user: u, package } => format!("enable {package} ({})", user(u)),
        Action::Unsuspend { user: u, package } => format!("unsuspend {package} ({})", user(u)),
        Action::Uninstall { user: u, package } => format!("uninstall {package} ({})", user(u)),
        Action::Grant {
            package,
            permission,
            ..
        } => format!(
            "grant {} to {package}",
            short_permission(permission.as_str())
        ),
        Action::PutSecureSetting { key, value, .. } => format!("set {key} to {value}"),
        Action::SetBackup { enabled, .. } => {
            format!("turn backup {}", if *enabled { "on" } else { "off" })
        }
        Action::RemoveContacts { ids, .. } => format!("remove {} contacts", ids.len()),
        Action::AddContacts { contacts, .. } => format!("add {} contacts", contacts.len()),
    }
}

fn describe_drift(d: &Drift) -> String {
    match d {
        Drift::NeedsProfileOwner { setting, .. } => {
            format!("needs the profile owner to set `{setting}`")
        }
        Drift::ForbiddenAccounts { account_types } => format!(
            "accounts not allowed: {} (no shell command removes accounts)",
            account_types.join(", ")
        ),
        Drift::ForeignContacts { ids, .. } => format!("{} contacts outside the list", ids.len()),
        Drift::PackageUnavailable { package } => {
            format!("{package} is on no user of the phone and has no APK")
        }
    }
}

fn short_permission(p: &str) -> &str {
    p.strip_prefix("android.permission.").unwrap_or(p)
}

fn package_text(state: Option<&PackageState>, messenger: bool) -> String {
    let Some(st) = state else {
        return "not installed".into();
    };
    let mut parts = vec!["installed"];
    parts.push(if st.hidden { "hidden" } else { "visible" });
    parts.push(if st.disabled { "disabled" } else { "enabled" });
    if st.suspended {
        parts.push("suspended");
    }
    let mut text = parts.join(", ");
    if messenger && !st.granted.is_empty() {
        let grants: Vec<&str> = st
            .granted
            .iter()
            .map(|p| short_permission(p.as_str()))
            .collect();
        text.push_str(&format!("; granted {}", grants.join(", ")));
    }
    text
}

#[cfg(test)]
mod tests;
