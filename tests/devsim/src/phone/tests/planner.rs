//! The planner's real scripts on a simulated phone: plan `butcher-shop` for a fresh
//! Android 14 phone, run each batch as the agent does (wrapped, with the exit marker),
//! observe again from the phone's state, and repeat until the plan is empty.
//!
//! The observation is built from `Phone::read` the way the agent's observer sees a phone
//! (`pm list packages` hides hidden packages; the named ones are seen in detail; launcher
//! icons as `pm query-activities` reports them).

use std::collections::{BTreeMap, BTreeSet};

use corral_profiles::{
    Action, AllowList, ApkSource, ContactId, DeviceProfile, DirectoryContact, GroupName,
    LawfulBasis, ObservedContact, ObservedPhone, ObservedUser, PackageName, PackageState,
    Permission, PhoneNumber, RawContactId, Sha256Hex, SourceFile, UserId, UserRef, Users, WorkSide,
    plan, resolve_one,
};
use expect_test::expect;

use super::{TestPhone, phone};
use crate::phone::Phone;
use crate::phone::cmd::pm_query::launcher_activity;
use crate::phone::contacts::Value;

fn profile(names: &[(&str, &str, &str)]) -> (DeviceProfile, AllowList) {
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../../profiles/examples");
    let files: Vec<SourceFile> = ["base.toml", "butcher-shop.toml"]
        .iter()
        .map(|n| {
            let text = std::fs::read_to_string(format!("{examples}/{n}")).expect("example");
            SourceFile::new(format!("examples/{n}"), text)
        })
        .collect();
    let mut directory: BTreeMap<GroupName, Vec<DirectoryContact>> = ["staff", "suppliers"]
        .iter()
        .map(|g| (GroupName::parse(g).expect("group"), Vec::new()))
        .collect();
    for (group, name, number) in names {
        directory
            .entry(GroupName::parse(group).expect("group"))
            .or_default()
            .push(DirectoryContact {
                id: ContactId(format!("{group}:{name}")),
                name: (*name).to_string(),
                number: PhoneNumber::parse(number, None).expect("number"),
                basis: LawfulBasis::Contract,
            });
    }
    let resolved = resolve_one(&files, "butcher-shop", Some(&directory)).expect("profile");
    let allow = resolved.allow_list(&directory).expect("allow-list");
    (resolved.for_device(None), allow)
}

fn package_state(p: &crate::phone::state::Package, user: u32) -> Option<PackageState> {
    let u = p.installed_for(user)?;
    Some(PackageState {
        hidden: u.hidden,
        disabled: matches!(u.enabled, 2..=4),
        suspended: u.suspended,
        system: p.system,
        launcher: launcher_activity(&p.name, p.system).is_some(),
        granted: u
            .granted
            .iter()
            .filter_map(|g| Permission::parse(g).ok())
            .collect(),
    })
}

/// What the agent would observe, read from the phone's state.
fn observe(phone: &Phone, named: &BTreeSet<String>) -> ObservedPhone {
    phone.read(|s| {
        let users: Vec<ObservedUser> = s
            .users
            .values()
            .map(|u| ObservedUser {
                id: UserId(u.id),
                name: u.name.clone(),
                flags: u.flags,
                running: u.running,
            })
            .collect();
        let mut observed = ObservedPhone {
            users,
            ..ObservedPhone::new()
        };
        for name in named {
            let state = s.packages.get(name).and_then(|p| package_state(p, 0));
            if let (Ok(pkg), Some(st)) = (PackageName::parse(name), state) {
                observed.personal_packages.insert(pkg, st);
            }
        }
        let Some(work) = s.users.values().find(|u| u.is_managed_profile()) else {
            return observed;
        };
        let mut side = WorkSide::new(UserId(work.id));
        for p in s.packages.values() {
            let Some(st) = package_state(p, work.id) else {
                continue;
            };
            if let Ok(pkg) = PackageName::parse(&p.name)
                && (!st.hidden || named.contains(&p.name))
            {
                side.packages.insert(pkg, st);
            }
        }
        let data = s.user_data.get(&work.id).cloned().unwrap_or_default();
        side.settings = [
            corral_profiles::SETTING_CONTACT_SEARCH,
            corral_profiles::SETTING_CALENDAR,
        ]
        .iter()
        .filter_map(|k| Some((k.to_string(), data.secure.get(*k)?.clone())))
        .collect();
        side.backup_enabled = data.backup_activated.then(|| {
            work.running && data.secure.get("backup_enabled").map(String::as_str) == Some("1")
        });
        side.account_types = data
            .accounts
            .iter()
            .map(|a| a.account_type.clone())
            .collect();
        let db = &data.contacts;
        for (id, raw) in &db.raw_contacts {
            if raw.get("deleted").and_then(Value::as_i64) == Some(1) {
                continue;
            }
            let rows = db
                .data
                .values()
                .filter(|d| d.get("raw_contact_id").and_then(Value::as_i64) == Some(*id));
            let mut contact = ObservedContact {
                id: RawContactId(u64::try_from(*id).unwrap_or_default()),
                name: None,
                numbers: Vec::new(),
                account_type: raw.get("account_type").and_then(Value::as_text),
            };
            for d in rows {
                let text = d.get("data1").and_then(Value::as_text);
                match d.get("mimetype").and_then(Value::as_text).as_deref() {
                    Some("vnd.android.cursor.item/name") => contact.name = text,
                    Some("vnd.android.cursor.item/phone_v2") => contact.numbers.extend(text),
                    _ => {}
                }
            }
            side.contacts.push(contact);
        }
        side.profile_owner = s.profile_owners.get(&work.id).cloned();
        observed.work = Some(side);
        observed
    })
}

