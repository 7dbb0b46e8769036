//! The phone page's derived sections with a real session: the profile wants / phone
//! reports table, drift history from drift reports, the work profile's contact count, and
//! the commands with a `collect_logs` output page (escaped).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::agents::TestAgent;
use common::console::{Console, Visitor, spawn_console};
use corral_controller::api::profile_publish::publish_files;
use corral_controller::api::profile_upload::UploadFile;
use corral_controller::domain::{DeviceId, DeviceReport, Role, Timestamp};
use corral_controller::store::{AgentAnswer, AnswerReport, EventFilter};
use corral_wire::CommandKind;

const BASE: &str = include_str!("../../profiles/examples/base.toml");

async fn seed(app: &Console) {
    let files = [UploadFile {
        name: "base.toml".into(),
        text: BASE.into(),
    }];
    publish_files(&app.ctl.state, &files, "test").await.unwrap();
}

async fn report(app: &Console, device: &DeviceId, report: DeviceReport) {
    app.ctl
        .state
        .store
        .record_report(device, &report, Timestamp::now())
        .await
        .unwrap();
}

/// A phone like `base` wants, except WhatsApp hidden in the work profile and one contact
/// outside the allow-list (blanked by the agent).
fn observed() -> serde_json::Value {
    serde_json::json!({
        "users": [
            { "id": 0, "name": "Owner", "flags": 3091, "running": true },
            { "id": 10, "name": "Work", "flags": 4144, "running": true }
        ],
        "personal_packages": { "com.whatsapp": { "hidden": true, "launcher": true } },
        "work": {
            "user": 10,
            "packages": {
                "com.whatsapp": { "launcher": true, "hidden": true, "granted": ["android.permission.READ_CONTACTS"] }
            },
            "settings": { "managed_profile_contact_remote_search": "0", "cross_profile_calendar_enabled": "0" },
            "backup_enabled": false,
            "contacts": [
                { "id": 1, "name": "Anna", "numbers": ["+4915112345678"] },
                { "id": 2, "name": "Ben", "numbers": ["+4915112345679"] },
                { "id": 3, "name": null, "numbers": [] }
            ]
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_phone_page_compares_shows_drift_history_contacts_and_commands() {
    let app = spawn_console().await;
    seed(&app).await;
    let agent = TestAgent::enroll(&app.ctl, &app.ctl.token("base").await).await;
    let device = agent.device_id();
    let mut otto = Visitor::logged_in(app.addr, Role::Auditor).await;
    let page = otto.get(&format!("/phones/{device}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains("The phone has not reported its state yet.")
    );
    assert!(page.body.contains("No drift reported."));
    assert!(page.body.contains("No commands."));

    report(
        &app,
        &device,
        DeviceReport {
            seq: 1,
            observed_state: Some(observed()),
            ..DeviceReport::default()
        },
    )
    .await;
    let drift = |seq, items: serde_json::Value, repaired| DeviceReport {
        seq,
        drift: Some(serde_json::json!({ "items": items, "repaired": repaired })),
        ..DeviceReport::default()
    };
    report(
        &app,
        &device,
        drift(
            2,
            serde_json::json!([{ "drift": "forbidden_accounts", "account_types": ["com.google"] }]),
            false,
        ),
    )
    .await;
    report(&app, &device, drift(3, serde_json::json!([]), true)).await;

    let (command, push_seq) = app
        .ctl
        .state
        .gateway
        .queue_command_as(
            &device,
            CommandKind::CollectLogs,
            "user:ada",
            Timestamp::now(),
        )
        .await
        .unwrap();
    app.ctl
        .state
        .gateway
        .queue_command_as(&device, CommandKind::Reboot, "user:ada", Timestamp::now())
        .await
        .unwrap();
    let results = app
        .ctl
        .state
        .store
        .record_answers(
            &[AgentAnswer {
                device: device.clone(),
                push_seq: Some(push_seq),
                report: Some(AnswerReport::Command {
                    seq: 4,
                    command_id: command.clone(),
                    error: None,
                    output: Some("I/corral: <script>alert(1)</script> started".into()),
                }),
            }],
            Timestamp::now(),
        )
        .await
        .unwrap();
    assert!(results.iter().all(Result::is_ok), "{results:?}");

    let page = otto.get(&format!("/phones/{device}")).await.body;
    let table = section(&page, "id=\"state-diff\"", "</table>");
    assert!(
        table.contains("Messenger com.whatsapp (work)")
            && table.contains("installed, hidden, enabled")
            && table.contains("unhide com.whatsapp (work)"),
        "{table}"
    );
    assert!(
        table.contains("<span class=\"badge drift\">drift</span>"),
        "{table}"
    );
    assert!(
        table.contains("2 allow-listed, 1 outside the list"),
        "{table}"
    );
    assert!(page.contains("2 contact(s)"), "{page}");
    assert!(
        page.contains("1 contact(s) outside the allow-list"),
        "{page}"
    );
    let history = section(&page, "id=\"drift-history\"", "</table>");
    let cleared = history.find("cleared").expect("cleared");
    let detected = history.find("detected").expect("detected");
    assert!(cleared < detected, "newest first: {history}");
    assert!(history.contains("forbidden accounts"), "{history}");
    assert!(history.contains("kind=drift."), "linked to the audit log");
    let commands = section(&page, "id=\"commands\"", "</table>");
    assert!(commands.contains("collect logs"), "{commands}");
    assert!(commands.contains("badge done"), "{commands}");
    assert!(commands.contains("reboot"), "{commands}");
    assert!(commands.contains("badge queued"), "{commands}");

    let output = otto
        .get(&format!("/phones/{device}/commands/{command}"))
        .await;
    assert_eq!(output.status, 200, "{}", output.body);
    assert!(
        output
            .body
            .contains("I&#x2F;corral: &lt;script&gt;alert(1)&lt;&#x2F;script&gt; started"),
        "escaped: {}",
        output.body
    );
    let missing = otto
        .get(&format!("/phones/{device}/commands/cmd-0000000000000000"))
        .await;
    assert_eq!(missing.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_phone_page_reboots_collects_logs_and_removes_the_work_profile_after_asking() {
    let app = spawn_console().await;
    seed(&app).await;
    let agent = TestAgent::enroll(&app.ctl, &app.ctl.token("base").await).await;
    let device = agent.device_id();
    let mut tess = Visitor::logged_in(app.addr, Role::Technician).await;
    let page = tess.get(&format!("/phones/{device}")).await.body;
    assert!(page.contains("id=\"reboot\"") && page.contains("id=\"collect-logs\""));
    assert!(
        !page.contains("id=\"remove-work-profile\""),
        "a technician is not offered the removal"
    );
    for (path, question, done) in [
        ("reboot", "Reboot ", "Reboot queued"),
        (
            "collect-logs",
            "Collect the agent&#x27;s log from ",
            "Log collection queued",
        ),
    ] {
        let confirm = tess.get(&format!("/phones/{device}/{path}")).await;
        assert_eq!(confirm.status, 200, "{}", confirm.body);
        assert!(confirm.body.contains(question), "{}", confirm.body);
        let csrf = tess.csrf().await;
        let sent = tess
            .post(&format!("/phones/{device}/{path}"), &[("csrf", &csrf)])
            .await;
        assert_eq!(sent.status, 303, "{}", sent.body);
        let back = tess
            .get(&format!("/phones/{device}?done={path}"))
            .await
            .body;
        assert!(back.contains(done), "{back}");
    }
    let refused = tess
        .get(&format!("/phones/{device}/remove-work-profile"))
        .await;
    assert_eq!(refused.status, 403);

    let mut ada = Visitor::logged_in(app.addr, Role::Admin).await;
    let page = ada.get(&format!("/phones/{device}")).await.body;
    assert!(page.contains("id=\"remove-work-profile\""), "{page}");
    let confirm = ada
        .get(&format!("/phones/{device}/remove-work-profile"))
        .await;
    assert!(
        confirm.body.contains("This cannot be undone."),
        "{}",
        confirm.body
    );
    let csrf = ada.csrf().await;
    let without_token = ada
        .post(&format!("/phones/{device}/remove-work-profile"), &[])
        .await;
    assert_eq!(without_token.status, 403, "CSRF checked");
    let sent = ada
        .post(
            &format!("/phones/{device}/remove-work-profile"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);

    let filter = EventFilter {
        device: Some(device.clone()),
        ..EventFilter::default()
    };
    let mut queued: Vec<(String, String)> = app
        .ctl
        .state
        .store
        .events_newest_first(&filter, None, 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "device.command_queued")
        .map(|e| (e.actor, e.detail["kind"].as_str().unwrap_or("?").to_owned()))
        .collect();
    queued.reverse();
    assert_eq!(
        queued,
        [
            ("user:tess".to_owned(), "reboot".to_owned()),
            ("user:tess".to_owned(), "collect_logs".to_owned()),
            ("user:ada".to_owned(), "remove_work_profile".to_owned()),
        ]
    );
}

fn section<'a>(page: &'a str, start: &str, end: &str) -> &'a str {
    let from = page
        .find(start)
        .unwrap_or_else(|| panic!("{start} in {page}"));
    let rest = &page[from..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}
