//! `contacts.json`: the contact groups the controller last pushed (members with a lawful
//! basis only), the contact directory the applied profile's `contacts.groups` resolve
//! against. Replaced whole by each `contacts_push`; 0600, because it names people.

use std::collections::{BTreeMap, BTreeSet};

use corral_profiles::{
    ContactDirectory, ContactId, DirectoryContact, GroupName, LawfulBasis, PhoneNumber,
};
use corral_wire::{ContactsPush, MAX_PUSHED_CONTACTS};
use serde::{Deserialize, Serialize};

/// The pushed contact groups.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Directory {
    /// The pushed version (`sha256:…`), if any push arrived yet.
    #[serde(default)]
    pub version: Option<String>,
    /// Group → members, sorted by number.
    #[serde(default)]
    pub groups: BTreeMap<GroupName, Vec<DirectoryContact>>,
}

impl Directory {
    /// Checks a push: group names, numbers and bases must parse, and the whole list must
    /// stay within [`MAX_PUSHED_CONTACTS`]. The error names the first bad entry.
    pub fn from_push(push: &ContactsPush) -> Result<Directory, String> {
        if push.len() > MAX_PUSHED_CONTACTS {
            return Err(format!(
                "{} contacts exceed the limit of {MAX_PUSHED_CONTACTS}",
                push.len()
            ));
        }
        let mut groups = BTreeMap::new();
        for (name, members) in &push.groups {
            let group = GroupName::parse(name).map_err(|e| format!("group `{name}`: {e}"))?;
            let mut out = Vec::with_capacity(members.len());
            for m in members {
                let number = PhoneNumber::parse(&m.number, None)
                    .map_err(|e| format!("contact {} in `{name}`: {e}", m.id))?;
                let basis = match m.basis.as_str() {
                    "consent" => LawfulBasis::Consent,
                    "contract" => LawfulBasis::Contract,
                    "legitimate_interest" => LawfulBasis::LegitimateInterest,
                    other => {
                        return Err(format!(
                            "contact {} in `{name}`: unknown lawful basis `{other}`",
                            m.id
                        ));
                    }
                };
                if m.name.trim().is_empty() || m.name.chars().any(char::is_control) {
                    return Err(format!("contact {} in `{name}`: unusable name", m.id));
                }
                out.push(DirectoryContact {
                    id: ContactId(m.id.clone()),
                    name: m.name.clone(),
                    number,
                    basis,
                });
            }
            groups.insert(group, out);
        }
        Ok(Directory {
            version: Some(push.version.clone()),
            groups,
        })
    }

    /// The groups of `wanted` this directory has no members list for.
    pub fn missing(&self, wanted: &BTreeSet<GroupName>) -> BTreeSet<GroupName> {
        wanted
            .iter()
            .filter(|g| !self.groups.contains_key(*g))
            .cloned()
            .collect()
    }
}

/// A group the controller did not push resolves empty: its members are not written, and
/// the profile still applies (the name is reported as undelivered).
impl ContactDirectory for Directory {
    fn group(&self, group: &GroupName) -> Option<Vec<DirectoryContact>> {
        Some(self.groups.get(group).cloned().unwrap_or_default())
    }

    fn group_names(&self) -> Vec<GroupName> {
        self.groups.keys().cloned().collect()
    }
}
