//! Storage suite, staged rollouts: a new version staged for one group reaches that group
//! only, the rest of the profile's phones keep the current version, promoting (a normal
//! publish) brings everyone to it, aborting brings the group back; exactly one delivery
//! per phone per version along the way, and the fleet page's desired version agrees with
//! what was queued; on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use common::db::TestStore;
use common::fixtures::*;
use corral_controller::domain::{
    AssignmentTarget, DeviceId, EnrollmentBinding, GroupName, VersionHash,
};
use corral_controller::store::{EventFilter, StoreError};

on_both_engines!(
    a_staged_version_reaches_its_group_first_and_everyone_on_promotion,
    an_aborted_rollout_takes_the_group_back_to_the_current_version,
    only_a_new_version_of_a_published_profile_can_be_staged,
);

fn group(name: &str) -> GroupName {
    GroupName::parse(name).unwrap()
}

/// Two phones in group `pilot`, two in `tills`, both groups assigned profile `shop`,
/// which is published as V1. Returns (pilot phones, till phones, V1).
async fn fleet(store: &TestStore) -> (Vec<DeviceId>, Vec<DeviceId>, VersionHash) {
    let (v1, text) = version("name = \"shop\"");
    store
        .publish_profile_version(&profile("shop"), &v1, &text, "test", NOW)
        .await
        .unwrap();
    let mut groups = Vec::new();
    for g in ["pilot", "tills"] {
        store
            .assign_profile(
                &AssignmentTarget::Group(group(g)),
                &profile("shop"),
                "test",
                NOW,
            )
            .await
            .unwrap();
        let mut ids = Vec::new();
        for i in 0..2 {
            let token = token(store, EnrollmentBinding::Group(group(g))).await;
            let device = new_device(&format!("{g} {i}"));
            store
                .enroll_device(&token, &device, &certificate(), NOW)
                .await
                .unwrap();
            ids.push(device.id);
        }
        groups.push(ids);
    }
    let tills = groups.pop().unwrap();
    let pilot = groups.pop().unwrap();
    (pilot, tills, v1)
}

/// The versions delivered to `device`, oldest first.
async fn delivered(store: &TestStore, device: &DeviceId) -> Vec<VersionHash> {
    store
        .deliveries(device)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.version)
        .collect()
}

async fn desired(store: &TestStore, device: &DeviceId) -> Option<VersionHash> {
    store.fleet_row(device).await.unwrap().desired_version
}

