//! The console's security over real HTTP: every route as every role and without a session
//! against the matrix written out below (a route missing from it fails), CSRF on every
//! state change, session rotation at login, logout, idle and absolute timeouts, login
//! throttling, answers that do not reveal user names, security headers, autoescaping.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::agents::TestAgent;
use common::console::{
    PASSWORD, Visitor, hidden_field, spawn_console, spawn_console_with, user_of,
};
use corral_controller::api::auth::Access;
use corral_controller::console::ConsoleOptions;
use corral_controller::console::clock::Clock;
use corral_controller::console::routes::{ROUTES, Verb};
use corral_controller::console::throttle::ThrottlePolicy;
use corral_controller::domain::{DeviceStatus, Role, Timestamp, UserName};

/// Who may use each console route: `A`dmin, `T`echnician, a`U`ditor; `public` needs no
/// session. Adding a route to `console::routes::ROUTES` without a row here fails.
const MATRIX: &[(&str, &str, &str)] = &[
    ("GET", "/", "ATU"),
    ("GET", "/login", "public"),
    ("POST", "/login", "public"),
    ("POST", "/logout", "ATU"),
    ("GET", "/fleet", "ATU"),
    ("GET", "/phones/{id}", "ATU"),
    ("GET", "/phones/{id}/commands/{command}", "ATU"),
    ("GET", "/phones/{id}/resync", "AT"),
    ("POST", "/phones/{id}/resync", "AT"),
    ("GET", "/phones/{id}/reboot", "AT"),
    ("POST", "/phones/{id}/reboot", "AT"),
    ("GET", "/phones/{id}/collect-logs", "AT"),
    ("POST", "/phones/{id}/collect-logs", "AT"),
    ("GET", "/phones/{id}/remove-work-profile", "A"),
    ("POST", "/phones/{id}/remove-work-profile", "A"),
    ("GET", "/phones/{id}/revoke", "A"),
    ("POST", "/phones/{id}/revoke", "A"),
    ("GET", "/profiles", "ATU"),
    ("GET", "/profiles/{name}", "ATU"),
    ("GET", "/profiles/{name}/versions/{version}", "ATU"),
    ("GET", "/profiles/{name}/diff", "ATU"),
    ("GET", "/audit", "ATU"),
    ("GET", "/static/console.css", "public"),
    ("GET", "/profiles/{name}/edit", "A"),
    ("POST", "/profiles/{name}/edit", "A"),
    ("GET", "/profile-upload", "A"),
    ("POST", "/profile-upload", "A"),
    ("POST", "/profile-upload/file", "A"),
    ("GET", "/profiles/{name}/source.toml", "ATU"),
    ("GET", "/profiles/{name}/versions/{version}/toml", "ATU"),
    ("GET", "/profiles/{name}/assign", "AT"),
    ("POST", "/profiles/{name}/assign", "AT"),
    ("POST", "/profiles/{name}/rollout/promote", "A"),
    ("POST", "/profiles/{name}/rollout/abort", "A"),
    ("GET", "/phones/{id}/clone", "AT"),
    ("POST", "/phones/{id}/clone", "AT"),
    ("GET", "/contacts", "ATU"),
    ("GET", "/contacts/new", "AT"),
    ("POST", "/contacts/new", "AT"),
    ("GET", "/contacts/{id}", "ATU"),
    ("POST", "/contacts/{id}", "AT"),
    ("GET", "/contacts/{id}/erase", "AT"),
    ("POST", "/contacts/{id}/erase", "AT"),
    ("GET", "/erasures/{id}", "ATU"),
    ("POST", "/contact-groups", "AT"),
    ("GET", "/audit/export.csv", "ATU"),
    ("GET", "/audit/export.json", "ATU"),
    ("GET", "/users", "A"),
    ("POST", "/users", "A"),
    ("POST", "/users/{name}/role", "A"),
    ("POST", "/users/{name}/disable", "A"),
    ("POST", "/users/{name}/enable", "A"),
    ("GET", "/account", "ATU"),
    ("POST", "/account/password", "ATU"),
    ("POST", "/account/sessions/{prefix}/end", "ATU"),
    ("GET", "/enrollment", "AT"),
    ("POST", "/enrollment/tokens", "AT"),
    ("POST", "/enrollment/tokens/{prefix}/revoke", "AT"),
    ("GET", "/provisioning", "ATU"),
    ("GET", "/consent-wording", "ATU"),
    ("POST", "/consent-wording", "A"),
    ("GET", "/contacts/{id}/consent", "ATU"),
    ("POST", "/contacts/{id}/consent-link", "AT"),
    ("GET", "/consent/{token}", "public"),
    ("POST", "/consent/{token}", "public"),
    ("POST", "/consent/{token}/withdraw", "public"),
    ("GET", "/privacy-notice", "public"),
    ("GET", "/erasures", "ATU"),
    ("GET", "/contacts/import", "AT"),
    ("POST", "/contacts/import", "AT"),
    ("POST", "/contacts/import/confirm", "AT"),
    ("GET", "/contacts/export.csv", "AT"),
    ("GET", "/contacts/export.vcf", "AT"),
    ("GET", "/contacts/{id}/record", "AT"),
    ("GET", "/contacts/{id}/record.json", "AT"),
    ("GET", "/privacy/records", "ATU"),
    ("GET", "/privacy/records.md", "ATU"),
    ("GET", "/privacy/records/edit", "A"),
    ("POST", "/privacy/records", "A"),
    ("POST", "/privacy/retention/run", "A"),
    ("POST", "/fleet/bulk", "AT"),
    ("GET", "/groups", "ATU"),
];

