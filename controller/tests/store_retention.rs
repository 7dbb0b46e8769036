//! Storage suite, retention and the records of processing: the retention job erases
//! contacts without a basis past their window, redacts old event detail and prunes old
//! entries through a checkpoint — and the hash chain still verifies afterwards; only the
//! redaction form of UPDATE passes the schema; the record's editable fields keep who
//! changed them. On SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use common::db::TestStore;
use common::fixtures::*;
use corral_controller::config::Retention;
use corral_controller::domain::{Basis, ContactDraft, ContactGroup, ContactName, NewEvent};
use corral_controller::records::BasisCounts;
use corral_controller::store::{ChainVerdict, RetentionCounts};
use corral_profiles::PhoneNumber;
use sqlx::{Connection, Executor};

on_both_engines!(
    a_retention_run_purges_past_its_windows_and_the_chain_still_verifies,
    the_schema_allows_only_the_redaction_form_of_update,
    record_fields_keep_who_changed_them_and_audit_the_change,
);

fn draft(name: &str, number: &str, basis: Option<Basis>) -> ContactDraft {
    ContactDraft {
        name: ContactName::parse(name).unwrap(),
        number: PhoneNumber::parse(number, None).unwrap(),
        company: None,
        groups: [ContactGroup::parse("staff").unwrap()].into(),
        basis,
    }
}

fn event(n: usize) -> NewEvent {
    NewEvent {
        device: None,
        actor: "user:alice".into(),
        kind: "test.event".into(),
        detail: serde_json::json!({ "n": n, "client": "192.0.2.7" }),
    }
}

async fn intact(store: &TestStore) -> u64 {
    match store.verify_event_chain().await.unwrap() {
        ChainVerdict::Intact { events, .. } => events,
        ChainVerdict::Broken(found) => panic!("the chain is broken: {found}"),
    }
}

async fn raw(store: &TestStore, sql: &str) -> Result<(), sqlx::Error> {
    let mut conn = sqlx::AnyConnection::connect(&store.url).await.unwrap();
    let result = conn
        .execute(sqlx::AssertSqlSafe(sql.to_owned()))
        .await
        .map(|_| ());
    conn.close().await.unwrap();
    result
}

async fn a_retention_run_purges_past_its_windows_and_the_chain_still_verifies(store: TestStore) {
    let long_ago = NOW.minus(500 * DAY);
    store
        .create_contact_group(
            &ContactGroup::parse("staff").unwrap(),
            "",
            "user:admin",
            long_ago,
        )
        .await
        .unwrap();
    let kept = store
        .create_contact(
            &draft("Kept", "+49 30 1111111", Some(Basis::Contract)),
            "user:admin",
            long_ago,
        )
        .await
        .unwrap();
    // In time order, as a running controller appends.
    for (n, age) in [400, 380, 200, 100].into_iter().enumerate() {
        store
            .append_event(&event(n), NOW.minus(age * DAY))
            .await
            .unwrap();
    }
    store
        .create_contact(
            &draft("Ended", "+49 30 2222222", None),
            "user:admin",
            NOW.minus(40 * DAY),
        )
        .await
        .unwrap();
    store
        .append_event(&event(4), NOW.minus(30 * DAY))
        .await
        .unwrap();
    let recent = store
        .create_contact(
            &draft("Recent", "+49 30 3333333", None),
            "user:admin",
            NOW.minus(10 * DAY),
        )
        .await
        .unwrap();
    store.append_event(&event(5), NOW.minus(DAY)).await.unwrap();
    let before = store.events(None, 0, 1000).await.unwrap();
    let policy = Retention::default();

    let (counts, _queued) =
        corral_controller::retention::run_once(&store, &policy, NOW, "system:retention")
            .await
            .unwrap();

    assert_eq!(counts.contacts_erased, 1);
    let older_than_365 = before
        .iter()
        .filter(|e| e.at < NOW.minus(365 * DAY))
        .count();
    assert!(older_than_365 >= 3, "{before:?}");
    assert_eq!(counts.events_pruned, older_than_365 as u64);
    let older_than_90: usize = before.iter().filter(|e| e.at < NOW.minus(90 * DAY)).count();
    assert_eq!(counts.details_redacted, older_than_90 as u64);
    let mut ids: Vec<_> = store
        .contacts(&Default::default())
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    ids.sort();
    let mut expected = vec![kept.id, recent.id];
    expected.sort();
    assert_eq!(ids, expected);

    let after = store.events(None, 0, 1000).await.unwrap();
    assert!(after.iter().all(|e| e.at >= NOW.minus(365 * DAY)));
    for e in &after {
        let redacted = e.detail == serde_json::json!({ "redacted": true });
        assert_eq!(redacted, e.at < NOW.minus(90 * DAY), "{e:?}");
    }
    let kinds: Vec<&str> = after.iter().map(|e| e.kind.as_str()).collect();
    assert!(
        kinds.ends_with(&["audit.pruned", "retention.ran"]),
        "{kinds:?}"
    );
    assert!(kinds.contains(&"contact.erased"), "{kinds:?}");
    // The chain verifies from the checkpoint, redacted entries included.
    assert_eq!(intact(&store).await, after.len() as u64);

    let last = store.last_retention_run().await.unwrap().unwrap();
    assert_eq!(
        (last.at, last.actor.as_str(), &last.counts),
        (NOW, "system:retention", &counts)
    );

    // Nothing is left to do at the same time; the chain still verifies.
    let (again, _) =
        corral_controller::retention::run_once(&store, &policy, NOW, "system:retention")
            .await
            .unwrap();
    assert_eq!(again, RetentionCounts::default());
    intact(&store).await;

    // A year later everything of today goes, and the chain still verifies.
    let later = NOW.plus(400 * DAY);
    let (late, _) =
        corral_controller::retention::run_once(&store, &policy, later, "system:retention")
            .await
            .unwrap();
    assert!(late.events_pruned > 0);
    assert_eq!(
        late.contacts_erased, 1,
        "Recent has had no basis for 410 days"
    );
    intact(&store).await;
}

