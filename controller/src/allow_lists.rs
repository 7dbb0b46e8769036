//! Contact allow-lists per phone: which contact groups each phone's profile references
//! (resolved from the canonical text of its current profile version, device overrides
//! included), their members with a lawful basis from the contact book, and the `contacts`
//! pushes that carry them.
//!
//! The list of one device is a pure function ([`list_body`]) of its groups and the
//! directory; [`requeue`] queues every list that changed (idempotent: an unchanged list is
//! not queued again), [`erase`] takes a person off every phone and out of the book in one
//! transaction, and [`run_periodic`] re-runs [`requeue`] as the safety net for what
//! changes lists without telling this module (a phone enrolled, a profile published, a
//! crash between a contact change and its re-queue).
//! Must never: put a contact without a lawful basis in a list (the directory query refuses
//! them), or send a list whose transaction has not committed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::time::Duration;

use corral_profiles::{DeviceSerial, DirectoryContact, LawfulBasis, SourceFile, resolve};
use corral_wire::{ContactsPush, MAX_PUSHED_CONTACTS, PushedContact};
use serde::{Deserialize, Serialize};

use crate::domain::{ContactGroup, ContactId, Timestamp, VersionHash, sha256_hex};
use crate::serve::AppState;
use crate::store::{
    AllowListPush, ErasureReason, ErasureRecord, QueuedAllowList, Store, StoreError,
};

/// How often `corral serve` re-checks every phone's list: catches new phones, newly
/// published profile versions and changed assignments.
pub const RESYNC_EVERY: Duration = Duration::from_secs(10);

/// What a `contacts` push stores in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactsBody {
    pub version: String,
    pub groups: BTreeMap<String, Vec<PushedContact>>,
}

/// The wire message for the stored body of push `seq`.
pub fn push_from_body(seq: u64, body: &str) -> Result<ContactsPush, serde_json::Error> {
    let b: ContactsBody = serde_json::from_str(body)?;
    Ok(ContactsPush {
        push_seq: seq,
        version: b.version,
        groups: b.groups,
    })
}

/// The contact groups the canonical profile `text` references for the phone with
/// `serial`; `None` when the text does not resolve (it always does for stored versions).
pub fn referenced_groups(text: &str, serial: Option<&str>) -> Option<BTreeSet<ContactGroup>> {
    let files = [SourceFile::new("profile.toml", text)];
    let resolution = resolve(&files, None);
    if resolution.has_errors() {
        return None;
    }
    let profile = resolution.profiles.into_values().next()?;
    let serial = serial.and_then(|s| DeviceSerial::parse(s).ok());
    Some(profile.for_device(serial.as_ref()).settings.contacts.groups)
}

fn basis_name(b: LawfulBasis) -> &'static str {
    match b {
        LawfulBasis::Consent => "consent",
        LawfulBasis::Contract => "contract",
        LawfulBasis::LegitimateInterest => "legitimate_interest",
    }
}

