//! The profile and cloning half of the console in real headless Chromium, against a
//! controller whose phones are simulated (`corral-devsim`, over the real ADB protocol)
//! with the real agent library enrolled and connected to each: log in, find a phone by
//! search, open it, edit a profile with an error and see it at its line, fix it and see
//! the new version's diff, assign it (the confirmation names the count) and see the phone
//! apply it, clone one phone
//! to two others (the agents apply the clone), stage a version for a group and promote
//! it, revoke a phone; the phone detail (wants / reports, commands after a re-sync) and an
//! enrollment token with its QR code. Screenshots in `target/console-screenshots/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::console::{Console, PASSWORD, spawn_console, user_of};
use common::webdriver::Browser;
use corral_agent::backoff::Backoff;
use corral_agent::run::{self, Options};
use corral_agent::shell::{AdbShell, AndroidShell, PhoneShell, ShellMaker};
use corral_agent::state::StateDir;
use corral_controller::api::profile_publish::publish_files;
use corral_controller::api::profile_upload::UploadFile;
use corral_controller::domain::{DeviceId, DeviceStatus, ProfileName, Role};
use corral_devsim::simulator::{Simulator, SimulatorConfig};
use tokio::sync::watch;

const BASE: &str = include_str!("../../profiles/examples/base.toml");
const SHOP: &str = include_str!("../../profiles/examples/butcher-shop.toml");

/// Three simulated phones, each with the real agent enrolled into `butcher-shop` and
/// running; returns when every one has applied it and reported its state.
struct Phones {
    sim: Simulator,
    devices: Vec<DeviceId>,
    serials: Vec<String>,
    stop: watch::Sender<bool>,
    _dirs: tempfile::TempDir,
}

fn maker(addr: SocketAddr, key: std::path::PathBuf) -> ShellMaker {
    Arc::new(move || Box::new(AdbShell::new(addr, key.clone())) as Box<dyn AndroidShell>)
}

async fn eventually<F: std::future::Future<Output = bool>>(
    what: &str,
    mut check: impl FnMut() -> F,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn phones_with_agents(app: &Console) -> Phones {
    let sim = Simulator::start(SimulatorConfig {
        phones: 3,
        ..SimulatorConfig::default()
    })
    .await
    .unwrap();
    let dirs = tempfile::tempdir().unwrap();
    let (stop, stopped) = watch::channel(false);
    let mut devices = Vec::new();
    for (i, addr) in sim.addrs().iter().enumerate() {
        let shell = maker(*addr, dirs.path().join(format!("adbkey-{i}")));
        let state = StateDir::new(dirs.path().join(format!("agent-{i}")));
        let info = corral_agent::enroll::device_info(&mut PhoneShell::new(
            Arc::clone(&shell),
            Duration::from_secs(60),
        ))
        .await
        .unwrap();
        let config = corral_agent::enroll::enroll(
            &state,
            &app.ctl.enrollment_addr.to_string(),
            &app.ctl.fingerprint(),
            &app.ctl.token("butcher-shop").await,
            info,
        )
        .await
        .unwrap();
        devices.push(DeviceId::parse(&config.device_id).unwrap());
        let mut opts = Options::new(state, shell);
        opts.backoff = Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_millis(500),
            reset_after: Duration::from_secs(60),
        };
        tokio::spawn(run::run(opts, stopped.clone()));
    }
    let mut serials = Vec::new();
    for device in &devices {
        applied(app, device, "butcher-shop").await;
        // As enrollment recorded it from the phone (what the fleet shows and searches).
        let record = app.ctl.state.store.device(device).await.unwrap();
        serials.push(record.serial.expect("enrollment records the serial"));
    }
    Phones {
        sim,
        devices,
        serials,
        stop,
        _dirs: dirs,
    }
}

