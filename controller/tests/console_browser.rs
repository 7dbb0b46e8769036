//! The console in real headless Chromium (Debian `chromium` + `chromium-driver`, driven
//! over W3C WebDriver): log in, find a phone by search, open it, revoke it through the
//! confirmation form, see the audit entry; a POST without the CSRF token is refused; a
//! second login rotates the session id; logout ends the session; a technician checks
//! phones and re-syncs them in bulk after a confirmation that names the count.
//! Screenshots of the main pages are kept in `target/console-screenshots/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::agents::TestAgent;
use common::console::{Console, PASSWORD, spawn_console, user_of};
use common::fixtures::certificate;
use common::webdriver::Browser;
use corral_controller::domain::{
    DeviceId, DeviceName, DeviceStatus, EnrollmentBinding, EnrollmentTokenSecret, NewDevice,
    ProfileName, Role, Timestamp,
};

const BASE: &str = include_str!("../../profiles/examples/base.toml");

/// Twelve phones through the store (a seam we own), one real agent enrolled and online.
async fn seed(app: &Console) -> TestAgent {
    app.ctl.publish("base", BASE).await;
    app.ctl
        .publish("base", &format!("{BASE}\n# second upload\n"))
        .await;
    let store = &app.ctl.state.store;
    let now = Timestamp::now();
    for i in 1..=12 {
        let token = EnrollmentTokenSecret::generate();
        let binding = EnrollmentBinding::Profile(ProfileName::parse("base").unwrap());
        store
            .create_enrollment_token(
                &token,
                &binding,
                now.plus(Duration::from_secs(3600)),
                None,
                now,
            )
            .await
            .unwrap();
        let device = NewDevice {
            id: DeviceId::generate(),
            name: DeviceName::parse(&format!("Till {i:02}")).unwrap(),
            serial: Some(format!("R5CT{i:04}")),
        };
        store
            .enroll_device(&token, &device, &certificate(), now)
            .await
            .unwrap();
        store
            .record_device_info(
                &device.id,
                "Galaxy A15",
                if i % 2 == 0 { "14" } else { "15" },
            )
            .await
            .unwrap();
    }
    TestAgent::enroll(&app.ctl, &app.ctl.token("base").await).await
}

