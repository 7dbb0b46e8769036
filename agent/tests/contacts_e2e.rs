//! The contact book reaching phones, end to end: the real controller in-process, two
//! simulated phones over ADB, each with a running agent. Group members with a lawful basis
//! appear in the work profile of both phones, a member without one never does; an erasure
//! removes the person from the online phone at once with its confirmation in the erasure
//! record, and from the phone that was offline first thing after it reconnects.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use corral_agent::backoff::Backoff;
use corral_agent::run::{self, Options};
use corral_agent::state::StateDir;
use corral_controller::domain::{
    Basis, Consent, ContactDraft, ContactGroup, ContactName, DeviceId, Timestamp,
};
use corral_controller::store::ErasureReason;
use corral_profiles::PhoneNumber;
use support::TestPhone;
use support::controller::{Controller, eventually};
use tokio::sync::watch;

const WORK_CONTACTS: &str =
    "content query --user 10 --uri content://com.android.contacts/data --projection data1";

struct RunningAgent {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<(), run::RunError>>,
}

fn start_agent(phone: &TestPhone, state: &StateDir) -> RunningAgent {
    let (stop, stopped) = watch::channel(false);
    let mut opts = Options::new(state.clone(), phone.maker());
    opts.backoff = Backoff {
        base: Duration::from_millis(100),
        max: Duration::from_millis(500),
        reset_after: Duration::from_secs(60),
    };
    RunningAgent {
        stop,
        task: tokio::spawn(run::run(opts, stopped)),
    }
}

impl RunningAgent {
    async fn stop(self) {
        self.stop.send_replace(true);
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }
}

/// Whether `content query` output shows Anna's name or her number (exactly: another
/// contact's number contains hers).
fn holds_anna(out: &str) -> bool {
    out.lines()
        .any(|l| l.ends_with("data1=Anna Berg") || l.ends_with("data1=+49301234567"))
}

