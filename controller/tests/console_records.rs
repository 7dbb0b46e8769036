//! Records and rights in the console over real HTTP with real sessions: the contact import
//! (preview with per-row errors, nothing stored before the confirmation, the tick needed
//! to skip broken rows, the preview bound to its session and used once), the exports, the
//! person record page showing exactly the JSON download, the records of processing with
//! their editable fields, and the retention job run from the page with the chain intact.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::console::{Visitor, hidden_field, spawn_console};
use corral_controller::domain::Role;
use corral_controller::store::ChainVerdict;

const BOOK: &str = "name,number,region,company,groups,basis\n\
Anna Berg,030 1234567,DE,Berg GmbH,,contract\n\
Broken Row,not a number,DE,,,contract\n\
Carl Dahl,+49 30 7654321,,,,contract\n";

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_shows_every_broken_row_and_stores_nothing_until_confirmed() {
    let app = spawn_console().await;
    let mut tech = Visitor::logged_in(app.addr, Role::Technician).await;
    let csrf = tech.csrf().await;

    let form = tech.get("/contacts/import").await;
    assert!(form.body.contains("type=\"file\""), "{}", form.body);
    let preview = tech
        .post_multipart(
            "/contacts/import",
            &[("csrf", &csrf), ("format", "auto")],
            ("file", "book.csv", BOOK.as_bytes()),
        )
        .await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(
        preview.body.contains("2 valid row(s), 1 broken row(s)"),
        "{}",
        preview.body
    );
    assert!(
        preview.body.contains("<tr><td>3</td><td>number</td>"),
        "the error is at line 3: {}",
        preview.body
    );
    assert!(preview.body.contains("+4930 1234567") || preview.body.contains("+49301234567"));
    let stash = hidden_field(&preview.body, "stash").unwrap();
    assert!(
        tech.get("/contacts")
            .await
            .body
            .contains("No contact matches.")
    );

    // Broken rows: the tick is required, and nothing is stored without it.
    let r = tech
        .post(
            "/contacts/import/confirm",
            &[("csrf", &csrf), ("stash", &stash)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("tick the box"), "{}", r.body);
    assert!(
        tech.get("/contacts")
            .await
            .body
            .contains("No contact matches.")
    );

    // Another session cannot use the preview.
    let mut admin = Visitor::logged_in(app.addr, Role::Admin).await;
    let admin_csrf = admin.csrf().await;
    let r = admin
        .post(
            "/contacts/import/confirm",
            &[
                ("csrf", &admin_csrf),
                ("stash", &stash),
                ("skip_broken", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);

    let r = tech
        .post(
            "/contacts/import/confirm",
            &[("csrf", &csrf), ("stash", &stash), ("skip_broken", "yes")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let list = tech.get("/contacts").await;
    assert!(list.body.contains("Anna Berg") && list.body.contains("Carl Dahl"));
    assert!(!list.body.contains("Broken Row"));

    // Used once.
    let r = tech
        .post(
            "/contacts/import/confirm",
            &[("csrf", &csrf), ("stash", &stash), ("skip_broken", "yes")],
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    let audit = tech.get("/audit?kind=contact.imported").await;
    assert!(audit.body.contains("user:tess"), "{}", audit.body);

    // The same file again: every number is taken, nothing is imported.
    let again = tech
        .post_multipart(
            "/contacts/import",
            &[("csrf", &csrf)],
            ("file", "book.csv", BOOK.as_bytes()),
        )
        .await;
    let stash = hidden_field(&again.body, "stash").unwrap();
    let r = tech
        .post(
            "/contacts/import/confirm",
            &[("csrf", &csrf), ("stash", &stash), ("skip_broken", "yes")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("nothing was imported"), "{}", r.body);

    let csv = tech.get("/contacts/export.csv").await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.header("content-disposition")
            .unwrap()
            .contains("contacts.csv")
    );
    assert!(csv.body.contains("Anna Berg") && csv.body.contains("Carl Dahl"));
    let vcf = tech.get("/contacts/export.vcf").await;
    assert!(
        vcf.body.contains("BEGIN:VCARD") && vcf.body.contains("FN:Anna Berg"),
        "{}",
        vcf.body
    );

    // A vCard is detected without choosing the format; a non-UTF-8 file is refused.
    let card = "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Eva Fink\r\nTEL:+49 30 5555555\r\nEND:VCARD\r\n";
    let r = tech
        .post_multipart(
            "/contacts/import",
            &[("csrf", &csrf)],
            ("file", "e.vcf", card.as_bytes()),
        )
        .await;
    assert!(
        r.body.contains("Eva Fink") && r.body.contains("1 valid row(s)"),
        "{}",
        r.body
    );
    let r = tech
        .post_multipart(
            "/contacts/import",
            &[("csrf", &csrf)],
            ("file", "x.csv", &[0xff, 0xfe, 0x00]),
        )
        .await;
    assert!(r.body.contains("not UTF-8"), "{}", r.body);
    // Without the CSRF part the upload is refused.
    let r = tech
        .post_multipart(
            "/contacts/import",
            &[],
            ("file", "book.csv", BOOK.as_bytes()),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_person_record_page_shows_exactly_the_json_download() {
    let app = spawn_console().await;
    let mut tech = Visitor::logged_in(app.addr, Role::Technician).await;
    let csrf = tech.csrf().await;
    tech.post("/contact-groups", &[("csrf", &csrf), ("name", "staff")])
        .await;
    let r = tech
        .post(
            "/contacts/new",
            &[
                ("csrf", &csrf),
                ("name", "Anna <Berg> & Co"),
                ("number", "+49 30 1234567"),
                ("groups", "staff"),
                ("basis", "consent"),
                ("wording", "I agree that \"the shop\" keeps my number."),
                ("wording_version", "2026-11"),
                ("channel", "paper form"),
            ],
        )
        .await;
    let contact = r.header("location").unwrap().to_owned();
    let json = tech.get(&format!("{contact}/record.json")).await;
    assert_eq!(json.status, 200, "{}", json.body);
    assert!(
        json.header("content-disposition")
            .unwrap()
            .contains("person-record-")
    );
    let record: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    assert!(!record["events"].as_array().unwrap().is_empty());
    let page = tech.get(&format!("{contact}/record")).await;
    assert_eq!(page.status, 200, "{}", page.body);

    fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
            serde_json::Value::Object(o) => o.values().for_each(|v| strings(v, out)),
            serde_json::Value::Number(n) => out.push(n.to_string()),
            _ => {}
        }
    }
    let mut values = Vec::new();
    strings(&record, &mut values);
    let exported_at = record["exported_at"].as_str().unwrap();
    for value in values.iter().filter(|v| *v != exported_at) {
        assert!(
            page.body.contains(&escape(value)),
            "the page lacks {value:?} from the JSON"
        );
    }
    // An auditor gets neither.
    let mut auditor = Visitor::logged_in(app.addr, Role::Auditor).await;
    assert_eq!(auditor.get(&format!("{contact}/record")).await.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_records_of_processing_are_generated_and_completed_by_an_admin() {
    let app = spawn_console().await;
    let mut auditor = Visitor::logged_in(app.addr, Role::Auditor).await;
    let page = auditor.get("/privacy/records").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("(to be filled in by an admin)"));
    assert!(page.body.contains("Redacted after 90d"), "{}", page.body);
    assert!(!page.body.contains("/privacy/records/edit"));
    assert!(!page.body.contains("run-retention"));

    let mut admin = Visitor::logged_in(app.addr, Role::Admin).await;
    let csrf = admin.csrf().await;
    let form = admin.get("/privacy/records/edit").await;
    assert!(form.body.contains("name=\"dpo\""), "{}", form.body);
    let r = admin
        .post(
            "/privacy/records",
            &[
                ("csrf", &csrf),
                ("controller", "Butcher Shop <Berg>\r\nMain St 1, Berlin"),
                ("dpo", "privacy@butcher.example"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = admin.get("/privacy/records").await;
    assert!(
        page.body
            .contains("Butcher Shop &lt;Berg&gt;\nMain St 1, Berlin"),
        "{}",
        page.body
    );
    assert!(page.body.contains("by user:ada"), "{}", page.body);
    let md = admin.get("/privacy/records.md").await;
    assert_eq!(md.status, 200);
    assert!(md.body.starts_with("# Records of processing activities"));
    assert!(
        md.body
            .contains("| Controller | Butcher Shop &lt;Berg&gt;<br>Main St 1, Berlin _(changed"),
        "{}",
        md.body
    );
    let audit = admin.get("/audit?kind=privacy.records_updated").await;
    assert!(audit.body.contains("user:ada"), "{}", audit.body);

    assert!(page.body.contains("has not run yet"));
    let r = admin
        .post("/privacy/retention/run", &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = admin.get("/privacy/records").await;
    assert!(
        page.body.contains("id=\"last-run\">Last run"),
        "{}",
        page.body
    );
    let audit = admin.get("/audit?kind=retention.ran").await;
    assert!(audit.body.contains("user:ada"), "{}", audit.body);
    assert!(matches!(
        app.ctl.state.store.verify_event_chain().await.unwrap(),
        ChainVerdict::Intact { .. }
    ));
}
