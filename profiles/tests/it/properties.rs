//! Property tests: the version ignores formatting and order but sees every semantic
//! change; the planner reaches a fixpoint in one pass from any phone.

use std::collections::BTreeMap;

use corral_profiles::{
    AllowList, AllowedContact, ContactId, LawfulBasis, ObservedContact, ObservedPhone,
    ObservedUser, PackageName, PackageState, PhoneNumber, RawContactId, SourceFile, UserId,
    WorkSide, plan, resolve, simulate,
};
use proptest::prelude::*;

/// A profile as a list of (section, key, value) written in TOML syntax.
#[derive(Clone, Debug)]
struct Spec {
    entries: Vec<(&'static str, &'static str, String)>,
    contacts: Vec<(String, u32)>,
}

const PACKAGES: [&str; 5] = [
    "com.whatsapp",
    "com.whatsapp.w4b",
    "com.android.camera2",
    "com.example.orders",
    "com.android.chrome",
];
const PERMS: [&str; 3] = [
    "android.permission.READ_CONTACTS",
    "android.permission.CAMERA",
    "android.permission.POST_NOTIFICATIONS",
];

fn subset(items: &'static [&'static str]) -> impl Strategy<Value = Vec<&'static str>> {
    proptest::sample::subsequence(items.to_vec(), 0..=items.len())
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        proptest::sample::subsequence(vec!["com.whatsapp", "com.whatsapp.w4b"], 1..=2),
        prop_oneof![Just("keep"), Just("hide"), Just("uninstall")],
        subset(&PERMS),
        subset(&PACKAGES[2..]),
        subset(&PACKAGES[2..]),
        (
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        ),
        prop_oneof![Just("exact"), Just("report")],
        proptest::collection::btree_map(0u32..50, "[A-Z][a-z]{1,8}( [A-Z][a-z]{1,8})?", 0..6),
        (1u32..60, 1u32..24),
    )
        .prop_map(
            |(packages, copy, grant, allowed, install, flags, mode, contacts, (hb, rc))| {
                let list = |v: Vec<&str>| {
                    format!(
                        "[{}]",
                        v.iter()
                            .map(|s| format!("\"{s}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                let (backup, search, calendar, other_keep, caller_id) = flags;
                let mut entries = vec![
                    ("messenger", "packages", list(packages)),
                    ("messenger", "personal_copy", format!("\"{copy}\"")),
                    ("messenger", "grant", list(grant)),
                    ("work_profile", "allowed_apps", list(allowed)),
                    ("work_profile", "install", list(install)),
                    (
                        "work_profile",
                        "other_apps",
                        if other_keep {
                            "\"keep\"".into()
                        } else {
                            "\"hide\"".into()
                        },
                    ),
                    ("privacy", "backup", backup.to_string()),
                    (
                        "privacy",
                        "cross_profile_contact_search",
                        search.to_string(),
                    ),
                    ("privacy", "cross_profile_calendar", calendar.to_string()),
                    ("contacts", "mode", format!("\"{mode}\"")),
                    ("agent", "heartbeat", format!("\"{}s\"", hb * 10)),
                    ("agent", "reconcile", format!("\"{rc}h\"")),
                ];
                if caller_id {
                    entries.push(("privacy", "cross_profile_caller_id", "false".into()));
                }
                let contacts = contacts.into_iter().map(|(n, name)| (name, n)).collect();
                Spec { entries, contacts }
            },
        )
}

/// Renders the spec as TOML: sections and keys in the order given by `order`, with
/// optional comments, blank lines and number spellings.
fn render(spec: &Spec, order: &[usize], style: u8) -> String {
    let mut sections: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for &i in order {
        let (s, k, v) = &spec.entries[i % spec.entries.len()];
        let keys = sections.entry(s).or_default();
        if !keys.iter().any(|(key, _)| key == k) {
            keys.push((k, v));
        }
    }
    for (s, k, v) in &spec.entries {
        let keys = sections.entry(s).or_default();
        if !keys.iter().any(|(key, _)| key == k) {
            keys.push((k, v));
        }
    }
    let mut out = String::new();
    if style & 1 == 1 {
        out.push_str("# a comment\n\n");
    }
    out.push_str("name = \"prop\"\n");
    let mut names: Vec<&&str> = sections.keys().collect();
    if style & 2 == 2 {
        names.reverse();
    }
    for s in names {
        out.push_str(&format!("[{s}]\n"));
        let mut keys = sections[s].clone();
        if style & 4 == 4 {
            keys.reverse();
        }
        for (k, v) in keys {
            let pad = if style & 8 == 8 { "   " } else { " " };
            out.push_str(&format!("{k}{pad}={pad}{v}\n"));
        }
    }
    let mut contacts = spec.contacts.clone();
    if style & 2 == 2 {
        contacts.reverse();
    }
    for (name, n) in contacts {
        let phone = if style & 16 == 16 {
            format!("+49 30 {}", 10_000_000 + n)
        } else {
            format!("+4930{}", 10_000_000 + n)
        };
        out.push_str(&format!(
            "[[contacts.entries]]\nname = \"{name}\"\nphone = \"{phone}\"\nbasis = \"consent\"\n"
        ));
    }
    out
}

fn version_of(text: &str) -> corral_profiles::Version {
    let r = resolve(&[SourceFile::new("p.toml", text)], None);
    assert!(!r.has_errors(), "{text}\n{:?}", r.diagnostics);
    r.profiles.values().next().unwrap().version()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn version_ignores_formatting_and_order(spec in spec(), order in proptest::collection::vec(0usize..20, 0..20), style in 0u8..32) {
        prop_assert_eq!(version_of(&render(&spec, &[], 0)), version_of(&render(&spec, &order, style)));
    }

    #[test]
    fn version_sees_every_semantic_change(spec in spec(), which in 0usize..12) {
        let before = version_of(&render(&spec, &[], 0));
        let mut changed = spec.clone();
        let (section, key, value) = changed.entries[which].clone();
        let new_value = match (section, key) {
            ("messenger", "packages") if value.contains("w4b") && value.contains("\"com.whatsapp\"") => "[\"com.whatsapp\"]".to_owned(),
            ("messenger", "packages") => "[\"com.whatsapp\", \"com.whatsapp.w4b\"]".to_owned(),
            ("messenger", "personal_copy") => if value.contains("keep") { "\"hide\"".into() } else { "\"keep\"".into() },
            (_, "grant") => if value == "[]" { "[\"android.permission.X\"]".into() } else { "[]".into() },
            (_, "allowed_apps" | "install") => if value == "[]" { "[\"com.x.y\"]".into() } else { "[]".into() },
            (_, "other_apps") => if value.contains("keep") { "\"hide\"".into() } else { "\"keep\"".into() },
            (_, "mode") => if value.contains("exact") { "\"report\"".into() } else { "\"exact\"".into() },
            (_, "heartbeat") => "\"11s\"".into(),
            (_, "reconcile") => "\"1m\"".into(),
            _ => if value == "true" { "false".into() } else { "true".into() },
        };
        prop_assume!(new_value != value);
        changed.entries[which].2 = new_value;
        prop_assert_ne!(before, version_of(&render(&changed, &[], 0)));
    }

    #[test]
    fn planning_after_applying_the_plan_yields_nothing(spec in spec(), phone in phone(), allow_n in 0usize..30) {
        let r = resolve(&[SourceFile::new("p.toml", render(&spec, &[], 0))], None);
        let target = r.profiles.values().next().unwrap().for_device(None);
        let allow = allow_list(allow_n);
        let mut phone = phone;
        let first = plan(&target, &allow, &phone);
        simulate::apply_all(&mut phone, &first.actions);
        let second = plan(&target, &allow, &phone);
        prop_assert!(second.actions.is_empty(), "{:?}", second.actions);
        prop_assert!(second.drift.iter().all(|d| !d.fixed_by_plan()), "{:?}", second.drift);
        // Whatever drift remains was already reported, and no shell command can fix it.
        for d in &second.drift {
            prop_assert!(first.drift.contains(d), "{:?} not in {:?}", d, first.drift);
        }
    }
}

fn allow_list(n: usize) -> AllowList {
    AllowList::from_contacts((0..n).map(|i| AllowedContact {
        id: ContactId(format!("c{i}")),
        name: format!("Contact {}", i % 7),
        number: PhoneNumber::parse(&format!("+4930{}", 10_000_000 + i), None).unwrap(),
        basis: LawfulBasis::Consent,
    }))
}

fn package_state() -> impl Strategy<Value = PackageState> {
    (any::<[bool; 5]>(), subset(&PERMS)).prop_map(
        |([hidden, disabled, suspended, system, launcher], granted)| PackageState {
            hidden,
            disabled,
            suspended,
            system,
            launcher,
            granted: granted.into_iter().map(|p| p.parse().unwrap()).collect(),
        },
    )
}

fn packages() -> impl Strategy<Value = BTreeMap<PackageName, PackageState>> {
    proptest::collection::btree_map(
        proptest::sample::select(PACKAGES.to_vec()).prop_map(|p| p.parse().unwrap()),
        package_state(),
        0..5,
    )
}

fn phone() -> impl Strategy<Value = ObservedPhone> {
    let contact = (
        0u64..40,
        0usize..40,
        proptest::option::of(prop_oneof![Just("com.whatsapp"), Just("com.google")]),
        0usize..3,
    );
    let work = (
        packages(),
        any::<(bool, bool, Option<bool>, bool)>(),
        proptest::collection::vec(contact, 0..30),
        proptest::sample::subsequence(vec!["com.google", "com.whatsapp"], 0..=2),
    )
        .prop_map(
            |(packages, (search, calendar, backup, running), contacts, accounts)| {
                let mut w = WorkSide::new(UserId(10));
                w.packages = packages;
                w.settings.insert(
                    corral_profiles::SETTING_CONTACT_SEARCH.into(),
                    if search { "1" } else { "0" }.into(),
                );
                w.settings.insert(
                    corral_profiles::SETTING_CALENDAR.into(),
                    if calendar { "1" } else { "0" }.into(),
                );
                w.backup_enabled = backup;
                w.account_types = accounts.into_iter().map(String::from).collect();
                let mut ids = std::collections::BTreeSet::new();
                for (id, i, account, numbers) in contacts {
                    if !ids.insert(id) {
                        continue;
                    }
                    w.contacts.push(ObservedContact {
                        id: RawContactId(id),
                        name: Some(format!("Contact {}", i % 7)),
                        numbers: (0..numbers)
                            .map(|k| format!("+4930{}", 10_000_000 + i + k))
                            .collect(),
                        account_type: account.map(String::from),
                    });
                }
                (w, running)
            },
        );
    (packages(), proptest::option::of(work)).prop_map(|(personal, work)| {
        let mut phone = ObservedPhone::new();
        phone.personal_packages = personal;
        if let Some((w, running)) = work {
            phone.users.push(ObservedUser {
                id: UserId(10),
                name: "Work".into(),
                flags: 0x1030,
                running,
            });
            phone.work = Some(w);
        }
        phone
    })
}
