//! The fleet's groups, bulk actions and not-yet-enrolled phones over real HTTP: the
//! confirmation names the count and the revoked phones skipped, a filter that changed
//! shows it again, the action needs the session's CSRF token and the role (auditors
//! never, technicians not for removing work profiles), "set group" from the phone page,
//! the groups page and the group filter, and "enrolling" / "failed" phones.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::console::{Console, Visitor, spawn_console};
use common::fixtures::{certificate, new_device};
use corral_controller::domain::{
    DeviceId, EnrollmentBinding, EnrollmentTokenSecret, GroupName, NewDevice, ProfileName,
    ProvisionStep, Role, RunOutcome, StepOutcome, Timestamp,
};

/// Enrolls `n` phones named `<prefix> <i>` into `group` through the store.
async fn phones(app: &Console, prefix: &str, group: &str, n: usize) -> Vec<DeviceId> {
    let store = &app.ctl.state.store;
    let now = Timestamp::now();
    let mut ids = Vec::new();
    for i in 0..n {
        let token = EnrollmentTokenSecret::generate();
        store
            .create_enrollment_token(
                &token,
                &EnrollmentBinding::Group(GroupName::parse(group).unwrap()),
                now.plus(std::time::Duration::from_secs(600)),
                Some("test"),
                now,
            )
            .await
            .unwrap();
        let device = NewDevice {
            name: format!("{prefix} {i}").parse().unwrap(),
            ..new_device("x")
        };
        store
            .enroll_device(&token, &device, &certificate(), now)
            .await
            .unwrap();
        ids.push(device.id);
    }
    ids
}