async fn the_schema_allows_only_the_redaction_form_of_update(store: TestStore) {
    for n in 0..3 {
        store.append_event(&event(n), NOW).await.unwrap();
    }
    for sql in [
        "UPDATE events SET detail = '{}', redacted_at = 1",
        "UPDATE events SET detail = '{\"redacted\":true}'",
        "UPDATE events SET detail_sha256 = NULL",
        "UPDATE events SET redacted_at = 1",
    ] {
        let e = raw(&store, sql).await.expect_err(sql).to_string();
        assert!(e.contains("append-only"), "{sql}: {e}");
    }
    assert_eq!(
        store
            .redact_event_details(NOW.plus(DAY), NOW)
            .await
            .unwrap(),
        3
    );
    let e = raw(&store, "UPDATE events SET redacted_at = NULL")
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("append-only"), "{e}");
    assert_eq!(
        store
            .redact_event_details(NOW.plus(DAY), NOW)
            .await
            .unwrap(),
        0
    );
    assert_eq!(intact(&store).await, 3);
}

async fn record_fields_keep_who_changed_them_and_audit_the_change(store: TestStore) {
    let fields = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    };
    let changed = store
        .set_privacy_record_fields(
            &fields(&[("controller", "Butcher Shop, Main St 1"), ("dpo", "")]),
            "user:alice",
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(changed, ["controller"]);
    let changed = store
        .set_privacy_record_fields(
            &fields(&[
                ("controller", "Butcher Shop, Main St 1"),
                ("dpo", "dpo@example.com"),
            ]),
            "user:bob",
            NOW.plus(HOUR),
        )
        .await
        .unwrap();
    assert_eq!(changed, ["dpo"]);
    let stored: Vec<_> = store
        .privacy_record_fields()
        .await
        .unwrap()
        .into_iter()
        .map(|f| (f.name, f.value, f.updated_by, f.updated_at))
        .collect();
    assert_eq!(
        stored,
        [
            (
                "controller".into(),
                "Butcher Shop, Main St 1".into(),
                "user:alice".into(),
                NOW
            ),
            (
                "dpo".into(),
                "dpo@example.com".into(),
                "user:bob".into(),
                NOW.plus(HOUR)
            ),
        ]
    );
    let events = store.events(None, 0, 100).await.unwrap();
    let audited: Vec<_> = events
        .iter()
        .filter(|e| e.kind == "privacy.records_updated")
        .map(|e| (e.actor.as_str(), e.detail.to_string()))
        .collect();
    assert_eq!(
        audited,
        [
            ("user:alice", r#"{"fields":["controller"]}"#.to_owned()),
            ("user:bob", r#"{"fields":["dpo"]}"#.to_owned()),
        ]
    );
    assert_eq!(store.basis_counts().await.unwrap(), BasisCounts::default());
}
