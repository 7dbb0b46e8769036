//! Storage suite, delivery: profile versions reach devices through a durable outbox —
//! assigned → delivered → applied — re-sent until acknowledged, claimed by one holder at a
//! time, and device reports recorded exactly once; on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use common::db::TestStore;
use common::fixtures::*;
use corral_controller::domain::{
    ApplyOutcome, ApplyResult, AssignmentTarget, DeliveryState, DeviceReport, GroupName, PushKind,
    ReportOutcome,
};
use corral_controller::store::{AckOutcome, AgentAnswer, AnswerReport, Lease, StoreError};

on_both_engines!(
    publishing_queues_the_version_for_every_device_using_the_profile,
    publishing_is_idempotent_and_a_hash_cannot_change_its_content,
    a_push_is_resent_until_acknowledged_and_acks_are_idempotent,
    concurrent_claimers_never_hold_the_same_push,
    a_newer_version_supersedes_one_not_yet_acknowledged,
    a_device_assignment_wins_over_its_group,
    reports_are_recorded_once_and_move_deliveries_to_applied,
    other_pushes_share_the_device_sequence,
    answers_in_one_batch_commit_together_and_fail_alone,
    publishing_to_more_devices_than_one_statement_binds,
    concurrent_publishes_and_assignments_queue_each_version_once,
);

fn lease(owner: &str, until: corral_controller::domain::Timestamp) -> Lease {
    Lease {
        owner: owner.to_owned(),
        until,
    }
}

async fn publishing_queues_the_version_for_every_device_using_the_profile(store: TestStore) {
    let a = enrolled(&store, "shop").await;
    let b = enrolled(&store, "shop").await;
    let other = enrolled(&store, "office").await;
    let (hash, text) = version("v1");
    let published = store
        .publish_profile_version(&profile("shop"), &hash, &text, "user:admin", NOW)
        .await
        .unwrap();
    assert_eq!((published.newly_stored, published.pushes), (true, 2));
    for device in [&a, &b] {
        let pushes = store.pending_pushes(device).await.unwrap();
        assert_eq!(pushes.len(), 1);
        assert_eq!(pushes[0].kind, PushKind::profile());
    }
    assert!(store.pending_pushes(&other).await.unwrap().is_empty());
    assert_eq!(
        store
            .current_profile_version(&profile("shop"))
            .await
            .unwrap()
            .version,
        hash
    );
}

async fn publishing_is_idempotent_and_a_hash_cannot_change_its_content(store: TestStore) {
    let device = enrolled(&store, "shop").await;
    let (hash, text) = version("v1");
    store
        .publish_profile_version(&profile("shop"), &hash, &text, "test", NOW)
        .await
        .unwrap();
    let again = store
        .publish_profile_version(&profile("shop"), &hash, &text, "test", NOW)
        .await
        .unwrap();
    assert_eq!((again.newly_stored, again.pushes), (false, 0));
    assert_eq!(store.pending_pushes(&device).await.unwrap().len(), 1);
    let clash = store
        .publish_profile_version(&profile("shop"), &hash, "something else", "test", NOW)
        .await;
    assert!(matches!(clash, Err(StoreError::Conflict(_))), "{clash:?}");
    assert_eq!(
        store
            .profile_version(&profile("shop"), &hash)
            .await
            .unwrap()
            .canonical_toml,
        text
    );
}

