//! Data minimisation, pinned (issue 7: "no location, no inventory of the personal profile,
//! only the managed apps and the work contact book are observed"): a simulated phone with
//! location on, personal apps and a personal contact is reconciled, and the state report
//! the agent would send is checked — no location, no package outside what the profile
//! names, no settings beyond the two cross-profile keys, no personal contact, and no name
//! or number of a work contact corral did not write.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use corral_agent::observe::{Interest, Observer};
use corral_agent::reconcile::{reconcile, redacted_state};
use corral_profiles::{SETTING_CALENDAR, SETTING_CONTACT_SEARCH};
use support::{TestPhone, butcher_shop};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_state_report_holds_no_location_no_personal_inventory_and_no_foreign_contacts() {
    let p = TestPhone::start().await;
    let mut shell = p.shell();
    let mut observer = Observer::new();
    let target = butcher_shop();
    let first = reconcile(&mut shell, &mut observer, &target).await;
    assert!(first.clean(), "{:?}", first.errors());

    // What a person's phone holds besides work: location on, their own contact, and a
    // contact someone added by hand to the work profile.
    p.sh("settings put --user 0 secure location_mode 3");
    p.sh("settings put --user 0 secure location_providers_allowed +gps");
    p.sh("settings put --user 10 secure location_mode 3");
    p.sh("content insert --user 0 --uri content://com.android.contacts/raw_contacts --bind account_type:s:personal --bind display_name:s:Mum-Personal");
    p.sh("content insert --user 10 --uri content://com.android.contacts/raw_contacts --bind display_name:s:Hand-Added");

    let report = reconcile(&mut shell, &mut observer, &target).await;
    let observed = report.observed.as_ref().expect("the phone was observed");
    let sent = redacted_state(observed, &target);
    let text = sent.to_string();

    for word in [
        "location",
        "latitude",
        "longitude",
        "gps",
        "Mum-Personal",
        "Hand-Added",
    ] {
        assert!(
            !text.to_lowercase().contains(&word.to_lowercase()),
            "{word} in {text}"
        );
    }
    let interest = Interest::of(&target.profile.settings);
    for pkg in observed.personal_packages.keys() {
        assert!(
            interest.personal.contains(pkg),
            "personal package {pkg} reported"
        );
    }
    let personal = p.sh("pm list packages --user 0");
    for line in personal.lines() {
        let pkg = line.trim_start_matches("package:");
        let named = interest.work.iter().any(|n| n.as_str() == pkg);
        if !named {
            assert!(
                !observed.personal_packages.keys().any(|k| k.as_str() == pkg),
                "{pkg} is in the personal inventory"
            );
        }
    }
    let work = observed.work.as_ref().expect("a work profile");
    for key in work.settings.keys() {
        assert!(
            [SETTING_CONTACT_SEARCH, SETTING_CALENDAR].contains(&key.as_str()),
            "work setting {key} observed"
        );
    }
    // Work contacts corral did not write are reported as ids only.
    let allowed: Vec<&str> = target
        .allow
        .contacts()
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    for c in sent["work"]["contacts"].as_array().unwrap() {
        if let Some(name) = c["name"].as_str() {
            assert!(allowed.contains(&name), "{name} is not on the allow-list");
        }
    }
}
