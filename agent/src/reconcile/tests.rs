//! The pure decisions of reconciling.
#![allow(clippy::unwrap_used)]

use corral_profiles::{
    Drift, ObservedContact, ObservedUser, RawContactId, SourceFile, UserId, WorkSide,
};
use expect_test::expect;

use super::*;

fn target() -> Target {
    let files = [
        SourceFile::new(
            "base.toml",
            include_str!("../../../profiles/examples/base.toml"),
        ),
        SourceFile::new(
            "butcher-shop.toml",
            include_str!("../../../profiles/examples/butcher-shop.toml"),
        ),
    ];
    let p = corral_profiles::resolve_one(&files, "butcher-shop", None).unwrap();
    Target::resolve(
        &p.canonical_toml(),
        p.version().as_str(),
        None,
        &Default::default(),
    )
    .unwrap()
}

#[test]
fn pushes_act_at_most_once_and_only_on_a_new_version() {
    let applied = Applied {
        version: Some("sha256:aaaa".into()),
        profile: None,
        push_seq: 7,
        wanted: None,
        pending: None,
    };
    assert_eq!(
        decide_push(&applied, 7, "sha256:bbbb"),
        PushDecision::Duplicate
    );
    assert_eq!(
        decide_push(&applied, 3, "sha256:bbbb"),
        PushDecision::Duplicate
    );
    assert_eq!(
        decide_push(&applied, 8, "sha256:aaaa"),
        PushDecision::AlreadyApplied
    );
    assert_eq!(decide_push(&applied, 8, "sha256:bbbb"), PushDecision::Apply);
    assert_eq!(
        decide_push(&Applied::default(), 1, "sha256:aaaa"),
        PushDecision::Apply
    );
}

fn phone_with_work(running: bool) -> ObservedPhone {
    let mut p = ObservedPhone::new();
    p.users.push(ObservedUser {
        id: UserId(10),
        name: "Shop".into(),
        flags: 0x1030,
        running,
    });
    p.work = Some(WorkSide::new(UserId(10)));
    p
}

#[test]
fn profile_creation_and_a_stopped_profile_run_one_batch() {
    let t = target();
    let fresh = ObservedPhone::new();
    let p = plan(&t.profile, &t.allow, &fresh);
    assert!(p.batches().len() > 1);
    let s = scope(&p, &fresh);
    assert_eq!(s.len(), 1);
    assert!(matches!(s[0][0], Action::CreateWorkProfile { .. }));

    let stopped = phone_with_work(false);
    let p = plan(&t.profile, &t.allow, &stopped);
    let s = scope(&p, &stopped);
    assert_eq!(s.len(), 1);
    assert!(matches!(s[0][0], Action::StartUser { .. }));

    let running = phone_with_work(true);
    let p = plan(&t.profile, &t.allow, &running);
    assert_eq!(scope(&p, &running).len(), p.batches().len());
}

#[test]
fn foreign_contacts_are_reported_without_names() {
    let t = target();
    let mut phone = phone_with_work(true);
    let allowed = &t.allow.contacts()[0];
    if let Some(w) = &mut phone.work {
        w.contacts = vec![
            ObservedContact {
                id: RawContactId(1),
                name: Some(allowed.name.clone()),
                numbers: vec![allowed.number.as_str().to_owned()],
                account_type: None,
            },
            ObservedContact {
                id: RawContactId(2),
                name: Some("Private Person".into()),
                numbers: vec!["+4915112345678".into()],
                account_type: None,
            },
        ];
    }
    let v = redacted_state(&phone, &t);
    let contacts = &v["work"]["contacts"];
    expect![[r#"[{"account_type":null,"id":1,"name":"Meyer Wholesale Meats","numbers":["+493012345678"]},{"account_type":null,"id":2,"name":null,"numbers":[]}]"#]]
        .assert_eq(&contacts.to_string());
}

#[test]
fn drift_items_say_what_was_found_and_repaired() {
    let report = Report {
        found: Plan {
            actions: vec![],
            drift: vec![
                Drift::ForeignContacts {
                    ids: vec![RawContactId(2)],
                    removed: true,
                },
                Drift::ForbiddenAccounts {
                    account_types: vec!["com.google".into()],
                },
            ],
        },
        done: vec![enforce::Done {
            action: Action::RemoveContacts {
                user: corral_profiles::UserRef::Work,
                ids: vec![RawContactId(2)],
            },
            description: "removed 1 contacts in user 10".into(),
        }],
        ..Report::default()
    };
    let items: Vec<String> = drift_items(&report)
        .iter()
        .map(ToString::to_string)
        .collect();
    expect![[r#"
        [
            "{\"drift\":\"foreign_contacts\",\"ids\":[2],\"removed\":true,\"repaired\":true}",
            "{\"account_types\":[\"com.google\"],\"drift\":\"forbidden_accounts\",\"repaired\":false}",
            "{\"action\":{\"action\":\"remove_contacts\",\"ids\":[2],\"user\":\"work\"},\"description\":\"removed 1 contacts in user 10\",\"drift\":\"corrected\"}",
        ]
    "#]]
    .assert_debug_eq(&items);
}

#[test]
fn reports_only_what_is_new() {
    let t = target();
    let phone = phone_with_work(true);
    let quiet = Report {
        observed: Some(phone.clone()),
        ..Report::default()
    };
    // First time: the state is new, there is no drift.
    let r = reports(&quiet, &t, None, None, false);
    assert!(r.state.is_some());
    assert!(r.drift.is_none());
    // Same again: nothing.
    let last = r.state.clone();
    let r = reports(&quiet, &t, last.as_ref(), Some(&vec![]), false);
    assert_eq!(r, Reports::default());
    // Forced: the state again.
    assert!(
        reports(&quiet, &t, last.as_ref(), Some(&vec![]), true)
            .state
            .is_some()
    );
    // Drift that persists is reported once.
    let drifting = Report {
        observed: Some(phone),
        found: Plan {
            actions: vec![],
            drift: vec![Drift::ForbiddenAccounts {
                account_types: vec!["com.google".into()],
            }],
        },
        ..Report::default()
    };
    let r = reports(&drifting, &t, last.as_ref(), Some(&vec![]), false);
    let (items, repaired) = r.drift.clone().unwrap();
    assert_eq!(items.len(), 1);
    assert!(repaired);
    assert!(
        reports(&drifting, &t, last.as_ref(), Some(&items), false)
            .drift
            .is_none()
    );
    // Gone again: an empty report clears it.
    let r = reports(&quiet, &t, last.as_ref(), Some(&items), false);
    assert_eq!(r.drift, Some((vec![], true)));
}
