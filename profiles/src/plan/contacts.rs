//! Contact reconciliation: which raw contacts in the work profile to remove, which
//! allow-listed contacts to add, and which foreign contacts to report.
//!
//! Linear in the number of contacts (one hash map of the allow-list), so a 5,000-contact
//! book costs microseconds; the work that scales with changes is in the actions.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::contacts::{AllowList, AllowedContact};
use crate::observed::{ObservedContact, RawContactId};

/// The outcome of comparing the allow-list with the phone's contacts.
#[derive(Debug, Default)]
pub(crate) struct ContactDelta<'a> {
    /// Raw contacts that are not (exactly) an allow-listed contact, sorted.
    pub foreign: Vec<RawContactId>,
    /// Allow-listed contacts missing from the phone, in allow-list order.
    pub missing: Vec<&'a AllowedContact>,
    /// Raw contacts corral wrote for someone who has left the list since, sorted: removed
    /// in every mode, and not counted as foreign.
    pub retired: Vec<RawContactId>,
}

/// A local raw contact is an allow-listed contact when its name and its only number are
/// exactly those corral writes. Contacts of `ignored_accounts` (the messenger's own sync
/// mirror, allowed accounts) are not ours to judge; any other account's contacts are
/// foreign.
pub(crate) fn compare<'a>(
    allow: &'a AllowList,
    observed: &[ObservedContact],
    ignored_accounts: &BTreeSet<&str>,
) -> ContactDelta<'a> {
    let mut wanted: HashMap<(&str, &str), usize> = HashMap::with_capacity(allow.len());
    for (i, c) in allow.contacts().iter().enumerate() {
        wanted.insert((c.name.as_str(), c.number.as_str()), i);
    }
    let retired_names: HashSet<(&str, &str)> = allow
        .retired()
        .iter()
        .map(|r| (r.name.as_str(), r.number.as_str()))
        .collect();
    let mut present = vec![false; allow.len()];
    let mut foreign = Vec::new();
    let mut retired = Vec::new();
    for oc in observed {
        match oc.account_type.as_deref() {
            Some(t) if ignored_accounts.contains(t) => continue,
            Some(_) => {
                foreign.push(oc.id);
                continue;
            }
            None => {}
        }
        let hit = match (oc.name.as_deref(), oc.numbers.as_slice()) {
            (Some(name), [number]) => wanted.get(&(name, number.as_str())).copied(),
            _ => None,
        };
        match hit {
            Some(i) if !present[i] => present[i] = true,
            // A second copy of an allowed contact is as foreign as a stranger.
            Some(_) => foreign.push(oc.id),
            None => {
                let was_ours = match (oc.name.as_deref(), oc.numbers.as_slice()) {
                    (Some(name), [number]) => retired_names.contains(&(name, number.as_str())),
                    _ => false,
                };
                if was_ours {
                    retired.push(oc.id);
                } else {
                    foreign.push(oc.id);
                }
            }
        }
    }
    foreign.sort_unstable();
    retired.sort_unstable();
    let missing = allow
        .contacts()
        .iter()
        .zip(&present)
        .filter(|(_, p)| !**p)
        .map(|(c, _)| c)
        .collect();
    ContactDelta {
        foreign,
        missing,
        retired,
    }
}
