//! Access control and the route table over real HTTP: every route, as every role and
//! without credentials, answers 401/403 exactly as the role matrix says; every
//! documented route exists and no undocumented method does; the OpenAPI document is
//! snapshot-tested whole (`UPDATE_EXPECT=1` refreshes it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::api::spawn_app;
use common::http::request;
use corral_controller::api::auth::Access;
use corral_controller::api::routes::{PREFIX, ROUTES, Shape};
use corral_controller::domain::Role;
use serde_json::json;

fn concrete(path: &str) -> String {
    path.replace("{id}", "0123456789abcdef0123456789abcdef")
        .replace("{name}", "base")
        .replace("{version}", "sha256:0000000000000000")
        .replace("{prefix}", "0123456789ab")
        .replace("{run}", "1")
        .replace("{step}", "preflight")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_enforces_the_role_matrix() {
    let app = spawn_app().await;
    let roles = [
        (Role::Admin, app.admin.clone()),
        (Role::Technician, app.technician.clone()),
        (Role::Auditor, app.auditor.clone()),
    ];
    let forged = "api-0123456789ab.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    for route in ROUTES {
        let method = route.verb.as_str();
        let path = format!("{PREFIX}{}", concrete(route.path));
        let body = (route.request != Shape::Empty).then(|| json!({}));
        let what = format!("{method} {path}");

        let anonymous = request(app.addr, method, &path, None, body.as_ref()).await;
        let bad = request(app.addr, method, &path, Some(forged), body.as_ref()).await;
        let not_bearer = request(app.addr, method, &path, Some(""), body.as_ref()).await;
        if route.access == Access::Public {
            assert_eq!(anonymous.status, 200, "{what}");
            continue;
        }
        for response in [&anonymous, &bad, &not_bearer] {
            assert_eq!(response.status, 401, "{what}: {}", response.body);
            assert_eq!(response.error_code(), "unauthorized");
            assert_eq!(
                response.header("www-authenticate"),
                Some("Bearer realm=\"corral\"")
            );
        }
        for (role, token) in &roles {
            let response = request(app.addr, method, &path, Some(token), body.as_ref()).await;
            if route.access.allows(*role) {
                assert!(
                    ![401, 403, 405].contains(&response.status)
                        && !response.body.contains("no_such_route"),
                    "{what} as {}: {} {}",
                    role.as_str(),
                    response.status,
                    response.body
                );
            } else {
                assert_eq!(
                    response.status,
                    403,
                    "{what} as {}: {}",
                    role.as_str(),
                    response.body
                );
                let error = response.json();
                assert_eq!(error["error"]["details"]["role"], json!(role.as_str()));
            }
        }
    }
}

