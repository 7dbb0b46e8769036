//! `contacts.json`: the contact groups the controller last pushed (members with a lawful
//! basis only), the contact directory the applied profile's `contacts.groups` resolve
//! against. Replaced whole by each `contacts_push`; 0600, because it names people.

use std::collections::{BTreeMap, BTreeSet};

use corral_profiles::{
    ContactDirectory, ContactId, DirectoryContact, GroupName, LawfulBasis, PhoneNumber,
    RetiredContact,
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
    /// Members of earlier pushes that are in no group now (withdrawn, erased, moved out):
    /// removed from the work profile in every contacts mode, and forgotten once a clean
    /// reconcile has taken them off the phone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retired: Vec<RetiredContact>,
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
            retired: Vec::new(),
        })
    }

    /// This (newly pushed) directory as the successor of `previous`: whoever was a member
    /// or still retired there and is in no group here is retired, at most
    /// [`MAX_PUSHED_CONTACTS`] of them (the newest leavers first).
    pub fn succeeding(mut self, previous: &Directory) -> Directory {
        let now: BTreeSet<(&str, &str)> = self
            .groups
            .values()
            .flatten()
            .map(|c| (c.name.as_str(), c.number.as_str()))
            .collect();
        let mut retired: Vec<RetiredContact> = Vec::new();
        let mut seen = BTreeSet::new();
        let leavers = previous
            .groups
            .values()
            .flatten()
            .map(|c| RetiredContact {
                name: c.name.clone(),
                number: c.number.clone(),
            })
            .chain(previous.retired.iter().cloned());
        for r in leavers {
            if now.contains(&(r.name.as_str(), r.number.as_str())) || !seen.insert(r.clone()) {
                continue;
            }
            retired.push(r);
        }
        retired.truncate(MAX_PUSHED_CONTACTS);
        self.retired = retired;
        self
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use corral_wire::{ContactsPush, PushedContact};

    use super::*;

    fn push(seq: u64, members: &[(&str, &str)]) -> Directory {
        let members = members
            .iter()
            .enumerate()
            .map(|(i, (name, number))| PushedContact {
                id: format!("c{i}"),
                name: (*name).to_owned(),
                number: (*number).to_owned(),
                basis: "consent".into(),
            })
            .collect();
        Directory::from_push(&ContactsPush {
            push_seq: seq,
            version: format!("sha256:{seq:016x}"),
            groups: [("staff".to_owned(), members)].into(),
        })
        .unwrap()
    }

    fn retired(d: &Directory) -> Vec<&str> {
        d.retired.iter().map(|r| r.name.as_str()).collect()
    }

    #[test]
    fn whoever_leaves_the_list_is_retired_until_back() {
        let first = push(
            1,
            &[("Anna Berg", "+49301111111"), ("Bo Carl", "+49302222222")],
        );
        let second = push(2, &[("Anna Berg", "+49301111111")]).succeeding(&first);
        assert_eq!(retired(&second), ["Bo Carl"]);
        // Still retired while absent, even if the phone was not reconciled in between.
        let third = push(3, &[]).succeeding(&second);
        assert_eq!(retired(&third), ["Anna Berg", "Bo Carl"]);
        // Back on the list (consented again): no longer retired.
        let fourth = push(4, &[("Bo Carl", "+49302222222")]).succeeding(&third);
        assert_eq!(retired(&fourth), ["Anna Berg"]);
    }

    #[test]
    fn a_fresh_agent_retires_nobody() {
        let d = push(1, &[("Anna Berg", "+49301111111")]).succeeding(&Directory::default());
        assert!(d.retired.is_empty());
    }

    #[test]
    fn an_old_contacts_file_without_retired_still_reads() {
        let d: Directory = serde_json::from_str(r#"{"version":null,"groups":{}}"#).unwrap();
        assert!(d.retired.is_empty());
    }
}
