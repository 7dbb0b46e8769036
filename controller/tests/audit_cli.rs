//! `corral audit verify` as an operator runs it: on an intact log it prints OK with the
//! count and exits 0; after a row is changed behind the store's back (its trigger
//! dropped) it names that row and exits 2.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::binary::corral;
use corral_controller::domain::{NewEvent, Timestamp};
use corral_controller::store::{Store, StoreOptions};
use sqlx::{Connection, Executor};

fn verify(data: &str, url: &str) -> (Option<i32>, String) {
    let out = corral()
        .args(["audit", "verify", "--data-dir", data, "--database-url", url])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_reports_ok_then_names_the_tampered_entry() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let url = format!("sqlite://{}", dir.path().join("audit.db").display());
    let store = Store::open(&format!("{url}?mode=rwc"), &StoreOptions::default())
        .await
        .unwrap();
    let mut ids = Vec::new();
    for n in 0..5 {
        let event = NewEvent {
            device: None,
            actor: "user:alice".into(),
            kind: "test.event".into(),
            detail: serde_json::json!({ "n": n }),
        };
        ids.push(
            store
                .append_event(&event, Timestamp::now())
                .await
                .unwrap()
                .id,
        );
    }
    store.close().await;

    let (code, text) = verify(data, &url);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(text.trim(), "audit log OK: 5 events verified");

    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    conn.execute("DROP TRIGGER events_are_append_only_update")
        .await
        .unwrap();
    let victim = ids[2];
    conn.execute(sqlx::AssertSqlSafe(format!(
        "UPDATE events SET detail = '{{\"n\":99}}' WHERE id = {victim}"
    )))
    .await
    .unwrap();
    conn.close().await.unwrap();

    let (code, text) = verify(data, &url);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.starts_with(&format!(
            "audit log TAMPERED: first bad entry: event id {victim} (seq 3): its content"
        )),
        "{text}"
    );
}