/// Runs one script as the agent's ADB shell does; returns (output, exit status).
fn run_wrapped(phone: &Phone, script: &str) -> (String, u8) {
    let wrapped =
        format!("( {script}\n) 2>&1; __corral_rc=$?; echo; echo \"__CORRAL_EXIT__$__corral_rc\"");
    let out = phone.run_shell(&wrapped, &mut std::io::empty());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let Some(at) = text.rfind("\n__CORRAL_EXIT__") else {
        panic!("no exit marker in {text:?}");
    };
    let code = text[at + 16..].trim_end().parse().expect("exit status");
    (text[..at].to_string(), code)
}

/// Observe → plan → run every batch, until the plan is empty; the transcript of what ran.
fn converge(p: &TestPhone, target: &DeviceProfile, allow: &AllowList) -> String {
    let s = &target.settings;
    let named: BTreeSet<String> = s
        .messenger
        .packages
        .iter()
        .chain(&s.work_profile.install)
        .chain(&s.work_profile.allowed_apps)
        .map(|p| p.as_str().to_string())
        .collect();
    let mut log = String::new();
    for round in 1..=4 {
        let observed = observe(p, &named);
        let planned = plan(target, allow, &observed);
        if planned.is_empty() {
            log.push_str(&format!("round {round}: nothing to do\n"));
            return log;
        }
        let mut users = Users {
            personal: observed.personal_user,
            work: observed.work.as_ref().map(|w| w.user),
        };
        for batch in planned.batches() {
            let mut commands = Vec::new();
            for a in batch {
                commands.extend(a.commands(users).expect("renders"));
            }
            let script = commands.join(" && ");
            let (output, code) = run_wrapped(p, &script);
            log.push_str(&format!(
                "round {round} $ {script}\n{output}[exit {code}]\n"
            ));
            assert_eq!(code, 0, "batch failed:\n{log}");
            if let [Action::CreateWorkProfile { .. }] = batch {
                let id = output
                    .trim()
                    .strip_prefix("Success: created user id ")
                    .and_then(|n| n.parse().ok())
                    .expect("created user id");
                users.work = Some(UserId(id));
            }
        }
    }
    panic!("the plan did not converge:\n{log}");
}

fn sh(p: &Phone, line: &str) -> String {
    let out = p.run_shell(line, &mut std::io::empty());
    String::from_utf8_lossy(&out.merged).into_owned()
}

