//! The REST API's profile routes over real HTTP: validate, upload (with parents from
//! earlier uploads and re-resolved children), list, versions, one version, diff, and
//! the errors — bad JSON, bad TOML with line:column diagnostics, unknown names.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::api::{files_body, spawn_app};
use common::http::exchange;
use serde_json::json;

const BASE: &str = include_str!("../../profiles/examples/base.toml");
const SHOP: &str = include_str!("../../profiles/examples/butcher-shop.toml");

fn resolved_version(files: &[(&str, &str)], name: &str) -> String {
    let files: Vec<_> = files
        .iter()
        .map(|(n, t)| corral_profiles::SourceFile::new(*n, *t))
        .collect();
    corral_profiles::resolve_one(&files, name, None)
        .unwrap()
        .version()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_publishes_the_profiles_crate_version_and_lists_it() {
    let app = spawn_app().await;
    let body = app
        .upload(&[("base.toml", BASE), ("butcher-shop.toml", SHOP)])
        .await;
    let base_version = resolved_version(&[("base.toml", BASE)], "base");
    let shop_version = resolved_version(&[("b", BASE), ("s", SHOP)], "butcher-shop");
    assert_eq!(
        body["published"],
        json!([
            { "name": "base", "version": base_version, "previous_version": null, "changed": true, "uploaded": true, "devices_affected": 0 },
            { "name": "butcher-shop", "version": shop_version, "previous_version": null, "changed": true, "uploaded": true, "devices_affected": 0 },
        ])
    );

    let list = app.get("/profiles").await;
    assert_eq!(list.status, 200);
    let names: Vec<_> = list
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].clone(), p["current_version"].clone()))
        .collect();
    assert_eq!(
        names,
        vec![
            (json!("base"), json!(base_version)),
            (json!("butcher-shop"), json!(shop_version))
        ]
    );

    let versions = app.get("/profiles/base/versions").await.json();
    assert_eq!(versions[0]["version"], json!(base_version));
    assert_eq!(versions[0]["current"], json!(true));

    let one = app
        .get(&format!("/profiles/base/versions/{base_version}"))
        .await;
    assert_eq!(one.status, 200, "{}", one.body);
    assert!(
        one.json()["canonical_toml"]
            .as_str()
            .unwrap()
            .contains("name = \"base\"")
    );

    // The same upload again changes nothing.
    let again = app.upload(&[("base.toml", BASE)]).await;
    assert_eq!(again["published"][0]["changed"], json!(false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parent_from_an_earlier_upload_is_used_and_children_follow_a_changed_parent() {
    let app = spawn_app().await;
    app.upload(&[("base.toml", BASE)]).await;
    // The child alone: its parent comes from the stored source.
    let child = app.upload(&[("butcher-shop.toml", SHOP)]).await;
    let first = child["published"][0]["version"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        first,
        resolved_version(&[("b", BASE), ("s", SHOP)], "butcher-shop")
    );

    // Changing the parent republishes the child.
    let base2 = BASE.replace("heartbeat = \"60s\"", "heartbeat = \"90s\"");
    let body = app.upload(&[("base.toml", &base2)]).await;
    let published = body["published"].as_array().unwrap();
    assert_eq!(published.len(), 2, "{body}");
    assert_eq!(published[1]["name"], json!("butcher-shop"));
    assert_eq!(published[1]["uploaded"], json!(false));
    assert_eq!(published[1]["changed"], json!(true));
    let second = published[1]["version"].as_str().unwrap();
    assert_eq!(
        second,
        resolved_version(&[("b", &base2), ("s", SHOP)], "butcher-shop")
    );

    let diff = app
        .get(&format!(
            "/profiles/butcher-shop/diff?from={first}&to={second}"
        ))
        .await;
    assert_eq!(diff.status, 200, "{}", diff.body);
    let diff = diff.json();
    assert_eq!(diff["equal"], json!(false));
    assert!(
        diff["text"].as_str().unwrap().contains("~ agent.heartbeat"),
        "{diff}"
    );
    // `to` defaults to the current version.
    let same = app
        .get(&format!("/profiles/butcher-shop/diff?from={second}"))
        .await
        .json();
    assert_eq!(same["equal"], json!(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_reports_diagnostics_with_file_line_and_column_and_publishes_nothing() {
    let app = spawn_app().await;
    let bad = "name = \"shop\"\nextends = \"bsae\"\n[messenger]\npackages = [\"com.whatsapp\"\n";
    let response = app
        .post("/profiles/validate", &files_body(&[("shop.toml", bad)]))
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    let body = response.json();
    assert_eq!(body["ok"], json!(false));
    let d = &body["diagnostics"][0];
    assert_eq!(
        (d["file"].as_str(), d["severity"].as_str()),
        (Some("shop.toml"), Some("error"))
    );
    assert!(
        d["line"].as_u64().unwrap() >= 1 && d["column"].as_u64().unwrap() >= 1,
        "{d}"
    );

    let published = app
        .post("/profiles", &files_body(&[("shop.toml", bad)]))
        .await;
    assert_eq!(published.status, 422, "{}", published.body);
    let error = published.json();
    assert_eq!(error["error"]["code"], json!("invalid_profile"));
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("shop.toml:"),
        "{error}"
    );
    assert!(
        !error["error"]["details"]["diagnostics"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(app.get("/profiles").await.json(), json!([]));

    let unknown_parent = app
        .post("/profiles/validate", &files_body(&[("shop.toml", SHOP)]))
        .await
        .json();
    let d = &unknown_parent["diagnostics"][0];
    assert_eq!(d["code"], json!("unknown-parent"), "{unknown_parent}");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(3), Some(11)),
        "{d}"
    );

    let good = app
        .post("/profiles/validate", &files_body(&[("base.toml", BASE)]))
        .await
        .json();
    assert_eq!(good["ok"], json!(true));
    assert_eq!(
        good["profiles"][0]["version"],
        json!(resolved_version(&[("b", BASE)], "base"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_400_naming_the_problem() {
    let app = spawn_app().await;
    let auth = format!("Authorization: Bearer {}", app.admin);
    let cases = [
        (
            "{\"files\": [",
            "application/json",
            "invalid_json",
            "line 1",
        ),
        (
            "{\"files\": [{\"name\": \"a\"}]}",
            "application/json",
            "invalid_body",
            "files[0]",
        ),
        (
            "{\"files\": [], \"extra\": 1}",
            "application/json",
            "invalid_body",
            "extra",
        ),
        (
            "{\"files\": []}",
            "application/json",
            "invalid_body",
            "`files` is empty",
        ),
        (
            "{\"files\": [{\"name\": \"a\", \"text\": \"\"}, {\"name\": \"a\", \"text\": \"\"}]}",
            "application/json",
            "invalid_body",
            "files[1].name",
        ),
        (
            "files=1",
            "text/plain",
            "wrong_content_type",
            "Content-Type: application/json",
        ),
    ];
    for (body, content_type, code, needle) in cases {
        let head =
            format!("POST /api/v1/profiles HTTP/1.1\r\n{auth}\r\nContent-Type: {content_type}");
        let response = exchange(app.addr, &head, body.as_bytes()).await;
        assert_eq!(response.status, 400, "{body}: {}", response.body);
        assert_eq!(response.error_code(), code, "{body}: {}", response.body);
        let message = response.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains(needle), "{body}: {message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_profiles_and_versions_are_404() {
    let app = spawn_app().await;
    app.upload(&[("base.toml", BASE)]).await;
    for path in [
        "/profiles/nope",
        "/profiles/nope/versions",
        "/profiles/Not%20A%20Name/versions",
        "/profiles/base/versions/sha256:0000000000000000",
        "/profiles/base/versions/latest",
        "/profiles/base/diff?from=sha256:0000000000000000",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status, 404, "{path}: {}", response.body);
        assert_eq!(response.error_code(), "not_found");
    }
    let missing = app.get("/profiles/base/diff").await;
    assert_eq!(
        (missing.status, missing.error_code().as_str()),
        (400, "invalid_query")
    );
    let typo = app.get("/profiles/base/diff?form=x").await;
    assert!(
        typo.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`form`")
    );
    let no_route = app.get("/nothing/here").await;
    assert_eq!(
        (no_route.status, no_route.error_code().as_str()),
        (404, "no_such_route")
    );
    let wrong_method = app.call("DELETE", "/profiles", &app.admin, None).await;
    assert_eq!(wrong_method.status, 405, "{}", wrong_method.body);
}
