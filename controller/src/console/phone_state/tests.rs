//! Data-driven tests of the wants / reports table: a profile, a reported state, the table.

use expect_test::{Expect, expect};
use serde_json::json;

use super::*;

const PROFILE: &str = r#"
name = "shop"
[messenger]
packages = ["com.whatsapp"]
personal_copy = "hide"
grant = ["android.permission.READ_CONTACTS"]
[work_profile]
name = "Work"
other_apps = "hide"
[contacts]
mode = "exact"
[privacy]
backup = false
cross_profile_contact_search = false
cross_profile_calendar = false
"#;

fn check(profile: &str, observed: Option<serde_json::Value>, expect: Expect) {
    let file = corral_profiles::SourceFile::new("shop.toml", profile);
    let resolved = corral_profiles::resolve_one(&[file], "shop", None).unwrap();
    let observed: Option<ObservedPhone> = observed.map(|o| serde_json::from_value(o).unwrap());
    let rows = compare(&resolved.for_device(None), observed.as_ref());
    let mut out = String::new();
    for r in rows {
        let status = format!("{:?}", r.status).to_lowercase();
        out.push_str(&format!(
            "{status:7} {} | wants {} | reports {}\n",
            r.setting, r.wants, r.reports
        ));
        for fix in r.repair {
            out.push_str(&format!("        → {fix}\n"));
        }
    }
    expect.assert_eq(&out);
}

/// A phone that matches `PROFILE`, with two contacts the agent wrote.
fn good_phone() -> serde_json::Value {
    json!({
        "users": [
            { "id": 0, "name": "Owner", "flags": 3091, "running": true },
            { "id": 10, "name": "Work", "flags": 4144, "running": true }
        ],
        "personal_packages": { "com.whatsapp": { "hidden": true, "launcher": true } },
        "work": {
            "user": 10,
            "packages": {
                "com.whatsapp": { "launcher": true, "granted": ["android.permission.READ_CONTACTS"] },
                "com.android.camera2": { "system": true, "launcher": true, "hidden": true },
                "com.android.providers.contacts": { "system": true }
            },
            "settings": { "managed_profile_contact_remote_search": "0", "cross_profile_calendar_enabled": "0" },
            "backup_enabled": false,
            "contacts": [
                { "id": 1, "name": "Meyer", "numbers": ["+493012345678"] },
                { "id": 2, "name": "Hofmann", "numbers": ["+493312345678"] },
                { "id": 3, "name": "Chat mirror", "numbers": [], "account_type": "com.whatsapp" }
            ]
        }
    })
}

