//! The agent against a simulated phone over the real ADB protocol: observe → plan →
//! enforce through `AdbShell` with the butcher-shop profile, checked by asking the phone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use corral_agent::observe::{Interest, Observer};
use corral_agent::reconcile::{self, reconcile};
use corral_profiles::{Action, Drift};
use support::{TestPhone, butcher_shop};

const MT: &str = "multi_thread";

fn contacts(p: &TestPhone) -> String {
    p.sh("content query --user 10 --uri content://com.android.contacts/data --projection raw_contact_id:mimetype:data1 --sort raw_contact_id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_phone_gets_the_profile_and_a_second_reconcile_does_nothing() {
    let _ = MT;
    let p = TestPhone::start().await;
    let mut shell = p.shell();
    let mut observer = Observer::new();
    let target = butcher_shop();
    let report = reconcile(&mut shell, &mut observer, &target).await;
    assert!(report.clean(), "{:?}", report.errors());
    assert!(
        report
            .found
            .actions
            .iter()
            .any(|a| matches!(a, Action::CreateWorkProfile { .. }))
    );
    let done: Vec<&str> = report.done.iter().map(|d| d.description.as_str()).collect();
    assert!(
        done.contains(&"created the work profile \"Shop\""),
        "{done:?}"
    );
    assert!(
        done.contains(&"installed com.whatsapp.w4b in user 10"),
        "{done:?}"
    );
    assert!(
        done.contains(&"uninstalled com.whatsapp.w4b for user 0"),
        "{done:?}"
    );

    // Ask the phone itself.
    assert!(
        p.sh("pm list users")
            .contains("\tUserInfo{10:Shop:1030} running\n"),
        "{}",
        p.sh("pm list users")
    );
    assert_eq!(
        p.sh("pm list packages --user 10 com.whatsapp.w4b"),
        "package:com.whatsapp.w4b\n"
    );
    assert_eq!(p.sh("pm list packages --user 0 com.whatsapp.w4b"), "");
    assert_eq!(p.sh("pm list packages --user 10 com.android.chrome"), "");
    // System packages without a launcher icon are never touched.
    assert_eq!(
        p.sh("pm list packages --user 10 com.android.providers.contacts"),
        "package:com.android.providers.contacts\n"
    );
    assert_eq!(
        p.sh("settings get --user 10 secure managed_profile_contact_remote_search"),
        "0\n"
    );
    assert_eq!(
        p.sh("settings get --user 10 secure cross_profile_calendar_enabled"),
        "0\n"
    );
    let backup = p.sh("bmgr --user 10 enabled");
    assert!(
        backup == "Backup Manager currently disabled\n"
            || backup.contains("not activated for user 10"),
        "{backup}"
    );
    let book = contacts(&p);
    for c in target.allow.contacts() {
        assert!(book.contains(&format!("data1={}", c.name)), "{book}");
        assert!(
            book.contains(&format!("data1={}", c.number.as_str())),
            "{book}"
        );
    }

    // Everything is in place: the next reconcile observes once and plans nothing.
    let again = reconcile(&mut shell, &mut observer, &target).await;
    assert!(again.clean(), "{:?}", again.errors());
    assert_eq!(again.found.actions, vec![], "{:?}", again.found.actions);
    assert_eq!(again.round_trips, 1);
    // Only what no shell command can fix is left: the caller-id setting needs the admin app.
    assert!(
        again
            .found
            .drift
            .iter()
            .all(|d| matches!(d, Drift::NeedsProfileOwner { .. })),
        "{:?}",
        again.found.drift
    );
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_added_by_hand_is_removed_and_reported() {
    let p = TestPhone::start().await;
    let mut shell = p.shell();
    let mut observer = Observer::new();
    let target = butcher_shop();
    assert!(reconcile(&mut shell, &mut observer, &target).await.clean());

    // Someone adds a private contact to the work contact book.
    p.sh("content insert --user 10 --uri content://com.android.contacts/raw_contacts --bind account_type:n: --bind account_name:n:");
    let id = p
        .sh("content query --user 10 --uri content://com.android.contacts/raw_contacts --projection _id --sort '_id DESC'")
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("Row: 0 _id="))
        .unwrap()
        .to_owned();
    p.sh(&format!("content insert --user 10 --uri content://com.android.contacts/data --bind raw_contact_id:i:{id} --bind mimetype:s:vnd.android.cursor.item/name --bind data1:s:'Private Person'"));
    p.sh(&format!("content insert --user 10 --uri content://com.android.contacts/data --bind raw_contact_id:i:{id} --bind mimetype:s:vnd.android.cursor.item/phone_v2 --bind data1:s:+4915112345678"));
    assert!(contacts(&p).contains("Private Person"));

    let report = reconcile(&mut shell, &mut observer, &target).await;
    assert!(report.clean(), "{:?}", report.errors());
    let foreign: Vec<&Drift> = report
        .found
        .drift
        .iter()
        .filter(|d| matches!(d, Drift::ForeignContacts { .. }))
        .collect();
    assert_eq!(foreign.len(), 1, "{:?}", report.found.drift);
    assert!(
        matches!(foreign[0], Drift::ForeignContacts { removed: true, ids } if ids.len() == 1 && ids[0].0.to_string() == id)
    );
    assert!(!contacts(&p).contains("Private Person"), "{}", contacts(&p));
    // The drift report names the contact by id only, and says it was repaired.
    let items = reconcile::drift_items(&report);
    let text = serde_json::to_string(&items).unwrap();
    assert!(text.contains("\"drift\":\"foreign_contacts\""), "{text}");
    assert!(text.contains("\"repaired\":true"), "{text}");
    assert!(
        !text.contains("Private Person") && !text.contains("4915112345678"),
        "{text}"
    );
    // The state report does not carry the removed contact either.
    let state = reconcile::redacted_state(report.observed.as_ref().unwrap(), &target).to_string();
    assert!(!state.contains("Private Person"), "{state}");
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steady_state_observation_is_one_round_trip() {
    let p = TestPhone::start().await;
    let mut shell = p.shell();
    let mut observer = Observer::new();
    let target = butcher_shop();
    let interest = Interest::of(&target.profile.settings);
    // No work profile yet: one round trip.
    let before = shell.round_trips();
    let phone = observer.observe(&mut shell, &interest).await.unwrap();
    assert!(phone.work.is_none());
    assert_eq!(shell.round_trips() - before, 1);
    assert!(reconcile(&mut shell, &mut observer, &target).await.clean());
    // A fresh observer learns the work profile's id first: two; then one.
    let mut fresh = Observer::new();
    let before = shell.round_trips();
    let phone = fresh.observe(&mut shell, &interest).await.unwrap();
    assert_eq!(shell.round_trips() - before, 2);
    assert_eq!(phone.work.as_ref().map(|w| w.user.0), Some(10));
    let before = shell.round_trips();
    let again = fresh.observe(&mut shell, &interest).await.unwrap();
    assert_eq!(shell.round_trips() - before, 1);
    assert_eq!(again, phone);
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_of_every_kind_is_repaired_or_reported() {
    let p = TestPhone::start().await;
    let mut shell = p.shell();
    let mut observer = Observer::new();
    let target = butcher_shop();
    assert!(reconcile(&mut shell, &mut observer, &target).await.clean());

    // An app made visible, a setting changed, an account signed in, and WhatsApp
    // mirroring a contact through its own account (left alone: it is the messenger's).
    p.sh("pm unhide --user 10 com.android.chrome");
    p.sh("settings put --user 10 secure managed_profile_contact_remote_search 1");
    p.phone.update(|s| {
        s.data_mut(10)
            .accounts
            .push(corral_devsim::phone::state::Account {
                name: "someone@gmail.com".into(),
                account_type: "com.google".into(),
            });
    });
    p.sh("content insert --user 10 --uri content://com.android.contacts/raw_contacts --bind account_type:s:com.whatsapp.w4b --bind account_name:s:WhatsApp");

    let report = reconcile(&mut shell, &mut observer, &target).await;
    assert!(report.clean(), "{:?}", report.errors());
    let done: Vec<&str> = report.done.iter().map(|d| d.description.as_str()).collect();
    assert_eq!(
        done,
        vec![
            "hid com.android.chrome in user 10",
            "set secure managed_profile_contact_remote_search=0 in user 10"
        ]
    );
    assert!(report.found.drift.iter().any(
        |d| matches!(d, Drift::ForbiddenAccounts { account_types } if account_types == &["com.google"])
    ), "{:?}", report.found.drift);
    assert!(
        !report
            .found
            .drift
            .iter()
            .any(|d| matches!(d, Drift::ForeignContacts { .. }))
    );
    assert_eq!(p.sh("pm list packages --user 10 com.android.chrome"), "");
    assert_eq!(
        p.sh("settings get --user 10 secure managed_profile_contact_remote_search"),
        "0\n"
    );
    let items = serde_json::to_string(&reconcile::drift_items(&report)).unwrap();
    // Account types only, never names.
    assert!(
        items.contains("\"forbidden_accounts\"") && !items.contains("someone@gmail.com"),
        "{items}"
    );
    p.stop().await;
}
