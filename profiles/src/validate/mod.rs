//! Reads the settings sections of a (merged) profile tree into [`Settings`], checking
//! every value and reporting every problem: types, unknown keys, package and permission
//! names, phone numbers (normalised to E.164), duplicates, missing keys and settings that
//! need the profile-owner admin component.
//!
//! One submodule per group of sections; this module holds the schema, the entry point and
//! the helpers they share.

mod apps;
mod contacts;

use std::collections::{BTreeMap, BTreeSet};

use crate::contacts::ContactDirectory;
use crate::diagnostics::{Code, Diag, Loc, Severity, Sink};
use crate::model::{AgentTiming, Privacy, Settings, defaults};
use crate::names::{Interval, PackageName, Permission, nearest};
use crate::read::{Reader, Sp};

use apps::{read_messenger, read_work_profile};
use contacts::read_contacts;

/// Every section and its keys; used to say where a misplaced key belongs.
pub(crate) const SCHEMA: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "name",
            "description",
            "extends",
            "messenger",
            "work_profile",
            "contacts",
            "privacy",
            "agent",
            "devices",
        ],
    ),
    ("messenger", &["packages", "personal_copy", "grant", "apk"]),
    (
        "work_profile",
        &["name", "allowed_apps", "install", "other_apps"],
    ),
    ("contacts", &["mode", "region", "groups", "entries"]),
    (
        "privacy",
        &[
            "backup",
            "allowed_accounts",
            "cross_profile_contact_search",
            "cross_profile_calendar",
            "cross_profile_caller_id",
            "bluetooth_contact_sharing",
        ],
    ),
    ("agent", &["heartbeat", "reconcile"]),
];

pub(crate) fn belongs_in(key: &str) -> Option<&'static str> {
    SCHEMA
        .iter()
        .find(|(_, keys)| keys.contains(&key))
        .map(|(section, _)| *section)
        .filter(|s| !s.is_empty())
}

/// Reads the five settings sections of `root`. `anchor` is where "missing" problems point
/// when a whole section is absent. Returns `None` when an error was reported.
pub(crate) fn read_settings(
    root: &mut Reader<'_>,
    anchor: Loc,
    directory: Option<&dyn ContactDirectory>,
    sink: &mut Sink,
) -> Option<Settings> {
    let errors_before = count_errors(sink);
    let messenger = root.table("messenger", sink);
    let messenger = read_messenger(messenger, anchor, sink);
    let work_profile = read_work_profile(root.table("work_profile", sink), &messenger, sink);
    let contacts = read_contacts(root.table("contacts", sink), directory, sink);
    let privacy = read_privacy(root.table("privacy", sink), sink);
    let agent = read_agent(root.table("agent", sink), sink);
    if !contacts.entries.is_empty() || !contacts.groups.is_empty() {
        let read_contacts = "android.permission.READ_CONTACTS";
        if !messenger.grant.iter().any(|p| p.as_str() == read_contacts) {
            sink.push(
                Diag::warning(Code::Conflict, anchor, "the messenger is not granted READ_CONTACTS, so it cannot show the allow-listed contacts")
                    .hint(format!("add `grant = [\"{read_contacts}\"]` under `[messenger]`")),
            );
        }
    }
    let settings = Settings {
        messenger,
        work_profile,
        contacts,
        privacy,
        agent,
    };
    (count_errors(sink) == errors_before).then_some(settings)
}

fn count_errors(sink: &Sink) -> usize {
    sink.iter()
        .filter(|d| d.severity == Severity::Error)
        .count()
}

fn finish(reader: Option<Reader<'_>>, sink: &mut Sink) {
    if let Some(r) = reader {
        r.finish(sink, &belongs_in);
    }
}

fn read_privacy(mut r: Option<Reader<'_>>, sink: &mut Sink) -> Privacy {
    let mut flag = |key: &'static str, default: bool, sink: &mut Sink| {
        r.as_mut()
            .and_then(|r| r.bool(key, sink))
            .map_or(default, |b| b.value)
    };
    let backup = flag("backup", false, sink);
    let cross_profile_contact_search = flag("cross_profile_contact_search", false, sink);
    let cross_profile_calendar = flag("cross_profile_calendar", false, sink);
    let mut admin_only = |key: &'static str, sink: &mut Sink| {
        let value = r.as_mut().and_then(|r| r.bool(key, sink))?;
        sink.push(
            Diag::note(Code::NeedsProfileOwner, value.loc, format!("`privacy.{key}` can only be enforced by the profile-owner admin component"))
                .label("needs the admin component")
                .hint("until it is installed in the work profile, the agent reports this setting as unenforceable drift"),
        );
        Some(value.value)
    };
    let cross_profile_caller_id = admin_only("cross_profile_caller_id", sink);
    let bluetooth_contact_sharing = admin_only("bluetooth_contact_sharing", sink);
    let accounts = r
        .as_mut()
        .and_then(|r| r.str_list("allowed_accounts", sink))
        .map(|l| l.value)
        .unwrap_or_default();
    let allowed_accounts = parse_set(accounts, "privacy.allowed_accounts", sink, |s| {
        PackageName::parse(s)
            .map(|p| p.as_str().to_owned())
            .map_err(|_| {
                (
                    Code::InvalidValue,
                    "an account type is a dotted name, like `com.google`".to_owned(),
                )
            })
    });
    finish(r, sink);
    Privacy {
        backup,
        allowed_accounts,
        cross_profile_contact_search,
        cross_profile_calendar,
        cross_profile_caller_id,
        bluetooth_contact_sharing,
    }
}

