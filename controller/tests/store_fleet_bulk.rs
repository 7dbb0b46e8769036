//! Storage suite, the fleet's groups, bulk actions and phones not enrolled yet: group
//! counts and the group filter, bulk commands, assignments and group changes (active
//! phones only, one summary event, pushes through the outbox), and the "enrolling" and
//! "failed" phones from provisioning runs; on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use common::db::TestStore;
use common::fixtures::*;
use corral_controller::domain::{
    AssignmentTarget, DeviceId, EnrollmentBinding, GroupName, NewDevice, NewEvent, ProvisionStep,
    PushKind, RunOutcome, StepOutcome,
};
use corral_controller::store::{
    BulkAudit, BulkPush, EventFilter, FleetQuery, GroupSummary, PendingQuery, PendingState,
};

on_both_engines!(
    groups_are_counted_and_filter_the_fleet,
    bulk_actions_touch_only_active_phones_and_write_one_summary,
    phones_not_enrolled_yet_are_enrolling_or_failed,
);

fn group(name: &str) -> GroupName {
    GroupName::parse(name).unwrap()
}

/// Enrolls a phone named `name` into `group` (or bound to profile `base`).
async fn phone(store: &TestStore, name: &str, in_group: Option<&str>) -> DeviceId {
    let binding = match in_group {
        Some(g) => EnrollmentBinding::Group(group(g)),
        None => EnrollmentBinding::Profile(profile("base")),
    };
    let token = token(store, binding).await;
    let device = NewDevice {
        name: name.parse().unwrap(),
        ..new_device(name)
    };
    store
        .enroll_device(&token, &device, &certificate(), NOW)
        .await
        .unwrap();
    device.id
}

async fn publish(store: &TestStore, name: &str) {
    let (v, text) = version(&format!("name = \"{name}\""));
    store
        .publish_profile_version(&profile(name), &v, &text, "test", NOW)
        .await
        .unwrap();
}

fn audit(action: &str) -> BulkAudit {
    BulkAudit {
        action: action.into(),
        actor: "user:ada".into(),
        detail: serde_json::json!({ "scope": "selected" }),
    }
}

async fn summaries(store: &TestStore) -> Vec<serde_json::Value> {
    let filter = EventFilter {
        kind: Some("fleet.bulk_action".into()),
        ..EventFilter::default()
    };
    store
        .events_newest_first(&filter, None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.detail)
        .collect()
}

async fn groups_are_counted_and_filter_the_fleet(store: TestStore) {
    publish(&store, "base").await;
    publish(&store, "kiosk").await;
    store
        .assign_profile(
            &AssignmentTarget::Group(group("empty")),
            &profile("kiosk"),
            "test",
            NOW,
        )
        .await
        .unwrap();
    let tills: Vec<DeviceId> = [
        phone(&store, "Till 1", Some("tills")).await,
        phone(&store, "Till 2", Some("tills")).await,
        phone(&store, "Till 3", Some("tills")).await,
    ]
    .into();
    phone(&store, "Van", Some("depot")).await;
    phone(&store, "Loose", None).await;
    store
        .revoke_device(&tills[2], "lost", "test", NOW)
        .await
        .unwrap();
    let groups = store.groups().await.unwrap();
    let summary = |name: &str, active, revoked, profile_name: Option<&str>| GroupSummary {
        name: group(name),
        active,
        revoked,
        profile: profile_name.map(profile),
    };
    assert_eq!(
        groups,
        [
            summary("depot", 1, 0, None),
            summary("empty", 0, 0, Some("kiosk")),
            summary("tills", 2, 1, None),
        ]
    );
    let in_tills = FleetQuery {
        group: Some(group("tills")),
        ..FleetQuery::default()
    };
    let page = store.fleet_page(&in_tills, NOW).await.unwrap();
    assert_eq!(page.total, 3);
    assert!(page.rows.iter().all(|r| r.group == Some(group("tills"))));
    let active = FleetQuery {
        status: Some(corral_controller::domain::DeviceStatus::Active),
        ..in_tills
    };
    let ids = store.fleet_ids(&active, NOW, 100).await.unwrap();
    assert_eq!(ids, tills[..2]);
    assert_eq!(store.fleet_ids(&active, NOW, 1).await.unwrap().len(), 1);
}

