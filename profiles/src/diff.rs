//! Differences between two resolved profiles (or two versions of one), computed on their
//! canonical trees, so formatting and key order never show up as changes.
//!
//! Lists are compared as sets; contact entries are matched by phone number, so a renamed
//! contact shows as one change, not a removal and an addition.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value as Json;

use crate::Version;
use crate::canonical::profile_tree;
use crate::model::ResolvedProfile;

/// What happened at a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Only in the new profile.
    Added,
    /// Only in the old profile.
    Removed,
    /// In both, with different values.
    Changed,
}

/// One difference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Dotted path in profile-file terms, e.g. `messenger.personal_copy`,
    /// `contacts.entries[+4930123456].name`, `devices."R58M".privacy.backup`.
    pub path: String,
    /// What happened.
    pub kind: ChangeKind,
    /// The old value (absent for additions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Json>,
    /// The new value (absent for removals).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Json>,
}

/// All differences between two profiles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProfileDiff {
    /// The old profile's name and version.
    pub old: (String, Version),
    /// The new profile's name and version.
    pub new: (String, Version),
    /// The changes, in path order.
    pub changes: Vec<Change>,
}

/// Compares two resolved profiles.
pub fn diff(old: &ResolvedProfile, new: &ResolvedProfile) -> ProfileDiff {
    let mut changes = Vec::new();
    walk("", &profile_tree(old), &profile_tree(new), &mut changes);
    ProfileDiff {
        old: (old.name.to_string(), old.version()),
        new: (new.name.to_string(), new.version()),
        changes,
    }
}

impl ProfileDiff {
    /// Whether the two are semantically the same profile.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Readable text: a header, then one line per change (`+` added, `-` removed,
    /// `~` changed).
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "--- {} ({})\n+++ {} ({})\n",
            self.old.0, self.old.1, self.new.0, self.new.1
        );
        if self.changes.is_empty() {
            out.push_str("no differences\n");
        }
        for c in &self.changes {
            let show = |v: &Option<Json>| v.as_ref().map(ToString::to_string).unwrap_or_default();
            let _ = match c.kind {
                ChangeKind::Added => writeln!(out, "+ {}: {}", c.path, show(&c.new)),
                ChangeKind::Removed => writeln!(out, "- {}: {}", c.path, show(&c.old)),
                ChangeKind::Changed => {
                    writeln!(out, "~ {}: {} -> {}", c.path, show(&c.old), show(&c.new))
                }
            };
        }
        out
    }

    /// The diff as pretty JSON (for the API).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_owned())
    }
}

fn join(path: &str, key: &str) -> String {
    let plain = !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    let key = if plain {
        key.to_owned()
    } else {
        Json::String(key.to_owned()).to_string()
    };
    if path.is_empty() {
        key
    } else {
        format!("{path}.{key}")
    }
}

fn walk(path: &str, old: &Json, new: &Json, out: &mut Vec<Change>) {
    match (old, new) {
        (Json::Object(o), Json::Object(n)) => {
            let mut keys: Vec<&String> = o.keys().chain(n.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = join(path, k);
                match (o.get(k), n.get(k)) {
                    (Some(a), Some(b)) => walk(&p, a, b, out),
                    (Some(a), None) => out.push(Change {
                        path: p,
                        kind: ChangeKind::Removed,
                        old: Some(a.clone()),
                        new: None,
                    }),
                    (None, Some(b)) => out.push(Change {
                        path: p,
                        kind: ChangeKind::Added,
                        old: None,
                        new: Some(b.clone()),
                    }),
                    (None, None) => {}
                }
            }
        }
        (Json::Array(o), Json::Array(n)) => {
            // Contact entries are matched by phone number; anything else by value.
            let ident = |v: &Json| {
                v.get("phone")
                    .and_then(Json::as_str)
                    .map(|p| format!("{path}[{p}]"))
            };
            let index = |items: &[Json]| {
                let mut keyed = HashMap::new();
                let mut plain = HashSet::new();
                for v in items {
                    match ident(v) {
                        Some(k) => {
                            keyed.insert(k, v.clone());
                        }
                        None => {
                            plain.insert(v.to_string());
                        }
                    }
                }
                (keyed, plain)
            };
            let (old_keyed, old_plain) = index(o);
            let (new_keyed, new_plain) = index(n);
            for a in o {
                match ident(a) {
                    Some(k) => match new_keyed.get(&k) {
                        Some(b) => walk(&k, a, b, out),
                        None => out.push(Change {
                            path: k,
                            kind: ChangeKind::Removed,
                            old: Some(a.clone()),
                            new: None,
                        }),
                    },
                    None if !new_plain.contains(&a.to_string()) => {
                        out.push(Change {
                            path: path.to_owned(),
                            kind: ChangeKind::Removed,
                            old: Some(a.clone()),
                            new: None,
                        });
                    }
                    None => {}
                }
            }
            for b in n {
                let added = match ident(b) {
                    Some(k) => !old_keyed.contains_key(&k),
                    None => !old_plain.contains(&b.to_string()),
                };
                if added {
                    out.push(Change {
                        path: ident(b).unwrap_or_else(|| path.to_owned()),
                        kind: ChangeKind::Added,
                        old: None,
                        new: Some(b.clone()),
                    });
                }
            }
        }
        _ if old != new => out.push(Change {
            path: path.to_owned(),
            kind: ChangeKind::Changed,
            old: Some(old.clone()),
            new: Some(new.clone()),
        }),
        _ => {}
    }
}
