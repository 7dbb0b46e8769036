//! Storage suite, the console's queries: the fleet page (search, filters, sort, pages and
//! the effective profile, all in SQL), one fleet row, the phone's model and Android
//! release, and the audit log newest first with filters; on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use common::db::TestStore;
use common::fixtures::*;
use corral_controller::domain::{
    AssignmentTarget, DeviceId, DeviceStatus, EnrollmentBinding, GroupName, NewDevice,
};
use corral_controller::store::{EventFilter, FleetQuery, FleetSort, Presence};
use sqlx::{Connection, Executor};

on_both_engines!(
    the_fleet_page_filters_sorts_and_pages_in_the_database,
    the_audit_log_reads_newest_first_with_filters,
);

/// Enrolls a phone named `name` at `NOW + minutes`, bound to profile `base`, or to
/// `group` (and so to the group's profile) when given.
async fn phone(store: &TestStore, name: &str, group: Option<&str>, minutes: u64) -> DeviceId {
    let binding = match group {
        Some(g) => EnrollmentBinding::Group(GroupName::parse(g).unwrap()),
        None => EnrollmentBinding::Profile(profile("base")),
    };
    let token = token(store, binding).await;
    let device = NewDevice {
        name: name.parse().unwrap(),
        ..new_device(name)
    };
    let at = NOW.plus(std::time::Duration::from_secs(minutes * 60));
    store
        .enroll_device(&token, &device, &certificate(), at)
        .await
        .unwrap();
    device.id
}

fn names(page: &corral_controller::store::FleetPage) -> Vec<String> {
    page.rows.iter().map(|r| r.name.to_string()).collect()
}

async fn the_fleet_page_filters_sorts_and_pages_in_the_database(store: TestStore) {
    let (v1, text) = version("name = \"base\"");
    store
        .publish_profile_version(&profile("base"), &v1, &text, "test", NOW)
        .await
        .unwrap();
    let (v2, text) = version("name = \"kiosk\"");
    store
        .publish_profile_version(&profile("kiosk"), &v2, &text, "test", NOW)
        .await
        .unwrap();
    store
        .assign_profile(
            &AssignmentTarget::Group(GroupName::parse("tills").unwrap()),
            &profile("kiosk"),
            "test",
            NOW,
        )
        .await
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..30u64 {
        let group = (i % 3 == 0).then_some("tills");
        ids.push(phone(&store, &format!("Phone {i:02}"), group, i).await);
    }
    let odd = phone(&store, "Odd_%name", None, 40).await;
    store
        .record_device_info(&odd, "Pixel 8\u{7}", "15")
        .await
        .unwrap();
    store
        .revoke_device(&ids[1], "lost", "test", NOW)
        .await
        .unwrap();
    store.touch_device(&ids[2], NOW.plus(HOUR)).await.unwrap();
    let mut conn = sqlx::AnyConnection::connect(&store.url).await.unwrap();
    conn.execute(sqlx::AssertSqlSafe(format!(
        "UPDATE devices SET drift = '[{{\"setting\":\"x\"}}]' WHERE id = '{}'",
        ids[4]
    )))
    .await
    .unwrap();
    conn.execute(sqlx::AssertSqlSafe(format!(
        "UPDATE devices SET drift = '[]' WHERE id = '{}'",
        ids[5]
    )))
    .await
    .unwrap();
    let online_since = NOW.plus(HOUR).minus(std::time::Duration::from_secs(60));
    let page = |q: FleetQuery| {
        let store = &store;
        async move { store.fleet_page(&q, online_since).await.unwrap() }
    };

    let first = page(FleetQuery {
        limit: 10,
        ..FleetQuery::default()
    })
    .await;
    assert_eq!(first.total, 31);
    assert_eq!(names(&first)[..3], ["Odd_%name", "Phone 00", "Phone 01"]);
    let third = page(FleetQuery {
        limit: 10,
        offset: 20,
        ..FleetQuery::default()
    })
    .await;
    assert_eq!(names(&third)[0], "Phone 19");
    let last = page(FleetQuery {
        limit: 10,
        offset: 30,
        ..FleetQuery::default()
    })
    .await;
    assert_eq!(names(&last), ["Phone 29"]);

    // The effective profile: the group's assignment, else the phone's own from enrollment.
    let row = store.fleet_row(&ids[3]).await.unwrap();
    assert_eq!(row.profile.unwrap().as_str(), "kiosk");
    assert_eq!(row.desired_version, Some(v2.clone()));
    assert_eq!(
        store
            .fleet_row(&ids[4])
            .await
            .unwrap()
            .profile
            .unwrap()
            .as_str(),
        "base"
    );
    let odd_row = store.fleet_row(&odd).await.unwrap();
    assert_eq!(
        (odd_row.model.as_deref(), odd_row.android_release.as_deref()),
        (Some("Pixel 8"), Some("15"))
    );

    let search = |s: &str| FleetQuery {
        search: Some(s.into()),
        ..FleetQuery::default()
    };
    assert_eq!(names(&page(search("phone 2")).await).len(), 10);
    assert_eq!(
        names(&page(search("_%")).await),
        ["Odd_%name"],
        "LIKE wildcards are literal"
    );
    assert_eq!(
        page(search(&ids[7].to_string()[..12])).await.rows[0].id,
        ids[7]
    );
    assert_eq!(
        page(search("TILLS")).await.total,
        10,
        "the group name is searched too"
    );

    let revoked = page(FleetQuery {
        status: Some(DeviceStatus::Revoked),
        ..FleetQuery::default()
    })
    .await;
    assert_eq!(names(&revoked), ["Phone 01"]);
    let online = page(FleetQuery {
        connection: Some(Presence::Online),
        ..FleetQuery::default()
    })
    .await;
    assert_eq!(names(&online), ["Phone 02"]);
    let offline = page(FleetQuery {
        connection: Some(Presence::Offline),
        ..FleetQuery::default()
    })
    .await;
    assert_eq!(offline.total, 30);
    let drifting = page(FleetQuery {
        drifting: true,
        ..FleetQuery::default()
    })
    .await;
    assert_eq!(names(&drifting), ["Phone 04"]);
    let kiosk = page(FleetQuery {
        profile: Some(profile("kiosk")),
        limit: 3,
        ..FleetQuery::default()
    })
    .await;
    assert_eq!(
        (kiosk.total, names(&kiosk)),
        (
            10,
            vec!["Phone 00".into(), "Phone 03".into(), "Phone 06".into()]
        )
    );

    let newest = page(FleetQuery {
        sort: FleetSort::Enrolled,
        descending: true,
        limit: 2,
        ..FleetQuery::default()
    })
    .await;
    assert_eq!(names(&newest), ["Odd_%name", "Phone 29"]);
    let seen = page(FleetQuery {
        sort: FleetSort::LastSeen,
        descending: true,
        limit: 1,
        ..FleetQuery::default()
    })
    .await;
    assert_eq!(names(&seen), ["Phone 02"]);
    let by_android = page(FleetQuery {
        sort: FleetSort::Android,
        limit: 1,
        ..FleetQuery::default()
    })
    .await;
    assert_eq!(
        names(&by_android),
        ["Odd_%name"],
        "phones without a release sort last"
    );
    let by_profile = page(FleetQuery {
        sort: FleetSort::Profile,
        descending: true,
        limit: 1,
        ..FleetQuery::default()
    })
    .await;
    assert_eq!(
        by_profile.rows[0].profile.as_ref().unwrap().as_str(),
        "kiosk"
    );
}

