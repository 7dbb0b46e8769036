//! The REST API's device and enrollment-token routes against real agents: a token made
//! through the API enrolls a phone; uploads and assignments reach a connected agent at
//! once; commands are queued and sent; revocation drops the live session; unknown ids
//! are 404; every change is in the event log with the user who made it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::agents::{TestAgent, recv, until_closed};
use common::api::{App, spawn_app};
use corral_wire::{CommandKind, ControllerMessage};
use serde_json::{Value, json};

const BASE: &str = include_str!("../../profiles/examples/base.toml");

/// Uploads `base`, makes an enrollment token for it through the API and enrolls an agent.
async fn enrolled_agent(app: &App) -> TestAgent {
    app.upload(&[("base.toml", BASE)]).await;
    let created = app
        .call(
            "POST",
            "/enrollment-tokens",
            &app.technician,
            Some(&json!({ "profile": "base", "expires_in_secs": 600 })),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let token = created.json()["token"].as_str().unwrap().to_owned();
    TestAgent::enroll(&app.ctl, &token).await
}

async fn events_of(app: &App, device: &str) -> Vec<(String, String)> {
    let events = app
        .get(&format!("/events?device={device}&limit=1000"))
        .await;
    assert_eq!(events.status, 200, "{}", events.body);
    events
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["actor"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pushed_version(message: Option<ControllerMessage>) -> String {
    match message {
        Some(ControllerMessage::ProfilePush(push)) => push.version,
        other => panic!("expected a profile push, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrolled_devices_are_listed_and_shown_with_their_deliveries() {
    let app = spawn_app().await;
    let agent = enrolled_agent(&app).await;
    let id = agent.device_id().to_string();
    let list = app.get("/devices").await;
    assert_eq!(list.status, 200);
    let device = &list.json()[0];
    assert_eq!(device["id"], json!(id));
    assert_eq!(device["status"], json!("active"));
    assert_eq!(device["online"], json!(false));
    assert_eq!(device["assigned_profile"], json!("base"));
    assert_eq!(device["assigned_via"], json!("device"));

    let (_conn, _) = agent.connect(0).await;
    let detail = app.get(&format!("/devices/{id}")).await;
    assert_eq!(detail.status, 200, "{}", detail.body);
    let detail = detail.json();
    assert_eq!(detail["online"], json!(true));
    assert_eq!(
        detail["deliveries"].as_array().unwrap().len(),
        1,
        "{detail}"
    );
    assert_eq!(detail["deliveries"][0]["profile"], json!("base"));
    assert_eq!(detail["certificates"].as_array().unwrap().len(), 1);
    assert!(detail.get("drift").is_some() && detail.get("observed_state").is_some());

    let tokens = app.get("/enrollment-tokens").await.json();
    assert_eq!(tokens[0]["state"], json!("used"));
    assert_eq!(tokens[0]["used_by"], json!(id));
    assert!(tokens[0].get("token").is_none(), "secrets are never listed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_and_assignments_reach_a_connected_agent_at_once() {
    let app = spawn_app().await;
    let agent = enrolled_agent(&app).await;
    let id = agent.device_id().to_string();
    let (mut conn, _) = agent.connect(0).await;
    let first = pushed_version(recv(&mut conn).await);

    let base2 = BASE.replace("heartbeat = \"60s\"", "heartbeat = \"90s\"");
    let body = app.upload(&[("base.toml", &base2)]).await;
    assert_eq!(body["published"][0]["devices_affected"], json!(1));
    let second = pushed_version(recv(&mut conn).await);
    assert_eq!(json!(second), body["published"][0]["version"]);
    assert_ne!(first, second);

    let other = BASE.replace("name = \"base\"", "name = \"counter\"");
    app.upload(&[("counter.toml", &other)]).await;
    let assigned = app
        .call(
            "PUT",
            &format!("/devices/{id}/profile"),
            &app.technician,
            Some(&json!({ "profile": "counter" })),
        )
        .await;
    assert_eq!(assigned.status, 200, "{}", assigned.body);
    assert_eq!(assigned.json()["push_queued"], json!(true));
    let third = pushed_version(recv(&mut conn).await);
    assert_eq!(json!(third), assigned.json()["version"]);

    let detail = app.get(&format!("/devices/{id}")).await.json();
    assert_eq!(detail["assigned_profile"], json!("counter"));
    assert_eq!(detail["deliveries"].as_array().unwrap().len(), 3);

    let unknown = app
        .call(
            "PUT",
            &format!("/devices/{id}/profile"),
            &app.admin,
            Some(&json!({ "profile": "nope" })),
        )
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    assert!(unknown.body.contains("`profile`"));

    let events = events_of(&app, &id).await;
    assert!(
        events.contains(&("profile.assigned".into(), "user:tech".into())),
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_are_queued_sent_and_audited() {
    let app = spawn_app().await;
    let agent = enrolled_agent(&app).await;
    let id = agent.device_id().to_string();
    let (mut conn, _) = agent.connect(0).await;
    pushed_version(recv(&mut conn).await);

    let queued = app
        .call(
            "POST",
            &format!("/devices/{id}/commands"),
            &app.technician,
            Some(&json!({ "kind": "resync" })),
        )
        .await;
    assert_eq!(queued.status, 202, "{}", queued.body);
    let seq = queued.json()["seq"].as_u64().unwrap();
    match recv(&mut conn).await {
        Some(ControllerMessage::Command(c)) => {
            assert_eq!((c.push_seq, c.kind), (seq, CommandKind::ReSync));
            assert_eq!(json!(c.command_id), queued.json()["command_id"]);
        }
        other => panic!("expected the command, got {other:?}"),
    }
    let bad = app
        .call(
            "POST",
            &format!("/devices/{id}/commands"),
            &app.admin,
            Some(&json!({ "kind": "selfdestruct" })),
        )
        .await;
    assert_eq!(
        (bad.status, bad.error_code().as_str()),
        (400, "invalid_body")
    );
    assert!(bad.body.contains("kind"), "{}", bad.body);

    let events = events_of(&app, &id).await;
    assert!(
        events.contains(&("device.command_queued".into(), "user:tech".into())),
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_drops_the_live_session_and_is_admin_only() {
    let app = spawn_app().await;
    let agent = enrolled_agent(&app).await;
    let id = agent.device_id().to_string();
    let (mut conn, _) = agent.connect(0).await;
    pushed_version(recv(&mut conn).await);
    let path = format!("/devices/{id}/revoke");
    let body = json!({ "reason": "stolen" });

    let technician = app.call("POST", &path, &app.technician, Some(&body)).await;
    assert_eq!(
        (technician.status, technician.error_code().as_str()),
        (403, "forbidden")
    );
    let empty = app.post(&path, &json!({ "reason": " " })).await;
    assert_eq!(empty.status, 400, "{}", empty.body);

    let revoked = app.post(&path, &body).await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert_eq!(revoked.json()["was_online"], json!(true));
    assert_eq!(
        revoked.json()["certificates_revoked"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let rest = until_closed(&mut conn).await;
    assert!(
        matches!(rest.last(), Some(ControllerMessage::Goodbye(_))),
        "{rest:?}"
    );
    let device = app.get(&format!("/devices/{id}")).await.json();
    assert_eq!(
        (device["status"].clone(), device["online"].clone()),
        (json!("revoked"), json!(false))
    );

    let command = app
        .post(
            &format!("/devices/{id}/commands"),
            &json!({ "kind": "reboot" }),
        )
        .await;
    assert_eq!(
        (command.status, command.error_code().as_str()),
        (409, "conflict")
    );

    let events = events_of(&app, &id).await;
    assert!(
        events.contains(&("device.revoked".into(), "user:admin".into())),
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrollment_tokens_are_created_listed_and_revoked() {
    let app = spawn_app().await;
    app.upload(&[("base.toml", BASE)]).await;
    let group = app
        .post("/enrollment-tokens", &json!({ "group": "berlin-shops" }))
        .await;
    assert_eq!(group.status, 201, "{}", group.body);
    let created = group.json();
    let prefix = created["prefix"].as_str().unwrap().to_owned();
    assert!(
        created["token"]
            .as_str()
            .unwrap()
            .starts_with(&format!("enr-{prefix}."))
    );
    assert_eq!(created["group"], json!("berlin-shops"));

    for (body, status) in [
        (json!({}), 400),
        (json!({ "profile": "base", "group": "g" }), 400),
        (json!({ "profile": "base", "expires_in_secs": 0 }), 400),
        (json!({ "profile": "Bad Name" }), 400),
        (json!({ "profile": "nope" }), 404),
    ] {
        let response = app.post("/enrollment-tokens", &body).await;
        assert_eq!(response.status, status, "{body}: {}", response.body);
    }

    let deleted = app
        .call(
            "DELETE",
            &format!("/enrollment-tokens/{prefix}"),
            &app.technician,
            None,
        )
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    let listed: Value = app.get("/enrollment-tokens").await.json();
    assert_eq!(listed[0]["state"], json!("revoked"));
    assert_eq!(listed[0]["created_by"], json!("user:admin"));
    let unknown = app
        .call(
            "DELETE",
            "/enrollment-tokens/0123456789ab",
            &app.admin,
            None,
        )
        .await;
    assert_eq!(unknown.status, 404);

    let kinds: Vec<(Value, Value)> = app
        .get("/events")
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].clone(), e["actor"].clone()))
        .collect();
    assert!(kinds.contains(&(json!("enrollment_token.created"), json!("user:admin"))));
    assert!(kinds.contains(&(json!("enrollment_token.revoked"), json!("user:tech"))));
    assert!(kinds.contains(&(json!("profile.published"), json!("user:admin"))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_malformed_device_ids_are_404() {
    let app = spawn_app().await;
    let unknown = "0123456789abcdef0123456789abcdef";
    for id in [unknown, "nope"] {
        for (method, path, body) in [
            ("GET", format!("/devices/{id}"), None),
            (
                "PUT",
                format!("/devices/{id}/profile"),
                Some(json!({ "profile": "base" })),
            ),
            (
                "POST",
                format!("/devices/{id}/commands"),
                Some(json!({ "kind": "reboot" })),
            ),
            (
                "POST",
                format!("/devices/{id}/revoke"),
                Some(json!({ "reason": "x" })),
            ),
        ] {
            let response = app.call(method, &path, &app.admin, body.as_ref()).await;
            assert_eq!(response.status, 404, "{method} {path}: {}", response.body);
            assert_eq!(response.error_code(), "not_found");
        }
    }
    let bad_query = app.get("/events?device=nope").await;
    assert_eq!(bad_query.status, 400);
    let bad_limit = app.get("/events?limit=0").await;
    assert!(bad_limit.body.contains("`limit`"), "{}", bad_limit.body);
}
