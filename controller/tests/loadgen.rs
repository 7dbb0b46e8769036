//! The load harness at test size: `corral-loadgen` starts the real `corral serve`, opens
//! 600 mutual-TLS agents (more than one statement's worth of devices, so batched claims
//! and publishing cross a chunk boundary), publishes one version to all of them and checks
//! that each got it exactly once. This test checks the same again in the database on its
//! own. Counts only: speed is measured by the benchmark (docs/benchmarks.md).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use corral_controller::domain::DeliveryState;
use corral_controller::store::{Store, StoreOptions};

const AGENTS: usize = 600;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_wide_push_reaches_every_agent_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = Command::new(env!("CARGO_BIN_EXE_corral-loadgen"))
        .arg("--data-dir")
        .arg(&data)
        .args([
            "--agents",
            &AGENTS.to_string(),
            "--json",
            "--timeout-secs",
            "120",
        ])
        .arg("--corral")
        .arg(env!("CARGO_BIN_EXE_corral"))
        .env_remove("CORRAL_DATABASE_URL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "corral-loadgen failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    for (field, expected) in [
        ("connected", AGENTS),
        ("failed", 0),
        ("missing_pushes", 0),
        ("duplicate_pushes", 0),
        ("bad_deliveries", 0),
        ("not_applied", 0),
        ("still_pending", 0),
    ] {
        assert_eq!(report[field], expected, "{field} in {stdout}");
    }
    assert_eq!(report["delivery"]["n"], AGENTS, "{stdout}");
    assert_eq!(report["acknowledged"]["n"], AGENTS, "{stdout}");

    // The database, independently: one delivery per device, delivered and applied once.
    let store = Store::open_sqlite(&data.join("corral.db"), &StoreOptions::default())
        .await
        .unwrap();
    let devices = store.devices().await.unwrap();
    assert_eq!(devices.len(), AGENTS);
    for device in &devices {
        let deliveries = store.deliveries(&device.id).await.unwrap();
        assert_eq!(deliveries.len(), 1, "device {}", device.id);
        assert_eq!(deliveries[0].state(), DeliveryState::Applied);
        assert!(store.pending_pushes(&device.id).await.unwrap().is_empty());
        let applied = store
            .events(Some(&device.id), 0, 100)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.kind == "profile.applied")
            .count();
        assert_eq!(applied, 1, "device {}", device.id);
    }
}
