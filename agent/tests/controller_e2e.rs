//! End to end with the real controller in-process (store, CA, enrollment listener and
//! mTLS gateway on 127.0.0.1:0) and a simulated phone over ADB: `enroll`, then `run` —
//! the published profile is pushed, applied to the phone, its result and the phone's state
//! reach the controller exactly once, a hand-added contact is removed on a re-sync command
//! and reported, and the agent reconnects after the gateway goes away.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use corral_agent::run::{self, Options};
use corral_agent::state::StateDir;
use corral_agent::{backoff::Backoff, enroll};
use corral_controller::domain::{DeviceId, Timestamp};
use corral_wire::CommandKind;
use support::TestPhone;
use support::controller::{Controller, eventually};
use tokio::sync::watch;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enroll_run_apply_report_and_resync() {
    let ctl = Controller::start().await;
    let (token, version) = ctl.publish_and_token().await;
    let phone = TestPhone::start().await;
    let dir = tempfile::tempdir().unwrap();
    let state = StateDir::new(dir.path().join("corral"));

    // Enroll: the phone's properties come from the phone.
    let mut shell = phone.shell();
    let info = enroll::device_info(&mut shell).await.unwrap();
    assert_eq!(info.sdk, 34);
    let config = enroll::enroll(
        &state,
        &ctl.enrollment.to_string(),
        ctl.state.ca.fingerprint(),
        &token,
        info,
    )
    .await
    .unwrap();
    let device = DeviceId::parse(&config.device_id).unwrap();
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(state.path("key.pem"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    // A token works once.
    let again = enroll::enroll(
        &StateDir::new(dir.path().join("other")),
        &ctl.enrollment.to_string(),
        ctl.state.ca.fingerprint(),
        &token,
        enroll::device_info(&mut shell).await.unwrap(),
    )
    .await;
    assert!(
        matches!(again, Err(enroll::EnrollError::Refused(_))),
        "{again:?}"
    );

    // Run.
    let (stop, stopped) = watch::channel(false);
    let mut opts = Options::new(state.clone(), phone.maker());
    let metrics = std::sync::Arc::clone(&opts.metrics);
    opts.backoff = Backoff {
        base: Duration::from_millis(100),
        max: Duration::from_millis(500),
        reset_after: Duration::from_secs(60),
    };
    let agent = tokio::spawn(run::run(opts, stopped));

    let store = ctl.state.store.clone();
    eventually("the profile applied", || {
        let store = store.clone();
        let device = device.clone();
        let version = version.clone();
        async move {
            store.device(&device).await.is_ok_and(|d| {
                // The apply result and the state report are separate messages.
                d.applied_version.map(|v| v.to_string()) == Some(version)
                    && d.observed_state.is_some()
            })
        }
    })
    .await;
    assert!(
        phone
            .sh("pm list users")
            .contains("UserInfo{10:Shop:1030} running")
    );
    assert_eq!(
        phone.sh("pm list packages --user 10 com.whatsapp.w4b"),
        "package:com.whatsapp.w4b\n"
    );
    let record = store.device(&device).await.unwrap();
    let observed = record.observed_state.unwrap().to_string();
    assert!(observed.contains("\"user\":10"), "{observed}");

    // Someone adds a contact by hand; a re-sync removes it and reports the drift.
    phone.sh("content insert --user 10 --uri content://com.android.contacts/raw_contacts --bind account_type:n: --bind account_name:n:");
    assert!(phone.sh("content query --user 10 --uri content://com.android.contacts/raw_contacts --projection _id").lines().count() == 3);
    ctl.state
        .gateway
        .queue_command(&device, CommandKind::ReSync, Timestamp::now())
        .await
        .unwrap();
    eventually("the hand-added contact removed", || {
        let out = phone.sh("content query --user 10 --uri content://com.android.contacts/raw_contacts --projection _id");
        async move { out.lines().count() == 2 }
    })
    .await;
    eventually("the drift reported", || {
        let store = store.clone();
        let device = device.clone();
        async move {
            store
                .device(&device)
                .await
                .ok()
                .and_then(|d| d.drift)
                .is_some_and(|d| d.to_string().contains("foreign_contacts"))
        }
    })
    .await;

    // Everything sent was acknowledged and compacted away: the outbox is empty.
    eventually("the outbox drained", || {
        let dir = state.outbox_dir();
        async move {
            let p = corral_agent::outbox::Outbox::peek(&dir).unwrap();
            p.records == 0 && p.floor >= 3
        }
    })
    .await;

    // Idle: no loop wakes up without a reason (the heartbeat is a minute away).
    let before = metrics.snapshot();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = metrics.snapshot();
    for ((name, a), (_, b)) in before.iter().zip(&after) {
        assert_eq!(a, b, "{name} changed while idle: {before:?} → {after:?}");
    }

    // The gateway drops the connection: the agent comes back (backoff 100 ms here).
    let connects = metrics.connects.get();
    assert!(ctl.state.gateway.disconnect(&device, "test"));
    eventually("the agent reconnected", || {
        let online = ctl.state.gateway.is_online(&device) && metrics.connects.get() > connects;
        async move { online }
    })
    .await;

    stop.send_replace(true);
    tokio::time::timeout(Duration::from_secs(10), agent)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    drop(ctl);
    phone.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_certificate_is_renewed_with_a_key_made_on_the_phone() {
    let ctl = Controller::start().await;
    let (token, _) = ctl.publish_and_token().await;
    let phone = TestPhone::start().await;
    let dir = tempfile::tempdir().unwrap();
    let state = StateDir::new(dir.path().join("corral"));
    let device = ctl.enroll(&phone, &state, &token).await;
    let first_key = state.read("key.pem").unwrap().unwrap();
    let first_cert = state.read("cert.pem").unwrap().unwrap();

    // Renew as soon as connected (the schedule's upper bound is 300 ms here).
    let (stop, stopped) = watch::channel(false);
    let mut opts = Options::new(state.clone(), phone.maker());
    let metrics = std::sync::Arc::clone(&opts.metrics);
    opts.renewal = corral_agent::renew::Renewal {
        min: Duration::from_millis(100),
        max: Duration::from_millis(300),
    };
    let agent = tokio::spawn(run::run(opts, stopped));
    let store = ctl.state.store.clone();
    eventually("a second certificate", || {
        let (store, device) = (store.clone(), device.clone());
        async move {
            store
                .certificates_of(&device)
                .await
                .is_ok_and(|c| c.len() >= 2)
        }
    })
    .await;
    eventually("the new certificate stored", || {
        let cert = state.read("cert.pem").unwrap().unwrap();
        let first = first_cert.clone();
        async move { cert != first }
    })
    .await;
    assert_ne!(state.read("key.pem").unwrap().unwrap(), first_key);
    // The next connection uses the new key and certificate.
    let connects = metrics.connects.get();
    assert!(ctl.state.gateway.disconnect(&device, "test"));
    eventually("reconnected with the renewed certificate", || {
        let online = ctl.state.gateway.is_online(&device) && metrics.connects.get() > connects;
        async move { online }
    })
    .await;
    stop.send_replace(true);
    tokio::time::timeout(Duration::from_secs(10), agent)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    phone.stop().await;
}
