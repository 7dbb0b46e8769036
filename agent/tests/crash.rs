//! Crash safety of the running agent: stopped dead (its task aborted at an arbitrary
//! point, as `kill -9` would, after whatever it had written to disk) again and again while
//! it applies its first profile, then left to finish — the phone ends up exactly on the
//! profile and the controller records the version as applied exactly once.
//!
//! Aborting a task cannot tear a write in the middle (the outbox's torn-record handling is
//! tested on files cut at every byte, `outbox::tests`); it does stop the agent between any
//! two awaits: mid-batch on the phone, between the apply and its result, between the
//! result and its acknowledgement.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use corral_agent::backoff::Backoff;
use corral_agent::observe::Observer;
use corral_agent::reconcile::reconcile;
use corral_agent::run::{self, Options};
use corral_agent::state::StateDir;
use corral_devsim::latency::LatencyModel;
use corral_devsim::simulator::SimulatorConfig;
use support::controller::{Controller, eventually};
use support::{TestPhone, butcher_shop};
use tokio::sync::watch;

/// A phone a fifth as slow as a real one: an apply takes a couple of seconds.
fn slow_phone() -> SimulatorConfig {
    let mut latency = LatencyModel::real();
    latency.round_trip /= 5;
    latency.shell_spawn /= 5;
    latency.default_command /= 5;
    for (_, cost) in &mut latency.command_costs {
        *cost /= 5;
    }
    SimulatorConfig {
        latency,
        ..SimulatorConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_applying_the_result_is_recorded_once() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let ctl = Controller::start().await;
    let (token, version) = ctl.publish_and_token().await;
    let phone = TestPhone::start_with(slow_phone()).await;
    let dir = tempfile::tempdir().unwrap();
    let state = StateDir::new(dir.path().join("corral"));
    let device = ctl.enroll(&phone, &state, &token).await;
    let mut opts = Options::new(state.clone(), phone.maker());
    opts.backoff = Backoff {
        base: Duration::from_millis(50),
        max: Duration::from_millis(200),
        reset_after: Duration::from_secs(60),
    };

    for delay_ms in [150, 400, 700, 1000, 1400, 1900, 2500, 3200] {
        let (_stop, stopped) = watch::channel(false);
        let agent = tokio::spawn(run::run(opts.clone(), stopped));
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        agent.abort();
        let _ = agent.await;
    }

    let (stop, stopped) = watch::channel(false);
    let agent = tokio::spawn(run::run(opts.clone(), stopped));
    let store = ctl.state.store.clone();
    eventually("the profile applied", || {
        let (store, device, version) = (store.clone(), device.clone(), version.clone());
        async move {
            store
                .device(&device)
                .await
                .is_ok_and(|d| d.applied_version.map(|v| v.to_string()) == Some(version))
        }
    })
    .await;
    // Let the last reports through.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.send_replace(true);
    agent.await.unwrap().unwrap();

    let events = store.events(Some(&device), 0, 1000).await.unwrap();
    let applied = events
        .iter()
        .filter(|e| e.kind == "profile.applied")
        .count();
    let failed: Vec<_> = events
        .iter()
        .filter(|e| e.kind == "profile.failed")
        .collect();
    assert_eq!(applied, 1, "{events:#?}");
    assert!(failed.is_empty(), "{failed:#?}");

    // The phone is exactly on the profile: a reconcile finds nothing to do.
    let again = reconcile(&mut phone.shell(), &mut Observer::new(), &butcher_shop()).await;
    assert!(again.clean(), "{:?}", again.errors());
    assert_eq!(again.found.actions, vec![]);
    // One copy of each allow-listed contact.
    let rows = phone.sh("content query --user 10 --uri content://com.android.contacts/raw_contacts --projection _id --where 'deleted=0'");
    assert_eq!(rows.lines().count(), butcher_shop().allow.len(), "{rows}");
    phone.stop().await;
}