async fn a_push_is_resent_until_acknowledged_and_acks_are_idempotent(store: TestStore) {
    let device = enrolled(&store, "shop").await;
    let (hash, text) = version("v1");
    store
        .publish_profile_version(&profile("shop"), &hash, &text, "test", NOW)
        .await
        .unwrap();

    let first = store
        .claim_pushes(&device, &lease("gw-1", NOW.plus(HOUR)), 10, NOW)
        .await
        .unwrap();
    assert_eq!((first.len(), first[0].attempts), (1, 1));
    // Leased: nobody else gets it while the lease runs…
    assert!(
        store
            .claim_pushes(&device, &lease("gw-2", NOW.plus(HOUR)), 10, NOW)
            .await
            .unwrap()
            .is_empty()
    );
    // …and after it runs out (the first gateway crashed), it goes out again.
    let later = NOW.plus(2 * HOUR);
    let resent = store
        .claim_pushes(&device, &lease("gw-2", later.plus(HOUR)), 10, later)
        .await
        .unwrap();
    assert_eq!((resent[0].seq, resent[0].attempts), (first[0].seq, 2));

    assert_eq!(
        store.ack_push(&device, first[0].seq, later).await.unwrap(),
        AckOutcome::Acked
    );
    assert_eq!(
        store.ack_push(&device, first[0].seq, later).await.unwrap(),
        AckOutcome::AlreadyAcked
    );
    assert!(matches!(
        store.ack_push(&device, 99, later).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store.pending_pushes(&device).await.unwrap().is_empty());
    let delivery = &store.deliveries(&device).await.unwrap()[0];
    assert_eq!(
        (delivery.state(), delivery.delivered_at),
        (DeliveryState::Delivered, Some(later))
    );
    let much_later = later.plus(10 * DAY);
    assert!(
        store
            .claim_pushes(
                &device,
                &lease("gw-3", much_later.plus(HOUR)),
                10,
                much_later
            )
            .await
            .unwrap()
            .is_empty()
    );
}

async fn concurrent_claimers_never_hold_the_same_push(store: TestStore) {
    let device = enrolled(&store, "shop").await;
    for n in 0..20 {
        store
            .enqueue_push(
                &device,
                &PushKind::parse("command").unwrap(),
                &format!("{{\"n\":{n}}}"),
                NOW,
            )
            .await
            .unwrap();
    }
    let mut tasks = tokio::task::JoinSet::new();
    for g in 0..8 {
        let (store, device) = ((*store).clone(), device.clone());
        tasks.spawn(async move {
            store
                .claim_pushes(&device, &lease(&format!("gw-{g}"), NOW.plus(HOUR)), 5, NOW)
                .await
        });
    }
    let mut seqs = Vec::new();
    while let Some(claimed) = tasks.join_next().await {
        seqs.extend(claimed.unwrap().unwrap().into_iter().map(|p| p.seq));
    }
    // A claimer that lost every race comes back empty-handed; whatever is left is still
    // there for the next claim.
    loop {
        let rest = store
            .claim_pushes(&device, &lease("gw-late", NOW.plus(HOUR)), 5, NOW)
            .await
            .unwrap();
        if rest.is_empty() {
            break;
        }
        seqs.extend(rest.into_iter().map(|p| p.seq));
    }
    let total = seqs.len();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), total, "a push was claimed twice");
    assert_eq!(
        seqs,
        (1..=20).collect::<Vec<u64>>(),
        "every push was claimed exactly once"
    );
}

async fn a_newer_version_supersedes_one_not_yet_acknowledged(store: TestStore) {
    let device = enrolled(&store, "shop").await;
    let (v1, t1) = version("v1");
    let (v2, t2) = version("v2");
    store
        .publish_profile_version(&profile("shop"), &v1, &t1, "test", NOW)
        .await
        .unwrap();
    store
        .publish_profile_version(&profile("shop"), &v2, &t2, "test", NOW.plus(HOUR))
        .await
        .unwrap();
    let pending = store.pending_pushes(&device).await.unwrap();
    let pending: Vec<_> = pending.into_iter().filter_map(|p| p.version).collect();
    assert_eq!(pending, std::slice::from_ref(&v2));
    // Going back to v1 is a new delivery: the phone has v2 by then.
    store
        .publish_profile_version(&profile("shop"), &v1, &t1, "test", NOW.plus(2 * HOUR))
        .await
        .unwrap();
    let versions: Vec<_> = store
        .deliveries(&device)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.version)
        .collect();
    assert_eq!(versions, [v1.clone(), v2, v1]);
}

