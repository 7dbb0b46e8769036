//! The provisioning record over the REST API, as a remote station writes it: through
//! `RestLink` (the station's `ControllerLink`) against the real controller over real
//! HTTP — runs and steps recorded with the caller in the audit log, finished records
//! refused, runs listed newest first, enrollment tokens issued, the wait for "applied" —
//! and its errors naming the controller and the remedy.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::api::{files_body, spawn_app};
use corral_controller::domain::{DeviceId, ProfileName, ProvisionStep, RunOutcome, StepOutcome};
use corral_controller::provision::{ControllerLink, LinkError};
use corral_controller::station::{ApiSecret, Client, RestLink};
use serde_json::json;

const BASE: &str = include_str!("../../profiles/examples/base.toml");
const SHOP: &str = include_str!("../../profiles/examples/butcher-shop.toml");

fn client(addr: std::net::SocketAddr, token: &str) -> Client {
    Client::new(&format!("http://{addr}"), ApiSecret::new(token)).unwrap()
}

fn shop() -> ProfileName {
    ProfileName::parse("butcher-shop").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_station_records_a_run_through_the_rest_link() {
    let app = spawn_app().await;
    app.upload(&[("base.toml", BASE), ("butcher-shop.toml", SHOP)])
        .await;
    let link = RestLink::connect(client(app.addr, &app.technician), None)
        .await
        .unwrap();
    let target = link.enrollment();
    assert_eq!(target.ca_fingerprint, app.ctl.state.ca.fingerprint());
    assert_eq!(
        target.address,
        app.ctl.state.config.enrollment_listen.to_string()
    );

    let first = link.start_run("R58M41ABCDE", &shop()).await.unwrap();
    link.start_step(first, ProvisionStep::Preflight)
        .await
        .unwrap();
    link.finish_step(
        first,
        ProvisionStep::Preflight,
        StepOutcome::Failed,
        None,
        Some("R58M41ABCDE: USB debugging is not authorized"),
    )
    .await
    .unwrap();
    link.finish_run(first, RunOutcome::Failed, Some("unauthorized"), None)
        .await
        .unwrap();

    let second = link.start_run("R58M41ABCDE", &shop()).await.unwrap();
    link.start_step(second, ProvisionStep::Preflight)
        .await
        .unwrap();
    let again = link.start_step(second, ProvisionStep::Preflight).await;
    assert!(
        matches!(&again, Err(LinkError::Refused(m)) if m.contains("409")),
        "{again:?}"
    );
    link.finish_step(
        second,
        ProvisionStep::Preflight,
        StepOutcome::Unchanged,
        Some("Android 14 (API 34)"),
        None,
    )
    .await
    .unwrap();
    let twice = link
        .finish_step(
            second,
            ProvisionStep::Preflight,
            StepOutcome::Done,
            None,
            None,
        )
        .await;
    assert!(
        matches!(&twice, Err(LinkError::Refused(m)) if m.contains("404")),
        "{twice:?}"
    );
    let device = DeviceId::generate();
    link.finish_run(second, RunOutcome::Done, None, Some(&device))
        .await
        .unwrap();

    // Newest first, each with its steps.
    let runs = app.get("/provisioning/runs").await.json();
    let seen: Vec<(i64, &str, usize)> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_i64().unwrap(),
                r["outcome"].as_str().unwrap(),
                r["steps"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(seen, [(second, "done", 1), (first, "failed", 1)]);
    assert_eq!(runs[0]["device"], json!(device.as_str()));
    assert_eq!(runs[0]["steps"][0]["detail"], "Android 14 (API 34)");
    let other = app
        .get("/provisioning/runs?serial=someone-else&limit=5")
        .await
        .json();
    assert_eq!(other, json!([]));

    // The audit log names the technician for each run's start and end.
    let events = app.get("/events").await.json();
    let provisioning: Vec<(String, String)> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"].as_str().unwrap().starts_with("provisioning."))
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["actor"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let tech = "user:tech".to_owned();
    assert_eq!(
        provisioning,
        [
            ("provisioning.started".to_owned(), tech.clone()),
            ("provisioning.failed".to_owned(), tech.clone()),
            ("provisioning.started".to_owned(), tech.clone()),
            ("provisioning.done".to_owned(), tech),
        ]
    );

    // A one-time token for the profile, and the wait for a device that never enrolls.
    let token = link.issue_token("R58M41ABCDE", &shop()).await.unwrap();
    assert!(token.starts_with("enr-"), "{token}");
    let waited = link
        .wait_applied(&device, "sha256:0000000000000000", Duration::ZERO)
        .await;
    assert!(
        matches!(&waited, Err(LinkError::NotYet(m)) if m.contains("has not applied")),
        "{waited:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_station_endpoints_check_what_they_are_given() {
    let app = spawn_app().await;
    app.upload(&[("base.toml", BASE), ("butcher-shop.toml", SHOP)])
        .await;
    let unknown = app
        .post(
            "/provisioning/runs",
            &json!({ "serial": "S1", "profile": "nope" }),
        )
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    let empty = app
        .post(
            "/provisioning/runs",
            &json!({ "serial": " ", "profile": "butcher-shop" }),
        )
        .await;
    assert_eq!(empty.status, 400, "{}", empty.body);
    let run = app
        .post(
            "/provisioning/runs",
            &json!({ "serial": "S1", "profile": "butcher-shop" }),
        )
        .await;
    assert_eq!(run.status, 201, "{}", run.body);
    let id = run.json()["id"].as_i64().unwrap();
    let bad_step = app
        .post(
            &format!("/provisioning/runs/{id}/steps"),
            &json!({ "step": "reboot" }),
        )
        .await;
    assert_eq!(bad_step.status, 400, "{}", bad_step.body);
    let no_run = app
        .post(
            "/provisioning/runs/999/steps",
            &json!({ "step": "preflight" }),
        )
        .await;
    assert_eq!(no_run.status, 404, "{}", no_run.body);
    let interrupted = app
        .call(
            "PUT",
            &format!("/provisioning/runs/{id}/outcome"),
            &app.admin,
            Some(&json!({ "outcome": "interrupted" })),
        )
        .await;
    assert_eq!(interrupted.status, 400, "{}", interrupted.body);
    let bad_limit = app.get("/provisioning/runs?limit=0").await;
    assert_eq!(bad_limit.status, 400, "{}", bad_limit.body);
    let files = files_body(&[("base.toml", BASE)]);
    assert_eq!(app.post("/profiles/validate", &files).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_errors_name_the_controller_and_the_remedy() {
    let app = spawn_app().await;
    app.upload(&[("base.toml", BASE), ("butcher-shop.toml", SHOP)])
        .await;
    let url = format!("http://{}", app.addr);

    let forged = RestLink::connect(
        client(
            app.addr,
            "api-0123456789ab.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ),
        None,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(forged.contains(&url), "{forged}");
    assert!(
        forged.contains("create one with `corral admin token`"),
        "{forged}"
    );

    let auditor = RestLink::connect(client(app.addr, &app.auditor), None)
        .await
        .unwrap();
    let refused = auditor.start_run("S1", &shop()).await.unwrap_err();
    let text = refused.to_string();
    assert!(matches!(refused, LinkError::Refused(_)), "{text}");
    assert!(
        text.contains("use an API token of an admin or technician"),
        "{text}"
    );

    let nobody = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let gone = nobody.local_addr().unwrap();
    drop(nobody);
    let unreachable = RestLink::connect(client(gone, &app.admin), None)
        .await
        .unwrap_err();
    assert!(unreachable.is_transient());
    let text = unreachable.to_string();
    assert!(
        text.contains(&format!("cannot reach the controller at http://{gone}")),
        "{text}"
    );
    assert!(text.contains("that `corral serve` runs there"), "{text}");
}
