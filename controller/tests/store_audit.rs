//! Storage suite, the hash-chained audit log: every way of appending (one event, a
//! group-committed batch of agents' answers, concurrent writers) keeps one unbroken
//! chain; a row changed or deleted behind the store's back (its trigger dropped first) is
//! named by verification; the schema refuses UPDATE and DELETE; pruning goes through a
//! checkpoint; the console's filters include a time range. On SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use common::db::TestStore;
use common::fixtures::*;
use corral_controller::domain::{ApplyOutcome, ApplyResult, DeviceReport, NewEvent};
use corral_controller::store::{AgentAnswer, AnswerReport, ChainVerdict, Engine, EventFilter};
use sqlx::{Connection, Executor};

on_both_engines!(
    appends_of_every_kind_form_one_intact_chain,
    concurrent_appends_never_fork_the_chain,
    a_changed_row_is_named_by_verification,
    a_deleted_row_is_named_by_verification,
    a_cut_off_tail_is_detected,
    the_schema_refuses_update_and_delete_of_events,
    pruning_goes_through_an_audited_checkpoint,
    the_audit_log_filters_by_time_range,
);

fn admin_event(n: usize) -> NewEvent {
    NewEvent {
        device: None,
        actor: "user:alice".into(),
        kind: "test.event".into(),
        detail: serde_json::json!({ "n": n, "text": "line\nbreak, \"quoted\"" }),
    }
}

async fn append(store: &TestStore, n: usize) {
    for i in 0..n {
        store.append_event(&admin_event(i), NOW).await.unwrap();
    }
}

async fn intact(store: &TestStore) -> u64 {
    match store.verify_event_chain().await.unwrap() {
        ChainVerdict::Intact { events, .. } => events,
        ChainVerdict::Broken(found) => panic!("the chain is broken: {found}"),
    }
}

async fn broken(store: &TestStore) -> corral_controller::audit_chain::Break {
    match store.verify_event_chain().await.unwrap() {
        ChainVerdict::Broken(found) => found,
        other => panic!("tampering went unnoticed: {other:?}"),
    }
}

async fn total_events(store: &TestStore) -> u64 {
    store.events(None, 0, 100_000).await.unwrap().len() as u64
}

/// Runs `sql` behind the store's back, on a raw connection.
async fn raw(store: &TestStore, sql: &str) -> Result<(), sqlx::Error> {
    let mut conn = sqlx::AnyConnection::connect(&store.url).await.unwrap();
    let result = conn
        .execute(sqlx::AssertSqlSafe(sql.to_owned()))
        .await
        .map(|_| ());
    conn.close().await.unwrap();
    result
}

/// Drops the triggers that keep the log append-only, as an attacker with the database's
/// owner rights could.
async fn drop_guards(store: &TestStore) {
    match store.engine() {
        Engine::Sqlite => {
            raw(store, "DROP TRIGGER events_are_append_only_update")
                .await
                .unwrap();
            raw(store, "DROP TRIGGER events_are_append_only_delete")
                .await
                .unwrap();
        }
        Engine::Postgres => {
            raw(store, "DROP TRIGGER events_are_append_only ON events")
                .await
                .unwrap();
        }
    }
}

async fn id_of_seq(store: &TestStore, seq: i64) -> i64 {
    let mut conn = sqlx::AnyConnection::connect(&store.url).await.unwrap();
    let row = sqlx::query("SELECT id FROM events WHERE seq = $1")
        .bind(seq)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    sqlx::Row::get::<i64, _>(&row, "id")
}

