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
        .start_provisioning_run("R58M41ABCDE", &profile(), at(0))
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
        .finish_provisioning_run(run, RunOutcome::Failed, Some("broke"), None, at(5))
        .await
        .unwrap();
    let second = store
        .start_provisioning_run("R58M41ABCDE", &profile(), at(6))
        .await
        .unwrap();
    let device = DeviceId::generate();
    store
        .finish_provisioning_run(second, RunOutcome::Done, None, Some(&device), at(7))
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
    assert_eq!(kinds, ["provisioning.failed", "provisioning.done"]);
}

async fn finished_records_do_not_change(store: TestStore) {
    let run = store
        .start_provisioning_run("S1", &profile(), at(0))
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
        .finish_provisioning_run(run, RunOutcome::Done, None, None, at(4))
        .await
        .unwrap();
    assert!(matches!(
        store
            .finish_provisioning_run(run, RunOutcome::Failed, None, None, at(5))
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
        .start_provisioning_run("S2", &profile(), at(0))
        .await
        .unwrap();
    store
        .start_provisioning_step(old, ProvisionStep::Preflight, at(1))
        .await
        .unwrap();
    let new = store
        .start_provisioning_run("S2", &profile(), at(2))
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

on_both_engines!(
    runs_and_steps_are_recorded,
    finished_records_do_not_change,
    a_new_run_closes_an_unfinished_one,
);
