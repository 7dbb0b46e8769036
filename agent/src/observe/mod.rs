//! Observing a phone: the shell commands the agent runs to see what the planner needs,
//! batched into as few round trips as possible, and strict parsers of their output
//! (`corral_profiles::ObservedPhone` out).
//!
//! | what | command |
//! |---|---|
//! | users, running state, work profile id | `pm list users` |
//! | API level | `getprop ro.build.version.sdk` |
//! | named packages (messenger, `install`, `allowed_apps`): per-user installed, hidden, suspended, enabled, runtime grants, system | `dumpsys package PKG` |
//! | work profile: visible packages, system ones, disabled ones | `pm list packages [-s\|-d] --user N` |
//! | work profile: apps a person can open | `pm query-activities --components --user N -a android.intent.action.MAIN -c android.intent.category.LAUNCHER` |
//! | cross-profile settings | `settings get --user N secure KEY` |
//! | backup | `bmgr --user N enabled` |
//! | account types (no names) | `dumpsys account --checkin` |
//! | raw contacts and their name/phone rows | `content query --user N --uri content://com.android.contacts/raw_contacts\|data …` |
//! | profile owner (Android 12+) | `dpm list-owners` |
//!
//! **Round trips:** one script when the work profile's id is already known (the observer
//! remembers it), two when it is not (the first learns it). **Data minimisation:** the
//! personal user is seen only through `dumpsys package` of the packages the profile names,
//! and only the messenger's and `install` apps' state is kept; accounts are read as types
//! and counts only.
//!
//! Must never: guess. Output that is not what Android prints is a [`ParseError`] naming the
//! command and the line; a stopped work profile's contacts are not read (the provider is not
//! reachable) and the reconcile loop starts the profile before planning contacts.

pub mod accounts;
pub mod contacts;
pub mod dumpsys;
pub mod error;
pub mod packages;
pub mod sections;
pub mod settings;
pub mod users;

use std::collections::{BTreeMap, BTreeSet};

use corral_profiles::{
    ObservedPhone, PackageName, PackageState, Permission, SETTING_CALENDAR, SETTING_CONTACT_SEARCH,
    UserId, WorkSide,
};

pub use error::ParseError;
use sections::{Section, SectionOutput};

use crate::shell::{PhoneShell, ShellError};

/// Why observing failed.
#[derive(Debug, thiserror::Error)]
pub enum ObserveError {
    /// The shell failed.
    #[error(transparent)]
    Shell(#[from] ShellError),
    /// A command printed something unexpected.
    #[error(transparent)]
    Parse(#[from] ParseError),
}

/// Which packages to look at closely.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interest {
    /// Packages whose personal-user state is kept too (the messenger, `install` apps).
    pub personal: BTreeSet<PackageName>,
    /// Packages whose work-profile state (hidden, grants) is needed; includes `personal`.
    pub work: BTreeSet<PackageName>,
}

impl Interest {
    /// What a profile's settings name.
    pub fn of(settings: &corral_profiles::Settings) -> Interest {
        let personal: BTreeSet<PackageName> = settings
            .messenger
            .packages
            .iter()
            .chain(&settings.work_profile.install)
            .cloned()
            .collect();
        let work = personal
            .iter()
            .chain(&settings.work_profile.allowed_apps)
            .cloned()
            .collect();
        Interest { personal, work }
    }
}

/// Observes one phone; remembers the work profile's id between calls.
#[derive(Debug, Default)]
pub struct Observer {
    work_hint: Option<UserId>,
}

const PERSONAL: UserId = UserId(0);
const LAUNCHER_QUERY: &str = "-a android.intent.action.MAIN -c android.intent.category.LAUNCHER";
const RAW_COLUMNS: &[&str] = &["_id", "account_type"];
const DATA_COLUMNS: &[&str] = &["raw_contact_id", "mimetype", "data1"];

impl Observer {
    /// An observer with no knowledge of the phone.
    pub fn new() -> Self {
        Observer::default()
    }