fn read_agent(mut r: Option<Reader<'_>>, sink: &mut Sink) -> AgentTiming {
    let mut interval =
        |key: &'static str, default: Interval, (min, max): (u32, u32), sink: &mut Sink| {
            let Some(s) = r.as_mut().and_then(|r| r.str(key, sink)) else {
                return default;
            };
            match Interval::parse(&s.value) {
                Ok(i) if (min..=max).contains(&i.as_secs()) => i,
                Ok(_) => {
                    let (lo, hi) = (Interval::from_secs(min), Interval::from_secs(max));
                    sink.push(Diag::error(
                        Code::InvalidValue,
                        s.loc,
                        format!("`agent.{key}` must be between {lo} and {hi}"),
                    ));
                    default
                }
                Err(e) => {
                    sink.push(
                        Diag::error(
                            Code::InvalidValue,
                            s.loc,
                            format!("`{}` is not an interval", s.value),
                        )
                        .hint(e.0),
                    );
                    default
                }
            }
        };
    let heartbeat = interval(
        "heartbeat",
        defaults::HEARTBEAT,
        defaults::HEARTBEAT_RANGE,
        sink,
    );
    let reconcile = interval(
        "reconcile",
        defaults::RECONCILE,
        defaults::RECONCILE_RANGE,
        sink,
    );
    finish(r, sink);
    AgentTiming {
        heartbeat,
        reconcile,
    }
}

/// Reads a string that must be one of `choices`.
pub(crate) fn read_enum<T: Copy>(
    reader: Option<&mut Reader<'_>>,
    key: &'static str,
    choices: &[(&'static str, T)],
    sink: &mut Sink,
) -> Option<Sp<T>> {
    let reader = reader?;
    let s = reader.str(key, sink)?;
    if let Some((_, v)) = choices.iter().find(|(name, _)| *name == s.value) {
        return Some(Sp {
            value: *v,
            loc: s.loc,
        });
    }
    let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
    let hint = match nearest(&s.value, names.iter().copied()) {
        Some(n) => format!("did you mean `{n}`?"),
        None => format!("use one of: {}", names.join(", ")),
    };
    let path = reader.key_path(key);
    sink.push(
        Diag::error(
            Code::InvalidValue,
            s.loc,
            format!("`{path}` cannot be `{}`", s.value),
        )
        .label(format!("expected one of: {}", names.join(", ")))
        .hint(hint),
    );
    None
}

fn packages_set(items: Vec<Sp<String>>, what: &str, sink: &mut Sink) -> BTreeSet<PackageName> {
    parse_set(items, what, sink, |s| {
        PackageName::parse(s).map_err(|e| (Code::InvalidPackage, e.0))
    })
}

fn permissions_set(items: Vec<Sp<String>>, sink: &mut Sink) -> BTreeSet<Permission> {
    parse_set(items, "messenger.grant", sink, |s| {
        Permission::parse(s).map_err(|e| (Code::InvalidPermission, e.0))
    })
}

/// Parses each item, reporting bad ones and duplicates (at the second occurrence, with
/// the first as related).
fn parse_set<T: Ord + Clone>(
    items: Vec<Sp<String>>,
    what: &str,
    sink: &mut Sink,
    parse: impl Fn(&str) -> Result<T, (Code, String)>,
) -> BTreeSet<T> {
    let mut seen: BTreeMap<T, Loc> = BTreeMap::new();
    for item in items {
        match parse(&item.value) {
            Ok(v) => {
                if let Some(first) = seen.get(&v) {
                    sink.push(
                        Diag::error(
                            Code::Duplicate,
                            item.loc,
                            format!("`{}` is listed twice in `{what}`", item.value),
                        )
                        .label("listed again")
                        .related(*first, "first listed here")
                        .hint("remove one of them"),
                    );
                } else {
                    seen.insert(v, item.loc);
                }
            }
            Err((code, why)) => {
                sink.push(
                    Diag::error(
                        code,
                        item.loc,
                        format!("`{}` in `{what}` is not valid", item.value),
                    )
                    .label(why),
                );
            }
        }
    }
    seen.into_keys().collect()
}

pub(crate) fn display_name_ok(s: &str, max: usize) -> bool {
    let n = s.chars().count();
    n >= 1 && n <= max && !s.chars().any(char::is_control) && !s.trim().is_empty()
}