async fn appends_of_every_kind_form_one_intact_chain(store: TestStore) {
    // Single events inside other changes (enrollment, publishing) and on their own.
    let mut devices = Vec::new();
    for _ in 0..3 {
        devices.push(enrolled(&store, "shop").await);
    }
    let (hash, text) = version("v1");
    store
        .publish_profile_version(&profile("shop"), &hash, &text, "test", NOW)
        .await
        .unwrap();
    append(&store, 3).await;
    // A group-committed batch: its "applied" events go in one multi-row INSERT.
    let batch: Vec<AgentAnswer> = devices
        .iter()
        .map(|device| AgentAnswer {
            device: device.clone(),
            push_seq: Some(1),
            report: Some(AnswerReport::Device(DeviceReport {
                seq: 1,
                applied: vec![ApplyResult {
                    version: hash.clone(),
                    outcome: ApplyOutcome::Applied,
                }],
                ..DeviceReport::default()
            })),
        })
        .collect();
    store.record_answers(&batch, NOW).await.unwrap();
    let applied = store
        .events(None, 0, 1000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.kind == "profile.applied")
        .count();
    assert_eq!(applied, 3);
    assert_eq!(intact(&store).await, total_events(&store).await);
}

async fn concurrent_appends_never_fork_the_chain(store: TestStore) {
    let store = std::sync::Arc::new(store);
    let mut tasks = Vec::new();
    for t in 0..8 {
        let store = std::sync::Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            for i in 0..10 {
                store
                    .append_event(&admin_event(t * 100 + i), NOW)
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(intact(&store).await, 80);
}

async fn a_changed_row_is_named_by_verification(store: TestStore) {
    append(&store, 6).await;
    assert_eq!(intact(&store).await, 6);
    drop_guards(&store).await;
    let victim = id_of_seq(&store, 4).await;
    raw(
        &store,
        &format!("UPDATE events SET actor = 'user:mallory' WHERE id = {victim}"),
    )
    .await
    .unwrap();
    let found = broken(&store).await;
    assert_eq!((found.id, found.seq), (Some(victim), Some(4)));
    assert!(found.what.contains("content"), "{found}");
}

async fn a_deleted_row_is_named_by_verification(store: TestStore) {
    append(&store, 6).await;
    drop_guards(&store).await;
    let gone = id_of_seq(&store, 3).await;
    let next = id_of_seq(&store, 4).await;
    raw(&store, &format!("DELETE FROM events WHERE id = {gone}"))
        .await
        .unwrap();
    let found = broken(&store).await;
    assert_eq!((found.id, found.seq), (Some(next), Some(4)));
    assert!(found.what.contains("entries 3 to 3 are missing"), "{found}");
}

async fn a_cut_off_tail_is_detected(store: TestStore) {
    append(&store, 5).await;
    drop_guards(&store).await;
    raw(&store, "DELETE FROM events WHERE seq >= 4")
        .await
        .unwrap();
    let found = broken(&store).await;
    assert!(found.what.contains("cut off the end"), "{found}");
}

async fn the_schema_refuses_update_and_delete_of_events(store: TestStore) {
    append(&store, 2).await;
    for sql in [
        "UPDATE events SET actor = 'user:mallory'",
        "UPDATE events SET hash = NULL",
        "UPDATE events SET seq = seq + 10",
        "DELETE FROM events",
        "UPDATE event_checkpoints SET seq = 0",
    ] {
        let refused = raw(&store, sql).await;
        if sql.starts_with("UPDATE event_checkpoints") {
            // No checkpoint rows: nothing to refuse, nothing changed.
            assert!(refused.is_ok(), "{sql}: {refused:?}");
        } else {
            let e = refused.expect_err(sql).to_string();
            assert!(e.contains("append-only"), "{sql}: {e}");
        }
    }
    if store.engine() == Engine::Postgres {
        let e = raw(&store, "TRUNCATE events")
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("append-only"), "{e}");
    }
    assert_eq!(intact(&store).await, 2);
}

async fn pruning_goes_through_an_audited_checkpoint(store: TestStore) {
    append(&store, 5).await;
    let pruned = store
        .prune_events_through(3, "user:alice", NOW)
        .await
        .unwrap();
    assert_eq!(pruned, 3);
    let left = store.events(None, 0, 100).await.unwrap();
    let kinds: Vec<&str> = left.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["test.event", "test.event", "audit.pruned"]);
    match store.verify_event_chain().await.unwrap() {
        ChainVerdict::Intact {
            events,
            after_checkpoint,
        } => assert_eq!((events, after_checkpoint), (3, 3)),
        ChainVerdict::Broken(found) => panic!("{found}"),
    }
    // Only what a checkpoint covers may be deleted, and a checkpoint stays as written.
    let e = raw(&store, "DELETE FROM events")
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("append-only"), "{e}");
    let e = raw(&store, "DELETE FROM event_checkpoints")
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("immutable"), "{e}");
    assert!(
        store
            .prune_events_through(99, "user:alice", NOW)
            .await
            .is_err()
    );
}

