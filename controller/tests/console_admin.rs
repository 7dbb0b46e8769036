//! The console's admin half over real HTTP: the audit log's filters and CSV/JSON export,
//! users and roles (one-time or checked passwords, role changes, disabling that ends
//! sessions and API tokens at once, the last admin kept), account settings (password
//! change ending other sessions, one's own sessions listed and ended), CSRF refusal on
//! every POST route, and argon2id parameters read from the stored PHC string.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::console::{PASSWORD, Visitor, hidden_field, spawn_console, user_of};
use corral_controller::console::routes::{ROUTES, Verb};
use corral_controller::domain::{ApiToken, NewEvent, Role, Timestamp, UserName};
use corral_controller::store::StoreError;

fn name(text: &str) -> UserName {
    UserName::parse(text).unwrap()
}

/// The public half of a visitor's session id (`ses-<prefix>.<secret>`).
fn session_prefix(v: &Visitor) -> String {
    let value = v.cookie("corral-session").unwrap();
    value
        .strip_prefix("ses-")
        .unwrap()
        .split('.')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_export_is_the_filtered_view_as_csv_and_json() {
    let app = spawn_console().await;
    let store = &app.ctl.state.store;
    for actor in ["=HYPERLINK(\"http://evil.example\")", "user:plain"] {
        store
            .append_event(
                &NewEvent {
                    device: None,
                    actor: actor.into(),
                    kind: "test.exported".into(),
                    detail: serde_json::json!({ "note": "a, \"quoted\"\nline" }),
                },
                Timestamp::now(),
            )
            .await
            .unwrap();
    }
    let mut v = Visitor::logged_in(app.addr, Role::Auditor).await;
    let page = v.get("/audit?kind=test.exported").await;
    // Tera escapes `/` in attributes as `&#x2F;`; the browser reads it back as `/`.
    assert!(
        page.body.contains("export.csv?kind=test.exported\""),
        "{}",
        page.body
    );

    let csv = v.get("/audit/export.csv?kind=test.exported").await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(
        csv.header("content-disposition")
            .unwrap()
            .starts_with("attachment")
    );
    let lines: Vec<&str> = csv.body.split("\r\n").collect();
    assert_eq!(lines[0], "id,at,actor,kind,device,detail");
    // Newest first; the formula is defused and quoted; the detail's quotes are doubled.
    assert!(
        lines[1].contains(",user:plain,test.exported,,"),
        "{}",
        csv.body
    );
    assert!(
        csv.body
            .contains(r#","'=HYPERLINK(""http://evil.example"")",test.exported,"#),
        "{}",
        csv.body
    );
    assert!(
        csv.body
            .contains(r#""{""note"":""a, \""quoted\""\nline""}""#),
        "{}",
        csv.body
    );
    assert_eq!(csv.body.matches("test.exported").count(), 2);

    let json = v
        .get("/audit/export.json?kind=test.exported&actor=user%3Aplain")
        .await;
    assert_eq!(json.header("content-type"), Some("application/json"));
    let items: Vec<serde_json::Value> = serde_json::from_str(&json.body).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["actor"], "user:plain");
    assert_eq!(items[0]["detail"]["note"], "a, \"quoted\"\nline");

    // A time range: nothing before 2000, everything since.
    let old = v
        .get("/audit/export.json?kind=test.exported&to=2000-01-01")
        .await;
    assert_eq!(old.body, "[]");
    let recent = v
        .get("/audit/export.json?kind=test.exported&from=2000-01-01T00:00")
        .await;
    assert_eq!(
        serde_json::from_str::<Vec<serde_json::Value>>(&recent.body)
            .unwrap()
            .len(),
        2
    );
    assert_eq!(v.get("/audit?from=yesterday").await.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_create_users_with_a_one_time_or_a_checked_password() {
    let app = spawn_console().await;
    let mut admin = Visitor::logged_in(app.addr, Role::Admin).await;
    let csrf = admin.csrf().await;
    let created = admin
        .post(
            "/users",
            &[("csrf", &csrf), ("name", "carl"), ("role", "technician")],
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let at = created.body.find("id=\"one-time-password\">").unwrap();
    let password = created.body[at + 23..]
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(password.len(), 24, "{password}");
    // Shown once: the list does not hold it.
    assert!(!admin.get("/users").await.body.contains(&password));
    let mut carl = Visitor::new(app.addr);
    assert_eq!(carl.log_in("carl", &password).await.status, 303);
    assert!(carl.get("/fleet").await.body.contains("technician"));

    for (typed, why) in [
        ("short one", "at least 12 characters"),
        ("Password1234", "commonly used"),
        ("dora-is-my-name", "user name"),
    ] {
        let r = admin
            .post(
                "/users",
                &[
                    ("csrf", &csrf),
                    ("name", "dora"),
                    ("role", "auditor"),
                    ("password", typed),
                ],
            )
            .await;
        assert_eq!(r.status, 400, "{typed}");
        assert!(r.body.contains(why), "{typed}: {}", r.body);
    }
    let r = admin
        .post(
            "/users",
            &[
                ("csrf", &csrf),
                ("name", "dora"),
                ("role", "auditor"),
                ("password", "a sound passphrase"),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(!r.body.contains("one-time-password"));
    assert_eq!(
        Visitor::new(app.addr)
            .log_in("dora", "a sound passphrase")
            .await
            .status,
        303
    );
    // A taken name is a conflict, not a second user.
    let r = admin
        .post(
            "/users",
            &[("csrf", &csrf), ("name", "dora"), ("role", "admin")],
        )
        .await;
    assert_eq!(r.status, 409);

    // The role changes and the audit log says who did it.
    let r = admin
        .post("/users/carl/role", &[("csrf", &csrf), ("role", "auditor")])
        .await;
    assert_eq!(r.status, 303);
    assert!(carl.get("/fleet").await.body.contains("auditor"));
    let audit = admin
        .get("/audit/export.json?actor=user%3Aada&kind=user.")
        .await;
    let kinds: Vec<String> = serde_json::from_str::<Vec<serde_json::Value>>(&audit.body)
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert!(kinds.contains(&"user.created".to_owned()), "{kinds:?}");
    assert!(kinds.contains(&"user.role_changed".to_owned()), "{kinds:?}");

    // argon2id with at least m = 19456 KiB and t = 2, read from the stored PHC string.
    let (_, hash) = app
        .ctl
        .state
        .store
        .user_credentials(&name("carl"))
        .await
        .unwrap();
    let phc = argon2::password_hash::PasswordHash::new(hash.as_phc()).unwrap();
    assert_eq!(phc.algorithm.as_str(), "argon2id");
    let param = |key: &str| phc.params.get_decimal(key).unwrap();
    assert!(
        param("m") >= 19_456 && param("t") >= 2 && param("p") >= 1,
        "{}",
        hash.as_phc()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_a_user_ends_their_sessions_and_api_tokens_at_once() {
    let app = spawn_console().await;
    let store = &app.ctl.state.store;
    let mut tess = Visitor::logged_in(app.addr, Role::Technician).await;
    let (user, _) = store.user_credentials(&name("tess")).await.unwrap();
    let token = ApiToken::generate();
    store
        .create_api_token(&user, &token, "cli", None, Timestamp::now())
        .await
        .unwrap();
    assert!(
        store
            .authenticate_api_token(&token, Timestamp::now())
            .await
            .is_ok()
    );

    let mut admin = Visitor::logged_in(app.addr, Role::Admin).await;
    let csrf = admin.csrf().await;
    let r = admin.post("/users/tess/disable", &[("csrf", &csrf)]).await;
    assert_eq!((r.status, r.header("location")), (303, Some("/users")));
    let r = tess.get("/fleet").await;
    assert_eq!((r.status, r.header("location")), (303, Some("/login")));
    assert!(matches!(
        store.authenticate_api_token(&token, Timestamp::now()).await,
        Err(StoreError::Forbidden(_))
    ));
    assert_eq!(
        Visitor::new(app.addr).log_in("tess", PASSWORD).await.status,
        401
    );
    assert!(admin.get("/users").await.body.contains("disabled since"));

    let r = admin.post("/users/tess/enable", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303);
    Visitor::logged_in(app.addr, Role::Technician).await;
    // The revoked token stays revoked.
    assert!(
        store
            .authenticate_api_token(&token, Timestamp::now())
            .await
            .is_err()
    );
    let audit = admin.get("/audit?kind=user.disabled").await.body;
    assert!(audit.contains("sessions_ended"), "{audit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_admin_can_be_neither_disabled_nor_demoted() {
    let app = spawn_console().await;
    let mut ada = Visitor::logged_in(app.addr, Role::Admin).await;
    let csrf = ada.csrf().await;
    // `corral serve` made a first admin, `admin`; disabling it leaves ada the last one.
    let r = ada.post("/users/admin/disable", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = ada.post("/users/ada/disable", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("last active admin"), "{}", r.body);
    let r = ada
        .post("/users/ada/role", &[("csrf", &csrf), ("role", "auditor")])
        .await;
    assert_eq!(r.status, 409);
    // With a second admin, demoting the first works, and the second is then the last.
    ada.post("/users/tess/role", &[("csrf", &csrf), ("role", "admin")])
        .await;
    let r = ada
        .post("/users/ada/role", &[("csrf", &csrf), ("role", "auditor")])
        .await;
    assert_eq!(r.status, 303);
    let store = &app.ctl.state.store;
    let err = store
        .set_user_disabled(&name("tess"), true, "test", Timestamp::now())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_ones_password_needs_the_current_one_and_ends_other_sessions() {
    let app = spawn_console().await;
    let mut here = Visitor::logged_in(app.addr, Role::Auditor).await;
    let mut elsewhere = Visitor::logged_in(app.addr, Role::Auditor).await;
    let csrf = here.csrf().await;
    let new = "a brand new passphrase";
    let wrong = here
        .post(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current", "not my password"),
                ("new", new),
                ("confirm", new),
            ],
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert!(
        wrong.body.contains("current password is wrong"),
        "{}",
        wrong.body
    );
    let weak = here
        .post(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current", PASSWORD),
                ("new", "123456789012"),
                ("confirm", "123456789012"),
            ],
        )
        .await;
    assert_eq!(weak.status, 400);
    let ok = here
        .post(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current", PASSWORD),
                ("new", new),
                ("confirm", new),
            ],
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(ok.body.contains("1 other session(s) ended"), "{}", ok.body);
    assert_eq!(here.get("/fleet").await.status, 200, "this session stays");
    assert_eq!(
        elsewhere.get("/fleet").await.status,
        303,
        "the other one ended"
    );
    assert_eq!(
        Visitor::new(app.addr).log_in("otto", PASSWORD).await.status,
        401
    );
    assert_eq!(Visitor::new(app.addr).log_in("otto", new).await.status, 303);
    let audit = Visitor::logged_in(app.addr, Role::Admin)
        .await
        .get("/audit?kind=user.password_changed")
        .await
        .body;
    assert!(audit.contains("user:otto"), "{audit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_list_and_end_their_own_sessions_only() {
    let app = spawn_console().await;
    let mut one = Visitor::logged_in(app.addr, Role::Technician).await;
    let mut two = Visitor::logged_in(app.addr, Role::Technician).await;
    let mut ada = Visitor::logged_in(app.addr, Role::Admin).await;
    let account = one.get("/account").await.body;
    let (mine, theirs) = (session_prefix(&one), session_prefix(&two));
    assert!(
        account.contains(&format!("{mine}</code> (this one)")),
        "{account}"
    );
    assert!(account.contains(&theirs), "{account}");
    assert!(
        !account.contains(&session_prefix(&ada)),
        "only one's own sessions"
    );

    let csrf = one.csrf().await;
    let r = one
        .post(
            &format!("/account/sessions/{theirs}/end"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!((r.status, r.header("location")), (303, Some("/account")));
    assert_eq!(two.get("/fleet").await.status, 303);
    // Another user's session cannot be named.
    let r = one
        .post(
            &format!("/account/sessions/{}/end", session_prefix(&ada)),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(ada.get("/fleet").await.status, 200);
    // Ending the current one logs out.
    let r = one
        .post(&format!("/account/sessions/{mine}/end"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.header("location"), Some("/login"));
    assert_eq!(one.get("/fleet").await.status, 303);
    let _ = user_of(Role::Technician);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_post_route_refuses_a_missing_or_foreign_csrf_token() {
    let app = spawn_console().await;
    let mut admin = Visitor::logged_in(app.addr, Role::Admin).await;
    let mut other = Visitor::logged_in(app.addr, Role::Admin).await;
    let foreign = other.csrf().await;
    let posts: Vec<&str> = ROUTES
        .iter()
        .filter(|r| r.verb == Verb::Post)
        .map(|r| r.path)
        .collect();
    assert!(posts.len() >= 10, "{posts:?}");
    for path in posts {
        let path = path
            .replace("{id}", "0123456789abcdef0123456789abcdef")
            .replace("{name}", "tess")
            .replace("{prefix}", "0123456789ab");
        for fields in [vec![("reason", "x")], vec![("csrf", foreign.as_str())]] {
            let r = admin.post(&path, &fields).await;
            assert_eq!(r.status, 403, "POST {path} with {fields:?}: {}", r.body);
            assert!(
                r.body.contains("CSRF") || r.body.contains("login form"),
                "POST {path}: {}",
                r.body
            );
        }
    }
    // Nothing changed: tess is still active and ada still logged in.
    Visitor::logged_in(app.addr, Role::Technician).await;
    assert_eq!(admin.get("/fleet").await.status, 200);
    assert!(hidden_field(&admin.get("/fleet").await.body, "csrf").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrollment_tokens_are_shown_once_with_their_command_and_can_be_revoked() {
    let app = spawn_console().await;
    let mut tess = Visitor::logged_in(app.addr, Role::Technician).await;
    let csrf = tess.csrf().await;
    let r = tess
        .post(
            "/enrollment/tokens",
            &[("csrf", &csrf), ("group", "tills"), ("expires", "2h")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let at = r.body.find("<code id=\"token\">").unwrap();
    let token = r.body[at + 17..].split('<').next().unwrap().to_owned();
    let fingerprint = app.ctl.state.ca.fingerprint().to_owned();
    assert!(
        r.body
            .contains(&format!("--ca-fingerprint {fingerprint} --token {token}")),
        "{}",
        r.body
    );
    // The same arguments as a `corral-enroll://` link, drawn as an inline SVG QR code, and
    // the station's command (an API token, not this one; a group has no --profile).
    assert!(
        r.body.contains(&format!(
            "corral-enroll:&#x2F;&#x2F;localhost:{}?ca={fingerprint}&amp;token={token}",
            app.ctl.state.config.enrollment_listen.port(),
        )),
        "{}",
        r.body
    );
    let qr = &r.body[r.body.find("id=\"enroll-qr\"").expect("the QR figure")..];
    assert!(
        qr.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""),
        "{qr}"
    );
    assert!(
        qr.contains("<path fill=\"#000\" d=\"M"),
        "unescaped markup: {qr}"
    );
    assert!(
        r.body
            .contains("corral enroll --all --controller http:&#x2F;&#x2F;localhost:")
            && r.body.contains(" --token-file station-token.txt</pre>"),
        "{}",
        r.body
    );
    let prefix = token
        .split('-')
        .nth(1)
        .unwrap()
        .split('.')
        .next()
        .unwrap()
        .to_owned();
    let list = tess.get("/enrollment").await.body;
    assert!(!list.contains(&token), "the secret is shown only once");
    assert!(
        list.contains(&prefix) && list.contains("group tills") && list.contains("usable"),
        "{list}"
    );
    let r = tess
        .post(
            &format!("/enrollment/tokens/{prefix}/revoke"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(tess.get("/enrollment").await.body.contains("revoked"));
    let r = tess
        .post(
            "/enrollment/tokens",
            &[("csrf", &csrf), ("profile", "a"), ("group", "b")],
        )
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_provisioning_view_shows_every_stations_runs_and_refreshes_itself() {
    use corral_controller::domain::{ProfileName, ProvisionStep};
    let app = spawn_console().await;
    let store = &app.ctl.state.store;
    let profile = ProfileName::parse("base").unwrap();
    let run = store
        .start_provisioning_run("R58M1234", &profile, "station:test", Timestamp::now())
        .await
        .unwrap();
    store
        .start_provisioning_step(run, ProvisionStep::WorkProfile, Timestamp::now())
        .await
        .unwrap();
    let mut otto = Visitor::logged_in(app.addr, Role::Auditor).await;
    let page = otto.get("/provisioning").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("<meta http-equiv=\"refresh\" content=\"5\">"),
        "{}",
        page.body
    );
    assert!(page.body.contains("R58M1234"), "{}", page.body);
    assert!(
        page.body.contains("work_profile (running)"),
        "{}",
        page.body
    );
    assert!(page.body.contains("in progress"), "{}", page.body);
}
