//! Storage suite, enrollment: tokens are single use, expire, can be revoked, and are
//! redeemed by one conditional UPDATE — 100 concurrent redemptions, exactly one success —
//! on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use common::db::TestStore;
use common::fixtures::*;
use corral_controller::domain::{
    AssignmentTarget, DeliveryState, DeviceId, DeviceStatus, EnrollmentBinding,
    EnrollmentTokenSecret, GroupName,
};
use corral_controller::store::StoreError;

on_both_engines!(
    a_token_redeems_once_and_then_never_again,
    one_hundred_concurrent_redemptions_succeed_exactly_once,
    expired_revoked_unknown_and_wrong_secret_tokens_are_refused_alike,
    enrollment_creates_the_device_its_certificate_and_its_first_push,
    a_group_token_puts_the_device_in_the_group,
    a_losing_enrollment_leaves_nothing_behind,
    tokens_are_listed_without_their_secrets,
);

async fn a_token_redeems_once_and_then_never_again(store: TestStore) {
    let token = token(&store, EnrollmentBinding::Profile(profile("shop"))).await;
    let first = DeviceId::generate();
    let binding = store
        .redeem_enrollment_token(&token, &first, NOW)
        .await
        .unwrap();
    assert_eq!(binding, EnrollmentBinding::Profile(profile("shop")));
    let again = store
        .redeem_enrollment_token(&token, &DeviceId::generate(), NOW)
        .await;
    assert!(matches!(again, Err(StoreError::Forbidden(_))), "{again:?}");
    let record = store.enrollment_token(token.prefix()).await.unwrap();
    assert_eq!((record.used_at, record.used_by), (Some(NOW), Some(first)));
}

async fn one_hundred_concurrent_redemptions_succeed_exactly_once(store: TestStore) {
    let token = token(&store, EnrollmentBinding::Profile(profile("shop"))).await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let (store, token) = ((*store).clone(), token.clone());
        tasks.spawn(async move {
            store
                .redeem_enrollment_token(&token, &DeviceId::generate(), NOW)
                .await
        });
    }
    let (mut won, mut refused) = (0, 0);
    while let Some(result) = tasks.join_next().await {
        match result.unwrap() {
            Ok(_) => won += 1,
            Err(StoreError::Forbidden(_)) => refused += 1,
            Err(other) => panic!("a redemption failed for another reason: {other:?}"),
        }
    }
    assert_eq!((won, refused), (1, 99));
}

async fn expired_revoked_unknown_and_wrong_secret_tokens_are_refused_alike(store: TestStore) {
    let binding = EnrollmentBinding::Profile(profile("shop"));
    let expired = token(&store, binding.clone()).await;
    let revoked = token(&store, binding.clone()).await;
    store
        .revoke_enrollment_token(revoked.prefix(), "test", NOW)
        .await
        .unwrap();
    let unknown = EnrollmentTokenSecret::generate();
    let real = token(&store, binding).await;
    // Same prefix, different secret: a guess at a known prefix.
    let text = real.reveal();
    let (prefix, _) = text.split_once('.').unwrap();
    let guessed = EnrollmentTokenSecret::parse(&format!("{prefix}.{}", "A".repeat(43))).unwrap();

    let cases = [
        (&expired, NOW.plus(DAY)),
        (&revoked, NOW),
        (&unknown, NOW),
        (&guessed, NOW),
    ];
    let mut messages = Vec::new();
    for (token, at) in cases {
        match store
            .redeem_enrollment_token(token, &DeviceId::generate(), at)
            .await
        {
            Err(StoreError::Forbidden(m)) => messages.push(m),
            other => panic!("{token:?} at {at}: {other:?}"),
        }
    }
    messages.dedup();
    assert_eq!(
        messages,
        ["the enrollment token is unknown, used, revoked or expired"]
    );
    assert!(
        store
            .redeem_enrollment_token(&real, &DeviceId::generate(), NOW)
            .await
            .is_ok(),
        "the real token still works"
    );
}

