//! The storage the REST API added, on SQLite and PostgreSQL: uploads publish versions
//! and sources in one transaction (all or nothing, one event each); revoking an
//! enrollment token is audited and knows unknown prefixes; audited pushes carry their
//! event.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use common::db::TestStore;
use common::fixtures::*;
use corral_controller::domain::{EnrollmentBinding, NewEvent, ProfileName, PushKind, TokenPrefix};
use corral_controller::store::{ProfileUpload, StoreError};

fn upload(name: &str, parent: Option<&str>, text: &str) -> ProfileUpload {
    let (version, canonical_toml) = version(text);
    ProfileUpload {
        profile: profile(name),
        file_name: format!("{name}.toml"),
        source: format!("# source of {name}\n{text}"),
        parent: parent.map(profile),
        version,
        canonical_toml,
    }
}

async fn kinds(store: &TestStore) -> Vec<(String, String)> {
    store
        .events(None, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.actor))
        .collect()
}

async fn uploads_store_versions_and_sources_together(store: TestStore) {
    let device = enrolled(&store, "child").await;
    let first = [
        upload("base", None, "base v1"),
        upload("child", Some("base"), "child v1"),
    ];
    let published = store
        .publish_profiles(&first, "user:admin", NOW)
        .await
        .unwrap();
    assert_eq!(published.len(), 2);
    assert!(
        published
            .iter()
            .all(|p| p.changed() && p.previous.is_none())
    );
    assert_eq!(published[1].pushed_to, vec![device.clone()]);

    let sources = store.profile_sources().await.unwrap();
    let summary: Vec<_> = sources
        .iter()
        .map(|s| {
            (
                s.profile.as_str(),
                s.parent.as_ref().map(ProfileName::as_str),
                s.uploaded_by.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("base", None, "user:admin"),
            ("child", Some("base"), "user:admin")
        ]
    );
    assert_eq!(
        store
            .profile_source(&profile("child"))
            .await
            .unwrap()
            .source,
        "# source of child\nchild v1"
    );

    let again = store
        .publish_profiles(
            &[upload("child", Some("base"), "child v2")],
            "user:tech",
            NOW.plus(HOUR),
        )
        .await
        .unwrap();
    assert_eq!(again[0].previous, Some(first[1].version.clone()));
    assert!(again[0].changed());
    let listed: Vec<_> = store
        .profiles()
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.name.to_string(), p.current_version))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("base".into(), first[0].version.clone()),
            ("child".into(), again[0].version.version.clone())
        ]
    );
    let published_events = kinds(&store)
        .await
        .into_iter()
        .filter(|(k, _)| k == "profile.published")
        .count();
    assert_eq!(published_events, 3);
}

async fn an_upload_is_all_or_nothing(store: TestStore) {
    store
        .publish_profiles(&[upload("base", None, "base v1")], "test", NOW)
        .await
        .unwrap();
    let mut clash = upload("base", None, "base v1");
    clash.canonical_toml = "other text, same version".into();
    let result = store
        .publish_profiles(&[upload("fresh", None, "fresh v1"), clash], "test", NOW)
        .await;
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    assert!(matches!(
        store.profile_source(&profile("fresh")).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.profiles().await.unwrap().len(), 1);
}

async fn revoking_an_enrollment_token_is_audited_once(store: TestStore) {
    let secret = token(&store, EnrollmentBinding::Profile(profile("shop"))).await;
    assert!(
        store
            .revoke_enrollment_token(secret.prefix(), "user:tech", NOW)
            .await
            .unwrap()
    );
    assert!(
        !store
            .revoke_enrollment_token(secret.prefix(), "user:tech", NOW)
            .await
            .unwrap()
    );
    let unknown = TokenPrefix::parse("0123456789ab").unwrap();
    assert!(matches!(
        store
            .revoke_enrollment_token(&unknown, "user:tech", NOW)
            .await,
        Err(StoreError::NotFound(_))
    ));
    let revoked: Vec<_> = kinds(&store)
        .await
        .into_iter()
        .filter(|(k, _)| k == "enrollment_token.revoked")
        .collect();
    assert_eq!(
        revoked,
        vec![("enrollment_token.revoked".into(), "user:tech".into())]
    );
}

async fn audited_pushes_commit_their_event(store: TestStore) {
    let device = enrolled(&store, "shop").await;
    let event = NewEvent {
        device: Some(device.clone()),
        actor: "user:tech".into(),
        kind: "device.command_queued".into(),
        detail: serde_json::json!({ "kind": "reboot" }),
    };
    let kind = PushKind::parse("command").unwrap();
    let seq = store
        .enqueue_audited_push(&device, &kind, "{}", &event, NOW)
        .await
        .unwrap();
    let logged = store.events(Some(&device), 0, 100).await.unwrap();
    let last = logged.last().unwrap();
    assert_eq!(
        (last.kind.as_str(), last.actor.as_str()),
        ("device.command_queued", "user:tech")
    );
    assert_eq!(last.detail["seq"], serde_json::json!(seq));
    let unknown = new_device("ghost").id;
    assert!(matches!(
        store
            .enqueue_audited_push(&unknown, &kind, "{}", &event, NOW)
            .await,
        Err(StoreError::NotFound(_))
    ));
}

on_both_engines!(
    uploads_store_versions_and_sources_together,
    an_upload_is_all_or_nothing,
    revoking_an_enrollment_token_is_audited_once,
    audited_pushes_commit_their_event,
);
