//! Storage suite, devices and credentials: the gateway's certificate check, revocation,
//! renewal, the append-only event log, users, API tokens and sessions; on SQLite and
//! PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use common::db::TestStore;
use common::fixtures::*;
use corral_controller::domain::{
    ApiToken, DeviceId, DeviceReport, DeviceStatus, NewEvent, Password, PasswordHash, Role,
    SessionToken, UserName,
};
use corral_controller::store::StoreError;
use sqlx::{Connection, Executor};

on_both_engines!(
    the_gateway_check_accepts_only_a_current_unrevoked_certificate_of_that_device,
    revoking_a_device_revokes_its_certificates_once,
    a_renewed_certificate_becomes_current_and_the_old_one_stays_valid,
    the_event_log_pages_by_id_and_refuses_changes,
    the_first_admin_is_created_only_once,
    api_tokens_authenticate_until_revoked_or_expired,
    sessions_end_on_idle_absolute_expiry_and_logout,
    last_seen_only_moves_forward,
);

async fn the_gateway_check_accepts_only_a_current_unrevoked_certificate_of_that_device(
    store: TestStore,
) {
    let device = enrolled(&store, "shop").await;
    let serial = store.device(&device).await.unwrap().cert_serial.unwrap();
    let cert = store.certificate(&serial).await.unwrap();
    let ok = |r: Result<(), StoreError>| r.is_ok();
    assert!(ok(store
        .check_device_certificate(&serial, &device, NOW)
        .await));
    assert!(
        !ok(store
            .check_device_certificate(&serial, &device, cert.not_after)
            .await),
        "expired"
    );
    assert!(
        !ok(store
            .check_device_certificate(&serial, &device, NOW.minus(HOUR))
            .await),
        "not yet valid"
    );
    assert!(
        !ok(store
            .check_device_certificate(&serial, &DeviceId::generate(), NOW)
            .await),
        "someone else's"
    );
    assert!(
        !ok(store
            .check_device_certificate(&certificate().serial, &device, NOW)
            .await),
        "unknown serial"
    );
    store
        .revoke_certificate(&serial, "key lost", "user:admin", NOW)
        .await
        .unwrap();
    let refused = store.check_device_certificate(&serial, &device, NOW).await;
    assert!(
        matches!(refused, Err(StoreError::Forbidden(_))),
        "{refused:?}"
    );
}

async fn revoking_a_device_revokes_its_certificates_once(store: TestStore) {
    let device = enrolled(&store, "shop").await;
    let renewed = certificate();
    store
        .record_certificate(&device, &renewed, NOW)
        .await
        .unwrap();
    let revoked = store
        .revoke_device(&device, "stolen", "user:admin", NOW)
        .await
        .unwrap();
    assert_eq!(revoked.len(), 2);
    assert!(
        store
            .revoke_device(&device, "stolen", "user:admin", NOW)
            .await
            .unwrap()
            .is_empty(),
        "idempotent"
    );
    assert_eq!(
        store.device(&device).await.unwrap().status,
        DeviceStatus::Revoked
    );
    assert!(
        store
            .check_device_certificate(&renewed.serial, &device, NOW)
            .await
            .is_err()
    );
    let report = DeviceReport {
        seq: 1,
        ..DeviceReport::default()
    };
    assert!(matches!(
        store.record_report(&device, &report, NOW).await,
        Err(StoreError::Forbidden(_))
    ));
    assert!(matches!(
        store.record_certificate(&device, &certificate(), NOW).await,
        Err(StoreError::Forbidden(_))
    ));
    assert!(matches!(
        store
            .revoke_device(&DeviceId::generate(), "x", "y", NOW)
            .await,
        Err(StoreError::NotFound(_))
    ));
}

async fn a_renewed_certificate_becomes_current_and_the_old_one_stays_valid(store: TestStore) {
    let device = enrolled(&store, "shop").await;
    let old = store.device(&device).await.unwrap().cert_serial.unwrap();
    let renewed = certificate();
    store
        .record_certificate(&device, &renewed, NOW.plus(DAY))
        .await
        .unwrap();
    let now = store.device(&device).await.unwrap();
    assert_eq!(
        (now.cert_serial.as_ref(), now.cert_key_hash.as_ref()),
        (Some(&renewed.serial), Some(&renewed.key_hash))
    );
    assert!(
        store
            .check_device_certificate(&old, &device, NOW.plus(DAY))
            .await
            .is_ok()
    );
    assert_eq!(store.certificates_of(&device).await.unwrap().len(), 2);
}

