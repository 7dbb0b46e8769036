//! Double opt-in over real HTTP: an admin sets the consent wording, a technician creates a
//! contact's consent link (shown once); the person opens it without any session, sees the
//! wording under a strict policy with no cookie, confirms once (the form value bound to the
//! link is required), and withdraws through the same link, which erases them; unusable
//! links are throttled per client address.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::console::{Visitor, hidden_field, spawn_console_with};
use corral_controller::console::ConsoleOptions;
use corral_controller::console::throttle::ThrottlePolicy;
use corral_controller::domain::{Basis, ContactId, Role};

const WORDING: &str = "I agree that Butcher Berg keeps my name & number on its work phones.";

fn options() -> ConsoleOptions {
    ConsoleOptions {
        consent_throttle: ThrottlePolicy {
            per_user: 1000,
            per_address: 4,
            window: Duration::from_secs(900),
            capacity: 1000,
        },
        ..ConsoleOptions::default()
    }
}

/// The path of the link on the page that shows it once.
fn link_path(page: &str) -> String {
    let at = page.find("id=\"consent-url\">").expect(page) + "id=\"consent-url\">".len();
    // Tera escapes `/` as `&#x2F;`.
    let url = page[at..].split('<').next().unwrap().replace("&#x2F;", "/");
    let path = &url[url.find("/consent/").unwrap()..];
    path.to_owned()
}

fn assert_public_headers(r: &common::http::Response, what: &str) {
    assert_eq!(
        r.header("content-security-policy"),
        Some("default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'"),
        "{what}"
    );
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"), "{what}");
    assert_eq!(r.header("set-cookie"), None, "{what}");
    assert!(!r.body.contains("<script"), "{what}");
    assert!(!r.body.contains("src=\"http"), "{what}");
    assert!(
        !r.body.contains("href=\"http"),
        "{what}: only the built-in notice here"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_confirms_and_withdraws_through_their_link() {
    let app = spawn_console_with(options()).await;
    let mut admin = Visitor::logged_in(app.addr, Role::Admin).await;
    let csrf = admin.csrf().await;
    let r = admin
        .post(
            "/consent-wording",
            &[
                ("csrf", &csrf),
                ("shop_name", "Butcher Berg"),
                ("wording", WORDING),
                ("privacy_url", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = admin.get("/consent-wording").await;
    assert!(r.body.contains("v1"), "{}", r.body);

    let mut tech = Visitor::logged_in(app.addr, Role::Technician).await;
    let csrf = tech.csrf().await;
    tech.post("/contact-groups", &[("csrf", &csrf), ("name", "suppliers")])
        .await;
    let r = tech
        .post(
            "/contacts/new",
            &[
                ("csrf", &csrf),
                ("name", "Anna Berg"),
                ("number", "+49 30 1234567"),
                ("groups", "suppliers"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let contact_page = r.header("location").unwrap().to_owned();
    let id = ContactId::parse(contact_page.trim_start_matches("/contacts/")).unwrap();
    let r = tech
        .post(
            &format!("{contact_page}/consent-link"),
            &[("csrf", &csrf), ("days", "7")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let path = link_path(&r.body);
    let listed = tech.get(&format!("{contact_page}/consent")).await;
    assert!(
        listed.body.contains("waiting for the person"),
        "{}",
        listed.body
    );
    assert!(!listed.body.contains(&path), "the link is shown only once");

    // The person: no session. A browser that also holds an admin session sends that
    // cookie; the public page ignores it and sets none.
    let mut person = Visitor::new(app.addr);
    person.cookies = admin.cookies.clone();
    let page = person.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_public_headers(&page, "consent page");
    assert!(page.body.contains("Butcher Berg"), "{}", page.body);
    assert!(
        page.body.contains("keeps my name &amp; number"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("href=\"&#x2F;privacy-notice\""),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("Anna"),
        "the page shows nothing about the person"
    );
    let form = hidden_field(&page.body, "csrf").unwrap();
    let forged = person.post(&path, &[("csrf", "x")]).await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    let confirmed = person.post(&path, &[("csrf", &form)]).await;
    assert_eq!(confirmed.status, 303, "{}", confirmed.body);
    assert_public_headers(&confirmed, "confirmation");
    let Some(Basis::Consent(c)) = app.ctl.state.store.contact(&id).await.unwrap().basis else {
        panic!("no consent");
    };
    assert_eq!(
        (
            c.wording.as_str(),
            c.wording_version.as_str(),
            c.channel.as_str()
        ),
        (WORDING, "v1", "double opt-in link")
    );
    let page = person.get(&path).await;
    assert!(page.body.contains("id=\"withdraw\""), "{}", page.body);
    let again = person.post(&path, &[("csrf", &form)]).await;
    assert_eq!(
        again.status, 200,
        "a second confirmation changes nothing: {}",
        again.body
    );
    assert!(again.body.contains("You agreed on"), "{}", again.body);

    let notice = person.get("/privacy-notice").await;
    assert_eq!(notice.status, 200);
    assert_public_headers(&notice, "privacy notice");

    let withdrawn = person
        .post(&format!("{path}/withdraw"), &[("csrf", &form)])
        .await;
    assert_eq!(withdrawn.status, 200, "{}", withdrawn.body);
    assert!(
        withdrawn.body.contains("Consent withdrawn"),
        "{}",
        withdrawn.body
    );
    assert!(app.ctl.state.store.contact(&id).await.is_err());
    let gone = person.get(&path).await;
    assert_eq!(gone.status, 404, "{}", gone.body);
    let erasures = admin.get("/erasures").await;
    assert!(erasures.body.contains("withdrawal"), "{}", erasures.body);
    assert!(erasures.body.contains("contact:p-"), "{}", erasures.body);
    // The audit log never holds the token.
    let secret = path.rsplit('.').next().unwrap();
    let audit = admin.get("/audit/export.json").await;
    assert!(!audit.body.contains(secret), "{}", audit.body);
    assert!(!audit.body.contains("Anna"), "{}", audit.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_links_are_throttled_per_address() {
    let app = spawn_console_with(options()).await;
    let mut guesser = Visitor::new(app.addr);
    for n in 0..4 {
        let r = guesser
            .get(&format!(
                "/consent/cns-0123456789ab.{}",
                "A".repeat(40) + &format!("{n:03}")
            ))
            .await;
        assert_eq!(r.status, 404, "{}", r.body);
        assert_public_headers(&r, "unknown link");
    }
    let r = guesser.get("/consent/anything").await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.body.contains("Too many"), "{}", r.body);
}