async fn commands_queued(app: &Console, id: &DeviceId) -> usize {
    app.ctl
        .state
        .store
        .pending_pushes(id)
        .await
        .unwrap()
        .iter()
        .filter(|p| p.kind.as_str() == "command")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_reboot_names_the_count_skips_revoked_phones_and_queues_once_confirmed() {
    let app = spawn_console().await;
    let tills = phones(&app, "Till", "tills", 4).await;
    phones(&app, "Van", "vans", 2).await;
    app.ctl
        .state
        .store
        .revoke_device(&tills[3], "lost", "test", Timestamp::now())
        .await
        .unwrap();
    let mut v = Visitor::logged_in(app.addr, Role::Technician).await;
    let csrf = v.csrf().await;
    let ask = |extra: &'static [(&'static str, &'static str)]| {
        let mut fields = vec![
            ("csrf", csrf.as_str()),
            ("action", "reboot"),
            ("scope", "matching"),
            ("filter", "group=tills"),
        ];
        fields.extend_from_slice(extra);
        fields
    };
    let confirm = v.post("/fleet/bulk", &ask(&[])).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert!(
        confirm.body.contains("Reboot 3 phones?"),
        "{}",
        confirm.body
    );
    assert!(
        confirm
            .body
            .contains("1 revoked phone among those chosen is skipped")
    );
    assert!(confirm.body.contains("Till 0") && !confirm.body.contains("Van 0"));
    assert!(confirm.body.contains("name=\"expect\" value=\"3\""));
    assert_eq!(
        commands_queued(&app, &tills[0]).await,
        0,
        "nothing before the confirmation"
    );

    // The count the page showed no longer matches: asked again, nothing done.
    let stale = v
        .post("/fleet/bulk", &ask(&[("confirm", "yes"), ("expect", "2")]))
        .await;
    assert_eq!(stale.status, 200);
    assert!(stale.body.contains("it matches 3 now"), "{}", stale.body);
    assert_eq!(commands_queued(&app, &tills[0]).await, 0);

    let done = v
        .post("/fleet/bulk", &ask(&[("confirm", "yes"), ("expect", "3")]))
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.header("location"),
        Some("/fleet?group=tills&done=reboot&count=3")
    );
    for id in &tills[..3] {
        assert_eq!(commands_queued(&app, id).await, 1);
    }
    assert_eq!(commands_queued(&app, &tills[3]).await, 0, "revoked");
    let page = v.get("/fleet?group=tills&done=reboot&count=3").await;
    assert!(
        page.body.contains("Reboot queued for 3 phones"),
        "{}",
        page.body
    );
    let audit = v.get("/audit?kind=fleet.bulk_action").await;
    assert!(audit.body.contains("reboot") && audit.body.contains("user:tess"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_actions_need_the_csrf_token_and_the_role() {
    let app = spawn_console().await;
    let ids = phones(&app, "Till", "tills", 2).await;
    let selected = |csrf: &str, action: &str| -> Vec<(String, String)> {
        let mut f = vec![
            ("csrf".to_owned(), csrf.to_owned()),
            ("action".to_owned(), action.to_owned()),
            ("scope".to_owned(), "selected".to_owned()),
        ];
        for id in &ids {
            f.push(("device".to_owned(), id.to_string()));
        }
        f.push(("confirm".to_owned(), "yes".to_owned()));
        f.push(("expect".to_owned(), "2".to_owned()));
        f
    };
    let post = |v: &mut Visitor, fields: Vec<(String, String)>| {
        let mut v = v.clone();
        async move {
            let refs: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, x)| (k.as_str(), x.as_str()))
                .collect();
            v.post("/fleet/bulk", &refs).await
        }
    };

    let mut auditor = Visitor::logged_in(app.addr, Role::Auditor).await;
    let csrf = auditor.csrf().await;
    let r = post(&mut auditor, selected(&csrf, "resync")).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let fleet = auditor.get("/fleet").await;
    assert!(
        !fleet.body.contains("/fleet/bulk"),
        "no bulk bar for auditors"
    );

    let mut tech = Visitor::logged_in(app.addr, Role::Technician).await;
    let csrf = tech.csrf().await;
    let r = post(&mut tech, selected(&csrf, "remove_work_profile")).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("may not do this"));
    assert!(
        !tech
            .get("/fleet")
            .await
            .body
            .contains("remove_work_profile")
    );
    let r = post(&mut tech, selected("not-the-token", "resync")).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(commands_queued(&app, &ids[0]).await, 0);

    let mut admin = Visitor::logged_in(app.addr, Role::Admin).await;
    let csrf = admin.csrf().await;
    let ask = post(
        &mut admin,
        selected(&csrf, "remove_work_profile")[..5].to_vec(),
    )
    .await;
    assert!(
        ask.body.contains("Remove the work profile from 2 phones?"),
        "{}",
        ask.body
    );
    let r = post(&mut admin, selected(&csrf, "remove_work_profile")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(commands_queued(&app, &ids[1]).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_are_listed_filtered_and_set_from_the_phone_page() {
    let app = spawn_console().await;
    let ids = phones(&app, "Till", "tills", 3).await;
    let mut v = Visitor::logged_in(app.addr, Role::Technician).await;
    let phone = v.get(&format!("/phones/{}", ids[0])).await;
    assert!(phone.body.contains("id=\"set-group\""));
    let csrf = v.csrf().await;
    let id = ids[0].to_string();
    let ask = v
        .post(
            "/fleet/bulk",
            &[
                ("csrf", &csrf),
                ("action", "set_group"),
                ("scope", "selected"),
                ("device", &id),
            ],
        )
        .await;
    assert!(
        ask.body.contains("Set the group of 1 phone?"),
        "{}",
        ask.body
    );
    assert!(ask.body.contains("<option value=\"tills\">"));
    let done = v
        .post(
            "/fleet/bulk",
            &[
                ("csrf", &csrf),
                ("action", "set_group"),
                ("scope", "selected"),
                ("device", &id),
                ("group", "vans"),
                ("confirm", "yes"),
                ("expect", "1"),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let groups = v.get("/groups").await;
    assert_eq!(groups.status, 200);
    let row = |name: &str| {
        let at = groups.body.find(&format!(">{name}</a>")).unwrap();
        groups.body[at..at + 80].to_owned()
    };
    assert!(row("tills").contains("<td>2</td>"), "{}", groups.body);
    assert!(row("vans").contains("<td>1</td>"), "{}", groups.body);
    let vans = v.get("/fleet?group=vans").await;
    assert!(vans.body.contains("Till 0") && !vans.body.contains("Till 1"));
    assert!(
        vans.body
            .contains("<option value=\"vans\" selected>vans (1)</option>")
    );
    let bad = v.get("/fleet?group=No%20Such").await;
    assert_eq!(bad.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phones_being_provisioned_show_as_enrolling_or_failed() {
    let app = spawn_console().await;
    phones(&app, "Till", "tills", 1).await;
    let store = &app.ctl.state.store;
    let now = Timestamp::now();
    let base = ProfileName::parse("base").unwrap();
    store
        .start_provisioning_run("R58N1", &base, "provisioning", now)
        .await
        .unwrap();
    let failed = store
        .start_provisioning_run("R58N2", &base, "provisioning", now)
        .await
        .unwrap();
    store
        .start_provisioning_step(failed, ProvisionStep::Messenger, now)
        .await
        .unwrap();
    store
        .finish_provisioning_step(
            failed,
            ProvisionStep::Messenger,
            StepOutcome::Failed,
            None,
            Some("no APK"),
            now,
        )
        .await
        .unwrap();
    store
        .finish_provisioning_run(
            failed,
            RunOutcome::Failed,
            Some("messenger: no APK"),
            None,
            "provisioning",
            now,
        )
        .await
        .unwrap();
    let mut v = Visitor::logged_in(app.addr, Role::Auditor).await;
    let fleet = v.get("/fleet").await;
    assert!(fleet.body.contains("id=\"pending\""), "{}", fleet.body);
    assert!(fleet.body.contains("R58N1") && fleet.body.contains("R58N2"));
    assert!(
        fleet.body.contains("1 phone<"),
        "the enrolled count is the fleet's"
    );
    let failed = v.get("/fleet?status=failed").await;
    assert_eq!(failed.status, 200);
    assert!(failed.body.contains("R58N2") && !failed.body.contains("R58N1"));
    assert!(failed.body.contains("messenger") && failed.body.contains("no APK"));
    let enrolling = v.get("/fleet?status=enrolling&q=r58").await;
    assert!(enrolling.body.contains("R58N1") && !enrolling.body.contains("R58N2"));
    let filtered = v.get("/fleet?group=tills").await;
    assert!(
        !filtered.body.contains("R58N1"),
        "a device filter hides them"
    );
}