#[test]
fn the_role_matrix_is_what_the_docs_say() {
    let table: Vec<String> = [Access::Read, Access::Operate, Access::Administer]
        .iter()
        .map(|a| {
            let roles: Vec<&str> = a.roles().iter().map(|r| r.as_str()).collect();
            format!("{a:?}: {}", roles.join(", "))
        })
        .collect();
    expect_test::expect![[r#"
        [
            "Read: admin, technician, auditor",
            "Operate: admin, technician",
            "Administer: admin",
        ]
    "#]]
    .assert_debug_eq(&table);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_lists_exactly_the_routes_the_router_serves() {
    let app = spawn_app().await;
    let response = request(app.addr, "GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(response.status, 200);
    let document = response.json();
    let paths = document["paths"].as_object().unwrap();
    for (path, item) in paths {
        let documented: Vec<String> = item
            .as_object()
            .unwrap()
            .keys()
            .map(|m| m.to_uppercase())
            .collect();
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            let r = request(
                app.addr,
                method,
                &concrete(path),
                Some(&app.admin),
                Some(&json!({})),
            )
            .await;
            if documented.iter().any(|m| m == method) {
                assert!(
                    ![404, 405].contains(&r.status) || r.error_code() == "not_found",
                    "{method} {path}: {}",
                    r.body
                );
            } else {
                assert_eq!(
                    r.status, 405,
                    "{method} {path} is served but not documented: {}",
                    r.body
                );
            }
        }
    }
    let operations: usize = paths.values().map(|i| i.as_object().unwrap().len()).sum();
    assert_eq!(operations, ROUTES.len());
    let pretty = serde_json::to_string_pretty(&document).unwrap();
    expect_test::expect_file!["snapshots/openapi.json"].assert_eq(&format!("{pretty}\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_success_answer_matches_its_documented_schema() {
    use common::agents::TestAgent;
    use common::api::files_body;
    use common::schema::{assert_conforms, check_response};

    const BASE: &str = include_str!("../../profiles/examples/base.toml");
    const SHOP: &str = include_str!("../../profiles/examples/butcher-shop.toml");
    let app = spawn_app().await;
    let document = request(app.addr, "GET", "/api/v1/openapi.json", None, None)
        .await
        .json();
    let files = files_body(&[("base.toml", BASE), ("butcher-shop.toml", SHOP)]);
    let bad = files_body(&[("x.toml", "name = 1")]);
    let mut answers = vec![
        (
            "POST",
            "/profiles/validate",
            app.post("/profiles/validate", &bad).await,
        ),
        (
            "POST",
            "/profiles/validate",
            app.post("/profiles/validate", &files).await,
        ),
        ("POST", "/profiles", app.post("/profiles", &files).await),
    ];
    let created = app
        .post("/enrollment-tokens", &json!({ "profile": "butcher-shop" }))
        .await;
    let agent = TestAgent::enroll(&app.ctl, created.json()["token"].as_str().unwrap()).await;
    let id = agent.device_id().to_string();
    let (_conn, _) = agent.connect(0).await;
    let first = app.get("/profiles/base/versions").await.json()[0]["version"]
        .as_str()
        .unwrap()
        .to_owned();
    let prefix = created.json()["prefix"].as_str().unwrap().to_owned();
    answers.push(("POST", "/enrollment-tokens", created));
    for (verb, template, path, body) in [
        ("GET", "/profiles", "/profiles".to_owned(), None),
        ("GET", "/profiles/{name}", "/profiles/base".to_owned(), None),
        (
            "GET",
            "/profiles/{name}/versions",
            "/profiles/base/versions".to_owned(),
            None,
        ),
        (
            "GET",
            "/profiles/{name}/versions/{version}",
            format!("/profiles/base/versions/{first}"),
            None,
        ),
        (
            "GET",
            "/profiles/{name}/diff",
            format!("/profiles/base/diff?from={first}"),
            None,
        ),
        ("GET", "/devices", "/devices".to_owned(), None),
        ("GET", "/devices/{id}", format!("/devices/{id}"), None),
        (
            "PUT",
            "/devices/{id}/profile",
            format!("/devices/{id}/profile"),
            Some(json!({ "profile": "base" })),
        ),
        (
            "POST",
            "/devices/{id}/commands",
            format!("/devices/{id}/commands"),
            Some(json!({ "kind": "collect_logs" })),
        ),
        (
            "GET",
            "/enrollment-tokens",
            "/enrollment-tokens".to_owned(),
            None,
        ),
        (
            "POST",
            "/devices/{id}/revoke",
            format!("/devices/{id}/revoke"),
            Some(json!({ "reason": "lost" })),
        ),
        ("GET", "/devices/{id}", format!("/devices/{id}"), None),
        ("GET", "/events", "/events".to_owned(), None),
        (
            "GET",
            "/provisioning/enrollment",
            "/provisioning/enrollment".to_owned(),
            None,
        ),
        (
            "POST",
            "/provisioning/runs",
            "/provisioning/runs".to_owned(),
            Some(json!({ "serial": "R58M41ABCDE", "profile": "butcher-shop" })),
        ),
        (
            "GET",
            "/provisioning/runs",
            "/provisioning/runs".to_owned(),
            None,
        ),
    ] {
        answers.push((
            verb,
            template,
            app.call(verb, &path, &app.admin, body.as_ref()).await,
        ));
    }
    for (verb, template, response) in &answers {
        assert!(
            response.status < 300,
            "{verb} {template}: {}",
            response.body
        );
        check_response(
            &document,
            verb,
            &format!("{PREFIX}{template}"),
            &response.json(),
        );
    }
    let deleted = app
        .call(
            "DELETE",
            &format!("/enrollment-tokens/{prefix}"),
            &app.admin,
            None,
        )
        .await;
    assert_eq!(deleted.status, 204);
    for error in [
        app.post("/profiles", &bad).await,
        app.get("/devices/nope").await,
        request(app.addr, "GET", "/api/v1/devices", None, None).await,
    ] {
        assert_conforms(&document, "Error", &error.json());
    }
}
