//! Snapshot tests of plans: the exact shell lines the agent will run for a profile and an
//! observed phone, batched into round trips, plus the drift reported.

use corral_profiles::{
    AllowList, AllowedContact, ContactId, LawfulBasis, ObservedContact, ObservedPhone, PhoneNumber,
    RawContactId, RetiredContact, UserId, Users, plan, resolve, simulate,
};
use expect_test::{Expect, expect};

use crate::fixture::files;

/// Plans `profile` (inline contacts only) against the phone described in JSON and shows
/// each round trip's script; a work profile still to be created is rendered as user 10.
#[track_caller]
fn check(profile: &str, phone: &str, expect: Expect) {
    check_retired(profile, phone, &[], expect);
}

/// As [`check`], with contacts that left the allow-list (name, number).
#[track_caller]
fn check_retired(profile: &str, phone: &str, retired: &[(&str, &str)], expect: Expect) {
    let resolution = resolve(&files(profile), None);
    assert!(!resolution.has_errors(), "{:?}", resolution.diagnostics);
    let p = resolution.profiles.values().next().unwrap();
    let target = p.for_device(None);
    let allow = inline_allow_list(&target.settings.contacts.entries).with_retired(
        retired.iter().map(|(name, number)| RetiredContact {
            name: (*name).to_owned(),
            number: PhoneNumber::parse(number, None).unwrap(),
        }),
    );
    let phone: ObservedPhone = serde_json::from_str(phone).unwrap();
    let plan = plan(&target, &allow, &phone);
    let users = Users {
        personal: phone.personal_user,
        work: Some(phone.work.as_ref().map_or(UserId(10), |w| w.user)),
    };
    let mut out = format!("round trips: {}\n", plan.round_trips());
    for batch in plan.batches() {
        let commands: Vec<String> = batch
            .iter()
            .flat_map(|a| a.commands(users).unwrap())
            .collect();
        out.push_str(&format!("$ {}\n", commands.join(" &&\n    ")));
    }
    assert_eq!(plan.scripts(users).unwrap().len(), plan.round_trips());
    for d in &plan.drift {
        out.push_str(&format!("drift: {}\n", serde_json::to_string(d).unwrap()));
    }
    expect.assert_eq(&out);
}

fn inline_allow_list(entries: &[corral_profiles::InlineContact]) -> AllowList {
    AllowList::from_contacts(entries.iter().map(|e| AllowedContact {
        id: ContactId(format!("inline:{}", e.number)),
        name: e.name.clone(),
        number: e.number.clone(),
        basis: e.basis,
    }))
}

const SHOP: &str = r#"name = "shop"
[messenger]
packages = ["com.whatsapp.w4b"]
personal_copy = "uninstall"
grant = ["android.permission.READ_CONTACTS"]
[work_profile]
name = "Shop"
allowed_apps = ["com.android.camera2"]
[[contacts.entries]]
name = "Meyer: Wholesale"
phone = "+49 30 12345678"
basis = "contract"
[[contacts.entries]]
name = "O'Brien"
phone = "+44 20 7946 0958"
basis = "consent"
"#;