fn contact(name: &str, number: &str, basis: Option<Basis>) -> ContactDraft {
    ContactDraft {
        name: ContactName::parse(name).unwrap(),
        number: PhoneNumber::parse(number, None).unwrap(),
        company: None,
        groups: BTreeSet::from([ContactGroup::parse("staff").unwrap()]),
        basis,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_members_reach_every_phone_and_an_erasure_leaves_them_all() {
    let ctl = Controller::start().await;
    let (token_a, _) = ctl.publish_and_token().await;
    let (token_b, _) = ctl.publish_and_token().await;
    let store = ctl.state.store.clone();
    let now = Timestamp::now();
    for group in ["staff", "suppliers"] {
        store
            .create_contact_group(&ContactGroup::parse(group).unwrap(), "", "user:admin", now)
            .await
            .unwrap();
    }
    let consent = Consent::new(
        "I agree that the shop's phones keep my name and number.",
        "2026-11",
        now,
        "paper form",
        "user:admin",
    )
    .unwrap();
    let anna = store
        .create_contact(
            &contact("Anna Berg", "+49 30 1234567", Some(Basis::Consent(consent))),
            "user:admin",
            now,
        )
        .await
        .unwrap();
    store
        .create_contact(
            &contact("Bernd Ohnegrund", "+49 30 7654321", None),
            "user:admin",
            now,
        )
        .await
        .unwrap();

    let (phone_a, phone_b) = (TestPhone::start().await, TestPhone::start().await);
    let dir = tempfile::tempdir().unwrap();
    let (state_a, state_b) = (
        StateDir::new(dir.path().join("a")),
        StateDir::new(dir.path().join("b")),
    );
    let device_a = ctl.enroll(&phone_a, &state_a, &token_a).await;
    let device_b = ctl.enroll(&phone_b, &state_b, &token_b).await;
    let agent_a = start_agent(&phone_a, &state_a);
    let agent_b = start_agent(&phone_b, &state_b);
    let queued = corral_controller::allow_lists::requeue(&ctl.state)
        .await
        .unwrap();
    assert_eq!(queued.len(), 2);

    for phone in [&phone_a, &phone_b] {
        eventually("Anna in the work profile", || {
            let out = phone.sh(WORK_CONTACTS);
            async move {
                out.lines().any(|l| l.ends_with("data1=Anna Berg"))
                    && out.lines().any(|l| l.ends_with("data1=+49301234567"))
            }
        })
        .await;
        let out = phone.sh(WORK_CONTACTS);
        assert!(!out.contains("Bernd") && !out.contains("7654321"), "{out}");
    }
    for device in [&device_a, &device_b] {
        eventually("the list confirmed", || {
            let (store, device) = (store.clone(), device.clone());
            async move {
                store
                    .device_allow_list(&device)
                    .await
                    .unwrap()
                    .is_some_and(|l| l.applied_version.as_ref() == Some(&l.version))
            }
        })
        .await;
    }

    // Phone B goes offline; Anna is erased.
    agent_b.stop().await;
    let erasure = corral_controller::allow_lists::erase(
        &ctl.state,
        &anna.id,
        ErasureReason::Erasure,
        "user:admin",
    )
    .await
    .unwrap();
    let phones: BTreeSet<DeviceId> = erasure.receipts.iter().map(|r| r.device.clone()).collect();
    assert_eq!(phones, BTreeSet::from([device_a.clone(), device_b.clone()]));
    eventually("Anna gone from the online phone", || {
        let out = phone_a.sh(WORK_CONTACTS);
        async move { !holds_anna(&out) }
    })
    .await;
    let confirmed = |device: DeviceId| {
        let (store, id) = (store.clone(), erasure.id.clone());
        async move {
            store
                .erasure(&id)
                .await
                .unwrap()
                .receipts
                .iter()
                .any(|r| r.device == device && r.confirmed_at.is_some())
        }
    };
    eventually("the online phone's confirmation", || {
        confirmed(device_a.clone())
    })
    .await;
    assert!(!confirmed(device_b.clone()).await);
    assert!(holds_anna(&phone_b.sh(WORK_CONTACTS)));

    // Phone B reconnects: the removal is the first thing it gets.
    let agent_b = start_agent(&phone_b, &state_b);
    eventually("Anna gone from the phone that was offline", || {
        let out = phone_b.sh(WORK_CONTACTS);
        async move { !holds_anna(&out) }
    })
    .await;
    eventually("its confirmation", || confirmed(device_b.clone())).await;
    // No stored push names Anna any more.
    for device in [&device_a, &device_b] {
        for push in store.pending_pushes(device).await.unwrap() {
            assert!(!push.body.contains("Anna"), "{}", push.body);
        }
    }
    assert!(
        !state_a
            .read("contacts.json")
            .unwrap()
            .unwrap()
            .contains("Anna")
    );

    agent_a.stop().await;
    agent_b.stop().await;
    drop(ctl);
    phone_a.stop().await;
    phone_b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_mode_phone_removes_an_erased_contact_and_keeps_the_staff_members_own() {
    let ctl = Controller::start().await;
    let report_mode = support::butcher_shop_edited(|text| {
        text.replacen("[contacts]\n", "[contacts]\nmode = \"report\"\n", 1)
    });
    assert_eq!(
        report_mode.profile.settings.contacts.mode,
        corral_profiles::ContactsMode::Report
    );
    let (token, _) = ctl.publish_target_and_token(report_mode).await;
    let store = ctl.state.store.clone();
    let now = Timestamp::now();
    for group in ["staff", "suppliers"] {
        store
            .create_contact_group(&ContactGroup::parse(group).unwrap(), "", "user:admin", now)
            .await
            .unwrap();
    }
    let anna = store
        .create_contact(
            &contact("Anna Berg", "+49 30 1234567", Some(Basis::Contract)),
            "user:admin",
            now,
        )
        .await
        .unwrap();
    let phone = TestPhone::start().await;
    let dir = tempfile::tempdir().unwrap();
    let state = StateDir::new(dir.path().join("a"));
    let device = ctl.enroll(&phone, &state, &token).await;
    let agent = start_agent(&phone, &state);
    corral_controller::allow_lists::requeue(&ctl.state)
        .await
        .unwrap();
    eventually("Anna in the work profile", || {
        let out = phone.sh(WORK_CONTACTS);
        async move { holds_anna(&out) }
    })
    .await;

    // The staff member adds a private contact: report mode leaves it alone.
    let ids = phone.sh(
        "content query --user 10 --uri content://com.android.contacts/raw_contacts --projection _id",
    );
    let next = ids
        .lines()
        .filter_map(|l| l.rsplit("_id=").next()?.trim().parse::<u64>().ok())
        .max()
        .unwrap_or(0)
        + 1;
    phone.sh("content insert --user 10 --uri content://com.android.contacts/raw_contacts --bind account_type:n: --bind account_name:n:");
    phone.sh(&format!("content insert --user 10 --uri content://com.android.contacts/data --bind raw_contact_id:i:{next} --bind mimetype:s:vnd.android.cursor.item/name --bind data1:s:'Aunt Erna'"));
    phone.sh(&format!("content insert --user 10 --uri content://com.android.contacts/data --bind raw_contact_id:i:{next} --bind mimetype:s:vnd.android.cursor.item/phone_v2 --bind data1:s:+4917699999999 --bind data2:i:2"));
    assert!(phone.sh(WORK_CONTACTS).contains("data1=Aunt Erna"));

    let erasure = corral_controller::allow_lists::erase(
        &ctl.state,
        &anna.id,
        ErasureReason::Erasure,
        "user:admin",
    )
    .await
    .unwrap();
    eventually(
        "Anna gone although the phone only reports strangers",
        || {
            let out = phone.sh(WORK_CONTACTS);
            async move { !holds_anna(&out) }
        },
    )
    .await;
    eventually("the phone's confirmation", || {
        let (store, id, device) = (store.clone(), erasure.id.clone(), device.clone());
        async move {
            store
                .erasure(&id)
                .await
                .unwrap()
                .receipts
                .iter()
                .any(|r| r.device == device && r.confirmed_at.is_some())
        }
    })
    .await;
    let out = phone.sh(WORK_CONTACTS);
    assert!(out.contains("data1=Aunt Erna"), "{out}");
    // Once off the phone, the agent forgets her too.
    eventually("Anna forgotten by the agent", || {
        let kept = state.read("contacts.json").unwrap().unwrap_or_default();
        async move { !kept.contains("Anna") && !kept.contains("+49301234567") }
    })
    .await;

    agent.stop().await;
    drop(ctl);
    phone.stop().await;
}
