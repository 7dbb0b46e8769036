//! Storage suite, the gateway's batched queries, on SQLite and PostgreSQL: claiming the
//! pushes of many devices at once (leases respected, profile text left out), finding
//! devices with claimable pushes, batched "last seen", re-checking live certificates, and
//! command results recorded exactly once, pushes sent from memory recorded afterwards, and
//! a batch of answers recorded set-based with the effects of one-by-one recording.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use common::db::TestStore;
use common::fixtures::*;
use corral_controller::domain::{
    ApplyOutcome, ApplyResult, DeliveryState, DeviceId, DeviceReport, PushKind, ReportOutcome,
    Timestamp,
};
use corral_controller::store::{AgentAnswer, AnswerReport, Lease, PushContent, StoreError};

on_both_engines!(
    a_batched_claim_takes_every_pending_push_of_the_devices_once,
    devices_with_claimable_pushes_are_those_a_claim_would_get,
    last_seen_is_written_for_many_devices_and_never_moves_back,
    certificates_in_force_leaves_out_revoked_expired_and_unknown,
    a_command_result_is_recorded_once,
    pushes_sent_from_memory_are_recorded_like_a_claim_afterwards,
    a_batch_of_applied_answers_is_recorded_set_based_with_the_one_by_one_effects,
);

fn lease(owner: &str, until: Timestamp) -> Lease {
    Lease {
        owner: owner.to_owned(),
        until,
    }
}

