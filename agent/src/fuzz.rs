//! Fuzzing entry points: every parser of phone output and every decoder of the agent's
//! own files, with the properties they must keep. Used by the cargo-fuzz crate
//! (`agent/fuzz`) and by `tests/fuzz.rs`, which runs them over thousands of mutated real
//! outputs on every `cargo test`. A panic is a bug: a crash or a broken property.

use corral_profiles::{Action, PackageName, UserId, UserRef, Users};

use crate::enforce::script;
use crate::observe::sections::{self, Section};
use crate::observe::{accounts, contacts, dumpsys, packages, settings, users};
use crate::outbox::record;
use crate::shell::marker;

/// How many parsers [`parsers`] chooses from (the first input byte, modulo this).
pub const PARSERS: u8 = 10;

/// The first byte picks a parser; the rest is the command's output.
pub fn parsers(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    match selector % PARSERS {
        0 => {
            if let Ok(list) = users::parse_users(&text) {
                // Rendering what was parsed and parsing it again gives the same users.
                let mut again = String::from("Users:\n");
                for u in &list {
                    again.push_str(&format!(
                        "\tUserInfo{{{}:{}:{:x}}}{}\n",
                        u.id,
                        u.name,
                        u.flags,
                        if u.running { " running" } else { "" }
                    ));
                }
                assert_eq!(users::parse_users(&again).ok(), Some(list));
            }
        }
        1 => {
            if let Ok(list) = packages::parse_package_list("pm list packages", &text) {
                let again: String = list.iter().map(|p| format!("package:{p}\n")).collect();
                assert_eq!(
                    packages::parse_package_list("pm list packages", &again).ok(),
                    Some(list)
                );
            }
        }
        2 => {
            let _ = packages::parse_activities("pm query-activities", &text);
        }
        3 => {
            if let Ok(Some(d)) = dumpsys::parse_package_dump("com.whatsapp.w4b", &text) {
                for s in d.users.values() {
                    assert!(s.enabled <= 4);
                }
            }
        }
        4 => {
            if let Ok(m) = accounts::parse_account_types(&text) {
                assert!(m.values().flatten().all(|t| !t.is_empty()));
            }
        }
        5 => {
            let raw = contacts::parse_rows("q", &["_id", "account_type"], false, &text);
            let data =
                contacts::parse_rows("q", &["raw_contact_id", "mimetype", "data1"], true, &text);
            if let (Ok(raw), Ok(data)) = (&raw, &data) {
                let _ = contacts::assemble("q", raw, "q", data);
            }
            for rows in [raw, data].into_iter().flatten() {
                assert!(rows.iter().all(|r| r.len() == 2 || r.len() == 3));
            }
        }
        6 => {
            let _ = settings::parse_setting("settings get", &text);
            let _ = settings::parse_backup("bmgr enabled", 10, &text);
            let _ = settings::parse_sdk(&text);
            let _ = settings::parse_profile_owner(&text, 10);
        }
        7 => {
            if let Ok(out) = marker::unwrap(rest) {
                // What unwrap returns, wrapped by a shell again, unwraps to itself.
                let again = format!("{}\n{}{}\n", out.output, marker::EXIT_MARKER, out.exit);
                assert_eq!(marker::unwrap(again.as_bytes()).ok(), Some(out));
            }
        }
        8 => {
            let list = [
                Section::new("users", "pm list users"),
                Section::new("sdk", "getprop"),
            ];
            if let Ok(parts) = sections::split(&list, 7, &text) {
                assert_eq!(parts.len(), 2);
            }
        }
        _ => evaluate(&text),
    }
}

fn evaluate(text: &str) {
    let Ok(pkg) = PackageName::parse("com.android.chrome") else {
        return;
    };
    let batch = [
        Action::Hide {
            user: UserRef::Work,
            package: pkg.clone(),
        },
        Action::SetBackup {
            user: UserRef::Work,
            enabled: false,
        },
        Action::CreateWorkProfile {
            name: "Shop".into(),
        },
    ];
    let users = Users {
        personal: UserId(0),
        work: Some(UserId(10)),
    };
    if let Ok(s) = script::render(&batch, users, 1) {
        for exit in [0, 1] {
            let out = script::evaluate(&s, batch.len(), text, exit, 1);
            assert_eq!(out.results.len(), batch.len());
        }
    }
}

/// An outbox file's bytes: reading never panics, and the intact records re-encode to
/// exactly the bytes read.
pub fn outbox(data: &[u8]) {
    let scan = record::scan(data);
    assert!(scan.valid_len <= data.len());
    let again: Vec<u8> = scan
        .payloads
        .iter()
        .flat_map(|p| record::encode(p))
        .collect();
    assert_eq!(again.as_slice(), &data[..scan.valid_len]);
}
