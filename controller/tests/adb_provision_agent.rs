//! The true path end to end: the real `corral-agent` pushed over direct TCP ADB to a
//! simulated phone, enrolled over TLS with the real controller in this process (store,
//! CA, enrollment listener, mTLS gateway), started, and the profile applied — the
//! provisioning run waits for exactly that through `StoreLink`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod adb_support;

use std::path::PathBuf;
use std::sync::Arc;

use adb_support::*;
use corral_controller::config::{Config, Overrides};
use corral_controller::domain::{ProfileName, Timestamp, VersionHash};
use corral_controller::gateway::{AgentListeners, serve_agent_listeners};
use corral_controller::provision::provision_phone;
use corral_controller::serve;
use tokio::net::TcpListener;

/// The `corral-agent` binary next to this test's executable (built by `cargo build` or a
/// workspace test run); built here if it is missing.
fn agent_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = dir.join("corral-agent");
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args(["build", "-p", "corral-agent", "--bin", "corral-agent"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(status.success(), "cargo build -p corral-agent failed");
    }
    assert!(path.exists(), "no corral-agent at {}", path.display());
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_agent_is_pushed_enrolled_started_and_applies_the_profile() {
    let agent = agent_binary();
    let dir = tempfile::tempdir().unwrap();
    let env = |key: &str| match key {
        "CORRAL_GATEWAY_LISTEN" | "CORRAL_ENROLLMENT_LISTEN" => Some("127.0.0.1:0".to_owned()),
        _ => None,
    };
    let config = Config::load(dir.path(), &Overrides::default(), &env).unwrap();
    let (state, _admin) = serve::open(config).await.unwrap();
    let listeners = AgentListeners {
        gateway: TcpListener::bind("127.0.0.1:0").await.unwrap(),
        enrollment: TcpListener::bind("127.0.0.1:0").await.unwrap(),
    };
    let enrollment = listeners.enrollment.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = state.clone();
    tokio::spawn(async move {
        let _ = serve_agent_listeners(&served, listeners, async move {
            let _ = stopped.await;
        })
        .await;
    });
    let (text, version) = butcher_shop();
    state
        .store
        .publish_profile_version(
            &ProfileName::parse("butcher-shop").unwrap(),
            &VersionHash::parse(&version).unwrap(),
            &text,
            "test",
            Timestamp::now(),
        )
        .await
        .unwrap();

    let sim = Phones::start(sim_config(1, |_, _| {})).await;
    let link = store_link(
        &state.store,
        &enrollment.to_string(),
        state.ca.fingerprint(),
    );
    let spec = spec(tcp_station(dir.path()), Arc::new(link), &agent);
    let result = provision_phone(&spec, &tcp(sim.addr(0)), None).await;
    let phone = sim.phone(0);
    let log = sh(phone, "cat /data/local/tmp/corral/agent.log");
    let device = result
        .outcome
        .unwrap_or_else(|e| panic!("{e}\nagent.log:\n{log}"));

    let stored = state.store.device(&device).await.unwrap();
    assert_eq!(
        stored.applied_version.map(|v| v.as_str().to_owned()),
        Some(version)
    );
    let runs = state.store.provisioning_runs(&sim.serial(0)).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].device.as_ref(), Some(&device));
    // The agent, not provisioning, wrote the allow-listed contacts.
    let contacts = sh(
        phone,
        "content query --user 10 --uri content://com.android.contacts/data --projection data1 --where \"mimetype='vnd.android.cursor.item/name'\"",
    );
    assert!(contacts.contains("Meyer Wholesale Meats"), "{contacts}");
    assert!(
        sh(phone, "pidof corral-agent")
            .trim()
            .parse::<u32>()
            .is_ok()
    );
    let _ = stop.send(());
    sim.stop().await;
}
