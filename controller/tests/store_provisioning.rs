//! Provisioning runs and steps in the store, on SQLite and PostgreSQL: every attempt is
//! kept, a step cannot be finished twice, and a new run closes an unfinished one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use common::db::TestStore;
use corral_controller::domain::{
    DeviceId, ProfileName, ProvisionStep, RunOutcome, StepOutcome, Timestamp,
};
use corral_controller::store::StoreError;

fn profile() -> ProfileName {
    ProfileName::parse("butcher-shop").unwrap()
}

fn at(ms: i64) -> Timestamp {
    Timestamp::from_unix_millis(1_800_000_000_000 + ms)
}

async fn runs_and_steps_are_recorded(store: TestStore) {
    let run = store
        .start_provisioning_run("R58M41ABCDE", &profile(), "provisioning", at(0))
        .await
        .unwrap();
    store
        .start_provisioning_step(run, ProvisionStep::Preflight, at(1))
        .await
        .unwrap();
    store
        .finish_provisioning_step(
            run,
            ProvisionStep::Preflight,
            StepOutcome::Unchanged,
            Some("Android 14"),
            None,
            at(2),
        )
        .await
        .unwrap();
    store
        .start_provisioning_step(run, ProvisionStep::WorkProfile, at(3))
        .await
        .unwrap();
    store
        .finish_provisioning_step(
            run,
            ProvisionStep::WorkProfile,
            StepOutcome::Failed,
            None,
            Some("broke"),
            at(4),
        )
        .await
        .unwrap();
    store
        .finish_provisioning_run(
            run,
            RunOutcome::Failed,
            Some("broke"),
            None,
            "user:tech",
            at(5),
        )
        .await
        .unwrap();
    let second = store
        .start_provisioning_run("R58M41ABCDE", &profile(), "provisioning", at(6))
        .await
        .unwrap();
    let device = DeviceId::generate();
    store
        .finish_provisioning_run(
            second,
            RunOutcome::Done,
            None,
            Some(&device),
            "user:tech",
            at(7),
        )
        .await
        .unwrap();

    let runs = store.provisioning_runs("R58M41ABCDE").await.unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].outcome, Some(RunOutcome::Failed));
    assert_eq!(runs[0].error.as_deref(), Some("broke"));
    let steps: Vec<_> = runs[0]
        .steps
        .iter()
        .map(|s| (s.step, s.outcome, s.detail.clone(), s.error.clone()))
        .collect();
    assert_eq!(
        steps,
        vec![
            (
                ProvisionStep::Preflight,
                Some(StepOutcome::Unchanged),
                Some("Android 14".into()),
                None
            ),
            (
                ProvisionStep::WorkProfile,
                Some(StepOutcome::Failed),
                None,
                Some("broke".into())
            ),
        ]
    );
    assert_eq!(runs[1].outcome, Some(RunOutcome::Done));
    assert_eq!(runs[1].device, Some(device));
    assert!(store.provisioning_runs("other").await.unwrap().is_empty());
    let events = store.events(None, 0, 100).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "provisioning.started",
            "provisioning.failed",
            "provisioning.started",
            "provisioning.done"
        ]
    );
    let actors: Vec<&str> = events.iter().map(|e| e.actor.as_str()).collect();
    assert_eq!(
        actors,
        ["provisioning", "user:tech", "provisioning", "user:tech"]
    );
}

async fn finished_records_do_not_change(store: TestStore) {
    let run = store
        .start_provisioning_run("S1", &profile(), "provisioning", at(0))
        .await
        .unwrap();
    store
        .start_provisioning_step(run, ProvisionStep::Preflight, at(1))
        .await
        .unwrap();
    assert!(matches!(
        store
            .start_provisioning_step(run, ProvisionStep::Preflight, at(2))
            .await,
        Err(StoreError::Conflict(_))
    ));
    store
        .finish_provisioning_step(
            run,
            ProvisionStep::Preflight,
            StepOutcome::Done,
            None,
            None,
            at(2),
        )
        .await
        .unwrap();
    assert!(matches!(
        store
            .finish_provisioning_step(
                run,
                ProvisionStep::Preflight,
                StepOutcome::Failed,
                None,
                None,
                at(3)
            )
            .await,
        Err(StoreError::NotFound(_))
    ));
    store
        .finish_provisioning_run(run, RunOutcome::Done, None, None, "user:tech", at(4))
        .await
        .unwrap();
    assert!(matches!(
        store
            .finish_provisioning_run(run, RunOutcome::Failed, None, None, "user:tech", at(5))
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store
            .start_provisioning_step(run, ProvisionStep::WorkProfile, at(6))
            .await,
        Err(StoreError::NotFound(_))
    ));
}

async fn a_new_run_closes_an_unfinished_one(store: TestStore) {
    let old = store
        .start_provisioning_run("S2", &profile(), "provisioning", at(0))
        .await
        .unwrap();
    store
        .start_provisioning_step(old, ProvisionStep::Preflight, at(1))
        .await
        .unwrap();
    let new = store
        .start_provisioning_run("S2", &profile(), "provisioning", at(2))
        .await
        .unwrap();
    assert_ne!(old, new);
    let runs = store.provisioning_runs("S2").await.unwrap();
    assert_eq!(runs[0].outcome, Some(RunOutcome::Interrupted));
    assert_eq!(runs[0].finished_at, Some(at(2)));
    assert_eq!(
        runs[0].steps[0].outcome, None,
        "the step the station died in stays open"
    );
    assert_eq!(runs[1].outcome, None);
}

async fn recent_runs_come_newest_first_with_their_steps(store: TestStore) {
    let mut ids = Vec::new();
    for (i, serial) in ["A", "B", "A"].iter().enumerate() {
        let t = i64::try_from(i).unwrap() * 10;
        let run = store
            .start_provisioning_run(serial, &profile(), "provisioning", at(t))
            .await
            .unwrap();
        store
            .start_provisioning_step(run, ProvisionStep::Preflight, at(t + 1))
            .await
            .unwrap();
        ids.push(run);
    }
    let all = store.recent_provisioning_runs(None, 10).await.unwrap();
    let seen: Vec<(i64, &str, usize)> = all
        .iter()
        .map(|r| (r.id, r.serial.as_str(), r.steps.len()))
        .collect();
    assert_eq!(seen, [(ids[2], "A", 1), (ids[1], "B", 1), (ids[0], "A", 1)]);
    let newest = store.recent_provisioning_runs(None, 1).await.unwrap();
    assert_eq!(newest.len(), 1);
    assert_eq!(newest[0].id, ids[2]);
    let only_a = store.recent_provisioning_runs(Some("A"), 10).await.unwrap();
    let seen: Vec<i64> = only_a.iter().map(|r| r.id).collect();
    assert_eq!(seen, [ids[2], ids[0]]);
    assert!(
        store
            .recent_provisioning_runs(Some("nobody"), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

on_both_engines!(
    recent_runs_come_newest_first_with_their_steps,
    runs_and_steps_are_recorded,
    finished_records_do_not_change,
    a_new_run_closes_an_unfinished_one,
);