    /// Observes the phone through `shell`.
    pub async fn observe(
        &mut self,
        shell: &mut PhoneShell,
        interest: &Interest,
    ) -> Result<ObservedPhone, ObserveError> {
        let first = base_sections(interest)
            .into_iter()
            .chain(self.work_hint.map(work_sections).into_iter().flatten())
            .collect::<Vec<_>>();
        let mut parts = run_sections(shell, &first).await?;
        let users = users::parse_users(part(&parts, "users")?.ok()?)?;
        let work = users.iter().find(|u| u.is_managed_profile()).map(|u| u.id);
        if let Some(w) = work
            && self.work_hint != Some(w)
        {
            let more = work_sections(w);
            parts.extend(run_sections(shell, &more).await?);
        }
        self.work_hint = work;
        Ok(assemble(interest, users, work, &parts)?)
    }
}

async fn run_sections(
    shell: &mut PhoneShell,
    sections: &[Section],
) -> Result<BTreeMap<String, SectionOutput>, ObserveError> {
    let nonce: u64 = rand::random();
    let out = shell.run(&sections::script(sections, nonce)).await?;
    if out.exit != 0 {
        // The last section's `echo` ends every script with status 0; anything else means
        // the framing itself failed.
        return Err(ParseError::whole(
            "observation script",
            &out.output,
            format!("exit status {}", out.exit),
        )
        .into());
    }
    Ok(sections::split(sections, nonce, &out.output)?)
}

fn part<'a>(
    parts: &'a BTreeMap<String, SectionOutput>,
    name: &str,
) -> Result<&'a SectionOutput, ParseError> {
    parts
        .get(name)
        .ok_or_else(|| ParseError::whole("observation script", "", format!("no section `{name}`")))
}

/// The sections every observation runs: users, API level, named packages, accounts.
pub fn base_sections(interest: &Interest) -> Vec<Section> {
    let mut s = vec![
        Section::new("users", "pm list users"),
        Section::new("sdk", "getprop ro.build.version.sdk"),
    ];
    for p in &interest.work {
        s.push(Section::new(
            format!("pkg:{p}"),
            format!("dumpsys package {p}"),
        ));
    }
    s.push(Section::new("accounts", "dumpsys account --checkin"));
    s.push(Section::new("owners", "dpm list-owners"));
    s
}

/// The sections about work profile `user`.
pub fn work_sections(user: UserId) -> Vec<Section> {
    vec![
        Section::new("work:packages", format!("pm list packages --user {user}")),
        Section::new("work:system", format!("pm list packages -s --user {user}")),
        Section::new(
            "work:disabled",
            format!("pm list packages -d --user {user}"),
        ),
        Section::new(
            "work:launcher",
            format!("pm query-activities --components --user {user} {LAUNCHER_QUERY}"),
        ),
        Section::new(
            "work:contact_search",
            format!("settings get --user {user} secure {SETTING_CONTACT_SEARCH}"),
        ),
        Section::new(
            "work:calendar",
            format!("settings get --user {user} secure {SETTING_CALENDAR}"),
        ),
        Section::new("work:backup", format!("bmgr --user {user} enabled")),
        Section::new(
            "work:raw_contacts",
            format!(
                "content query --user {user} --uri content://com.android.contacts/raw_contacts --projection {} --where 'deleted=0'",
                RAW_COLUMNS.join(":")
            ),
        ),
        Section::new(
            "work:contact_data",
            format!(
                "content query --user {user} --uri content://com.android.contacts/data --projection {} --where \"mimetype IN ('{}','{}')\"",
                DATA_COLUMNS.join(":"),
                contacts::MIME_NAME,
                contacts::MIME_PHONE
            ),
        ),
    ]
}

fn package_list(
    parts: &BTreeMap<String, SectionOutput>,
    name: &str,
) -> Result<BTreeSet<String>, ParseError> {
    let p = part(parts, name)?;
    Ok(packages::parse_package_list(&p.command, p.ok()?)?
        .into_iter()
        .collect())
}

