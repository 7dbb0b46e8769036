//! The contact allow-list: inline entries from the profile, groups from the controller's
//! contact book, and the lawful basis every contact must carry to reach a phone.
//!
//! The contact book itself is not here: callers pass a [`ContactDirectory`]. The only way
//! to build an [`AllowList`] is from contacts that carry a [`LawfulBasis`], so a contact
//! without one cannot reach the planner.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::names::GroupName;
use crate::phone::PhoneNumber;

/// Whether the agent owns the work contact book or only watches it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactsMode {
    /// The agent is the only writer: contacts outside the allow-list are removed (and
    /// reported as removed).
    Exact,
    /// Missing contacts are added; contacts outside the allow-list are only reported.
    Report,
}

impl ContactsMode {
    pub(crate) const ALL: [(&'static str, ContactsMode); 2] = [
        ("exact", ContactsMode::Exact),
        ("report", ContactsMode::Report),
    ];
}

/// The GDPR Art. 6 basis on which a contact's data is processed on company phones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LawfulBasis {
    /// Art. 6(1)(a): the person agreed.
    Consent,
    /// Art. 6(1)(b): needed for a contract with the person (customers, suppliers, staff).
    Contract,
    /// Art. 6(1)(f): the company's legitimate interest, weighed and documented.
    LegitimateInterest,
}

impl LawfulBasis {
    pub(crate) const ALL: [(&'static str, LawfulBasis); 3] = [
        ("consent", LawfulBasis::Consent),
        ("contract", LawfulBasis::Contract),
        ("legitimate_interest", LawfulBasis::LegitimateInterest),
    ];
}

/// Identifies a contact: the contact book's id, or `inline:<E.164>` for inline entries.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ContactId(pub String);

impl fmt::Display for ContactId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A contact written in the profile itself.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct InlineContact {
    /// Display name on the phone.
    pub name: String,
    /// The number, normalised. Called `phone` in profile files.
    #[serde(rename = "phone")]
    pub number: PhoneNumber,
    /// Why the company may process it.
    pub basis: LawfulBasis,
}

/// A contact as the controller's contact book hands it out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryContact {
    /// The contact book's id.
    pub id: ContactId,
    /// Display name.
    pub name: String,
    /// The number, normalised.
    pub number: PhoneNumber,
    /// Why the company may process it; a contact book entry without one is not handed
    /// out.
    pub basis: LawfulBasis,
}

/// The controller's contact book, as far as profiles need it.
pub trait ContactDirectory {
    /// The members of `group`, or `None` when the contact book has no such group.
    fn group(&self, group: &GroupName) -> Option<Vec<DirectoryContact>>;

    /// All group names, for "did you mean" hints.
    fn group_names(&self) -> Vec<GroupName>;
}

impl ContactDirectory for BTreeMap<GroupName, Vec<DirectoryContact>> {
    fn group(&self, group: &GroupName) -> Option<Vec<DirectoryContact>> {
        self.get(group).cloned()
    }

    fn group_names(&self) -> Vec<GroupName> {
        self.keys().cloned().collect()
    }
}

/// One contact that may be on a phone.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AllowedContact {
    /// Where it came from.
    pub id: ContactId,
    /// Display name written to the phone.
    pub name: String,
    /// Number written to the phone.
    pub number: PhoneNumber,
    /// The basis it is processed on.
    pub basis: LawfulBasis,
}

/// A contact that left the allow-list — withdrawn, erased, or taken out of its group —
/// and that corral wrote to the phone before. It is removed from the work profile in every
/// contacts mode: `report` leaves other people's contacts alone, never one corral put
/// there and must now take away (Art. 7(3), Art. 17).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RetiredContact {
    /// The name corral wrote.
    pub name: String,
    /// The number corral wrote.
    pub number: PhoneNumber,
}

/// The resolved allow-list: one entry per number, sorted by number, plus the contacts
/// that left it and must go.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowList {
    contacts: Vec<AllowedContact>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    retired: Vec<RetiredContact>,
}

/// Groups the contact book does not have.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown contact groups: {}", .0.iter().map(GroupName::as_str).collect::<Vec<_>>().join(", "))]
pub struct UnknownGroups(pub Vec<GroupName>);

impl AllowList {
    /// Builds the allow-list from inline entries and contact-book groups. When one number
    /// appears more than once, inline entries win over groups, and earlier groups (by
    /// name) over later ones.
    pub fn build(
        entries: &[InlineContact],
        groups: &BTreeSet<GroupName>,
        directory: &dyn ContactDirectory,
    ) -> Result<AllowList, UnknownGroups> {
        let mut by_number: BTreeMap<PhoneNumber, AllowedContact> = BTreeMap::new();
        for e in entries {
            by_number
                .entry(e.number.clone())
                .or_insert_with(|| AllowedContact {
                    id: ContactId(format!("inline:{}", e.number)),
                    name: e.name.clone(),
                    number: e.number.clone(),
                    basis: e.basis,
                });
        }
        let mut unknown = Vec::new();
        for g in groups {
            let Some(members) = directory.group(g) else {
                unknown.push(g.clone());
                continue;
            };
            for m in members {
                by_number.entry(m.number.clone()).or_insert(AllowedContact {
                    id: m.id,
                    name: m.name,
                    number: m.number,
                    basis: m.basis,
                });
            }
        }
        if !unknown.is_empty() {
            return Err(UnknownGroups(unknown));
        }
        Ok(AllowList {
            contacts: by_number.into_values().collect(),
            retired: Vec::new(),
        })
    }

    /// An allow-list from contacts that already carry a basis (tests, benchmarks, the
    /// controller's own merges). Deduplicates by number; the first one wins.
    pub fn from_contacts(contacts: impl IntoIterator<Item = AllowedContact>) -> AllowList {
        let mut by_number: BTreeMap<PhoneNumber, AllowedContact> = BTreeMap::new();
        for c in contacts {
            by_number.entry(c.number.clone()).or_insert(c);
        }
        AllowList {
            contacts: by_number.into_values().collect(),
            retired: Vec::new(),
        }
    }

    /// The same list, with the contacts that left it and must be removed from the phone
    /// in any mode. A retired contact that is (again) on the list is not retired.
    pub fn with_retired(mut self, retired: impl IntoIterator<Item = RetiredContact>) -> AllowList {
        let mut retired: Vec<RetiredContact> = retired
            .into_iter()
            .filter(|r| {
                !self
                    .contacts
                    .iter()
                    .any(|c| c.name == r.name && c.number == r.number)
            })
            .collect();
        retired.sort_unstable();
        retired.dedup();
        self.retired = retired;
        self
    }

    /// The contacts that left the list, sorted.
    pub fn retired(&self) -> &[RetiredContact] {
        &self.retired
    }

    /// The contacts, sorted by number.
    pub fn contacts(&self) -> &[AllowedContact] {
        &self.contacts
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.contacts.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.contacts.is_empty()
    }
}