async fn a_device_assignment_wins_over_its_group(store: TestStore) {
    let group = GroupName::parse("vans").unwrap();
    let (g_hash, g_text) = version("group profile");
    let (d_hash, d_text) = version("device profile");
    store
        .publish_profile_version(&profile("vans"), &g_hash, &g_text, "test", NOW)
        .await
        .unwrap();
    store
        .publish_profile_version(&profile("special"), &d_hash, &d_text, "test", NOW)
        .await
        .unwrap();
    store
        .assign_profile(
            &AssignmentTarget::Group(group.clone()),
            &profile("vans"),
            "test",
            NOW,
        )
        .await
        .unwrap();
    let device = enrolled(&store, "special").await;
    assert_eq!(
        store
            .set_device_group(&device, Some(&group), "test", NOW)
            .await
            .unwrap(),
        0,
        "own profile still applies"
    );
    let plain = enrolled(&store, "nothing-published").await;
    store
        .assign_profile(
            &AssignmentTarget::Device(plain.clone()),
            &profile("vans"),
            "test",
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(
        store.pending_pushes(&device).await.unwrap()[0].version,
        Some(d_hash)
    );
    assert_eq!(
        store.pending_pushes(&plain).await.unwrap()[0].version,
        Some(g_hash)
    );
}

async fn reports_are_recorded_once_and_move_deliveries_to_applied(store: TestStore) {
    let device = enrolled(&store, "shop").await;
    let (hash, text) = version("v1");
    store
        .publish_profile_version(&profile("shop"), &hash, &text, "test", NOW)
        .await
        .unwrap();
    let report = DeviceReport {
        seq: 1,
        observed_state: Some(serde_json::json!({ "work_profile": true })),
        drift: Some(serde_json::json!([])),
        applied: vec![ApplyResult {
            version: hash.clone(),
            outcome: ApplyOutcome::Applied,
        }],
    };
    assert_eq!(
        store.record_report(&device, &report, NOW).await.unwrap(),
        ReportOutcome::Recorded
    );
    let events_after_first = store.events(Some(&device), 0, 100).await.unwrap().len();
    let resent = DeviceReport {
        applied: vec![ApplyResult {
            version: hash.clone(),
            outcome: ApplyOutcome::Failed("late".into()),
        }],
        ..report.clone()
    };
    assert_eq!(
        store
            .record_report(&device, &resent, NOW.plus(HOUR))
            .await
            .unwrap(),
        ReportOutcome::Duplicate
    );
    assert_eq!(
        store.events(Some(&device), 0, 100).await.unwrap().len(),
        events_after_first
    );

    let stored = store.device(&device).await.unwrap();
    assert_eq!(
        (stored.last_report_seq, stored.applied_version.as_ref()),
        (1, Some(&hash))
    );
    assert_eq!(stored.observed_state, report.observed_state);
    assert_eq!(stored.last_seen_at, Some(NOW));
    let delivery = &store.deliveries(&device).await.unwrap()[0];
    assert_eq!(
        (delivery.state(), delivery.error.as_deref()),
        (DeliveryState::Applied, None)
    );
}

async fn other_pushes_share_the_device_sequence(store: TestStore) {
    let device = enrolled(&store, "shop").await;
    let kind = PushKind::parse("command").unwrap();
    let seqs = [
        store.enqueue_push(&device, &kind, "{}", NOW).await.unwrap(),
        store.enqueue_push(&device, &kind, "{}", NOW).await.unwrap(),
    ];
    assert_eq!(seqs, [1, 2]);
    let (hash, text) = version("v1");
    store
        .publish_profile_version(&profile("shop"), &hash, &text, "test", NOW)
        .await
        .unwrap();
    let pending: Vec<u64> = store
        .pending_pushes(&device)
        .await
        .unwrap()
        .iter()
        .map(|p| p.seq)
        .collect();
    assert_eq!(pending, [1, 2, 3]);
}

async fn answers_in_one_batch_commit_together_and_fail_alone(store: TestStore) {
    let a = enrolled(&store, "shop").await;
    let b = enrolled(&store, "shop").await;
    let (hash, text) = version("v1");
    store
        .publish_profile_version(&profile("shop"), &hash, &text, "test", NOW)
        .await
        .unwrap();
    let applied = |seq| {
        Some(AnswerReport::Device(DeviceReport {
            seq,
            applied: vec![ApplyResult {
                version: hash.clone(),
                outcome: ApplyOutcome::Applied,
            }],
            ..DeviceReport::default()
        }))
    };
    let answer = |device: &corral_controller::domain::DeviceId, push_seq, report| AgentAnswer {
        device: device.clone(),
        push_seq,
        report,
    };
    let results = store
        .record_answers(
            &[
                answer(&a, Some(1), applied(1)),
                answer(&b, Some(99), applied(1)),
                answer(&a, None, applied(1)),
            ],
            NOW,
        )
        .await
        .unwrap();
    let shape: Vec<&str> = results
        .iter()
        .map(|r| match r {
            Ok(()) => "ok",
            Err(StoreError::NotFound(_)) => "not found",
            Err(_) => "other",
        })
        .collect();
    assert_eq!(shape, ["ok", "not found", "ok"]);

    let delivery = &store.deliveries(&a).await.unwrap()[0];
    assert_eq!(delivery.state(), DeliveryState::Applied);
    assert!(delivery.delivered_at.is_some());
    assert!(store.pending_pushes(&a).await.unwrap().is_empty());
    let applied_events = store
        .events(Some(&a), 0, 100)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.kind == "profile.applied")
        .count();
    assert_eq!(
        applied_events, 1,
        "the re-sent report in the same batch changed nothing"
    );

    // The refused answer wrote nothing: b's push is pending, its report not recorded.
    assert_eq!(store.pending_pushes(&b).await.unwrap().len(), 1);
    assert_eq!(store.device(&b).await.unwrap().last_report_seq, 0);
    assert_eq!(store.deliveries(&b).await.unwrap()[0].delivered_at, None);
}