async fn the_event_log_pages_by_id_and_refuses_changes(store: TestStore) {
    let device = enrolled(&store, "shop").await;
    for n in 0..5 {
        let event = NewEvent {
            device: None,
            actor: "test".into(),
            kind: "test.ping".into(),
            detail: serde_json::json!({ "n": n }),
        };
        store.append_event(&event, NOW).await.unwrap();
    }
    let all = store.events(None, 0, 100).await.unwrap();
    let page = store.events(None, all[1].id, 2).await.unwrap();
    assert_eq!(
        page.iter().map(|e| e.id).collect::<Vec<_>>(),
        [all[2].id, all[3].id]
    );
    assert!(
        store
            .events(Some(&device), 0, 100)
            .await
            .unwrap()
            .iter()
            .all(|e| e.device.as_ref() == Some(&device))
    );

    let mut raw = sqlx::AnyConnection::connect(&store.url).await.unwrap();
    for sql in ["UPDATE events SET kind = 'forged'", "DELETE FROM events"] {
        let err = raw.execute(sql).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    let err = raw
        .execute("UPDATE profile_versions SET canonical_toml = 'x'")
        .await;
    // No versions stored here, so the trigger has nothing to refuse: an empty UPDATE passes.
    assert!(err.is_ok());
}

async fn the_first_admin_is_created_only_once(store: TestStore) {
    let hash = PasswordHash::create(&Password::generate()).unwrap();
    let admin = UserName::parse("admin").unwrap();
    let created = store
        .create_first_admin(&admin, &hash, NOW)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(created.role, Role::Admin);
    assert!(
        store
            .create_first_admin(&UserName::parse("second").unwrap(), &hash, NOW)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.first_admin().await.unwrap().id, created.id);
    let dup = store
        .create_user(&admin, Role::Auditor, &hash, "user:admin", NOW)
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    let tech = store
        .create_user(
            &UserName::parse("tech").unwrap(),
            Role::Technician,
            &hash,
            "user:admin",
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(store.users().await.unwrap().len(), 2);
    assert_eq!(store.user_credentials(&tech.name).await.unwrap().1, hash);
}

async fn api_tokens_authenticate_until_revoked_or_expired(store: TestStore) {
    let hash = PasswordHash::create(&Password::generate()).unwrap();
    let admin = store
        .create_first_admin(&UserName::parse("admin").unwrap(), &hash, NOW)
        .await
        .unwrap()
        .unwrap();
    let forever = ApiToken::generate();
    let brief = ApiToken::generate();
    store
        .create_api_token(&admin, &forever, "cli", None, NOW)
        .await
        .unwrap();
    store
        .create_api_token(&admin, &brief, "script", Some(NOW.plus(HOUR)), NOW)
        .await
        .unwrap();
    assert_eq!(
        store
            .authenticate_api_token(&forever, NOW)
            .await
            .unwrap()
            .id,
        admin.id
    );
    assert!(store.authenticate_api_token(&brief, NOW).await.is_ok());
    assert!(matches!(
        store.authenticate_api_token(&brief, NOW.plus(HOUR)).await,
        Err(StoreError::Forbidden(_))
    ));
    assert!(matches!(
        store
            .authenticate_api_token(&ApiToken::generate(), NOW)
            .await,
        Err(StoreError::Forbidden(_))
    ));
    store.revoke_api_token(forever.prefix(), NOW).await.unwrap();
    assert!(matches!(
        store.authenticate_api_token(&forever, NOW).await,
        Err(StoreError::Forbidden(_))
    ));
}

async fn sessions_end_on_idle_absolute_expiry_and_logout(store: TestStore) {
    let hash = PasswordHash::create(&Password::generate()).unwrap();
    let admin = store
        .create_first_admin(&UserName::parse("admin").unwrap(), &hash, NOW)
        .await
        .unwrap()
        .unwrap();
    let idle_limit = 30 * 60 * 1000;
    let session = SessionToken::generate();
    store
        .create_session(&admin, &session, NOW.plus(12 * HOUR), NOW)
        .await
        .unwrap();
    // Active use keeps it alive…
    let mut t = NOW;
    for _ in 0..5 {
        t = t.plus(HOUR / 4);
        assert_eq!(
            store
                .session_user(&session, idle_limit, t)
                .await
                .unwrap()
                .id,
            admin.id
        );
    }
    // …idleness ends it.
    assert!(
        store
            .session_user(&session, idle_limit, t.plus(HOUR))
            .await
            .is_err()
    );
    let other = SessionToken::generate();
    store
        .create_session(&admin, &other, NOW.plus(HOUR), NOW)
        .await
        .unwrap();
    assert!(
        store
            .session_user(&other, i64::MAX / 2, NOW.plus(HOUR))
            .await
            .is_err(),
        "absolute expiry"
    );
    let third = SessionToken::generate();
    store
        .create_session(&admin, &third, NOW.plus(HOUR), NOW)
        .await
        .unwrap();
    store.delete_session(&third).await.unwrap();
    assert!(
        store.session_user(&third, idle_limit, NOW).await.is_err(),
        "logged out"
    );
}

async fn last_seen_only_moves_forward(store: TestStore) {
    let device = enrolled(&store, "shop").await;
    store.touch_device(&device, NOW.plus(HOUR)).await.unwrap();
    store.touch_device(&device, NOW).await.unwrap();
    assert_eq!(
        store.device(&device).await.unwrap().last_seen_at,
        Some(NOW.plus(HOUR))
    );
    assert!(matches!(
        store.touch_device(&DeviceId::generate(), NOW).await,
        Err(StoreError::NotFound(_))
    ));
}