async fn the_audit_log_reads_newest_first_with_filters(store: TestStore) {
    let a = phone(&store, "A", None, 0).await;
    let b = phone(&store, "B", None, 1).await;
    store
        .revoke_device(&a, "lost", "user:ada", NOW)
        .await
        .unwrap();
    store
        .revoke_device(&b, "stolen", "user:bob", NOW)
        .await
        .unwrap();
    let all = store
        .events_newest_first(&EventFilter::default(), None, 100)
        .await
        .unwrap();
    assert!(all.windows(2).all(|w| w[0].id > w[1].id));
    assert_eq!(all[0].kind, "device.revoked");
    let filter = |kind: Option<&str>, actor: Option<&str>, device: Option<&DeviceId>| EventFilter {
        kind: kind.map(str::to_owned),
        actor: actor.map(str::to_owned),
        device: device.cloned(),
        ..EventFilter::default()
    };
    let by_actor = store
        .events_newest_first(&filter(None, Some("user:ada"), None), None, 100)
        .await
        .unwrap();
    assert_eq!(by_actor.len(), 1);
    assert_eq!(by_actor[0].device.as_ref(), Some(&a));
    let of_b = store
        .events_newest_first(&filter(None, None, Some(&b)), None, 100)
        .await
        .unwrap();
    assert!(of_b.iter().all(|e| e.device.as_ref() == Some(&b)) && of_b.len() >= 2);
    let prefix = store
        .events_newest_first(&filter(Some("device."), None, None), None, 100)
        .await
        .unwrap();
    assert!(prefix.iter().all(|e| e.kind.starts_with("device.")) && prefix.len() >= 2);
    let exact = store
        .events_newest_first(&filter(Some("device.revoked"), None, None), None, 1)
        .await
        .unwrap();
    assert_eq!(exact.len(), 1);
    let older = store
        .events_newest_first(
            &filter(Some("device.revoked"), None, None),
            Some(exact[0].id),
            10,
        )
        .await
        .unwrap();
    assert_eq!(older.len(), 1);
    assert!(older[0].id < exact[0].id);
    let none = store
        .events_newest_first(&filter(Some("device._"), None, None), None, 10)
        .await
        .unwrap();
    assert!(
        none.is_empty(),
        "LIKE wildcards in a kind prefix are literal"
    );
}