async fn a_batched_claim_takes_every_pending_push_of_the_devices_once(store: TestStore) {
    let a = enrolled(&store, "shop").await;
    let b = enrolled(&store, "shop").await;
    let c = enrolled(&store, "shop").await;
    let (hash, text) = version("v1");
    store
        .publish_profile_version(&profile("shop"), &hash, &text, "test", NOW)
        .await
        .unwrap();
    let command = PushKind::parse("command").unwrap();
    store
        .enqueue_push(&a, &command, "{\"x\":1}", NOW)
        .await
        .unwrap();

    let claimed = store
        .claim_pushes_for(&[a.clone(), b.clone()], &lease("gw-1", NOW.plus(HOUR)), NOW)
        .await
        .unwrap();
    let summary: Vec<(DeviceId, u64)> = claimed.iter().map(|p| (p.device.clone(), p.seq)).collect();
    let mut expected = vec![(a.clone(), 1), (a.clone(), 2), (b.clone(), 1)];
    expected.sort();
    assert_eq!(summary, expected);
    let profile_push = claimed.iter().find(|p| p.device == b).unwrap();
    assert_eq!(
        profile_push.content,
        PushContent::Profile {
            profile: profile("shop"),
            version: hash.clone()
        }
    );
    let command_push = claimed
        .iter()
        .find(|p| p.device == a && p.seq == 2)
        .unwrap();
    assert_eq!(command_push.content, PushContent::Body("{\"x\":1}".into()));

    // Leased: nobody else gets them until the lease runs out; c was not asked for.
    let all = [a.clone(), b.clone(), c.clone()];
    let again = store
        .claim_pushes_for(&all, &lease("gw-2", NOW.plus(HOUR)), NOW)
        .await
        .unwrap();
    assert_eq!(
        again.iter().map(|p| &p.device).collect::<Vec<_>>(),
        vec![&c]
    );
    let later = NOW.plus(2 * HOUR);
    assert_eq!(
        store
            .claim_pushes_for(&all, &lease("gw-2", later.plus(HOUR)), later)
            .await
            .unwrap()
            .len(),
        4
    );
    assert!(
        store
            .claim_pushes_for(&[], &lease("gw-2", later), later)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn devices_with_claimable_pushes_are_those_a_claim_would_get(store: TestStore) {
    let a = enrolled(&store, "shop").await;
    let b = enrolled(&store, "shop").await;
    let _idle = enrolled(&store, "office").await;
    let (hash, text) = version("v1");
    store
        .publish_profile_version(&profile("shop"), &hash, &text, "test", NOW)
        .await
        .unwrap();
    let mut both = vec![a.clone(), b.clone()];
    both.sort();
    assert_eq!(
        store.devices_with_claimable_pushes(NOW).await.unwrap(),
        both
    );
    store
        .claim_pushes_for(std::slice::from_ref(&a), &lease("gw", NOW.plus(HOUR)), NOW)
        .await
        .unwrap();
    assert_eq!(
        store.devices_with_claimable_pushes(NOW).await.unwrap(),
        vec![b.clone()]
    );
    store.ack_push(&b, 1, NOW).await.unwrap();
    assert!(
        store
            .devices_with_claimable_pushes(NOW)
            .await
            .unwrap()
            .is_empty()
    );
    // a's lease runs out.
    assert_eq!(
        store
            .devices_with_claimable_pushes(NOW.plus(HOUR))
            .await
            .unwrap(),
        vec![a]
    );
}

async fn last_seen_is_written_for_many_devices_and_never_moves_back(store: TestStore) {
    let devices: Vec<DeviceId> = [
        enrolled(&store, "shop").await,
        enrolled(&store, "shop").await,
    ]
    .to_vec();
    let later = NOW.plus(HOUR);
    store.touch_devices(&devices, later).await.unwrap();
    store.touch_devices(&devices, NOW).await.unwrap();
    store
        .touch_devices(&[DeviceId::generate()], NOW)
        .await
        .unwrap();
    for device in &devices {
        assert_eq!(
            store.device(device).await.unwrap().last_seen_at,
            Some(later)
        );
    }
}

async fn certificates_in_force_leaves_out_revoked_expired_and_unknown(store: TestStore) {
    let a = enrolled(&store, "shop").await;
    let b = enrolled(&store, "shop").await;
    let c = enrolled(&store, "shop").await;
    let serial = |d: &DeviceId| {
        let store = &store;
        let d = d.clone();
        async move { store.device(&d).await.unwrap().cert_serial.unwrap() }
    };
    let (sa, sb, sc) = (serial(&a).await, serial(&b).await, serial(&c).await);
    store
        .revoke_certificate(&sb, "lost", "test", NOW)
        .await
        .unwrap();
    store
        .revoke_device(&c, "stolen", "test", NOW)
        .await
        .unwrap();
    let unknown = certificate().serial;
    let all = [sa.clone(), sb, sc, unknown];
    assert_eq!(
        store.certificates_in_force(&all, NOW).await.unwrap(),
        vec![sa]
    );
    // Certificates from the fixtures run 30 days.
    assert!(
        store
            .certificates_in_force(&all, NOW.plus(31 * DAY))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_command_result_is_recorded_once(store: TestStore) {
    let a = enrolled(&store, "shop").await;
    let first = store
        .record_command_result(&a, 1, "cmd-1", Some("no root"), NOW)
        .await
        .unwrap();
    let again = store
        .record_command_result(&a, 1, "cmd-1", Some("no root"), NOW)
        .await
        .unwrap();
    assert_eq!(
        (first, again),
        (ReportOutcome::Recorded, ReportOutcome::Duplicate)
    );
    let events = store.events(Some(&a), 0, 100).await.unwrap();
    let failed: Vec<_> = events
        .iter()
        .filter(|e| e.kind == "command.failed")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].detail["error"], "no root");
    store
        .revoke_device(&a, "stolen", "test", NOW)
        .await
        .unwrap();
    let revoked = store.record_command_result(&a, 2, "cmd-2", None, NOW).await;
    assert!(
        matches!(revoked, Err(StoreError::Forbidden(_))),
        "{revoked:?}"
    );
}

async fn pushes_sent_from_memory_are_recorded_like_a_claim_afterwards(store: TestStore) {
    let a = enrolled(&store, "shop").await;
    let b = enrolled(&store, "shop").await;
    let (hash, text) = version("v1");
    let published = store
        .publish_profile_version(&profile("shop"), &hash, &text, "test", NOW)
        .await
        .unwrap();
    let mut queued: Vec<(DeviceId, u64)> = published
        .queued
        .iter()
        .map(|q| {
            assert_eq!((&q.profile, &q.version), (&profile("shop"), &hash));
            (q.device.clone(), q.seq)
        })
        .collect();
    queued.sort();
    let mut expected = vec![(a.clone(), 1), (b.clone(), 1)];
    expected.sort();
    assert_eq!(queued, expected);

    // b answered before the bookkeeping ran: its push stays as the answer left it.
    store.ack_push(&b, 1, NOW).await.unwrap();
    store
        .record_sent(&queued, &lease("gw-1", NOW.plus(HOUR)), NOW)
        .await
        .unwrap();
    let pending = store.pending_pushes(&a).await.unwrap();
    assert_eq!(pending[0].attempts, 1);
    // a's push is leased now: another gateway's claim skips it until the lease runs out.
    let all = [a.clone(), b.clone()];
    assert!(
        store
            .claim_pushes_for(&all, &lease("gw-2", NOW.plus(HOUR)), NOW)
            .await
            .unwrap()
            .is_empty()
    );
    let later = NOW.plus(2 * HOUR);
    let claimed = store
        .claim_pushes_for(&all, &lease("gw-2", later.plus(HOUR)), later)
        .await
        .unwrap();
    assert_eq!(
        claimed
            .iter()
            .map(|p| (&p.device, p.seq))
            .collect::<Vec<_>>(),
        vec![(&a, 1)]
    );
    // Never recorded (a crash before the bookkeeping): the push is simply claimable.
    let c = enrolled(&store, "shop").await;
    assert_eq!(
        store
            .claim_pushes_for(
                std::slice::from_ref(&c),
                &lease("gw-3", later.plus(HOUR)),
                later
            )
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn a_batch_of_applied_answers_is_recorded_set_based_with_the_one_by_one_effects(
    store: TestStore,
) {
    let mut devices = Vec::new();
    for _ in 0..5 {
        devices.push(enrolled(&store, "shop").await);
    }
    let (hash, text) = version("v1");
    store
        .publish_profile_version(&profile("shop"), &hash, &text, "test", NOW)
        .await
        .unwrap();
    let revoked = devices[4].clone();
    store
        .revoke_device(&revoked, "stolen", "test", NOW)
        .await
        .unwrap();
    let applied = |device: &DeviceId, push_seq: Option<u64>, seq: u64| AgentAnswer {
        device: device.clone(),
        push_seq,
        report: Some(AnswerReport::Device(DeviceReport {
            seq,
            applied: vec![ApplyResult {
                version: hash.clone(),
                outcome: ApplyOutcome::Applied,
            }],
            ..DeviceReport::default()
        })),
    };
    // Every answer from a different device: all of them take the set-based path.
    let batch = vec![
        applied(&devices[0], Some(1), 1),
        applied(&devices[1], Some(1), 1),
        // Only an acknowledgement (the agent's Hello said it processed the push).
        AgentAnswer {
            device: devices[2].clone(),
            push_seq: Some(1),
            report: None,
        },
        applied(&devices[3], Some(7), 1),
        applied(&revoked, Some(1), 1),
    ];
    let shape = |results: Vec<Result<(), StoreError>>| -> Vec<&'static str> {
        results
            .iter()
            .map(|r| match r {
                Ok(()) => "ok",
                Err(StoreError::NotFound(_)) => "not found",
                Err(StoreError::Forbidden(_)) => "forbidden",
                Err(_) => "other",
            })
            .collect()
    };
    let results = store.record_answers(&batch, NOW).await.unwrap();
    assert_eq!(shape(results), ["ok", "ok", "ok", "not found", "forbidden"]);
    for device in &devices[..2] {
        let record = store.device(device).await.unwrap();
        assert_eq!(record.last_report_seq, 1);
        assert_eq!(record.applied_version.as_ref(), Some(&hash));
        let delivery = &store.deliveries(device).await.unwrap()[0];
        assert_eq!(delivery.state(), DeliveryState::Applied);
        assert!(delivery.delivered_at.is_some());
        assert!(store.pending_pushes(device).await.unwrap().is_empty());
    }
    let delivered = &store.deliveries(&devices[2]).await.unwrap()[0];
    assert_eq!(delivered.state(), DeliveryState::Delivered);
    assert_eq!(store.device(&devices[2]).await.unwrap().last_report_seq, 0);
    // Refused acknowledgement: nothing written for the answer, not even its report.
    assert_eq!(store.pending_pushes(&devices[3]).await.unwrap().len(), 1);
    assert_eq!(store.device(&devices[3]).await.unwrap().last_report_seq, 0);
    // Revoked: the acknowledgement stays recorded, the report is refused.
    assert!(store.pending_pushes(&revoked).await.unwrap().is_empty());
    assert_eq!(store.device(&revoked).await.unwrap().last_report_seq, 0);

    // The same batch again (re-sends): nothing changes, the same answers.
    let events_before = store.events(None, 0, 1000).await.unwrap().len();
    let results = store.record_answers(&batch, NOW.plus(HOUR)).await.unwrap();
    assert_eq!(shape(results), ["ok", "ok", "ok", "not found", "forbidden"]);
    assert_eq!(
        store.events(None, 0, 1000).await.unwrap().len(),
        events_before
    );
    let applied_events = store
        .events(Some(&devices[0]), 0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "profile.applied")
        .collect::<Vec<_>>();
    assert_eq!(applied_events.len(), 1);
    assert_eq!(applied_events[0].actor, "device");
    assert_eq!(
        applied_events[0].detail,
        serde_json::json!({ "version": hash.as_str() })
    );
}
