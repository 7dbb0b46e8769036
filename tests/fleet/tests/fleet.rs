//! The fleet as processes: `corral serve`, `corral-devsim` phones and a `corral-agent
//! run --adb …` per phone. Each test reads as the behaviour it shows; what the phones
//! hold is checked with Debian's `adb shell`, what was recorded from the controller's
//! database, and what the agents still owe from their outboxes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use corral_fleet_tests::shop::{self, CONTACTS, PROFILE};
use corral_fleet_tests::{Fleet, Latency, Published};

/// The shop profile's version in a publish answer.
fn shop_version(published: &[Published]) -> String {
    published
        .iter()
        .find(|p| p.name == PROFILE)
        .unwrap_or_else(|| panic!("{PROFILE} not in {published:?}"))
        .version
        .clone()
}

/// The version the controller recorded as applied on agent `i`'s device.
fn applied_version(fleet: &Fleet, i: usize) -> Option<String> {
    fleet.device(i).applied_version.map(|v| v.to_string())
}

/// `Ok` once agent `i`'s device has reported `version` applied and its agent's outbox is
/// empty (every report acknowledged).
fn settled(fleet: &Fleet, i: usize, version: &str) -> Result<(), String> {
    let applied = applied_version(fleet, i);
    let outbox = fleet.agents[i].outbox();
    if applied.as_deref() == Some(version) && outbox.records == 0 {
        Ok(())
    } else {
        Err(format!(
            "phone {i} applied {applied:?}, agent outbox {outbox:?}"
        ))
    }
}

/// How often agent `i`'s device reported `version` applied, and every failure reported.
fn applied_events(fleet: &Fleet, i: usize, version: &str) -> (usize, Vec<String>) {
    let events = fleet.events(i);
    let applied = events
        .iter()
        .filter(|e| e.kind == "profile.applied" && e.detail["version"] == version)
        .count();
    let failed = events
        .iter()
        .filter(|e| e.kind == "profile.apply_failed")
        .map(|e| e.detail.to_string())
        .collect();
    (applied, failed)
}

/// Each version in `versions` reached agent `i`'s phone as exactly one delivery, applied
/// exactly once (one `profile.applied` event), and nothing failed.
fn assert_applied_once_each(fleet: &Fleet, i: usize, versions: &[&str]) {
    for version in versions {
        let (applied, failed) = applied_events(fleet, i, version);
        assert_eq!(
            applied, 1,
            "phone {i}: {version} reported applied {applied} times"
        );
        assert!(failed.is_empty(), "phone {i}: failures {failed:?}");
        let deliveries: Vec<_> = fleet
            .deliveries(i)
            .into_iter()
            .filter(|d| d.version.as_str() == *version)
            .collect();
        assert_eq!(
            deliveries.len(),
            1,
            "phone {i}: deliveries of {version}: {deliveries:?}"
        );
        assert!(deliveries[0].applied_at.is_some(), "{deliveries:?}");
    }
}

/// The contact the second version adds.
const NEW_CONTACT: &str = "Schulz Spices";

/// Publishes a second version of the shop profile (one more contact) and waits until the
/// controller has sent its push to each phone in `phones`; returns the version. The
/// caller freezes the phones first, so no agent can have applied it yet.
fn publish_v2_and_send(fleet: &Fleet, phones: std::ops::Range<usize>) -> String {
    let files = shop::files_with_contact(NEW_CONTACT, "+49 30 7654321");
    let v2 = shop_version(&fleet.publish(&shop::as_refs(&files)));
    for i in phones {
        fleet.eventually(&format!("the push of {v2} sent to phone {i}"), || {
            let id = fleet.device(i).id;
            let pending = fleet.query(async |s| s.pending_pushes(&id).await);
            if pending.iter().any(|p| p.attempts > 0) {
                Ok(())
            } else {
                Err(format!("{pending:?}"))
            }
        });
    }
    // Let the pushes cross the sockets before anything else happens.
    std::thread::sleep(Duration::from_millis(500));
    v2
}

/// A fleet of `n` phones enrolled on the butcher-shop profile, running, with its first
/// version applied everywhere. Returns that version.
fn rolled_out(n: usize, latency: Latency) -> (Fleet, String) {
    let mut fleet = Fleet::start(n, latency);
    let files = shop::files();
    let published = fleet.publish(&shop::as_refs(&files));
    let version = shop_version(&published);
    fleet.enroll_all(PROFILE);
    fleet.run_agents();
    for i in 0..n {
        fleet.eventually(&format!("phone {i} on {version}"), || {
            settled(&fleet, i, &version)
        });
    }
    (fleet, version)
}

#[test]
fn ten_phones_get_the_profile_applied() {
    let (fleet, version) = rolled_out(10, Latency::None);
    for i in 0..10 {
        shop::assert_on_profile(&fleet.phones, i, &CONTACTS);
        assert_applied_once_each(&fleet, i, &[&version]);
        let applied = fleet.agents[i].applied();
        assert_eq!(applied["version"], version.as_str(), "agent {i}: {applied}");
    }
}