/// One phone's list: the members of `groups` from `directory`, without `excluded`. A group
/// the book does not have is an empty list. The version hashes the list, so equal lists
/// have equal versions.
pub fn list_body(
    groups: &BTreeSet<ContactGroup>,
    directory: &BTreeMap<ContactGroup, Vec<DirectoryContact>>,
    excluded: Option<&ContactId>,
) -> ContactsBody {
    let mut out = BTreeMap::new();
    for g in groups {
        let members: Vec<PushedContact> = directory
            .get(g)
            .map(|members| {
                members
                    .iter()
                    .filter(|c| excluded.is_none_or(|x| c.id.0 != x.as_str()))
                    .map(|c| PushedContact {
                        id: c.id.0.clone(),
                        name: c.name.clone(),
                        number: c.number.as_str().to_owned(),
                        basis: basis_name(c.basis).to_owned(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.insert(g.as_str().to_owned(), members);
    }
    let canonical = serde_json::to_string(&out).unwrap_or_default();
    ContactsBody {
        version: format!("sha256:{}", &sha256_hex(canonical.as_bytes())[..16]),
        groups: out,
    }
}

/// Every active phone's list as it should be now (without `excluded`).
pub async fn plan(
    store: &Store,
    excluded: Option<&ContactId>,
) -> Result<Vec<AllowListPush>, StoreError> {
    let devices = store.device_profile_texts().await?;
    let mut resolved: HashMap<(VersionHash, Option<String>), Option<BTreeSet<ContactGroup>>> =
        HashMap::new();
    let mut per_device = Vec::with_capacity(devices.len());
    let mut all = BTreeSet::new();
    for d in &devices {
        let groups = resolved
            .entry((d.version.clone(), d.serial.clone()))
            .or_insert_with(|| referenced_groups(&d.text, d.serial.as_deref()))
            .clone();
        let Some(groups) = groups else {
            tracing::error!(device = %d.device, version = %d.version, "The device's profile does not resolve; no allow-list.");
            continue;
        };
        all.extend(groups.iter().cloned());
        per_device.push((d.device.clone(), groups));
    }
    let directory = store.contact_directory(&all).await?;
    let mut lists = Vec::with_capacity(per_device.len());
    for (device, groups) in per_device {
        let body = list_body(&groups, &directory, excluded);
        let members: usize = body.groups.values().map(Vec::len).sum();
        if members > MAX_PUSHED_CONTACTS {
            tracing::error!(%device, members, max = MAX_PUSHED_CONTACTS, "The allow-list is too long to push; not queued.");
            continue;
        }
        let json = serde_json::to_string(&body)
            .map_err(|e| StoreError::Invalid(format!("allow-list body: {e}")))?;
        lists.push(AllowListPush {
            device,
            version: body.version,
            body: json,
        });
    }
    Ok(lists)
}

fn notify(state: &AppState, queued: &[QueuedAllowList]) {
    for q in queued {
        state.gateway.notify(&q.device);
    }
}

/// Queues every phone's list that changed and hands them to the online phones.
pub async fn requeue(state: &AppState) -> Result<Vec<QueuedAllowList>, StoreError> {
    let lists = plan(&state.store, None).await?;
    let queued = state
        .store
        .queue_allow_lists(&lists, Timestamp::now())
        .await?;
    notify(state, &queued);
    Ok(queued)
}

/// Takes the contact off every phone and out of the book (one transaction), and hands
/// the new lists to the online phones at once.
pub async fn erase(
    state: &AppState,
    id: &ContactId,
    reason: ErasureReason,
    actor: &str,
) -> Result<ErasureRecord, StoreError> {
    // Fails early with NotFound, before the plan's work.
    state.store.contact(id).await?;
    let lists = plan(&state.store, Some(id)).await?;
    let (record, queued) = state
        .store
        .erase_contact_everywhere(id, reason, &lists, actor, Timestamp::now())
        .await?;
    notify(state, &queued);
    Ok(record)
}

/// Runs [`requeue`] every `every` until `shutdown` resolves.
pub async fn run_periodic(state: AppState, every: Duration, shutdown: impl Future<Output = ()>) {
    let mut timer = tokio::time::interval(every);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            _ = timer.tick() => {
                match requeue(&state).await {
                    Ok(queued) if !queued.is_empty() => {
                        tracing::info!(phones = queued.len(), "Queued contact allow-lists.");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "Cannot queue contact allow-lists."),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use corral_profiles::{ContactId as DirectoryId, PhoneNumber};

    fn member(id: &str, name: &str, number: &str) -> DirectoryContact {
        DirectoryContact {
            id: DirectoryId(id.to_owned()),
            name: name.to_owned(),
            number: PhoneNumber::parse(number, None).unwrap(),
            basis: LawfulBasis::Contract,
        }
    }

    #[test]
    fn a_list_holds_the_referenced_groups_and_its_version_follows_its_content() {
        let staff = ContactGroup::parse("staff").unwrap();
        let other = ContactGroup::parse("other").unwrap();
        let anna = "0123456789abcdef0123456789abcdef";
        let directory = BTreeMap::from([
            (staff.clone(), vec![member(anna, "Anna", "+49301111111")]),
            (other.clone(), vec![member("b", "Bernd", "+49302222222")]),
        ]);
        let groups = BTreeSet::from([staff.clone(), ContactGroup::parse("unknown").unwrap()]);
        let body = list_body(&groups, &directory, None);
        let names: Vec<_> = body.groups["staff"]
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(names, ["Anna"]);
        assert_eq!(body.groups["unknown"], Vec::new());
        assert!(!body.groups.contains_key("other"));
        assert_eq!(body, list_body(&groups, &directory, None));
        let without = list_body(&groups, &directory, Some(&ContactId::parse(anna).unwrap()));
        assert!(without.groups["staff"].is_empty());
        assert_ne!(without.version, body.version);
        let pushed = push_from_body(7, &serde_json::to_string(&body).unwrap()).unwrap();
        assert_eq!((pushed.push_seq, pushed.len()), (7, 1));
    }

    #[test]
    fn groups_come_from_the_profile() {
        let files = [
            SourceFile::new(
                "base.toml",
                include_str!("../../profiles/examples/base.toml"),
            ),
            SourceFile::new(
                "butcher-shop.toml",
                include_str!("../../profiles/examples/butcher-shop.toml"),
            ),
        ];
        let p = corral_profiles::resolve_one(&files, "butcher-shop", None).unwrap();
        let text = p.canonical_toml();
        let names = |serial| {
            referenced_groups(&text, serial)
                .unwrap()
                .iter()
                .map(|g| g.as_str().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(None), ["staff", "suppliers"]);
        assert_eq!(names(Some("R58M41ABCDE")), ["staff", "suppliers"]);
        assert_eq!(referenced_groups("name = 3", None), None);
    }
}
