//! The console's profile pages over real HTTP (no browser): an edit with an error answers
//! 422 with the error at its line and publishes nothing; a good edit publishes like the
//! REST upload (children republished, audit event with the user); uploads and downloads
//! of TOML; assignment asks for confirmation with the count first; staging, promotion
//! and abortion; a clone never replaces an existing profile.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::agents::TestAgent;
use common::console::{Console, Visitor, hidden_field, spawn_console};
use corral_controller::api::profile_publish::publish_files;
use corral_controller::api::profile_upload::UploadFile;
use corral_controller::domain::{DeviceReport, ProfileName, Role, Timestamp};
use corral_controller::store::EventFilter;

const BASE: &str = include_str!("../../profiles/examples/base.toml");
const SHOP: &str = include_str!("../../profiles/examples/butcher-shop.toml");

async fn seed(app: &Console) {
    let files = [
        UploadFile {
            name: "base.toml".into(),
            text: BASE.into(),
        },
        UploadFile {
            name: "butcher-shop.toml".into(),
            text: SHOP.into(),
        },
    ];
    publish_files(&app.ctl.state, &files, "test").await.unwrap();
}

async fn current(app: &Console, name: &str) -> String {
    app.ctl
        .state
        .store
        .current_profile_version(&ProfileName::parse(name).unwrap())
        .await
        .unwrap()
        .version
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_with_an_error_shows_it_at_its_line_and_a_good_one_publishes() {
    let app = spawn_console().await;
    seed(&app).await;
    let before = current(&app, "base").await;
    let shop_before = current(&app, "butcher-shop").await;
    let mut admin = Visitor::logged_in(app.addr, Role::Admin).await;
    let csrf = admin.csrf().await;

    let form = admin.get("/profiles/base/edit").await;
    assert_eq!(form.status, 200);
    assert!(
        form.body.contains("# The company baseline"),
        "the source as uploaded"
    );

    // Without the session's CSRF token nothing is even validated.
    let r = admin
        .post(
            "/profiles/base/edit",
            &[("file_name", "base.toml"), ("source", BASE)],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);

    let broken = BASE.replace("backup = false", "backup = \"no\"");
    let line = broken.lines().position(|l| l.contains("backup =")).unwrap() + 1;
    let r = admin
        .post(
            "/profiles/base/edit",
            &[
                ("csrf", &csrf),
                ("file_name", "base.toml"),
                ("source", &broken),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains(&format!("base.toml:{line}:")), "{}", r.body);
    assert!(
        r.body
            .contains(&format!("<tr id=\"line-{line}\" class=\"bad\">")),
        "{}",
        r.body
    );
    assert_eq!(current(&app, "base").await, before, "nothing published");

    // A file declaring another profile is refused on this page.
    let r = admin
        .post(
            "/profiles/base/edit",
            &[
                ("csrf", &csrf),
                ("file_name", "base.toml"),
                ("source", "name = \"other\"\nextends = \"base\"\n"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("this page publishes `base` only"),
        "{}",
        r.body
    );

    let fixed = BASE.replace("heartbeat = \"60s\"", "heartbeat = \"2m\"");
    let r = admin
        .post(
            "/profiles/base/edit",
            &[
                ("csrf", &csrf),
                ("file_name", "base.toml"),
                ("source", &fixed),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let after = current(&app, "base").await;
    assert_ne!(after, before);
    assert!(r.body.contains(&after), "the new version is shown");
    assert!(
        r.body.contains("agent.heartbeat"),
        "and the diff: {}",
        r.body
    );
    assert_ne!(
        current(&app, "butcher-shop").await,
        shop_before,
        "the child is republished, as by the REST upload"
    );
    let events = app
        .ctl
        .state
        .store
        .events_newest_first(
            &EventFilter {
                kind: Some("profile.published".into()),
                actor: Some("user:ada".into()),
                ..EventFilter::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(events.len(), 2, "base and butcher-shop, by the admin");

    // Downloads: the source as uploaded, and a version's canonical TOML.
    let source = admin.get("/profiles/base/source.toml").await;
    assert_eq!(source.status, 200);
    assert_eq!(source.body, fixed);
    assert_eq!(
        source.header("content-disposition"),
        Some("attachment; filename=\"base.toml\"")
    );
    let canonical = admin
        .get(&format!("/profiles/base/versions/{before}/toml"))
        .await;
    assert_eq!(canonical.status, 200);
    assert!(
        canonical.body.contains("heartbeat = \"1m\""),
        "{}",
        canonical.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_publish_new_profiles_and_show_errors_at_their_line() {
    let app = spawn_console().await;
    seed(&app).await;
    let mut admin = Visitor::logged_in(app.addr, Role::Admin).await;
    let csrf = admin.csrf().await;
    let text = "name = \"kiosk\"\nextends = \"base\"\n\n[work_profile]\nname = 42\n";
    let r = admin
        .post(
            "/profile-upload",
            &[
                ("csrf", &csrf),
                ("file_name", "kiosk.toml"),
                ("source", text),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("kiosk.toml:5:"), "{}", r.body);
    let r = admin
        .post(
            "/profile-upload",
            &[
                ("csrf", &csrf),
                ("file_name", "kiosk.toml"),
                ("source", &text.replace("42", "\"Kiosk\"")),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains(&current(&app, "kiosk").await));

    // The file picker: the upload page has it; a multipart upload reports errors at
    // their line like the pasted form, then publishes; no CSRF token, no upload.
    let page = admin.get("/profile-upload").await.body;
    assert!(
        page.contains("enctype=\"multipart/form-data\"") && page.contains("type=\"file\""),
        "{page}"
    );
    let bad = "name = \"till\"\r\nextends = \"base\"\r\n[privacy]\r\nbackup = \"yes\"\r\n";
    let r = admin
        .post_multipart(
            "/profile-upload/file",
            &[("csrf", &csrf)],
            ("file", "C:\\fakepath\\till.toml", bad.as_bytes()),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("till.toml:4:"), "{}", r.body);
    assert!(!r.body.contains("fakepath"), "only the file's own name");
    let r = admin
        .post_multipart(
            "/profile-upload/file",
            &[("csrf", &csrf)],
            ("file", "till.toml", &[0xff, 0xfe, 0x00]),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("is not UTF-8 text"), "{}", r.body);
    let good = bad.replace("\"yes\"", "false");
    let r = admin
        .post_multipart(
            "/profile-upload/file",
            &[("csrf", "forged")],
            ("file", "till.toml", good.as_bytes()),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = admin
        .post_multipart(
            "/profile-upload/file",
            &[("csrf", &csrf)],
            ("file", "till.toml", good.as_bytes()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains(&current(&app, "till").await));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assigning_asks_with_the_count_then_assigns_and_rollouts_stage_and_promote() {
    let app = spawn_console().await;
    seed(&app).await;
    let agents = [
        TestAgent::enroll(&app.ctl, &app.ctl.token("base").await).await,
        TestAgent::enroll(&app.ctl, &app.ctl.token("base").await).await,
    ];
    let ids: Vec<String> = agents.iter().map(|a| a.device_id().to_string()).collect();
    let mut tess = Visitor::logged_in(app.addr, Role::Technician).await;
    let csrf = tess.csrf().await;
    let form = tess.get("/profiles/butcher-shop/assign").await;
    assert!(form.body.contains(&ids[0]) && form.body.contains(&ids[1]));
    let pick = [
        ("csrf", csrf.as_str()),
        ("device", ids[0].as_str()),
        ("device", ids[1].as_str()),
    ];
    let confirm = tess.post("/profiles/butcher-shop/assign", &pick).await;
    assert_eq!(confirm.status, 200);
    assert!(
        confirm.body.contains("Assign butcher-shop to 2 phones?"),
        "{}",
        confirm.body
    );
    let store = &app.ctl.state.store;
    let row = store.fleet_row(&agents[0].device_id()).await.unwrap();
    assert_eq!(
        row.profile.unwrap().as_str(),
        "base",
        "nothing assigned before confirming"
    );
    let mut confirmed = pick.to_vec();
    confirmed.push(("confirm", "yes"));
    let done = tess.post("/profiles/butcher-shop/assign", &confirmed).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.header("location"),
        Some("/profiles/butcher-shop?done=assigned&count=2")
    );
    for a in &agents {
        let row = store.fleet_row(&a.device_id()).await.unwrap();
        assert_eq!(row.profile.unwrap().as_str(), "butcher-shop");
    }

    // Staging is for admins; the group "pilot" has no phone, so nobody moves yet.
    let mut ada = Visitor::logged_in(app.addr, Role::Admin).await;
    let csrf = ada.csrf().await;
    let v1 = current(&app, "butcher-shop").await;
    let staged = SHOP.replace("backup off.", "backup is off.");
    let r = ada
        .post(
            "/profiles/butcher-shop/edit",
            &[
                ("csrf", &csrf),
                ("file_name", "butcher-shop.toml"),
                ("source", &staged),
                ("stage_group", "pilot"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("group <strong>pilot</strong>"),
        "{}",
        r.body
    );
    assert_eq!(
        current(&app, "butcher-shop").await,
        v1,
        "still V1 for everyone"
    );
    let page = ada.get("/profiles/butcher-shop").await;
    assert!(page.body.contains("id=\"rollout\""));
    // Staging a parent others extend is refused: it would change their phones too.
    let r = ada
        .post(
            "/profiles/base/edit",
            &[
                ("csrf", &csrf),
                ("file_name", "base.toml"),
                ("source", &BASE.replace("60s", "2m")),
                ("stage_group", "pilot"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("butcher-shop extend this profile"),
        "{}",
        r.body
    );

    let r = ada
        .post("/profiles/butcher-shop/rollout/promote", &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.header("location"),
        Some("/profiles/butcher-shop?done=promoted&count=2")
    );
    assert_ne!(current(&app, "butcher-shop").await, v1);
    let r = ada
        .post("/profiles/butcher-shop/rollout/abort", &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status, 409, "no rollout left to abort");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_that_never_reported_cannot_be_cloned_and_a_clone_never_replaces_a_profile() {
    let app = spawn_console().await;
    seed(&app).await;
    let agent = TestAgent::enroll(&app.ctl, &app.ctl.token("butcher-shop").await).await;
    let id = agent.device_id().to_string();
    let mut tess = Visitor::logged_in(app.addr, Role::Technician).await;
    let r = tess.get(&format!("/phones/{id}/clone")).await;
    assert_eq!(r.status, 409);
    assert!(
        r.body.contains("has not reported its state yet"),
        "{}",
        r.body
    );

    // Once it reported: the capture is shown with its diff, and saved under a new name only.
    let observed = serde_json::json!({
        "users": [
            { "id": 0, "name": "Owner", "flags": 3091, "running": true },
            { "id": 10, "name": "Shop", "flags": 4144, "running": true }
        ],
        "work": {
            "user": 10,
            "packages": {
                "com.whatsapp.w4b": { "launcher": true, "granted": ["android.permission.POST_NOTIFICATIONS", "android.permission.READ_CONTACTS"] },
                "com.android.camera2": { "system": true, "launcher": true }
            },
            "settings": { "managed_profile_contact_remote_search": "0", "cross_profile_calendar_enabled": "0" },
            "backup_enabled": false,
            "contacts": [ { "id": 1, "name": "Meyer Wholesale Meats", "numbers": ["+493012345678"] } ]
        }
    });
    app.ctl
        .state
        .store
        .record_report(
            &agent.device_id(),
            &DeviceReport {
                seq: 1,
                observed_state: Some(observed),
                ..DeviceReport::default()
            },
            Timestamp::now(),
        )
        .await
        .unwrap();
    let review = tess.get(&format!("/phones/{id}/clone?name=base")).await;
    assert_eq!(review.status, 200, "{}", review.body);
    assert!(review.body.contains("id=\"exists\""), "{}", review.body);
    let review = tess.get(&format!("/phones/{id}/clone")).await;
    assert!(
        review.body.contains("--- butcher-shop"),
        "the diff: {}",
        review.body
    );
    let version = hidden_field(&review.body, "version").unwrap();
    let csrf = tess.csrf().await;
    let base_before = current(&app, "base").await;
    let r = tess
        .post(
            &format!("/phones/{id}/clone"),
            &[("csrf", &csrf), ("name", "base"), ("version", &version)],
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(current(&app, "base").await, base_before);
    let name = hidden_field(&review.body, "name").unwrap();
    let r = tess
        .post(
            &format!("/phones/{id}/clone"),
            &[("csrf", &csrf), ("name", &name), ("version", &version)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(current(&app, &name).await, version);
    // The clone keeps the current profile's lawful basis and personal-copy choice.
    let clone = app
        .ctl
        .state
        .store
        .profile_source(&ProfileName::parse(&name).unwrap())
        .await
        .unwrap();
    assert!(
        clone.source.contains("basis = \"contract\""),
        "{}",
        clone.source
    );
    assert!(
        clone.source.contains("personal_copy = \"uninstall\""),
        "{}",
        clone.source
    );
}
