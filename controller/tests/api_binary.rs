//! The REST API of the real `corral serve` binary, with a token printed by
//! `corral admin token` while it runs: the operator's path end to end.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::api::files_body;
use common::binary::{run, serve};
use common::http::request;
use serde_json::json;

const BASE: &str = include_str!("../../profiles/examples/base.toml");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_token_from_the_cli_drives_the_api_of_corral_serve() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path());
    let out = run(&["admin", "token", "--data-dir", dir.path().to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();

    let document = request(server.addr, "GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(document.status, 200);
    assert_eq!(document.json()["openapi"], json!("3.1.0"));
    let anonymous = request(server.addr, "GET", "/api/v1/devices", None, None).await;
    assert_eq!(anonymous.status, 401);

    let published = request(
        server.addr,
        "POST",
        "/api/v1/profiles",
        Some(&token),
        Some(&files_body(&[("base.toml", BASE)])),
    )
    .await;
    assert_eq!(published.status, 201, "{}", published.body);
    let created = request(
        server.addr,
        "POST",
        "/api/v1/enrollment-tokens",
        Some(&token),
        Some(&json!({ "profile": "base" })),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(
        created.json()["token"]
            .as_str()
            .unwrap()
            .starts_with("enr-")
    );
    let devices = request(server.addr, "GET", "/api/v1/devices", Some(&token), None).await;
    assert_eq!((devices.status, devices.json()), (200, json!([])));
    let events = request(server.addr, "GET", "/api/v1/events", Some(&token), None).await;
    let kinds: Vec<_> = events
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].clone())
        .collect();
    assert!(kinds.contains(&json!("profile.published")), "{kinds:?}");
    assert!(server.stop().success());
}
