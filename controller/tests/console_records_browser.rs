//! The contact import in real headless Chromium: pick a CSV file with one broken row in
//! the file picker, see the row's problem at its line in the preview, tick the box to skip
//! it, confirm, and find the imported contacts in the book. Screenshots
//! `contacts-import` (the preview) and `contacts-imported` go to
//! `target/console-screenshots/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::console::{PASSWORD, spawn_console, user_of};
use common::webdriver::Browser;
use corral_controller::domain::Role;

const BOOK: &str = "name,number,region,company,groups,basis\n\
Anna Berg,030 1234567,DE,Berg GmbH,,contract\n\
Broken Row,not a number,DE,,,contract\n\
Carl Dahl,+49 30 7654321,,,,contract\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_technician_imports_a_csv_skipping_its_broken_row() {
    let app = spawn_console().await;
    let base = format!("http://{}", app.addr);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("book.csv");
    std::fs::write(&file, BOOK).unwrap();
    let browser = Browser::start().await;

    browser.goto(&format!("{base}/login")).await;
    browser.type_into("#name", user_of(Role::Technician)).await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("#login").await;
    browser
        .wait_for_url("the fleet after login", |u| u.ends_with("/fleet"))
        .await;

    browser.goto(&format!("{base}/contacts")).await;
    browser.click("#import-contacts").await;
    browser
        .wait_for_url("the import page", |u| u.ends_with("/contacts/import"))
        .await;
    browser.type_into("#file", file.to_str().unwrap()).await;
    browser.click("#preview").await;
    let summary = browser.text("#summary").await;
    assert!(
        summary.contains("2 valid row(s), 1 broken row(s)"),
        "{summary}"
    );
    let errors = browser.text("#row-errors").await;
    assert!(
        errors.contains("3 number"),
        "the error is at line 3: {errors}"
    );
    let valid = browser.text("#valid-rows").await;
    assert!(
        valid.contains("Anna Berg") && valid.contains("Carl Dahl"),
        "{valid}"
    );
    browser.screenshot("contacts-import").await;
    assert!(
        app.ctl.state.store.contact_count().await.unwrap() == 0,
        "nothing is imported before the confirmation"
    );

    browser.click("#skip-broken").await;
    browser.click("#confirm-import").await;
    browser
        .wait_for_url("the contact book", |u| u.ends_with("/contacts"))
        .await;
    let book = browser.text("#contacts").await;
    assert!(
        book.contains("Anna Berg") && book.contains("Carl Dahl"),
        "{book}"
    );
    assert!(!book.contains("Broken Row"), "{book}");
    browser.screenshot("contacts-imported").await;
    browser.quit().await;
}
