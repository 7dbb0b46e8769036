//! Offline: the controller is unreachable, yet the agent enforces the profile it applied
//! last — at start-up and then every reconcile interval — and keeps its reports in the
//! outbox for when the gateway is back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use corral_agent::outbox::Outbox;
use corral_agent::run::{self, Options};
use corral_agent::state::{AgentConfig, Applied, StateDir};
use support::controller::eventually;
use support::{TestPhone, butcher_shop};
use tokio::sync::watch;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_applied_profile_is_enforced_while_offline() {
    let p = TestPhone::start().await;
    let dir = tempfile::tempdir().unwrap();
    let state = StateDir::new(dir.path().join("corral"));
    state.create().unwrap();
    // Enrolled once (nothing listens at the gateway now), with the profile applied.
    state
        .write_config(&AgentConfig {
            device_id: "0123456789abcdef0123456789abcdef".into(),
            gateway: "127.0.0.1:9".into(),
            server_name: "127.0.0.1".into(),
            serial: None,
        })
        .unwrap();
    let target = butcher_shop();
    state
        .write_applied(&Applied {
            version: Some(target.version.clone()),
            profile: Some(target.text.clone()),
            push_seq: 1,
            ..Applied::default()
        })
        .unwrap();

    let (stop, stopped) = watch::channel(false);
    let agent = tokio::spawn(run::run(Options::new(state.clone(), p.maker()), stopped));
    eventually("the profile enforced offline", || {
        let out = p.sh("pm list packages --user 10 com.whatsapp.w4b");
        async move { out == "package:com.whatsapp.w4b\n" }
    })
    .await;
    // What it saw and did waits in the outbox.
    eventually("reports queued", || {
        let peek = Outbox::peek(&state.outbox_dir()).unwrap();
        async move { peek.records >= 2 }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.send_replace(true);
    tokio::time::timeout(Duration::from_secs(10), agent)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    p.stop().await;
}