async fn bulk_actions_touch_only_active_phones_and_write_one_summary(store: TestStore) {
    publish(&store, "base").await;
    publish(&store, "kiosk").await;
    store
        .assign_profile(
            &AssignmentTarget::Group(group("tills")),
            &profile("kiosk"),
            "test",
            NOW,
        )
        .await
        .unwrap();
    // In a group without a profile: nothing applies to them yet.
    let a = phone(&store, "A", Some("spare")).await;
    let b = phone(&store, "B", Some("spare")).await;
    let gone = phone(&store, "Gone", None).await;
    store
        .revoke_device(&gone, "lost", "test", NOW)
        .await
        .unwrap();
    let unknown = DeviceId::generate();

    // Set group: the group's profile version is queued for the two active phones.
    let moved = store
        .set_group_bulk(
            &[
                a.clone(),
                b.clone(),
                gone.clone(),
                a.clone(),
                unknown.clone(),
            ],
            Some(&group("tills")),
            &audit("set_group"),
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(moved.done, [a.clone(), b.clone()]);
    assert_eq!(moved.skipped, [gone.clone(), unknown.clone()]);
    assert_eq!(moved.queued.len(), 2);
    assert!(moved.queued.iter().all(|q| q.profile == profile("kiosk")));
    assert_eq!(store.device(&b).await.unwrap().group, Some(group("tills")));
    assert_eq!(store.device(&gone).await.unwrap().group, None);

    // Commands: one push each, with the device's own event; none for the revoked phone.
    let kind = PushKind::parse("command").unwrap();
    let pushes: Vec<BulkPush> = [&a, &gone]
        .iter()
        .map(|d| BulkPush {
            device: (*d).clone(),
            body: "{\"command_id\":\"cmd-1\",\"kind\":\"reboot\"}".into(),
            event: NewEvent {
                device: Some((*d).clone()),
                actor: "user:ada".into(),
                kind: "device.command_queued".into(),
                detail: serde_json::json!({ "kind": "reboot" }),
            },
        })
        .collect();
    let rebooted = store
        .enqueue_bulk_pushes(&kind, &pushes, &audit("reboot"), NOW)
        .await
        .unwrap();
    assert_eq!(
        (rebooted.done, rebooted.skipped),
        (vec![a.clone()], vec![gone.clone()])
    );
    let pending = store.pending_pushes(&a).await.unwrap();
    assert!(
        pending.iter().any(|p| p.kind.as_str() == "command"),
        "{pending:?}"
    );
    let theirs = store.pending_pushes(&gone).await.unwrap();
    assert!(
        theirs.iter().all(|p| p.kind.as_str() != "command"),
        "{theirs:?}"
    );

    // Assign: each phone's own assignment, its version queued.
    let assigned = store
        .assign_profile_bulk(
            &[a.clone(), b.clone()],
            &profile("base"),
            &audit("assign_profile"),
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(assigned.done, [a.clone(), b.clone()]);
    assert_eq!(assigned.queued.len(), 2);
    for id in [&a, &b] {
        assert_eq!(
            store.fleet_row(id).await.unwrap().profile,
            Some(profile("base"))
        );
    }

    let events = summaries(&store).await;
    assert_eq!(events.len(), 3);
    assert_eq!(events[2]["action"], "set_group");
    assert_eq!(events[2]["count"], 2);
    assert_eq!(
        events[2]["devices"],
        serde_json::json!([a.as_str(), b.as_str()])
    );
    assert_eq!(events[2]["skipped"][0], gone.as_str());
    assert_eq!(events[2]["scope"], "selected");
    assert_eq!(
        (events[1]["action"].clone(), events[1]["count"].clone()),
        ("reboot".into(), 1.into())
    );
    let per_phone = store
        .events_newest_first(
            &EventFilter {
                device: Some(a.clone()),
                ..EventFilter::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    let kinds: Vec<&str> = per_phone.iter().map(|e| e.kind.as_str()).collect();
    for kind in [
        "profile.assigned",
        "device.command_queued",
        "device.group_changed",
    ] {
        assert!(kinds.contains(&kind), "{kinds:?}");
    }
}

async fn phones_not_enrolled_yet_are_enrolling_or_failed(store: TestStore) {
    let base = profile("base");
    let run = |serial: &'static str| {
        let store = &store;
        let base = base.clone();
        async move {
            store
                .start_provisioning_run(serial, &base, "provisioning", NOW)
                .await
                .unwrap()
        }
    };
    let fail = |id: i64, step: ProvisionStep| {
        let store = &store;
        async move {
            store.start_provisioning_step(id, step, NOW).await.unwrap();
            store
                .finish_provisioning_step(id, step, StepOutcome::Failed, None, Some("no"), NOW)
                .await
                .unwrap();
            store
                .finish_provisioning_run(
                    id,
                    RunOutcome::Failed,
                    Some("no"),
                    None,
                    "provisioning",
                    NOW,
                )
                .await
                .unwrap();
        }
    };
    // Running, at its second step.
    let running = run("S1").await;
    store
        .start_provisioning_step(running, ProvisionStep::Preflight, NOW)
        .await
        .unwrap();
    store
        .finish_provisioning_step(
            running,
            ProvisionStep::Preflight,
            StepOutcome::Done,
            None,
            None,
            NOW.plus(HOUR / 60),
        )
        .await
        .unwrap();
    store
        .start_provisioning_step(running, ProvisionStep::WorkProfile, NOW.plus(HOUR / 30))
        .await
        .unwrap();
    // Failed at the messenger.
    let failed = run("S2").await;
    fail(failed, ProvisionStep::Messenger).await;
    // Failed once, then enrolled: in the fleet proper.
    let enrolled = run("S3").await;
    fail(enrolled, ProvisionStep::Preflight).await;
    let token = token(&store, EnrollmentBinding::Profile(base.clone())).await;
    let device = NewDevice {
        serial: Some("S3".into()),
        ..new_device("S3 phone")
    };
    store
        .enroll_device(&token, &device, &certificate(), NOW)
        .await
        .unwrap();
    // Failed once, now trying again: enrolling.
    let first = run("S4").await;
    fail(first, ProvisionStep::Preflight).await;
    let again = run("S4").await;

    let all = |state, search: Option<&str>| PendingQuery {
        state,
        search: search.map(str::to_owned),
        offset: 0,
        limit: 10,
    };
    let page = store.pending_phones(&all(None, None)).await.unwrap();
    assert_eq!(page.total, 3);
    let shown: Vec<(String, PendingState, Option<ProvisionStep>)> = page
        .rows
        .iter()
        .map(|p| (p.serial.clone(), p.state, p.step))
        .collect();
    assert_eq!(
        shown,
        [
            ("S4".to_owned(), PendingState::Enrolling, None),
            (
                "S2".to_owned(),
                PendingState::Failed,
                Some(ProvisionStep::Messenger)
            ),
            (
                "S1".to_owned(),
                PendingState::Enrolling,
                Some(ProvisionStep::WorkProfile)
            ),
        ]
    );
    assert_eq!(page.rows[0].run, again);
    let failed_only = store
        .pending_phones(&all(Some(PendingState::Failed), None))
        .await
        .unwrap();
    assert_eq!((failed_only.total, failed_only.rows[0].run), (1, failed));
    assert_eq!(failed_only.rows[0].error.as_deref(), Some("no"));
    let searched = store.pending_phones(&all(None, Some("s1"))).await.unwrap();
    assert_eq!(searched.total, 1);
    let paged = store
        .pending_phones(&PendingQuery {
            offset: 2,
            ..all(None, None)
        })
        .await
        .unwrap();
    assert_eq!((paged.total, paged.rows.len()), (3, 1));
}
