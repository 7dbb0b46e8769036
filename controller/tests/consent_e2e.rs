//! Double opt-in and withdrawal end to end (issue 7): a controller and three simulated
//! phones (`corral-devsim` over the real ADB protocol) with the real agent library. Two
//! phones' profiles use the contact group `suppliers`, the third's does not. A contact in
//! `suppliers` without a basis gets a consent link; the person confirms it in headless
//! Chromium and the contact appears in the work profile of exactly the two phones (read
//! with `content query --user N` over ADB). One of them goes offline; the person withdraws
//! through the same link; the online phone removes the contact and confirms, the console's
//! erasure page shows it per phone; the offline phone, reconnected, removes it before
//! anything else. Afterwards no table holds the name or number, and the audit log names
//! the person by pseudonym.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
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
use corral_controller::domain::{
    ConsentLinkToken, ContactDraft, ContactGroup, ContactName, DeviceId, ProfileName, Role,
    Timestamp, WordingDraft,
};
use corral_devsim::simulator::{Simulator, SimulatorConfig};
use corral_profiles::PhoneNumber;
use sqlx::{Connection, Row};
use tokio::sync::watch;

const BASE: &str = include_str!("../../profiles/examples/base.toml");
const SHOP: &str = include_str!("../../profiles/examples/butcher-shop.toml");
/// Uses `staff` only (from `base`): not the group of the contact.
const DESK: &str = "name = \"front-desk\"\nextends = \"base\"\n";
const NAME: &str = "Anna Berg";
/// Not a substring of the profile's own entries (`+493012345678`, `+493312345678`).
const NUMBER: &str = "+49307654321";

fn maker(addr: SocketAddr, key: PathBuf) -> ShellMaker {
    Arc::new(move || Box::new(AdbShell::new(addr, key.clone())) as Box<dyn AndroidShell>)
}

async fn eventually<F: std::future::Future<Output = bool>>(
    what: &str,
    limit: Duration,
    mut check: impl FnMut() -> F,
) {
    let deadline = tokio::time::Instant::now() + limit;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// One phone with its agent.
struct Phone {
    addr: SocketAddr,
    key: PathBuf,
    state: StateDir,
    device: DeviceId,
    stop: watch::Sender<bool>,
}

impl Phone {
    fn start_agent(&mut self) {
        let (stop, stopped) = watch::channel(false);
        let mut opts = Options::new(self.state.clone(), maker(self.addr, self.key.clone()));
        opts.backoff = Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_millis(500),
            reset_after: Duration::from_secs(60),
        };
        tokio::spawn(run::run(opts, stopped));
        self.stop = stop;
    }

    /// The output of a shell command on the phone, over ADB (adb_client).
    async fn shell(&self, script: &str) -> String {
        let mut shell =
            PhoneShell::new(maker(self.addr, self.key.clone()), Duration::from_secs(60));
        let out = shell.run(script).await.unwrap();
        out.output
    }

    /// The phone numbers in the work profile's contacts provider.
    async fn work_numbers(&self) -> String {
        let users = self.shell("pm list users").await;
        let user = users
            .lines()
            .filter_map(|l| l.trim().strip_prefix("UserInfo{"))
            .filter_map(|l| l.split(':').next())
            .find(|id| *id != "0")
            .unwrap_or_else(|| panic!("no work profile: {users}"))
            .to_owned();
        self.shell(&format!(
            "content query --user {user} --uri content://com.android.contacts/data --projection data1 --where \"mimetype='vnd.android.cursor.item/phone_v2'\""
        ))
        .await
    }
}

async fn enroll(
    app: &Console,
    sim: &Simulator,
    i: usize,
    profile: &str,
    dir: &std::path::Path,
) -> Phone {
    let addr = sim.addrs()[i];
    let key = dir.join(format!("adbkey-{i}"));
    let state = StateDir::new(dir.join(format!("agent-{i}")));
    let info = corral_agent::enroll::device_info(&mut PhoneShell::new(
        maker(addr, key.clone()),
        Duration::from_secs(60),
    ))
    .await
    .unwrap();
    let config = corral_agent::enroll::enroll(
        &state,
        &app.ctl.enrollment_addr.to_string(),
        &app.ctl.fingerprint(),
        &app.ctl.token(profile).await,
        info,
    )
    .await
    .unwrap();
    let mut phone = Phone {
        addr,
        key,
        state,
        device: DeviceId::parse(&config.device_id).unwrap(),
        stop: watch::channel(false).0,
    };
    phone.start_agent();
    phone
}