async fn log_in(browser: &Browser, base: &str, role: Role) {
    browser.goto(&format!("{base}/login")).await;
    browser.type_into("#name", user_of(role)).await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("#login").await;
    browser
        .wait_for_url("the fleet after login", |u| u.ends_with("/fleet"))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_finds_a_phone_revokes_it_and_sees_the_audit_entry() {
    let app = spawn_console().await;
    let agent = seed(&app).await;
    let (_conn, _) = agent.connect(0).await;
    let base = format!("http://{}", app.addr);
    let browser = Browser::start().await;

    browser.goto(&format!("{base}/fleet")).await;
    assert!(
        browser.url().await.ends_with("/login"),
        "the fleet needs a login"
    );
    browser.screenshot("login").await;
    log_in(&browser, &base, Role::Admin).await;
    let first_session = browser.cookie("corral-session").await.unwrap();
    assert!(browser.body_text().await.contains("13 phones"));
    browser.screenshot("fleet").await;

    // Search, then open the one phone found.
    browser.type_into("#q", "till 07").await;
    browser.click("#search").await;
    browser
        .wait_for_url("the search results", |u| u.contains("q=till"))
        .await;
    let found = browser.find_all("a.phone").await;
    assert_eq!(found.len(), 1, "{}", browser.body_text().await);
    browser.click_element(&found[0]).await;
    browser
        .wait_for_url("the phone page", |u| u.contains("/phones/"))
        .await;
    assert!(browser.body_text().await.contains("Galaxy A15"));
    browser.screenshot("phone").await;
    let id = browser.text("#device-id").await;

    // Revoke through the confirmation page (a POST with the session's CSRF token).
    browser.click("#revoke").await;
    browser.screenshot("revoke-confirm").await;
    browser.type_into("#reason", "stolen from the shop").await;
    browser.click("#confirm").await;
    assert!(browser.text("#done").await.contains("revoked"));
    assert_eq!(browser.text("#status").await, "revoked");

    // The audit log shows who did it and why.
    browser
        .goto(&format!("{base}/audit?kind=device.revoked"))
        .await;
    let audit = browser.text("#audit").await;
    assert!(
        audit.contains("user:ada") && audit.contains("stolen from the shop"),
        "{audit}"
    );
    browser.screenshot("audit").await;

    // The same session's cookie without the CSRF token is refused, and changes nothing.
    let other = agent.device_id().to_string();
    let cookie = browser.cookie("corral-session").await.unwrap();
    let refused = common::http::exchange(
        app.addr,
        &format!("POST /phones/{other}/revoke HTTP/1.1\r\nCookie: corral-session={cookie}\r\nContent-Type: application/x-www-form-urlencoded"),
        b"reason=forged",
    )
    .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(app.device_status(&other).await, DeviceStatus::Active);

    // Profiles: list, one profile with its versions, a diff.
    browser.goto(&format!("{base}/profiles")).await;
    browser.screenshot("profiles").await;
    browser.goto(&format!("{base}/profiles/base")).await;
    browser.screenshot("profile").await;
    browser.click("a[href*='/diff?']").await;
    assert!(browser.body_text().await.contains("→"));

    // The online phone shows as online in the fleet.
    browser
        .goto(&format!("{base}/fleet?connection=online"))
        .await;
    assert!(
        browser.body_text().await.contains("Pixel 8"),
        "{}",
        browser.body_text().await
    );
    browser.goto(&format!("{base}/phones/{id}")).await;

    // Logging in again rotates the session id; logging out ends the session.
    log_in(&browser, &base, Role::Admin).await;
    let second_session = browser.cookie("corral-session").await.unwrap();
    assert_ne!(first_session, second_session);
    browser.click("#logout").await;
    browser
        .wait_for_url("the login page after logout", |u| u.ends_with("/login"))
        .await;
    browser.goto(&format!("{base}/fleet")).await;
    assert!(browser.url().await.ends_with("/login"), "logged out");
    let replay = common::http::exchange(
        app.addr,
        &format!("GET /fleet HTTP/1.1\r\nCookie: corral-session={second_session}"),
        b"",
    )
    .await;
    assert_eq!(replay.status, 303, "the old cookie no longer works");
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auditor_sees_no_action_buttons_and_is_refused_the_revoke_page() {
    let app = spawn_console().await;
    seed(&app).await;
    let base = format!("http://{}", app.addr);
    let browser = Browser::start().await;
    log_in(&browser, &base, Role::Auditor).await;
    browser.click("a.phone").await;
    browser
        .wait_for_url("the phone page", |u| u.contains("/phones/"))
        .await;
    assert!(browser.find_all("#revoke").await.is_empty());
    assert!(browser.find_all("#resync").await.is_empty());
    let phone = browser.url().await;
    browser.goto(&format!("{phone}/revoke")).await;
    assert!(browser.text("#message").await.contains("may not do this"));
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_technician_bulk_resyncs_checked_phones_after_a_count_confirmation() {
    let app = spawn_console().await;
    seed(&app).await;
    let base = format!("http://{}", app.addr);
    let browser = Browser::start().await;
    log_in(&browser, &base, Role::Technician).await;
    browser.goto(&format!("{base}/fleet?q=till")).await;
    let boxes = browser.find_all("input[name='device']").await;
    assert_eq!(boxes.len(), 12, "{}", browser.body_text().await);
    let mut chosen = Vec::new();
    for b in &boxes[..3] {
        browser.click_element(b).await;
    }
    for link in browser.find_all("a.phone").await.iter().take(3) {
        chosen.push(browser.element_text(link).await);
    }
    assert!(browser.body_text().await.contains("All 12 matching phones"));
    browser.screenshot("fleet-bulk").await;

    // Re-sync is the first action: the confirmation names the count and the phones.
    browser.click("#bulk-selected").await;
    browser
        .wait_for_url("the confirmation", |u| u.ends_with("/fleet/bulk"))
        .await;
    assert_eq!(browser.text("#confirm-title").await, "Re-sync 3 phones?");
    let listed = browser.text("ul.phones").await;
    assert!(
        chosen.iter().all(|name| listed.contains(name.as_str())),
        "{listed}"
    );
    browser.screenshot("fleet-bulk-confirm").await;
    browser.click("#confirm").await;
    browser
        .wait_for_url("the fleet again", |u| u.contains("done=resync"))
        .await;
    assert!(browser.text("#done").await.contains("3 phones"));

    let store = &app.ctl.state.store;
    let mut queued = 0;
    for device in store.devices().await.unwrap() {
        let pushes = store.pending_pushes(&device.id).await.unwrap();
        queued += pushes
            .iter()
            .filter(|p| p.kind.as_str() == "command")
            .count();
    }
    assert_eq!(queued, 3);
    browser.quit().await;
}