/// Builds the observed phone from the sections' outputs. Pure.
pub fn assemble(
    interest: &Interest,
    users: Vec<corral_profiles::ObservedUser>,
    work: Option<UserId>,
    parts: &BTreeMap<String, SectionOutput>,
) -> Result<ObservedPhone, ParseError> {
    let sdk = settings::parse_sdk(part(parts, "sdk")?.ok()?)?;
    let mut dumps = BTreeMap::new();
    for p in &interest.work {
        let section = part(parts, &format!("pkg:{p}"))?;
        if let Some(d) = dumpsys::parse_package_dump(p.as_str(), section.ok()?)? {
            dumps.insert(p.clone(), d);
        }
    }
    let accounts = accounts::parse_account_types(part(parts, "accounts")?.ok()?)?;
    let mut personal_packages = BTreeMap::new();
    for p in &interest.personal {
        let state = dumps.get(p).and_then(|d| {
            d.users
                .get(&PERSONAL.0)
                .filter(|s| s.installed)
                .map(|s| (d.system, s))
        });
        if let Some((system, s)) = state {
            personal_packages.insert(p.clone(), package_state(system, false, s));
        }
    }
    let work_side = match work {
        None => None,
        Some(w) => {
            let running = users.iter().any(|u| u.id == w && u.running);
            Some(work_side(
                interest, w, running, sdk, &dumps, &accounts, parts,
            )?)
        }
    };
    Ok(ObservedPhone {
        users,
        personal_user: PERSONAL,
        personal_packages,
        work: work_side,
    })
}

fn package_state(system: bool, launcher: bool, s: &dumpsys::UserPackageState) -> PackageState {
    PackageState {
        hidden: s.hidden,
        disabled: s.disabled(),
        suspended: s.suspended,
        system,
        launcher,
        granted: s
            .granted
            .iter()
            .filter_map(|g| Permission::parse(g).ok())
            .collect(),
    }
}

fn work_side(
    interest: &Interest,
    user: UserId,
    running: bool,
    sdk: u32,
    dumps: &BTreeMap<PackageName, dumpsys::PackageDump>,
    accounts: &BTreeMap<u32, BTreeSet<String>>,
    parts: &BTreeMap<String, SectionOutput>,
) -> Result<WorkSide, ParseError> {
    let visible = package_list(parts, "work:packages")?;
    let system = package_list(parts, "work:system")?;
    let disabled = package_list(parts, "work:disabled")?;
    let launcher_part = part(parts, "work:launcher")?;
    let launcher = packages::parse_activities(&launcher_part.command, launcher_part.ok()?)?;
    let mut side = WorkSide::new(user);
    // Single-part names (`android`) are framework packages no profile can name; the
    // planner never touches packages without a launcher icon anyway.
    for name in &visible {
        let Ok(p) = PackageName::parse(name) else {
            continue;
        };
        side.packages.insert(
            p,
            PackageState {
                system: system.contains(name),
                disabled: disabled.contains(name),
                launcher: launcher.contains(name),
                ..PackageState::default()
            },
        );
    }
    for p in &interest.work {
        let state = dumps
            .get(p)
            .and_then(|d| d.users.get(&user.0).map(|s| (d.system, s)));
        match state {
            Some((sys, s)) if s.installed => {
                side.packages.insert(
                    p.clone(),
                    package_state(sys, launcher.contains(p.as_str()), s),
                );
            }
            _ => {
                side.packages.remove(p);
            }
        }
    }
    side.settings.clear();
    for (key, name) in [
        (SETTING_CONTACT_SEARCH, "work:contact_search"),
        (SETTING_CALENDAR, "work:calendar"),
    ] {
        let s = part(parts, name)?;
        if let Some(v) = settings::parse_setting(&s.command, s.ok()?)? {
            side.settings.insert(key.to_owned(), v);
        }
    }
    let backup = part(parts, "work:backup")?;
    side.backup_enabled = settings::parse_backup(&backup.command, user.0, &backup.text)?;
    side.account_types = accounts.get(&user.0).cloned().unwrap_or_default();
    if running {
        let raw = part(parts, "work:raw_contacts")?;
        let data = part(parts, "work:contact_data")?;
        let raw_rows = contacts::parse_rows(&raw.command, RAW_COLUMNS, false, raw.ok()?)?;
        let data_rows = contacts::parse_rows(&data.command, DATA_COLUMNS, true, data.ok()?)?;
        side.contacts = contacts::assemble(&raw.command, &raw_rows, &data.command, &data_rows)?;
    }
    if sdk >= 31 {
        side.profile_owner = settings::parse_profile_owner(part(parts, "owners")?.ok()?, user.0)?;
    }
    Ok(side)
}