async fn the_audit_log_filters_by_time_range(store: TestStore) {
    for minutes in 0..5u64 {
        store
            .append_event(
                &admin_event(minutes as usize),
                NOW.plus(std::time::Duration::from_secs(minutes * 60)),
            )
            .await
            .unwrap();
    }
    let minute = |m: u64| NOW.plus(std::time::Duration::from_secs(m * 60));
    let between = |since: Option<u64>, until: Option<u64>| EventFilter {
        since: since.map(minute),
        until: until.map(minute),
        ..EventFilter::default()
    };
    let ns = |filter: EventFilter| {
        let store = &store;
        async move {
            store
                .events_newest_first(&filter, None, 100)
                .await
                .unwrap()
                .iter()
                .map(|e| e.detail["n"].as_u64().unwrap())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(ns(between(Some(1), Some(3))).await, [2, 1]);
    assert_eq!(ns(between(Some(3), None)).await, [4, 3]);
    assert_eq!(ns(between(None, Some(1))).await, [0]);
}

/// A database written before the chain existed (migrations 1 to 5 only): opening it with
/// this store applies migration 0008 and seals the old events into the chain, oldest
/// first, so verification covers them too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_written_before_the_chain_are_sealed_when_the_store_opens() {
    use corral_controller::store::{Store, StoreOptions, migrations};
    use sqlx::migrate::{Migration, MigrationType, Migrator};

    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
    let old: Vec<Migration> = migrations(Engine::Sqlite)
        .iter()
        .filter(|(version, _, _)| *version <= 5)
        .map(|&(version, description, sql)| {
            Migration::new(
                version,
                description.into(),
                MigrationType::Simple,
                sqlx::SqlSafeStr::into_sql_str(sql),
                false,
            )
        })
        .collect();
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    Migrator::with_migrations(old).run(&mut conn).await.unwrap();
    for n in 0..3 {
        sqlx::query(
            "INSERT INTO events (at, device_id, actor, kind, detail) VALUES ($1, NULL, 'user:old', 'test.old', $2)",
        )
        .bind(1_700_000_000_000_i64 + n)
        .bind(format!("{{\"n\":{n}}}"))
        .execute(&mut conn)
        .await
        .unwrap();
    }
    conn.close().await.unwrap();

    let store = Store::open(&url, &StoreOptions::default()).await.unwrap();
    store.append_event(&admin_event(3), NOW).await.unwrap();
    match store.verify_event_chain().await.unwrap() {
        ChainVerdict::Intact { events, .. } => assert_eq!(events, 4),
        ChainVerdict::Broken(found) => panic!("{found}"),
    }
    let oldest = store.events(None, 0, 1).await.unwrap();
    assert_eq!(oldest[0].actor, "user:old");
    // Opening again changes nothing (sealing is done once).
    store.close().await;
    let store = Store::open(&url, &StoreOptions::default()).await.unwrap();
    match store.verify_event_chain().await.unwrap() {
        ChainVerdict::Intact { events, .. } => assert_eq!(events, 4),
        ChainVerdict::Broken(found) => panic!("{found}"),
    }
}