/// Waits until `device` has applied the current version of `profile` and reported its
/// state after it.
async fn applied(app: &Console, device: &DeviceId, profile: &str) {
    let store = app.ctl.state.store.clone();
    let profile = ProfileName::parse(profile).unwrap();
    eventually(&format!("{device} on {profile}"), || {
        let (store, device, profile) = (store.clone(), device.clone(), profile.clone());
        async move {
            let row = store.fleet_row(&device).await.unwrap();
            let record = store.device(&device).await.unwrap();
            row.profile.as_ref() == Some(&profile)
                && row.desired_version.is_some()
                && row.desired_version == row.applied_version
                && record.observed_state.is_some()
        }
    })
    .await;
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
async fn an_admin_edits_assigns_clones_stages_and_revokes_in_the_browser() {
    let app = spawn_console().await;
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
    let phones = phones_with_agents(&app).await;
    let base = format!("http://{}", app.addr);
    let browser = Browser::start().await;
    log_in(&browser, &base, Role::Admin).await;

    // Find the first phone by its serial and open it.
    browser.type_into("#q", &phones.serials[0]).await;
    browser.click("#search").await;
    browser
        .wait_for_url("the search results", |u| u.contains("q="))
        .await;
    let found = browser.find_all("a.phone").await;
    assert_eq!(found.len(), 1, "{}", browser.body_text().await);
    browser.click_element(&found[0]).await;
    browser
        .wait_for_url("the phone page", |u| u.contains("/phones/"))
        .await;
    assert_eq!(
        browser.text("#device-id").await,
        phones.devices[0].to_string()
    );
    browser.screenshot("profiles-phone").await;

    // The phone detail: what the profile wants against what the phone reports (the agent
    // has applied it, so every row it can observe is ok), and the commands after a re-sync.
    let diff = browser.text("#state-diff").await;
    assert!(
        diff.contains("Work profile") && diff.contains("Messenger com.whatsapp.w4b (work)"),
        "{diff}"
    );
    assert!(
        browser.find_all("#state-diff span.badge.ok").await.len() > 3,
        "{diff}"
    );
    assert!(browser.text("#contact-count").await.contains("contact(s)"));
    browser.click("#resync").await;
    browser.click("#confirm").await;
    assert!(browser.text("#done").await.contains("Re-sync queued"));
    assert!(browser.text("#commands").await.contains("re sync"));
    let url = browser.url().await;
    let page = url.split('?').next().unwrap_or(&url).to_owned();
    browser.goto(&format!("{page}#wants-vs-reports")).await;
    browser.screenshot("phone-detail").await;

    // An enrollment token: shown once with its QR code (inline SVG) and the commands.
    browser.goto(&format!("{base}/enrollment")).await;
    browser
        .type_into("input[name=profile]", "butcher-shop")
        .await;
    browser.click("#create-token").await;
    browser.find("#enroll-qr svg path").await;
    assert!(
        browser
            .text("#enroll-link")
            .await
            .starts_with("corral-enroll://")
    );
    assert!(
        browser
            .text("#station-command")
            .await
            .contains("corral enroll --all --controller http://")
    );
    browser.screenshot("enrollment-token").await;

    // Edit butcher-shop with a typo in a lawful basis: the error is shown at its line.
    browser.goto(&format!("{base}/profiles/butcher-shop")).await;
    browser.click("#edit").await;
    browser
        .wait_for_url("the editor", |u| u.ends_with("/edit"))
        .await;
    let source = browser.text("#source").await;
    assert!(source.contains("extends = \"base\""), "{source}");
    let broken = SHOP.replacen("basis = \"contract\"", "basis = \"contrakt\"", 1);
    let bad_line = broken.lines().position(|l| l.contains("contrakt")).unwrap() + 1;
    browser.type_into("#source", &broken).await;
    browser.click("#publish").await;
    let errors = browser.text("#diagnostics").await;
    assert!(
        errors.contains(&format!("butcher-shop.toml:{bad_line}:")),
        "{errors}"
    );
    let marked = browser.find_all(&format!("#line-{bad_line}.bad")).await;
    assert_eq!(marked.len(), 1, "line {bad_line} is marked");
    assert!(
        browser
            .text(&format!("#line-{bad_line}"))
            .await
            .contains("contrakt")
    );
    browser.screenshot("profile-edit-error").await;

    // Fixed (and changed): published like an upload, with the diff to the previous one.
    let fixed = SHOP.replace("reconcile = \"5m\"", "reconcile = \"10m\"");
    browser.type_into("#source", &fixed).await;
    browser.click("#publish").await;
    let version = browser.text("#new-version").await;
    let diff = browser.text("#diff").await;
    assert!(diff.contains("reconcile"), "{diff}");
    browser.screenshot("profile-published").await;
    let current = app
        .ctl
        .state
        .store
        .current_profile_version(&ProfileName::parse("butcher-shop").unwrap())
        .await
        .unwrap();
    assert_eq!(current.version.to_string(), version);

    // Assign the edited profile to the first phone from the result page: the
    // confirmation names the count, the phone then runs the new version.
    browser
        .click("a[href='/profiles/butcher-shop/assign']")
        .await;
    browser
        .wait_for_url("the assign page", |u| u.ends_with("/assign"))
        .await;
    browser
        .click(&format!("#device-{}", phones.devices[0]))
        .await;
    browser.click("#assign-phones").await;
    assert_eq!(
        browser.text("#confirm-title").await,
        "Assign butcher-shop to 1 phone?"
    );
    browser.click("#confirm").await;
    assert!(
        browser
            .text("#done")
            .await
            .contains("Assigned to 1 phone(s)")
    );
    applied(&app, &phones.devices[0], "butcher-shop").await;
    let row = app
        .ctl
        .state
        .store
        .fleet_row(&phones.devices[0])
        .await
        .unwrap();
    assert_eq!(
        row.applied_version.map(|v| v.to_string()),
        Some(version.clone())
    );

    // Clone the first phone into a new profile, reviewed as a diff, saved, applied to
    // the two others through the assign page; their agents apply it.
    browser
        .goto(&format!("{base}/phones/{}", phones.devices[0]))
        .await;
    browser.click("#clone").await;
    browser
        .wait_for_url("the clone review", |u| u.contains("/clone"))
        .await;
    browser.type_into("#clone-name", "counter-clone").await;
    browser.click("#recapture").await;
    browser
        .wait_for_url("the capture named", |u| u.contains("name=counter-clone"))
        .await;
    let captured = browser.text("#captured").await;
    assert!(captured.contains("com.whatsapp.w4b"), "{captured}");
    assert!(browser.text("#diff").await.contains("counter-clone"));
    browser.screenshot("clone-review").await;
    browser.click("#save-clone").await;
    browser
        .wait_for_url("the assign page", |u| {
            u.contains("/profiles/counter-clone/assign")
        })
        .await;
    assert!(browser.text("#done").await.contains("counter-clone"));
    for device in &phones.devices[1..] {
        browser.click(&format!("#device-{device}")).await;
    }
    browser.screenshot("clone-assign").await;
    browser.click("#assign-phones").await;
    assert_eq!(
        browser.text("#confirm-title").await,
        "Assign counter-clone to 2 phones?"
    );
    browser.screenshot("assign-confirm").await;
    browser.click("#confirm").await;
    assert!(
        browser
            .text("#done")
            .await
            .contains("Assigned to 2 phone(s)")
    );
    for device in &phones.devices[1..] {
        applied(&app, device, "counter-clone").await;
    }

    // Stage a new version of counter-clone for a group first: nobody is in the group, so
    // the phones stay on the current version; promoting moves them.
    browser
        .goto(&format!("{base}/profiles/counter-clone/edit"))
        .await;
    let source = browser.text("#source").await;
    assert!(source.contains("Cloned from"), "{source}");
    browser
        .type_into(
            "#source",
            &source.replace("Cloned from", "Staged: cloned from"),
        )
        .await;
    browser.type_into("#stage_group", "pilot").await;
    browser.click("#publish").await;
    assert!(browser.text("#done").await.contains("group pilot"));
    browser
        .goto(&format!("{base}/profiles/counter-clone"))
        .await;
    assert!(browser.text("#rollout").await.contains("pilot"));
    browser.screenshot("profile-rollout").await;
    browser.click("#promote").await;
    assert!(browser.text("#done").await.contains("Promoted"));
    for device in &phones.devices[1..] {
        applied(&app, device, "counter-clone").await;
    }

    // Revoke the first phone.
    browser
        .goto(&format!("{base}/phones/{}", phones.devices[0]))
        .await;
    browser.click("#revoke").await;
    browser.type_into("#reason", "left the company").await;
    browser.click("#confirm").await;
    assert!(browser.text("#done").await.contains("revoked"));
    assert_eq!(
        app.device_status(phones.devices[0].as_str()).await,
        DeviceStatus::Revoked
    );
    browser.screenshot("profiles-revoked").await;

    browser.quit().await;
    let _ = phones.stop.send(true);
    phones.sim.shutdown().await;
}