async fn a_staged_version_reaches_its_group_first_and_everyone_on_promotion(store: TestStore) {
    let (pilot, tills, v1) = fleet(&store).await;
    for d in pilot.iter().chain(&tills) {
        assert_eq!(delivered(&store, d).await, vec![v1.clone()]);
    }

    let (v2, text2) = version("name = \"shop\"\ndescription = \"v2\"");
    let staging = store
        .stage_profile_version(
            &profile("shop"),
            &v2,
            &text2,
            "shop.toml",
            "name = \"shop\"\ndescription = \"v2\"\n",
            &group("pilot"),
            "user:ada",
            NOW.plus(HOUR),
        )
        .await
        .unwrap();
    let mut pushed: Vec<DeviceId> = staging.queued.iter().map(|q| q.device.clone()).collect();
    pushed.sort();
    let mut expected = pilot.clone();
    expected.sort();
    assert_eq!(pushed, expected, "only the group's phones get a push");
    assert!(staging.queued.iter().all(|q| q.version == v2));
    for d in &pilot {
        assert_eq!(delivered(&store, d).await, [v1.clone(), v2.clone()]);
        assert_eq!(desired(&store, d).await, Some(v2.clone()));
    }
    for d in &tills {
        assert_eq!(
            delivered(&store, d).await,
            vec![v1.clone()],
            "the rest stay on V1"
        );
        assert_eq!(desired(&store, d).await, Some(v1.clone()));
    }
    assert_eq!(store.rollouts().await.unwrap().len(), 1);
    let rollout = store
        .profile_rollout(&profile("shop"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (rollout.version, rollout.current, rollout.group),
        (v2.clone(), v1.clone(), group("pilot"))
    );
    assert_eq!(
        store
            .current_profile_version(&profile("shop"))
            .await
            .unwrap()
            .version,
        v1,
        "staging does not change the current version"
    );

    // Staging the same version again queues nothing new.
    let again = store
        .stage_profile_version(
            &profile("shop"),
            &v2,
            &text2,
            "shop.toml",
            "name = \"shop\"\ndescription = \"v2\"\n",
            &group("pilot"),
            "user:ada",
            NOW.plus(HOUR),
        )
        .await
        .unwrap();
    assert!(again.queued.is_empty());

    // Promotion is a normal publish of the staged version: it ends the rollout.
    let publication = store
        .publish_profile_version(&profile("shop"), &v2, &text2, "user:ada", NOW.plus(DAY))
        .await
        .unwrap();
    let mut pushed = publication.pushed_to.clone();
    pushed.sort();
    let mut expected = tills.clone();
    expected.sort();
    assert_eq!(
        pushed, expected,
        "promotion pushes only to the phones still on V1"
    );
    for d in pilot.iter().chain(&tills) {
        assert_eq!(
            delivered(&store, d).await,
            [v1.clone(), v2.clone()],
            "exactly one delivery per phone per version"
        );
        assert_eq!(desired(&store, d).await, Some(v2.clone()));
    }
    assert_eq!(store.profile_rollout(&profile("shop")).await.unwrap(), None);
    assert!(store.rollouts().await.unwrap().is_empty());
    let staged = store
        .events_newest_first(
            &EventFilter {
                kind: Some("profile.staged".into()),
                ..EventFilter::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(staged.len(), 2);
    assert_eq!(staged[0].actor, "user:ada");
    assert_eq!(staged[0].detail["group"], "pilot");
    assert_eq!(staged[1].detail["pushes"], 2);
}

async fn an_aborted_rollout_takes_the_group_back_to_the_current_version(store: TestStore) {
    let (pilot, tills, v1) = fleet(&store).await;
    let (v2, text2) = version("name = \"shop\"\ndescription = \"v2\"");
    store
        .stage_profile_version(
            &profile("shop"),
            &v2,
            &text2,
            "shop.toml",
            "source",
            &group("tills"),
            "user:ada",
            NOW.plus(HOUR),
        )
        .await
        .unwrap();
    let queued = store
        .abort_rollout(&profile("shop"), "user:ada", NOW.plus(DAY))
        .await
        .unwrap();
    assert_eq!(queued.len(), 2);
    assert!(queued.iter().all(|q| q.version == v1));
    for d in &tills {
        assert_eq!(
            delivered(&store, d).await,
            [v1.clone(), v2.clone(), v1.clone()]
        );
        assert_eq!(desired(&store, d).await, Some(v1.clone()));
    }
    for d in &pilot {
        assert_eq!(delivered(&store, d).await, vec![v1.clone()]);
    }
    assert_eq!(store.profile_rollout(&profile("shop")).await.unwrap(), None);
    assert!(matches!(
        store
            .abort_rollout(&profile("shop"), "user:ada", NOW.plus(DAY))
            .await,
        Err(StoreError::Conflict(_))
    ));
    let aborted = store
        .events_newest_first(
            &EventFilter {
                kind: Some("profile.rollout_aborted".into()),
                ..EventFilter::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(aborted.len(), 1);
}

async fn only_a_new_version_of_a_published_profile_can_be_staged(store: TestStore) {
    let (v, text) = version("name = \"never\"");
    let never = store
        .stage_profile_version(
            &profile("never"),
            &v,
            &text,
            "never.toml",
            &text,
            &group("pilot"),
            "user:ada",
            NOW,
        )
        .await;
    assert!(matches!(never, Err(StoreError::Conflict(_))), "{never:?}");
    let (_, _, v1) = fleet(&store).await;
    let current = store.profile_version(&profile("shop"), &v1).await.unwrap();
    let same = store
        .stage_profile_version(
            &profile("shop"),
            &v1,
            &current.canonical_toml,
            "shop.toml",
            "x",
            &group("pilot"),
            "user:ada",
            NOW,
        )
        .await;
    assert!(matches!(same, Err(StoreError::Conflict(_))), "{same:?}");
    assert_eq!(store.profile_rollout(&profile("shop")).await.unwrap(), None);
}