#[test]
fn butcher_shop_plan_runs_and_converges() {
    let (target, allow) = profile(&[
        ("staff", "Anna Schmidt", "+49 30 1111111"),
        ("suppliers", "Müller's Feinkost", "+49 30 2222222"),
    ]);
    let p = phone(14, &[]);
    let log = converge(&p, &target, &allow);
    expect![[r#"
        round 1 $ pm create-user --profileOf 0 --managed Shop
        Success: created user id 10
        [exit 0]
        round 1 $ am start-user -w 10 && pm install-existing --user 10 com.whatsapp.w4b && pm grant --user 10 com.whatsapp.w4b android.permission.POST_NOTIFICATIONS && pm grant --user 10 com.whatsapp.w4b android.permission.READ_CONTACTS && pm uninstall --user 0 com.whatsapp.w4b && settings put --user 10 secure managed_profile_contact_remote_search 0 && settings put --user 10 secure cross_profile_calendar_enabled 0
        Success: user started
        Package com.whatsapp.w4b installed for user: 10
        Success
        [exit 0]
        round 1 $ content delete --user 10 --uri 'content://com.android.contacts/raw_contacts?caller_is_syncadapter=true' --where "sourceid='corral-49301111111-96e7cae3'" && content insert --user 10 --uri content://com.android.contacts/raw_contacts --bind account_type:n: --bind account_name:n: --bind sourceid:s:corral-49301111111-96e7cae3 && R=$(content query --user 10 --uri content://com.android.contacts/raw_contacts --projection _id --where "sourceid='corral-49301111111-96e7cae3' AND deleted=0" --sort '_id DESC' | sed -n 's/^Row: 0 _id=\([0-9]*\).*/\1/p') && [ -n "$R" ] && content insert --user 10 --uri content://com.android.contacts/data --bind raw_contact_id:i:$R --bind mimetype:s:vnd.android.cursor.item/name --bind data1:s:'Anna Schmidt' && content insert --user 10 --uri content://com.android.contacts/data --bind raw_contact_id:i:$R --bind mimetype:s:vnd.android.cursor.item/phone_v2 --bind data1:s:+49301111111 --bind data2:i:2 && content delete --user 10 --uri 'content://com.android.contacts/raw_contacts?caller_is_syncadapter=true' --where "sourceid='corral-493012345678-8ca99f51'" && content insert --user 10 --uri content://com.android.contacts/raw_contacts --bind account_type:n: --bind account_name:n: --bind sourceid:s:corral-493012345678-8ca99f51 && R=$(content query --user 10 --uri content://com.android.contacts/raw_contacts --projection _id --where "sourceid='corral-493012345678-8ca99f51' AND deleted=0" --sort '_id DESC' | sed -n 's/^Row: 0 _id=\([0-9]*\).*/\1/p') && [ -n "$R" ] && content insert --user 10 --uri content://com.android.contacts/data --bind raw_contact_id:i:$R --bind mimetype:s:vnd.android.cursor.item/name --bind data1:s:'Meyer Wholesale Meats' && content insert --user 10 --uri content://com.android.contacts/data --bind raw_contact_id:i:$R --bind mimetype:s:vnd.android.cursor.item/phone_v2 --bind data1:s:+493012345678 --bind data2:i:2 && content delete --user 10 --uri 'content://com.android.contacts/raw_contacts?caller_is_syncadapter=true' --where "sourceid='corral-49302222222-e5d91685'" && content insert --user 10 --uri content://com.android.contacts/raw_contacts --bind account_type:n: --bind account_name:n: --bind sourceid:s:corral-49302222222-e5d91685 && R=$(content query --user 10 --uri content://com.android.contacts/raw_contacts --projection _id --where "sourceid='corral-49302222222-e5d91685' AND deleted=0" --sort '_id DESC' | sed -n 's/^Row: 0 _id=\([0-9]*\).*/\1/p') && [ -n "$R" ] && content insert --user 10 --uri content://com.android.contacts/data --bind raw_contact_id:i:$R --bind mimetype:s:vnd.android.cursor.item/name --bind data1:s:'Müller'\''s Feinkost' && content insert --user 10 --uri content://com.android.contacts/data --bind raw_contact_id:i:$R --bind mimetype:s:vnd.android.cursor.item/phone_v2 --bind data1:s:+49302222222 --bind data2:i:2 && content delete --user 10 --uri 'content://com.android.contacts/raw_contacts?caller_is_syncadapter=true' --where "sourceid='corral-493312345678-7bf7a41c'" && content insert --user 10 --uri content://com.android.contacts/raw_contacts --bind account_type:n: --bind account_name:n: --bind sourceid:s:corral-493312345678-7bf7a41c && R=$(content query --user 10 --uri content://com.android.contacts/raw_contacts --projection _id --where "sourceid='corral-493312345678-7bf7a41c' AND deleted=0" --sort '_id DESC' | sed -n 's/^Row: 0 _id=\([0-9]*\).*/\1/p') && [ -n "$R" ] && content insert --user 10 --uri content://com.android.contacts/data --bind raw_contact_id:i:$R --bind mimetype:s:vnd.android.cursor.item/name --bind data1:s:'Hofmann Farm' && content insert --user 10 --uri content://com.android.contacts/data --bind raw_contact_id:i:$R --bind mimetype:s:vnd.android.cursor.item/phone_v2 --bind data1:s:+493312345678 --bind data2:i:2
        [exit 0]
        round 2 $ pm hide --user 10 com.android.chrome && pm hide --user 10 com.android.settings && pm hide --user 10 com.android.vending && pm hide --user 10 com.google.android.apps.messaging && pm hide --user 10 com.google.android.contacts && pm hide --user 10 com.google.android.dialer && pm hide --user 10 com.google.android.gm && pm hide --user 10 com.google.android.youtube
        Package com.android.chrome new hidden state: true
        Package com.android.settings new hidden state: true
        Package com.android.vending new hidden state: true
        Package com.google.android.apps.messaging new hidden state: true
        Package com.google.android.contacts new hidden state: true
        Package com.google.android.dialer new hidden state: true
        Package com.google.android.gm new hidden state: true
        Package com.google.android.youtube new hidden state: true
        [exit 0]
        round 3: nothing to do
    "#]].assert_eq(&log);
    expect![[r#"
        Users:
        	UserInfo{0:Owner:4c13} running
        	UserInfo{10:Shop:1030} running
        package:com.whatsapp.w4b
        Row: 0 raw_contact_id=1, data1=Anna Schmidt
        Row: 1 raw_contact_id=1, data1=+49301111111
        Row: 2 raw_contact_id=2, data1=Meyer Wholesale Meats
        Row: 3 raw_contact_id=2, data1=+493012345678
        Row: 4 raw_contact_id=3, data1=Müller's Feinkost
        Row: 5 raw_contact_id=3, data1=+49302222222
        Row: 6 raw_contact_id=4, data1=Hofmann Farm
        Row: 7 raw_contact_id=4, data1=+493312345678
        Error: Backup Manager is not activated for user 10
        0
    "#]].assert_eq(&sh(
        &p,
        "pm list users; pm list packages --user 10 com.whatsapp.w4b; pm list packages --user 0 com.whatsapp.w4b; \
         content query --user 10 --uri content://com.android.contacts/data --projection raw_contact_id:data1 --sort raw_contact_id; \
         bmgr --user 10 enabled; settings get --user 10 secure managed_profile_contact_remote_search",
    ));
}

#[test]
fn install_apk_checks_the_digest_before_installing() {
    let p = phone(
        14,
        &[
            "pm create-user --profileOf 0 --managed Shop",
            "am start-user -w 10",
            "mkdir -p /data/local/tmp/corral",
        ],
    );
    let apk = crate::phone::apk::build_test_apk("org.example.chat", 7);
    let sha = crate::phone::cmd::digest::hex_digest("sha256sum", &apk);
    let action = Action::InstallApk {
        user: UserRef::Work,
        package: PackageName::parse("org.example.chat").expect("package"),
        apk: ApkSource {
            file: "chat.apk".into(),
            sha256: Sha256Hex::parse(&sha).expect("sha"),
        },
    };
    let users = Users {
        personal: UserId(0),
        work: Some(UserId(10)),
    };
    let script = action.script(users).expect("renders");
    let path = format!("/data/local/tmp/corral/{sha}.apk");
    // A damaged upload fails the check: nothing is installed.
    p.fs()
        .write(&path, 0o644, b"PK\x03\x04 not the apk")
        .expect("write");
    assert_eq!(run_wrapped(&p, &script), (String::new(), 1));
    p.fs().write(&path, 0o644, &apk).expect("write");
    assert_eq!(run_wrapped(&p, &script), ("Success\n".to_string(), 0));
    assert_eq!(
        sh(&p, "pm list packages --user 10 org.example"),
        "package:org.example.chat\n"
    );
}

#[test]
fn adding_contacts_twice_leaves_one_copy() {
    let (target, allow) = profile(&[("staff", "Anna Schmidt", "+49 30 1111111")]);
    let p = phone(
        14,
        &[
            "pm create-user --profileOf 0 --managed Shop",
            "am start-user -w 10",
        ],
    );
    let action = Action::AddContacts {
        user: UserRef::Work,
        contacts: allow.contacts().to_vec(),
    };
    let users = Users {
        personal: UserId(0),
        work: Some(UserId(10)),
    };
    let script = action.script(users).expect("renders");
    for _ in 0..2 {
        assert_eq!(run_wrapped(&p, &script).1, 0);
    }
    let named = BTreeSet::new();
    let work = observe(&p, &named).work.expect("work profile");
    let live: Vec<_> = work
        .contacts
        .iter()
        .map(|c| (c.name.clone(), c.numbers.clone()))
        .collect();
    assert_eq!(live.len(), allow.len(), "{live:?}");
    drop(target);
}

/// `content --bind` takes everything after the second `:` literally (AOSP
/// `Content.parseBindValue`), so the planner passes names with colons unescaped.
#[test]
fn a_name_with_a_colon_converges() {
    let (target, allow) = profile(&[("staff", "Lager: Nord", "+49 30 3333333")]);
    let p = phone(14, &[]);
    converge(&p, &target, &allow);
}