#[test]
fn new_phone_gets_a_work_profile() {
    check(
        SHOP,
        r#"{ "users": [ { "id": 0, "name": "Owner", "flags": 3091, "running": true } ],
            "personal_packages": { "com.whatsapp.w4b": {} } }"#,
        expect![[r#"
            round trips: 3
            $ pm create-user --profileOf 0 --managed Shop
            $ am start-user -w 10 &&
                pm install-existing --user 10 com.whatsapp.w4b &&
                pm grant --user 10 com.whatsapp.w4b android.permission.READ_CONTACTS &&
                pm uninstall --user 0 com.whatsapp.w4b &&
                settings put --user 10 secure managed_profile_contact_remote_search 0 &&
                settings put --user 10 secure cross_profile_calendar_enabled 0
            $ content delete --user 10 --uri 'content://com.android.contacts/raw_contacts?caller_is_syncadapter=true' --where "sourceid='corral-442079460958-6a5d2bd5'" &&
                content insert --user 10 --uri content://com.android.contacts/raw_contacts --bind account_type:n: --bind account_name:n: --bind sourceid:s:corral-442079460958-6a5d2bd5 &&
                R=$(content query --user 10 --uri content://com.android.contacts/raw_contacts --projection _id --where "sourceid='corral-442079460958-6a5d2bd5' AND deleted=0" --sort '_id DESC' | sed -n 's/^Row: 0 _id=\([0-9]*\).*/\1/p') &&
                [ -n "$R" ] &&
                content insert --user 10 --uri content://com.android.contacts/data --bind raw_contact_id:i:$R --bind mimetype:s:vnd.android.cursor.item/name --bind data1:s:'O'\''Brien' &&
                content insert --user 10 --uri content://com.android.contacts/data --bind raw_contact_id:i:$R --bind mimetype:s:vnd.android.cursor.item/phone_v2 --bind data1:s:+442079460958 --bind data2:i:2 &&
                content delete --user 10 --uri 'content://com.android.contacts/raw_contacts?caller_is_syncadapter=true' --where "sourceid='corral-493012345678-0a0d90f1'" &&
                content insert --user 10 --uri content://com.android.contacts/raw_contacts --bind account_type:n: --bind account_name:n: --bind sourceid:s:corral-493012345678-0a0d90f1 &&
                R=$(content query --user 10 --uri content://com.android.contacts/raw_contacts --projection _id --where "sourceid='corral-493012345678-0a0d90f1' AND deleted=0" --sort '_id DESC' | sed -n 's/^Row: 0 _id=\([0-9]*\).*/\1/p') &&
                [ -n "$R" ] &&
                content insert --user 10 --uri content://com.android.contacts/data --bind raw_contact_id:i:$R --bind mimetype:s:vnd.android.cursor.item/name --bind data1:s:'Meyer: Wholesale' &&
                content insert --user 10 --uri content://com.android.contacts/data --bind raw_contact_id:i:$R --bind mimetype:s:vnd.android.cursor.item/phone_v2 --bind data1:s:+493012345678 --bind data2:i:2
        "#]],
    );
}

#[test]
fn drifted_work_profile() {
    check(
        SHOP,
        r#"{ "users": [ { "id": 0, "name": "Owner", "flags": 3091, "running": true },
                       { "id": 11, "name": "Work profile", "flags": 4144, "running": false } ],
            "personal_packages": { "com.whatsapp.w4b": { "hidden": true } },
            "work": {
              "user": 11,
              "packages": {
                "com.whatsapp.w4b": { "hidden": true, "suspended": true, "launcher": true },
                "com.android.camera2": { "system": true, "launcher": true, "hidden": true },
                "com.android.chrome": { "system": true, "launcher": true },
                "com.example.game": { "launcher": true },
                "com.android.providers.contacts": { "system": true },
                "com.google.android.gms": { "system": true }
              },
              "settings": { "managed_profile_contact_remote_search": "1" },
              "backup_enabled": true,
              "account_types": [ "com.google", "com.whatsapp.w4b" ],
              "contacts": [
                { "id": 5, "name": "Meyer: Wholesale", "numbers": ["+493012345678"] },
                { "id": 6, "name": "Meyer: Wholesale", "numbers": ["+493012345678"] },
                { "id": 7, "name": "Aunt Erna", "numbers": ["+4917612345678"] },
                { "id": 8, "name": "Meyer", "numbers": ["+493012345678"], "account_type": "com.whatsapp.w4b" },
                { "id": 9, "name": "Gmail friend", "numbers": ["+15551234567"], "account_type": "com.google" }
              ]
            } }"#,
        expect![[r#"
            round trips: 3
            $ am start-user -w 11 &&
                pm unhide --user 11 com.whatsapp.w4b &&
                pm unsuspend --user 11 com.whatsapp.w4b &&
                pm grant --user 11 com.whatsapp.w4b android.permission.READ_CONTACTS &&
                pm unhide --user 11 com.android.camera2 &&
                pm hide --user 11 com.android.chrome &&
                pm hide --user 11 com.example.game &&
                pm uninstall --user 0 com.whatsapp.w4b &&
                settings put --user 11 secure managed_profile_contact_remote_search 0 &&
                settings put --user 11 secure cross_profile_calendar_enabled 0 &&
                bmgr --user 11 enable false
            $ content delete --user 11 --uri 'content://com.android.contacts/raw_contacts?caller_is_syncadapter=true' --where '_id IN (6,7,9)'
            $ content delete --user 11 --uri 'content://com.android.contacts/raw_contacts?caller_is_syncadapter=true' --where "sourceid='corral-442079460958-6a5d2bd5'" &&
                content insert --user 11 --uri content://com.android.contacts/raw_contacts --bind account_type:n: --bind account_name:n: --bind sourceid:s:corral-442079460958-6a5d2bd5 &&
                R=$(content query --user 11 --uri content://com.android.contacts/raw_contacts --projection _id --where "sourceid='corral-442079460958-6a5d2bd5' AND deleted=0" --sort '_id DESC' | sed -n 's/^Row: 0 _id=\([0-9]*\).*/\1/p') &&
                [ -n "$R" ] &&
                content insert --user 11 --uri content://com.android.contacts/data --bind raw_contact_id:i:$R --bind mimetype:s:vnd.android.cursor.item/name --bind data1:s:'O'\''Brien' &&
                content insert --user 11 --uri content://com.android.contacts/data --bind raw_contact_id:i:$R --bind mimetype:s:vnd.android.cursor.item/phone_v2 --bind data1:s:+442079460958 --bind data2:i:2
            drift: {"drift":"needs_profile_owner","setting":"work_profile.name","wanted":"Shop","observed":"Work profile"}
            drift: {"drift":"forbidden_accounts","account_types":["com.google"]}
            drift: {"drift":"foreign_contacts","ids":[6,7,9],"removed":true}
        "#]],
    );
}

/// A phone already on `SHOP` (work profile 10, backup not activated), with `extra`
/// contacts (`, {…}` JSON objects) after the two allow-listed ones.
fn shop_phone(extra: &str) -> String {
    format!(
        r#"{{ "users": [ {{ "id": 0, "name": "Owner", "flags": 3091, "running": true }},
                       {{ "id": 10, "name": "Shop", "flags": 4144, "running": true }} ],
            "work": {{
              "user": 10,
              "packages": {{ "com.whatsapp.w4b": {{ "granted": ["android.permission.READ_CONTACTS"] }} }},
              "settings": {{ "managed_profile_contact_remote_search": "0", "cross_profile_calendar_enabled": "0" }},
              "contacts": [
                {{ "id": 1, "name": "Meyer: Wholesale", "numbers": ["+493012345678"] }},
                {{ "id": 2, "name": "O'Brien", "numbers": ["+442079460958"] }}{extra}
              ]
            }} }}"#
    )
}

#[test]
fn report_mode_only_reports_foreign_contacts() {
    let profile = format!(
        "{SHOP}[contacts]\nmode = \"report\"\n[privacy]\ncross_profile_caller_id = false\n"
    );
    check(
        &profile,
        &shop_phone(r#", { "id": 3, "name": "Aunt Erna", "numbers": ["+4917612345678"] }"#),
        expect![[r#"
            round trips: 0
            drift: {"drift":"needs_profile_owner","setting":"privacy.cross_profile_caller_id","wanted":"false","observed":null}
            drift: {"drift":"foreign_contacts","ids":[3],"removed":false}
        "#]],
    );
}

#[test]
fn a_contact_that_left_the_list_is_removed_even_in_report_mode() {
    let profile = format!(
        "{SHOP}[contacts]\nmode = \"report\"\n[privacy]\ncross_profile_caller_id = false\n"
    );
    // 3 is someone corral wrote and who withdrew; 4 the staff member's own contact.
    let phone = shop_phone(
        r#", { "id": 3, "name": "Former Supplier", "numbers": ["+4917612345678"] },
             { "id": 4, "name": "Aunt Erna", "numbers": ["+4917699999999"] }"#,
    );
    check_retired(
        &profile,
        &phone,
        &[("Former Supplier", "+4917612345678")],
        expect![[r#"
            round trips: 1
            $ content delete --user 10 --uri 'content://com.android.contacts/raw_contacts?caller_is_syncadapter=true' --where '_id IN (3)'
            drift: {"drift":"needs_profile_owner","setting":"privacy.cross_profile_caller_id","wanted":"false","observed":null}
            drift: {"drift":"foreign_contacts","ids":[4],"removed":false}
        "#]],
    );
}

#[test]
fn a_retired_contact_back_on_the_list_stays() {
    // "O'Brien" withdrew and consented again: on the list, so not retired.
    check_retired(
        SHOP,
        &shop_phone(""),
        &[("O'Brien", "+44 20 7946 0958")],
        expect![[r#"
            round trips: 0
        "#]],
    );
}

#[test]
fn apk_source_and_unavailable_packages() {
    check(
        r#"name = "shop"
[messenger]
packages = ["com.whatsapp", "com.whatsapp.w4b"]
personal_copy = "hide"
[messenger.apk]
"com.whatsapp.w4b" = { file = "wa-business-2.25.apk", sha256 = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08" }
[work_profile]
install = ["com.example.orders"]
"#,
        r#"{ "users": [ { "id": 0, "name": "Owner", "flags": 3091, "running": true },
                       { "id": 10, "name": "Work", "flags": 4144, "running": true } ],
            "personal_packages": { "com.whatsapp": {} },
            "work": { "user": 10, "settings": { "managed_profile_contact_remote_search": "0", "cross_profile_calendar_enabled": "0" } } }"#,
        expect![[r#"
            round trips: 1
            $ pm install-existing --user 10 com.whatsapp &&
                [ "$(sha256sum /data/local/tmp/corral/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.apk | cut -d' ' -f1)" = 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 ] &&
                pm install --user 10 /data/local/tmp/corral/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.apk &&
                pm hide --user 0 com.whatsapp
            drift: {"drift":"package_unavailable","package":"com.example.orders"}
        "#]],
    );
}

#[test]
fn backup_on_activates_the_backup_service_first() {
    // Android 10+ runs the backup service only for the system user until
    // `bmgr --user N activate true`; before that `bmgr --user N enable true` fails.
    check(
        &format!("{SHOP}[privacy]\nbackup = true\n"),
        &shop_phone(""),
        expect![[r#"
            round trips: 1
            $ bmgr --user 10 activate true &&
                bmgr --user 10 enable true
        "#]],
    );
}

#[test]
fn converged_phone_needs_nothing() {
    let resolution = resolve(&files(SHOP), None);
    let target = resolution
        .profiles
        .values()
        .next()
        .unwrap()
        .for_device(None);
    let allow = inline_allow_list(&target.settings.contacts.entries);
    let mut phone: ObservedPhone = serde_json::from_str(
        r#"{ "users": [ { "id": 0, "name": "Owner", "flags": 3091, "running": true } ],
            "personal_packages": { "com.whatsapp.w4b": {} } }"#,
    )
    .unwrap();
    let first = plan(&target, &allow, &phone);
    assert!(first.needs_replan());
    simulate::apply_all(&mut phone, &first.actions);
    let second = plan(&target, &allow, &phone);
    assert_eq!(second, corral_profiles::Plan::default());
    assert_eq!(second.round_trips(), 0);
}

/// A phone whose work contact book holds `n` contacts of which `changes` differ from an
/// allow-list of `n` contacts: half removed from the phone, half replaced by strangers.
pub fn contacts_scenario(
    n: usize,
    changes: usize,
) -> (corral_profiles::DeviceProfile, AllowList, ObservedPhone) {
    let resolution = resolve(&files(crate::fixture::MINIMAL), None);
    let target = resolution
        .profiles
        .values()
        .next()
        .unwrap()
        .for_device(None);
    let allowed: Vec<AllowedContact> = (0..n)
        .map(|i| AllowedContact {
            id: ContactId(format!("c{i}")),
            name: format!("Contact {i}"),
            number: PhoneNumber::parse(&format!("+4930{:08}", 10_000_000 + i), None).unwrap(),
            basis: LawfulBasis::Contract,
        })
        .collect();
    let mut phone: ObservedPhone = serde_json::from_str(
        r#"{ "users": [ { "id": 0, "name": "Owner", "flags": 3091, "running": true },
                       { "id": 10, "name": "Work", "flags": 4144, "running": true } ],
            "work": { "user": 10, "packages": { "com.whatsapp.w4b": { "granted": ["android.permission.READ_CONTACTS"] } },
                      "settings": { "managed_profile_contact_remote_search": "0", "cross_profile_calendar_enabled": "0" } } }"#,
    )
    .unwrap();
    let work = phone.work.as_mut().unwrap();
    for (i, c) in allowed.iter().enumerate() {
        let stranger = i < changes / 2;
        let missing = i >= changes / 2 && i < changes;
        if missing {
            continue;
        }
        work.contacts.push(ObservedContact {
            id: RawContactId(i as u64 + 1),
            name: Some(if stranger {
                format!("Stranger {i}")
            } else {
                c.name.clone()
            }),
            numbers: vec![if stranger {
                format!("+4917{:08}", i)
            } else {
                c.number.to_string()
            }],
            account_type: None,
        });
    }
    (target, AllowList::from_contacts(allowed), phone)
}

#[test]
fn round_trips_grow_with_changes_not_contacts() {
    let trips = |n, changes| {
        let (target, allow, phone) = contacts_scenario(n, changes);
        plan(&target, &allow, &phone).round_trips()
    };
    // 100 changes cost the same whether the book holds 500 or 5,000 contacts…
    assert_eq!(trips(500, 100), trips(5_000, 100));
    // 50 strangers go in one `content delete`; 100 contacts are added 25 per round trip.
    assert_eq!(
        trips(5_000, 100),
        1 + 100 / corral_profiles::plan::ADD_CHUNK
    );
    // …and grow with the number of changes.
    assert!(trips(5_000, 1_000) > trips(5_000, 100));
    assert_eq!(trips(5_000, 0), 0);
}
