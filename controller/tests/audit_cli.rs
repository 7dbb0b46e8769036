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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_run_prints_its_counts_and_audit_verify_still_passes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let url = format!("sqlite://{}", dir.path().join("audit.db").display());
    let store = Store::open(&format!("{url}?mode=rwc"), &StoreOptions::default())
        .await
        .unwrap();
    let day = std::time::Duration::from_secs(86_400);
    for (n, age) in [400u32, 300, 100, 1].into_iter().enumerate() {
        let event = NewEvent {
            device: None,
            actor: "user:alice".into(),
            kind: "test.event".into(),
            detail: serde_json::json!({ "n": n }),
        };
        store
            .append_event(&event, Timestamp::now().minus(day * age))
            .await
            .unwrap();
    }
    store.close().await;

    let out = corral()
        .args([
            "retention",
            "run",
            "--data-dir",
            data,
            "--database-url",
            &url,
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        text.trim(),
        "retention: 0 ended contacts erased (no basis for 30d), 3 audit details redacted (older than 90d), 1 events pruned (older than 365d)"
    );
    let (code, text) = verify(data, &url);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.starts_with("audit log OK: 5 events verified after the checkpoint at seq 1"),
        "{text}"
    );
}