async fn applied(app: &Console, device: &DeviceId, profile: &str) {
    let store = app.ctl.state.store.clone();
    let profile = ProfileName::parse(profile).unwrap();
    eventually(
        &format!("{device} on {profile}"),
        Duration::from_secs(90),
        || {
            let (store, device, profile) = (store.clone(), device.clone(), profile.clone());
            async move {
                let row = store.fleet_row(&device).await.unwrap();
                row.profile.as_ref() == Some(&profile)
                    && row.desired_version.is_some()
                    && row.desired_version == row.applied_version
            }
        },
    )
    .await;
}

/// Every value of every table of the controller's SQLite database, as text.
async fn database_text(app: &Console) -> String {
    let db = std::fs::read_dir(app.ctl.dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "db"))
        .expect("the controller's SQLite file");
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let tables: Vec<String> = sqlx::query("SELECT name FROM sqlite_master WHERE type = 'table'")
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>("name"))
        .collect();
    let mut out = String::new();
    for t in tables {
        let columns: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT name FROM pragma_table_info('{t}')"
        )))
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>("name"))
        .collect();
        for c in columns {
            // Blobs (certificates) as hex: the name and number would be text.
            let sql = format!(
                "SELECT CASE WHEN typeof(\"{c}\") = 'blob' THEN hex(\"{c}\") ELSE CAST(\"{c}\" AS TEXT) END AS v FROM \"{t}\""
            );
            for row in sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut conn)
                .await
                .unwrap()
            {
                if let Some(v) = row.get::<Option<String>, _>("v") {
                    out.push_str(&format!("{t}.{c}: {v}\n"));
                }
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consent_confirmed_in_the_browser_reaches_the_right_phones_and_a_withdrawal_leaves_them_all()
 {
    let app = spawn_console().await;
    let files = [
        ("base.toml", BASE),
        ("butcher-shop.toml", SHOP),
        ("front-desk.toml", DESK),
    ]
    .map(|(name, text)| UploadFile {
        name: name.into(),
        text: text.into(),
    });
    publish_files(&app.ctl.state, &files, "test").await.unwrap();
    let store = app.ctl.state.store.clone();
    let now = Timestamp::now();
    for g in ["staff", "suppliers"] {
        store
            .create_contact_group(&ContactGroup::parse(g).unwrap(), "", "user:admin", now)
            .await
            .unwrap();
    }
    let anna = store
        .create_contact(
            &ContactDraft {
                name: ContactName::parse(NAME).unwrap(),
                number: PhoneNumber::parse(NUMBER, None).unwrap(),
                company: None,
                groups: [ContactGroup::parse("suppliers").unwrap()].into(),
                basis: None,
            },
            "user:admin",
            now,
        )
        .await
        .unwrap();
    store
        .set_consent_wording(
            &WordingDraft::parse(
                "Butcher Berg",
                "I agree that Butcher Berg keeps my name and number on its work phones to reach me on WhatsApp.",
                "",
            )
            .unwrap(),
            "user:admin",
            now,
        )
        .await
        .unwrap();
    let token = ConsentLinkToken::generate();
    store
        .create_consent_link(
            &token,
            &anna.id,
            now.plus(Duration::from_secs(86_400)),
            "user:admin",
            now,
        )
        .await
        .unwrap();

    let sim = Simulator::start(SimulatorConfig {
        phones: 3,
        ..SimulatorConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut phones = Vec::new();
    for (i, profile) in ["butcher-shop", "butcher-shop", "front-desk"]
        .iter()
        .enumerate()
    {
        phones.push(enroll(&app, &sim, i, profile, dir.path()).await);
    }
    for (p, profile) in phones
        .iter()
        .zip(["butcher-shop", "butcher-shop", "front-desk"])
    {
        applied(&app, &p.device, profile).await;
    }
    corral_controller::allow_lists::requeue(&app.ctl.state)
        .await
        .unwrap();

    // The person confirms in the browser.
    let base = format!("http://{}", app.addr);
    let link = format!("{base}/consent/{}", token.reveal());
    let browser = Browser::start().await;
    browser.goto(&link).await;
    assert!(browser.text("#wording").await.contains("keeps my name"));
    browser.screenshot("consent-page").await;
    browser.click("#confirm").await;
    browser.find("#withdraw").await;
    browser.screenshot("consent-confirmed").await;

    // On the two phones whose profile uses `suppliers`, not on the third.
    for p in &phones[..2] {
        eventually(
            "the contact on a suppliers phone",
            Duration::from_secs(60),
            || async { p.work_numbers().await.contains(NUMBER) },
        )
        .await;
    }
    let desk = &phones[2];
    eventually(
        "the front desk's list applied",
        Duration::from_secs(60),
        || async {
            let list = store
                .device_allow_list(&desk.device)
                .await
                .unwrap()
                .unwrap();
            list.applied_version.as_deref() == Some(list.version.as_str())
        },
    )
    .await;
    assert!(!desk.work_numbers().await.contains(NUMBER));

    // Phone 1 goes offline.
    phones[1].stop.send_replace(true);
    let gateway = app.ctl.state.gateway.clone();
    let offline = phones[1].device.clone();
    eventually("phone 1 offline", Duration::from_secs(30), || async {
        !gateway.is_online(&offline)
    })
    .await;
    let before = sim.phones()[1].commands().len();

    // The person withdraws through the same link.
    browser.goto(&link).await;
    let withdrawn_at = std::time::Instant::now();
    browser.click("#withdraw").await;
    eventually("the withdrawal page", Duration::from_secs(10), || async {
        browser.body_text().await.contains("Consent withdrawn")
    })
    .await;
    browser.screenshot("consent-withdrawn").await;
    let erasure = store.erasures().await.unwrap().remove(0);
    assert_eq!(erasure.reason, "withdrawal");
    assert_eq!(erasure.actor, format!("contact:{}", anna.pseudonym));
    let online = &phones[0];
    eventually(
        "removal confirmed by the online phone",
        Duration::from_secs(60),
        || async {
            let r = store.erasure(&erasure.id).await.unwrap();
            r.receipts
                .iter()
                .any(|x| x.device == online.device && x.confirmed_at.is_some())
        },
    )
    .await;
    eprintln!(
        "withdrawal click → removal confirmed by the online phone: {:.1} s",
        withdrawn_at.elapsed().as_secs_f64()
    );
    assert!(!online.work_numbers().await.contains(NUMBER));

    // The console shows the proof per phone.
    browser.goto(&format!("{base}/login")).await;
    browser.type_into("#name", user_of(Role::Admin)).await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("#login").await;
    browser
        .wait_for_url("the fleet", |u| u.ends_with("/fleet"))
        .await;
    browser.goto(&format!("{base}/erasures")).await;
    assert!(browser.text("#erasures").await.contains("1 of 2"));
    browser
        .goto(&format!("{base}/erasures/{}", erasure.id))
        .await;
    let receipts = browser.text("#receipts").await;
    assert!(receipts.contains("waiting"), "{receipts}");
    browser.screenshot("consent-erasure-one-offline").await;

    // Phone 1 comes back: the removal is the first thing it does.
    phones[1].start_agent();
    let restarted_at = std::time::Instant::now();
    let back = phones[1].device.clone();
    eventually(
        "removal confirmed by the reconnected phone",
        Duration::from_secs(60),
        || async {
            let r = store.erasure(&erasure.id).await.unwrap();
            r.receipts
                .iter()
                .any(|x| x.device == back && x.confirmed_at.is_some())
        },
    )
    .await;
    eprintln!(
        "agent restart → removal confirmed by the reconnected phone: {:.1} s",
        restarted_at.elapsed().as_secs_f64()
    );
    assert!(!phones[1].work_numbers().await.contains(NUMBER));
    let after: Vec<String> = sim.phones()[1].commands()[before..].to_vec();
    let removal = after
        .iter()
        .position(|c| c.contains("content delete") && c.contains("_id IN"))
        .unwrap_or_else(|| panic!("no removal in {after:#?}"));
    let observations = after[..removal]
        .iter()
        .filter(|c| c.contains("content query") && c.contains("raw_contacts"))
        .count();
    assert_eq!(
        observations,
        1,
        "only the contacts push's own observation precedes the removal: {:#?}",
        &after[..removal]
    );
    assert!(
        after[..removal]
            .iter()
            .all(|c| !c.contains("content insert")
                && !c.contains("settings put")
                && !c.contains("pm install")),
        "{:#?}",
        &after[..removal]
    );
    browser
        .goto(&format!("{base}/erasures/{}", erasure.id))
        .await;
    browser.find("#complete").await;
    browser.screenshot("consent-erasure-complete").await;

    // The database: no name, no number; the audit log names the pseudonym.
    let dump = database_text(&app).await;
    assert!(!dump.contains(NAME), "{dump}");
    assert!(!dump.contains("7654321"), "{dump}");
    assert!(!dump.contains(&token.reveal()), "the token is never stored");
    let audit: Vec<&str> = dump
        .lines()
        .filter(|l| l.starts_with("events.detail"))
        .collect();
    for kind in ["contact.consent_confirmed", "contact.erased"] {
        assert!(dump.contains(&format!("events.kind: {kind}")), "{kind}");
    }
    assert!(
        audit
            .iter()
            .filter(|l| l.contains(anna.pseudonym.as_str()))
            .count()
            >= 3,
        "{audit:#?}"
    );
    browser.quit().await;
    for p in &phones {
        p.stop.send_replace(true);
    }
}