async fn enrollment_creates_the_device_its_certificate_and_its_first_push(store: TestStore) {
    let (hash, text) = version("[profile]\nname = \"shop\"\n");
    store
        .publish_profile_version(&profile("shop"), &hash, &text, "user:admin", NOW)
        .await
        .unwrap();
    let token = token(&store, EnrollmentBinding::Profile(profile("shop"))).await;
    let device = new_device("Till 1");
    let cert = certificate();
    let enrolled = store
        .enroll_device(&token, &device, &cert, NOW)
        .await
        .unwrap();

    assert_eq!(
        (enrolled.id.clone(), enrolled.status),
        (device.id.clone(), DeviceStatus::Active)
    );
    assert_eq!(enrolled.cert_serial.as_ref(), Some(&cert.serial));
    assert_eq!(enrolled.cert_key_hash.as_ref(), Some(&cert.key_hash));
    assert_eq!(
        store.certificate(&cert.serial).await.unwrap().device,
        device.id
    );
    let assignments = store.assignments().await.unwrap();
    assert_eq!(
        assignments[0].target,
        AssignmentTarget::Device(device.id.clone())
    );
    let pushes = store.pending_pushes(&device.id).await.unwrap();
    assert_eq!(pushes.len(), 1);
    assert_eq!(
        (
            pushes[0].seq,
            pushes[0].version.as_ref(),
            pushes[0].body.as_str()
        ),
        (1, Some(&hash), text.as_str())
    );
    let deliveries = store.deliveries(&device.id).await.unwrap();
    assert_eq!(deliveries[0].state(), DeliveryState::Assigned);
    let events = store.events(Some(&device.id), 0, 10).await.unwrap();
    assert_eq!(events.last().unwrap().kind, "device.enrolled");
}

async fn a_group_token_puts_the_device_in_the_group(store: TestStore) {
    let group = GroupName::parse("berlin-shops").unwrap();
    let (hash, text) = version("berlin");
    store
        .publish_profile_version(&profile("berlin"), &hash, &text, "test", NOW)
        .await
        .unwrap();
    store
        .assign_profile(
            &AssignmentTarget::Group(group.clone()),
            &profile("berlin"),
            "test",
            NOW,
        )
        .await
        .unwrap();
    let token = token(&store, EnrollmentBinding::Group(group.clone())).await;
    let device = new_device("Till 2");
    let enrolled = store
        .enroll_device(&token, &device, &certificate(), NOW)
        .await
        .unwrap();
    assert_eq!(enrolled.group, Some(group));
    assert_eq!(
        store.pending_pushes(&device.id).await.unwrap()[0].version,
        Some(hash)
    );
}

async fn a_losing_enrollment_leaves_nothing_behind(store: TestStore) {
    let token = token(&store, EnrollmentBinding::Profile(profile("shop"))).await;
    store
        .enroll_device(&token, &new_device("Winner"), &certificate(), NOW)
        .await
        .unwrap();
    let loser = new_device("Loser");
    let cert = certificate();
    let err = store
        .enroll_device(&token, &loser, &cert, NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Forbidden(_)), "{err:?}");
    assert!(matches!(
        store.device(&loser.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.certificate(&cert.serial).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.devices().await.unwrap().len(), 1);
}

async fn tokens_are_listed_without_their_secrets(store: TestStore) {
    let a = token(&store, EnrollmentBinding::Profile(profile("shop"))).await;
    let b = token(
        &store,
        EnrollmentBinding::Group(GroupName::parse("vans").unwrap()),
    )
    .await;
    let listed = store.enrollment_tokens().await.unwrap();
    let mut prefixes: Vec<_> = listed.iter().map(|t| t.prefix.clone()).collect();
    prefixes.sort_by(|x, y| x.as_str().cmp(y.as_str()));
    let mut expected = vec![a.prefix().clone(), b.prefix().clone()];
    expected.sort_by(|x, y| x.as_str().cmp(y.as_str()));
    assert_eq!(prefixes, expected);
    assert!(
        listed
            .iter()
            .all(|t| t.expires_at == NOW.plus(DAY) && t.used_at.is_none())
    );
}
