//! The contact book pages over real HTTP with a real session: a technician adds a group
//! and a contact through the forms (every problem shown at once, nothing stored), finds it
//! by search, changes its basis, erases it and lands on the erasure's per-phone proof; an
//! auditor reads but gets no form.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::console::{Visitor, spawn_console};
use corral_controller::domain::Role;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_technician_keeps_the_contact_book_through_the_console() {
    let app = spawn_console().await;
    let mut tech = Visitor::logged_in(app.addr, Role::Technician).await;
    let csrf = tech.csrf().await;

    let r = tech
        .post(
            "/contact-groups",
            &[
                ("csrf", &csrf),
                ("name", "staff"),
                ("description", "Shop staff"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);

    let r = tech
        .post(
            "/contacts/new",
            &[
                ("csrf", &csrf),
                ("name", ""),
                ("number", "030 1234567"),
                ("basis", "consent"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    for field in [
        "name",
        "number",
        "basis.wording",
        "basis.wording_version",
        "basis.channel",
    ] {
        assert!(
            r.body.contains(&format!("<strong>{field}</strong>")),
            "{field}: {}",
            r.body
        );
    }
    let list = tech.get("/contacts").await;
    assert!(list.body.contains("No contact matches."), "{}", list.body);

    let r = tech
        .post(
            "/contacts/new",
            &[
                ("csrf", &csrf),
                ("name", "Anna <Berg>"),
                ("number", "030 1234567"),
                ("region", "DE"),
                ("groups", "staff"),
                ("basis", "consent"),
                (
                    "wording",
                    "I agree that the shop's phones keep my name and number.",
                ),
                ("wording_version", "2026-11"),
                ("channel", "paper form"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = r.header("location").unwrap().to_owned();
    let shown = tech.get(&page).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(shown.body.contains("Anna &lt;Berg&gt;"), "{}", shown.body);
    assert!(shown.body.contains("+49301234567"));
    assert!(
        shown.body.contains("recorded by user:tess"),
        "{}",
        shown.body
    );

    let found = tech.get("/contacts?q=berg").await;
    assert!(found.body.contains(&page), "{}", found.body);
    let groups = tech.get("/contacts").await;
    assert!(groups.body.contains("Shop staff"));

    let r = tech
        .post(
            &page,
            &[
                ("csrf", &csrf),
                ("name", "Anna Berg"),
                ("number", "+49301234567"),
                ("groups", "staff"),
                ("basis", "contract"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(tech.get(&page).await.body.contains("contract"));

    let mut auditor = Visitor::logged_in(app.addr, Role::Auditor).await;
    let read = auditor.get(&page).await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert!(read.body.contains("Anna Berg") && !read.body.contains("id=\"save\""));

    let confirm = tech.get(&format!("{page}/erase")).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    let r = tech
        .post(
            &format!("{page}/erase"),
            &[("csrf", &csrf), ("reason", "withdrawal")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let proof = tech.get(r.header("location").unwrap()).await;
    assert_eq!(proof.status, 200, "{}", proof.body);
    assert!(proof.body.contains("withdrawal"), "{}", proof.body);
    assert!(proof.body.contains("id=\"complete\""), "{}", proof.body);
    assert_eq!(tech.get(&page).await.status, 404);
    let audit = tech.get("/audit?kind=contact.").await;
    assert!(!audit.body.contains("Anna"), "{}", audit.body);
    assert!(audit.body.contains("contact.erased"), "{}", audit.body);
}