#[test]
fn never_reported() {
    check(
        PROFILE,
        None,
        expect![[r#"
            unknown Work profile | wants exists, running, named “Work” | reports —
            unknown Messenger com.whatsapp (work) | wants installed, visible, enabled; granted READ_CONTACTS | reports —
            unknown Messenger com.whatsapp (personal) | wants hidden or not installed | reports —
            unknown Other apps (work) | wants hidden | reports —
            unknown Personal apps search work contacts | wants off | reports —
            unknown Personal apps see work calendar | wants off | reports —
            unknown Backup (work) | wants off | reports —
            unknown Accounts (work) | wants only com.whatsapp | reports —
            unknown Contacts (work) | wants exact mode: only allow-listed contacts | reports —
        "#]],
    );
}

#[test]
fn in_line_with_the_profile() {
    check(
        PROFILE,
        Some(good_phone()),
        expect![[r#"
            ok      Work profile | wants exists, running, named “Work” | reports user 10, “Work”, running
            ok      Messenger com.whatsapp (work) | wants installed, visible, enabled; granted READ_CONTACTS | reports installed, visible, enabled; granted READ_CONTACTS
            ok      Messenger com.whatsapp (personal) | wants hidden or not installed | reports installed, hidden
            ok      Other apps (work) | wants hidden | reports none visible
            ok      Personal apps search work contacts | wants off | reports off
            ok      Personal apps see work calendar | wants off | reports off
            ok      Backup (work) | wants off | reports off
            ok      Accounts (work) | wants only com.whatsapp | reports none
            ok      Contacts (work) | wants exact mode: only allow-listed contacts | reports 2 allow-listed, 0 outside the list
        "#]],
    );
}

#[test]
fn drifted_phone() {
    let mut phone = good_phone();
    let work = &mut phone["work"];
    work["packages"]["com.whatsapp"] = json!({ "launcher": true, "hidden": true });
    work["packages"]["com.android.camera2"]["hidden"] = json!(false);
    work["settings"] = json!({});
    work["backup_enabled"] = json!(true);
    work["account_types"] = json!(["com.google"]);
    work["contacts"][1] = json!({ "id": 2, "name": null, "numbers": [] });
    phone["personal_packages"]["com.whatsapp"]["hidden"] = json!(false);
    check(
        PROFILE,
        Some(phone),
        expect![[r#"
            ok      Work profile | wants exists, running, named “Work” | reports user 10, “Work”, running
            drift   Messenger com.whatsapp (work) | wants installed, visible, enabled; granted READ_CONTACTS | reports installed, hidden, enabled
                    → unhide com.whatsapp (work)
                    → grant READ_CONTACTS to com.whatsapp
            drift   Messenger com.whatsapp (personal) | wants hidden or not installed | reports installed, visible
                    → hide com.whatsapp (personal)
            drift   Other apps (work) | wants hidden | reports visible: com.android.camera2
                    → hide com.android.camera2 (work)
            drift   Personal apps search work contacts | wants off | reports on (unset: the platform default)
                    → set managed_profile_contact_remote_search to 0
            drift   Personal apps see work calendar | wants off | reports on (unset: the platform default)
                    → set cross_profile_calendar_enabled to 0
            drift   Backup (work) | wants off | reports on
                    → turn backup off
            drift   Accounts (work) | wants only com.whatsapp | reports com.google
                    → accounts not allowed: com.google (no shell command removes accounts)
            drift   Contacts (work) | wants exact mode: only allow-listed contacts | reports 1 allow-listed, 1 outside the list
                    → remove 1 contacts
        "#]],
    );
}

#[test]
fn no_work_profile_yet() {
    let phone = json!({
        "users": [{ "id": 0, "name": "Owner", "flags": 3091, "running": true }],
        "personal_packages": { "com.whatsapp": { "launcher": true } }
    });
    check(
        PROFILE,
        Some(phone),
        expect![[r#"
            drift   Work profile | wants exists, running, named “Work” | reports none
                    → create the work profile “Work”
                    → start the work profile
            drift   Messenger com.whatsapp (work) | wants installed, visible, enabled; granted READ_CONTACTS | reports not installed
                    → install com.whatsapp (work) from the phone
                    → grant READ_CONTACTS to com.whatsapp
            drift   Messenger com.whatsapp (personal) | wants hidden or not installed | reports installed, visible
                    → hide com.whatsapp (personal)
            ok      Other apps (work) | wants hidden | reports no work profile
            drift   Personal apps search work contacts | wants off | reports no work profile
                    → set managed_profile_contact_remote_search to 0
            drift   Personal apps see work calendar | wants off | reports no work profile
                    → set cross_profile_calendar_enabled to 0
            ok      Backup (work) | wants off | reports no work profile
            ok      Accounts (work) | wants only com.whatsapp | reports no work profile
            unknown Contacts (work) | wants exact mode: only allow-listed contacts | reports no work profile
        "#]],
    );
}

#[test]
fn stopped_profile_and_profile_owner_settings() {
    let mut phone = good_phone();
    phone["users"][1]["running"] = json!(false);
    phone["users"][1]["name"] = json!("Shop");
    check(
        &PROFILE.replace(
            "cross_profile_calendar = false",
            "cross_profile_calendar = false\ncross_profile_caller_id = false",
        ),
        Some(phone),
        expect![[r#"
            drift   Work profile | wants exists, running, named “Work” | reports user 10, “Shop”, stopped
                    → start the work profile
                    → needs the profile owner to set `work_profile.name`
            ok      Messenger com.whatsapp (work) | wants installed, visible, enabled; granted READ_CONTACTS | reports installed, visible, enabled; granted READ_CONTACTS
            ok      Messenger com.whatsapp (personal) | wants hidden or not installed | reports installed, hidden
            ok      Other apps (work) | wants hidden | reports none visible
            ok      Personal apps search work contacts | wants off | reports off
            ok      Personal apps see work calendar | wants off | reports off
            ok      Backup (work) | wants off | reports off
            ok      Accounts (work) | wants only com.whatsapp | reports none
            unknown Caller ID for work contacts | wants off | reports not observable without the profile-owner component
                    → needs the profile owner to set `privacy.cross_profile_caller_id`
            ok      Contacts (work) | wants exact mode: only allow-listed contacts | reports 2 allow-listed, 0 outside the list
        "#]],
    );
}

#[test]
fn contact_counts_leave_allowed_accounts_alone() {
    let work: WorkSide = serde_json::from_value(good_phone()["work"].clone()).unwrap();
    let allowed = BTreeSet::from(["com.whatsapp"]);
    assert_eq!(
        contact_counts(&work, &allowed),
        ContactCounts {
            allow_listed: 2,
            foreign: 0
        }
    );
    assert_eq!(
        contact_counts(&work, &BTreeSet::new()),
        ContactCounts {
            allow_listed: 2,
            foreign: 1
        }
    );
}