fn letter(role: Role) -> char {
    match role {
        Role::Admin => 'A',
        Role::Technician => 'T',
        Role::Auditor => 'U',
    }
}

fn concrete(path: &str) -> String {
    path.replace("{id}", "0123456789abcdef0123456789abcdef")
        .replace("{name}", "base")
        .replace("{version}", "sha256:0000000000000000")
        .replace("{prefix}", "0123456789ab")
        .replace("{token}", "cns-0123456789ab.unknown")
        .replace("{command}", "cmd-0123456789abcdef")
}

#[test]
fn the_route_table_and_the_matrix_agree() {
    let table: Vec<(String, String, String)> = ROUTES
        .iter()
        .map(|r| {
            let who = match r.access {
                Access::Public => "public".to_owned(),
                access => [Role::Admin, Role::Technician, Role::Auditor]
                    .into_iter()
                    .filter(|role| access.allows(*role))
                    .map(letter)
                    .collect(),
            };
            (r.verb.as_str().to_owned(), r.path.to_owned(), who)
        })
        .collect();
    let matrix: Vec<(String, String, String)> = MATRIX
        .iter()
        .map(|(v, p, w)| ((*v).to_owned(), (*p).to_owned(), (*w).to_owned()))
        .collect();
    assert_eq!(
        table, matrix,
        "console::routes::ROUTES and this test's MATRIX disagree"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_enforces_the_role_matrix() {
    let app = spawn_console().await;
    for (verb, path, who) in MATRIX {
        let path = concrete(path);
        let what = format!("{verb} {path}");
        let mut anonymous = Visitor::new(app.addr);
        let r = match *verb {
            "GET" => anonymous.get(&path).await,
            _ => anonymous.post(&path, &[("csrf", "x")]).await,
        };
        if *who == "public" {
            assert!(
                ![303, 403, 405].contains(&r.status)
                    || path == "/login"
                    // Without the link's form value: refused like a login without its cookie.
                    || (path.starts_with("/consent/") && *verb == "POST"),
                "{what}: {}",
                r.status
            );
            continue;
        }
        assert_eq!(r.status, 303, "{what} without a session: {}", r.body);
        assert_eq!(r.header("location"), Some("/login"), "{what}");
        for role in [Role::Admin, Role::Technician, Role::Auditor] {
            let mut v = Visitor::logged_in(app.addr, role).await;
            let r = match *verb {
                "GET" => v.get(&path).await,
                _ => {
                    let csrf = v.csrf().await;
                    v.post(&path, &[("csrf", &csrf), ("reason", "matrix")])
                        .await
                }
            };
            let allowed = who.contains(letter(role));
            let as_role = format!("{what} as {}", role.as_str());
            if allowed {
                assert!(
                    ![403, 405].contains(&r.status)
                        && (r.header("location") != Some("/login") || path == "/logout"),
                    "{as_role}: {} {}",
                    r.status,
                    r.body
                );
            } else {
                assert_eq!(r.status, 403, "{as_role}: {}", r.body);
                assert!(r.body.contains("may not do this"), "{as_role}: {}", r.body);
            }
        }
    }
    // No other method on a console path.
    let mut admin = Visitor::logged_in(app.addr, Role::Admin).await;
    let csrf = admin.csrf().await;
    for route in ROUTES
        .iter()
        .filter(|r| r.verb == Verb::Get && r.access != Access::Public)
    {
        if ROUTES
            .iter()
            .any(|o| o.path == route.path && o.verb == Verb::Post)
        {
            continue;
        }
        let r = admin.post(&concrete(route.path), &[("csrf", &csrf)]).await;
        assert_eq!(r.status, 405, "POST {}", route.path);
    }
}

async fn enrolled_phone(app: &common::console::Console) -> (TestAgent, String) {
    app.ctl.publish("base", "name = \"base\"\n").await;
    let token = app.ctl.token("base").await;
    let agent = TestAgent::enroll(&app.ctl, &token).await;
    let id = agent.device_id().to_string();
    (agent, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_change_needs_the_sessions_csrf_token() {
    let app = spawn_console().await;
    let (_agent, id) = enrolled_phone(&app).await;
    let path = format!("/phones/{id}/revoke");
    let mut admin = Visitor::logged_in(app.addr, Role::Admin).await;
    let mut other = Visitor::logged_in(app.addr, Role::Admin).await;
    let others_token = other.csrf().await;
    let mine = admin.csrf().await;
    for (what, fields) in [
        ("no token", vec![("reason", "lost")]),
        ("empty token", vec![("csrf", ""), ("reason", "lost")]),
        (
            "another session's token",
            vec![("csrf", others_token.as_str()), ("reason", "lost")],
        ),
    ] {
        let r = admin.post(&path, &fields).await;
        assert_eq!(r.status, 403, "{what}: {}", r.body);
        assert!(r.body.contains("CSRF"), "{what}: {}", r.body);
    }
    // From another site, even with the right token.
    let cookie = format!("corral-session={}", admin.cookie("corral-session").unwrap());
    let body = format!("csrf={mine}&reason=lost");
    let r = common::http::exchange(
        app.addr,
        &format!("POST {path} HTTP/1.1\r\nCookie: {cookie}\r\nOrigin: http://evil.example\r\nContent-Type: application/x-www-form-urlencoded"),
        body.as_bytes(),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(app.device_status(&id).await, DeviceStatus::Active);

    let r = admin
        .post(&path, &[("csrf", &mine), ("reason", "lost")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(app.device_status(&id).await, DeviceStatus::Revoked);
    let audit = admin.get("/audit?kind=device.revoked").await;
    assert!(audit.body.contains("user:ada"), "{}", audit.body);
    // A GET never changes anything: the confirmation page of a revoked phone refuses.
    assert_eq!(admin.get(&path).await.status, 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_rotates_the_session_and_logout_ends_it() {
    let app = spawn_console().await;
    let mut v = Visitor::logged_in(app.addr, Role::Auditor).await;
    let first = v.cookie("corral-session").unwrap().to_owned();
    assert!(
        v.cookie("corral-login").is_none(),
        "the login cookie is dropped after login"
    );
    // Logging in again, while logged in, ends the old session and issues a new id.
    let r = v.log_in(user_of(Role::Auditor), PASSWORD).await;
    assert_eq!(r.status, 303);
    let second = v.cookie("corral-session").unwrap().to_owned();
    assert_ne!(first, second);
    let mut stale = Visitor::new(app.addr);
    stale.cookies.push(("corral-session".into(), first));
    let r = stale.get("/fleet").await;
    assert_eq!((r.status, r.header("location")), (303, Some("/login")));
    // A session id the server never issued is not adopted by a login either.
    let mut fixated = Visitor::new(app.addr);
    let planted = "ses-0123456789ab.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    fixated
        .cookies
        .push(("corral-session".into(), planted.into()));
    fixated.log_in(user_of(Role::Auditor), PASSWORD).await;
    assert_ne!(fixated.cookie("corral-session"), Some(planted));
    // Logout ends the session on the server, not only in the browser.
    let csrf = v.csrf().await;
    let r = v.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!((r.status, r.header("location")), (303, Some("/login")));
    assert!(v.cookie("corral-session").is_none());
    let mut replay = Visitor::new(app.addr);
    replay.cookies.push(("corral-session".into(), second));
    assert_eq!(replay.get("/fleet").await.status, 303);
    let kinds = v.log_in(user_of(Role::Admin), PASSWORD).await;
    assert_eq!(kinds.status, 303);
    let audit = v.get("/audit?actor=user:otto").await.body;
    assert!(
        audit.contains("user.logged_in") && audit.contains("user.logged_out"),
        "{audit}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_when_idle_and_at_their_absolute_limit() {
    // The console's clock is moved by hand: no sleeping, no timing in the assertions.
    let (clock, hand) = Clock::manual(Timestamp::now());
    let app = spawn_console_with(ConsoleOptions {
        clock,
        ..ConsoleOptions::default()
    })
    .await;
    let mut v = Visitor::logged_in(app.addr, Role::Auditor).await;
    hand.advance(Duration::from_secs(29 * 60));
    assert_eq!(
        v.get("/fleet").await.status,
        200,
        "29 idle minutes are fine"
    );
    hand.advance(Duration::from_secs(30 * 60 + 1));
    assert_eq!(
        v.get("/fleet").await.header("location"),
        Some("/login"),
        "30 idle minutes end it"
    );

    // In constant use (never idle 30 minutes) it still ends 12 hours after login.
    let mut v = Visitor::logged_in(app.addr, Role::Auditor).await;
    for _ in 0..(12 * 60 / 20 - 1) {
        hand.advance(Duration::from_secs(20 * 60));
        assert_eq!(v.get("/fleet").await.status, 200);
    }
    hand.advance(Duration::from_secs(20 * 60));
    assert_eq!(
        v.get("/fleet").await.header("location"),
        Some("/login"),
        "a session in constant use still ends at its absolute limit"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_throttled_and_do_not_reveal_user_names() {
    let app = spawn_console_with(ConsoleOptions {
        throttle: ThrottlePolicy {
            per_user: 3,
            per_address: 5,
            ..ThrottlePolicy::default()
        },
        ..ConsoleOptions::default()
    })
    .await;
    let mut v = Visitor::new(app.addr);
    let wrong_password = v.log_in("ada", "not the password").await;
    let no_such_user = v.log_in("nobody", "not the password").await;
    assert_eq!(wrong_password.status, 401);
    assert_eq!(no_such_user.status, 401);
    let message = |body: &str| {
        body.lines()
            .find(|l| l.contains("role=\"alert\""))
            .map(str::to_owned)
    };
    assert_eq!(message(&wrong_password.body), message(&no_such_user.body));
    v.log_in("ada", "still not it").await;
    v.log_in("ada", "nor this one").await;
    // Locked now: even the right password is refused without being checked.
    let locked = v.log_in("ada", PASSWORD).await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    // The address has 4 failures; one more locks it for every user name.
    assert_eq!(v.log_in("tess", PASSWORD).await.status, 303);
    v.log_in("tess", "wrong again").await;
    assert_eq!(v.log_in("otto", PASSWORD).await.status, 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_console_answer_carries_the_security_headers() {
    let app = spawn_console().await;
    let mut anonymous = Visitor::new(app.addr);
    let mut auditor = Visitor::logged_in(app.addr, Role::Auditor).await;
    let answers = vec![
        anonymous.get("/login").await,
        anonymous.get("/fleet").await,
        anonymous.get("/static/console.css").await,
        anonymous.get("/no/such/page").await,
        auditor.get("/fleet").await,
        auditor.get("/phones/nope").await,
        auditor
            .get("/phones/0123456789abcdef0123456789abcdef/revoke")
            .await,
    ];
    for r in &answers {
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{r:?}"
        );
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(r.header("referrer-policy"), Some("same-origin"));
        assert_eq!(
            r.header("strict-transport-security"),
            None,
            "no HSTS over plain HTTP"
        );
    }
    assert_eq!(answers[3].status, 404);
    let login = &answers[0];
    let cookie = login.header("set-cookie").unwrap();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(
        !login.body.contains("<script"),
        "no script on the login page"
    );
    assert_eq!(answers[4].header("cache-control"), Some("no-store"));
}

#[test]
fn over_tls_cookies_are_host_prefixed_and_secure_and_hsts_is_sent() {
    use corral_controller::console::{headers, session};
    let cookie = session::set_cookie("corral-session", "v", None, true);
    assert_eq!(
        cookie.to_str().unwrap(),
        "__Host-corral-session=v; Path=/; HttpOnly; SameSite=Strict; Secure"
    );
    let plain = session::set_cookie("corral-session", "v", Some(0), false);
    assert_eq!(
        plain.to_str().unwrap(),
        "corral-session=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
    );
    let mut map = axum::http::HeaderMap::new();
    headers::apply(&mut map, true);
    assert!(map.contains_key("strict-transport-security"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_escape_what_they_show_and_passwords_are_argon2id() {
    let app = spawn_console().await;
    let mut v = Visitor::logged_in(app.addr, Role::Auditor).await;
    let page = v.get("/fleet?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
    assert_eq!(page.status, 200);
    assert!(
        !page.body.contains("<script>alert(1)"),
        "reflected unescaped"
    );
    assert!(
        page.body.contains("&lt;script&gt;alert(1)"),
        "{}",
        page.body
    );
    assert!(hidden_field(&page.body, "csrf").is_some());
    let (_, hash) = app
        .ctl
        .state
        .store
        .user_credentials(&UserName::parse("ada").unwrap())
        .await
        .unwrap();
    assert!(
        hash.as_phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        hash.as_phc()
    );
}