#[test]
fn a_hand_added_contact_is_reported_and_removed() {
    let (fleet, _) = rolled_out(1, Latency::None);
    let user = shop::work_profile(&fleet.phones, 0).unwrap();
    // Someone adds a private contact to the work contact book by hand.
    fleet.phones.shell(
        0,
        &format!(
            "content insert --user {user} --uri content://com.android.contacts/raw_contacts \
         --bind account_type:n: --bind account_name:n:"
        ),
    );
    let ids = shop::raw_contacts(&fleet.phones, 0, user);
    let id = ids
        .iter()
        .max_by_key(|id| id.parse::<u64>().unwrap_or(0))
        .unwrap()
        .clone();
    for (mimetype, value) in [("name", "'Private Person'"), ("phone_v2", "+4915112345678")] {
        fleet.phones.shell(
            0,
            &format!(
                "content insert --user {user} --uri content://com.android.contacts/data \
             --bind raw_contact_id:i:{id} --bind mimetype:s:vnd.android.cursor.item/{mimetype} \
             --bind data1:s:{value}"
            ),
        );
    }
    assert!(shop::contact_book(&fleet.phones, 0, user).contains(&"Private Person".to_owned()));

    fleet.command(0, "resync");
    fleet.eventually("the hand-added contact removed", || {
        let book = shop::contact_book(&fleet.phones, 0, user);
        if book.iter().any(|c| c == "Private Person") {
            Err(format!("{book:?}"))
        } else {
            Ok(())
        }
    });
    let drift = fleet.eventually("the drift reported", || {
        let drift = fleet.device(0).drift.unwrap_or_default();
        let foreign = drift["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|item| item["drift"] == "foreign_contacts")
            .cloned();
        foreign.ok_or_else(|| drift.to_string())
    });
    // Reported by id only, as repaired; the name and number never leave the phone.
    assert_eq!(drift["repaired"], true, "{drift}");
    assert!(drift.to_string().contains(&id), "{drift}");
    let recorded = fleet.device(0);
    for private in ["Private Person", "4915112345678"] {
        assert!(!drift.to_string().contains(private), "{drift}");
        let observed = recorded
            .observed_state
            .clone()
            .unwrap_or_default()
            .to_string();
        assert!(!observed.contains(private), "{observed}");
    }
    shop::assert_on_profile(&fleet.phones, 0, &CONTACTS);
    fleet.eventually("every report acknowledged", || {
        let outbox = fleet.agents[0].outbox();
        if outbox.records == 0 {
            Ok(())
        } else {
            Err(format!("{outbox:?}"))
        }
    });
    let done = fleet
        .events(0)
        .iter()
        .filter(|e| e.kind == "command.done")
        .count();
    assert_eq!(done, 1, "the re-sync command reported done once");
}

#[test]
fn a_controller_killed_mid_push_converges_without_loss_or_repeat() {
    let (mut fleet, v1) = rolled_out(10, Latency::None);
    // Phone 9's agent is down during the push: its push waits in the controller's outbox.
    fleet.agents[9].stop();
    // The phones freeze, so every running agent holds the push mid-apply when the
    // controller dies: sent, not acknowledged, not applied.
    fleet.phones.process().signal("STOP");
    let v2 = publish_v2_and_send(&fleet, 0..9);
    assert_ne!(v1, v2);
    for i in 0..10 {
        assert_eq!(
            applied_version(&fleet, i).as_deref(),
            Some(v1.as_str()),
            "phone {i} cannot have applied {v2}: its phone is frozen"
        );
    }
    fleet.kill_controller();
    fleet.phones.process().signal("CONT");
    // The agents apply offline and keep their results until the controller is back.
    fleet.eventually("the running agents applied v2 offline", || {
        let behind: Vec<usize> = (0..9)
            .filter(|&i| fleet.agents[i].applied()["version"] != v2.as_str())
            .collect();
        if behind.is_empty() {
            Ok(())
        } else {
            Err(format!("behind: {behind:?}"))
        }
    });
    fleet.restart_controller();
    fleet.agents[9].start();
    for i in 0..10 {
        fleet.eventually(&format!("phone {i} on {v2}"), || settled(&fleet, i, &v2));
    }
    let mut contacts = CONTACTS.to_vec();
    contacts.push(NEW_CONTACT);
    for i in 0..10 {
        assert_applied_once_each(&fleet, i, &[&v1, &v2]);
        shop::assert_on_profile(&fleet.phones, i, &contacts);
    }
}

#[test]
fn an_agent_killed_mid_report_delivers_it_exactly_once() {
    let (mut fleet, v1) = rolled_out(1, Latency::None);
    // The phone freezes, so the push is held mid-apply; then the controller freezes, so
    // the result the agent writes and sends is never acknowledged.
    fleet.phones.process().signal("STOP");
    let v2 = publish_v2_and_send(&fleet, 0..1);
    fleet.controller().process().signal("STOP");
    fleet.phones.process().signal("CONT");
    let before = fleet.agents[0].outbox();
    fleet.eventually("the result written to the outbox, unacknowledged", || {
        let applied = fleet.agents[0].applied();
        let outbox = fleet.agents[0].outbox();
        if applied["version"] == v2.as_str()
            && applied["pending"].is_null()
            && outbox.next_seq > before.next_seq
        {
            Ok(())
        } else {
            Err(format!("applied.json {applied}, outbox {outbox:?}"))
        }
    });
    // The report is on disk and on the wire; the agent dies before the acknowledgement.
    fleet.agents[0].kill();
    assert_eq!(
        applied_version(&fleet, 0).as_deref(),
        Some(v1.as_str()),
        "the frozen controller cannot have recorded the result yet"
    );
    assert!(
        fleet.agents[0].outbox().records > 0,
        "the report is still owed"
    );
    fleet.controller().process().signal("CONT");
    fleet.agents[0].start();
    fleet.eventually(&format!("phone 0 on {v2}"), || settled(&fleet, 0, &v2));
    assert_applied_once_each(&fleet, 0, &[&v1, &v2]);
    let mut contacts = CONTACTS.to_vec();
    contacts.push(NEW_CONTACT);
    shop::assert_on_profile(&fleet.phones, 0, &contacts);
}