async fn publishing_to_more_devices_than_one_statement_binds(store: TestStore) {
    let mut devices = Vec::new();
    for _ in 0..520 {
        devices.push(enrolled(&store, "fleet").await);
    }
    let (hash, text) = version("fleet v1");
    let published = store
        .publish_profile_version(&profile("fleet"), &hash, &text, "test", NOW)
        .await
        .unwrap();
    assert_eq!(published.pushes, devices.len());
    for device in [&devices[0], &devices[499], &devices[500], &devices[519]] {
        let pushes = store.pending_pushes(device).await.unwrap();
        assert_eq!(pushes.len(), 1);
        assert_eq!(
            (
                pushes[0].seq,
                pushes[0].version.as_ref(),
                pushes[0].body.as_str()
            ),
            (1, Some(&hash), text.as_str())
        );
        assert_eq!(store.deliveries(device).await.unwrap().len(), 1);
    }
}

/// Publishes and assignments racing on one profile (separate transactions; on PostgreSQL
/// truly concurrent): no assignment fails, each device ends with exactly one pending
/// profile push, for the profile's final version, and no version was queued twice in a
/// row.
async fn concurrent_publishes_and_assignments_queue_each_version_once(store: TestStore) {
    let group = GroupName::parse("tills").unwrap();
    let (first, first_text) = version("tills v0");
    store
        .publish_profile_version(&profile("tills"), &first, &first_text, "test", NOW)
        .await
        .unwrap();
    let mut devices = Vec::new();
    for _ in 0..20 {
        devices.push(enrolled(&store, "tills").await);
    }
    let publisher = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut last = None;
            for i in 1..=6 {
                let (hash, text) = version(&format!("tills v{i}"));
                store
                    .publish_profile_version(&profile("tills"), &hash, &text, "test", NOW)
                    .await
                    .unwrap();
                last = Some(hash);
            }
            last.unwrap()
        })
    };
    let assigners: Vec<_> = (0..3)
        .map(|_| {
            let store = store.clone();
            let group = group.clone();
            let devices = devices.clone();
            tokio::spawn(async move {
                for device in &devices {
                    for target in [
                        AssignmentTarget::Device(device.clone()),
                        AssignmentTarget::Group(group.clone()),
                    ] {
                        store
                            .assign_profile(&target, &profile("tills"), "test", NOW)
                            .await
                            .unwrap();
                    }
                }
            })
        })
        .collect();
    let last = publisher.await.unwrap();
    for assigner in assigners {
        assigner.await.unwrap();
    }
    for device in &devices {
        let pending = store.pending_pushes(device).await.unwrap();
        assert_eq!(pending.len(), 1, "{device}: {pending:?}");
        assert_eq!(pending[0].version.as_ref(), Some(&last));
        let versions: Vec<_> = store
            .deliveries(device)
            .await
            .unwrap()
            .into_iter()
            .map(|d| d.version)
            .collect();
        assert!(
            versions.windows(2).all(|w| w[0] != w[1]),
            "{device} was queued one version twice in a row: {versions:?}"
        );
    }
}
