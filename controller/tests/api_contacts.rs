//! The contact book over the REST API, real HTTP: create with a lawful basis, every field
//! problem answered at once, search, change, erase (the audit log keeps a pseudonym), and
//! groups; answers checked against the OpenAPI document.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::api::spawn_app;
use common::schema::check_response;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_is_created_found_changed_and_erased_over_the_api() {
    let app = spawn_app().await;
    let doc = app.get("/openapi.json").await.json();
    let group = app
        .post(
            "/contact-groups",
            &json!({ "name": "staff", "description": "Shop staff" }),
        )
        .await;
    assert_eq!(group.status, 201, "{}", group.body);
    check_response(&doc, "POST", "/api/v1/contact-groups", &group.json());

    let body = json!({
        "name": "Anna Berg",
        "number": "030 1234567",
        "region": "DE",
        "company": "Berg GmbH",
        "groups": ["staff"],
        "basis": {
            "kind": "consent",
            "wording": "I agree that the shop's phones keep my name and number.",
            "wording_version": "2026-11",
            "channel": "paper form"
        }
    });
    let created = app
        .call("POST", "/contacts", &app.technician.clone(), Some(&body))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let contact = created.json();
    check_response(&doc, "POST", "/api/v1/contacts", &contact);
    assert_eq!(contact["number"], "+49301234567");
    assert_eq!(contact["basis"]["recorded_by"], "user:tech");
    assert_eq!(contact["reaches_phones"], true);
    let id = contact["id"].as_str().unwrap().to_owned();

    let found = app.get("/contacts?q=berg&group=staff").await;
    assert_eq!(found.status, 200, "{}", found.body);
    check_response(&doc, "GET", "/api/v1/contacts", &found.json());
    assert_eq!(found.json()[0]["id"], id.as_str());

    let auditor = app
        .call(
            "PUT",
            &format!("/contacts/{id}"),
            &app.auditor.clone(),
            Some(&body),
        )
        .await;
    assert_eq!(auditor.status, 403);

    let changed = app
        .call(
            "PUT",
            &format!("/contacts/{id}"),
            &app.admin.clone(),
            Some(&json!({ "name": "Anna Berg", "number": "+49 30 1234567", "groups": [] })),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.json()["basis"], json!(null));
    assert_eq!(changed.json()["reaches_phones"], false);

    let groups = app.get("/contact-groups").await;
    check_response(&doc, "GET", "/api/v1/contact-groups", &groups.json());
    assert_eq!(groups.json()[0]["members"], 0);

    let record = app.get(&format!("/contacts/{id}/record")).await;
    assert_eq!(record.status, 200, "{}", record.body);
    let record = record.json();
    check_response(&doc, "GET", "/api/v1/contacts/{id}/record", &record);
    assert_eq!(record["contact"]["name"], "Anna Berg");
    let kinds: Vec<String> = record["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["contact.created", "contact.updated"]);

    let erased = app
        .call(
            "DELETE",
            &format!("/contacts/{id}"),
            &app.admin.clone(),
            None,
        )
        .await;
    assert_eq!(erased.status, 200, "{}", erased.body);
    check_response(&doc, "DELETE", "/api/v1/contacts/{id}", &erased.json());
    assert_eq!(erased.json()["pseudonym"], contact["pseudonym"]);
    assert_eq!(app.get(&format!("/contacts/{id}")).await.status, 404);

    let events = app.get("/events").await.json();
    let log = events.to_string();
    assert!(log.contains("contact.erased"), "{log}");
    assert!(!log.contains("Anna") && !log.contains("1234567"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_field_problem_is_answered_at_once() {
    let app = spawn_app().await;
    let response = app
        .post(
            "/contacts",
            &json!({
                "name": "",
                "number": "030 1234567",
                "groups": ["no/such"],
                "basis": { "kind": "legitimate_interest", "note": "" }
            }),
        )
        .await;
    assert_eq!(response.status, 400, "{}", response.body);
    let message = response.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    for field in ["name:", "number:", "groups:", "basis.note:"] {
        assert!(message.contains(field), "{field} in {message}");
    }
    let unknown_group = app
        .post(
            "/contacts",
            &json!({ "name": "Anna", "number": "+49 30 1234567", "groups": ["nope"] }),
        )
        .await;
    assert_eq!(unknown_group.status, 400, "{}", unknown_group.body);
    assert!(
        unknown_group.body.contains("create it first"),
        "{}",
        unknown_group.body
    );
    assert!(
        app.get("/contacts")
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_with_broken_rows_imports_nothing_until_confirmed() {
    let app = spawn_app().await;
    let doc = app.get("/openapi.json").await.json();
    app.post("/contact-groups", &json!({ "name": "staff" }))
        .await;
    let csv = "name,number,groups,basis\n\
               Anna Berg,+49 30 1234567,staff,contract\n\
               ,+49 30 2222222,staff,contract\n\
               Bernd Ost,0331 2345678,staff,legitimate_interest\n\
               Carla Nord,not a number,,\n\
               Dora,+49 30 1234567,,\n";
    let body = |confirm: Option<usize>| json!({ "format": "csv", "text": csv, "region": "DE", "confirm_valid": confirm });
    let preview = app.post("/contacts/import", &body(None)).await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    let preview = preview.json();
    check_response(&doc, "POST", "/api/v1/contacts/import", &preview);
    assert_eq!(preview["valid"], 1);
    let problems: Vec<(u64, String)> = preview["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["field"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        problems,
        [
            (3, "name".to_owned()),
            (4, "basis.note".to_owned()),
            (5, "number".to_owned()),
            (6, "number".to_owned())
        ]
    );
    assert_eq!(preview["imported"], 0);
    // A confirmation for another number of rows imports nothing either.
    let wrong = app.post("/contacts/import", &body(Some(2))).await.json();
    assert_eq!(wrong["imported"], 0);
    assert!(
        app.get("/contacts")
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
    // "Import the 1 valid row".
    let done = app.post("/contacts/import", &body(Some(1))).await.json();
    assert_eq!(done["imported"], 1);
    let book = app.get("/contacts").await.json();
    assert_eq!(book.as_array().unwrap().len(), 1);
    assert_eq!(book[0]["name"], "Anna Berg");

    let export = app.get("/contacts/export?format=csv").await;
    assert_eq!(export.status, 200, "{}", export.body);
    check_response(&doc, "GET", "/api/v1/contacts/export", &export.json());
    let text = export.json()["text"].as_str().unwrap().to_owned();
    assert!(
        text.contains("Anna Berg,+49301234567,,,staff,contract"),
        "{text}"
    );
    let vcard = app.get("/contacts/export?format=vcard").await.json();
    let vcard = vcard["text"].as_str().unwrap();
    assert!(vcard.contains("FN:Anna Berg\r\n"), "{vcard}");
    let auditor = app
        .call("GET", "/contacts/export", &app.auditor.clone(), None)
        .await;
    assert_eq!(auditor.status, 403);
}
