//! The butcher-shop profile (`profiles/examples/`) the fleet tests roll out, and what a
//! phone on it looks like through `adb shell`: a running work profile "Shop" with WhatsApp
//! Business in it and not in the personal user, exactly the allow-listed contacts, backup
//! off, nothing shared across profiles.

use crate::phones::Phones;

/// The profile every test assigns.
pub const PROFILE: &str = "butcher-shop";

/// The example profile files, as `(file name, text)`.
pub fn files() -> Vec<(&'static str, String)> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../profiles/examples/");
    ["base.toml", "butcher-shop.toml"]
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(format!("{root}{f}"))
                .unwrap_or_else(|e| panic!("{root}{f}: {e}"));
            (f, text)
        })
        .collect()
}

/// The same files with one more allow-listed contact in the shop profile: a new version.
pub fn files_with_contact(name: &str, phone: &str) -> Vec<(&'static str, String)> {
    files()
        .into_iter()
        .map(|(f, text)| {
            if f == "butcher-shop.toml" {
                let entry = format!(
                    "\n[[contacts.entries]]\nname = \"{name}\"\nphone = \"{phone}\"\nbasis = \"contract\"\n"
                );
                // Entries must precede the tables that follow them in the file.
                let at = text
                    .find("\n[privacy]")
                    .unwrap_or_else(|| panic!("{f} has no [privacy] table"));
                (f, format!("{}{entry}{}", &text[..at], &text[at..]))
            } else {
                (f, text)
            }
        })
        .collect()
}

/// `(file name, text)` pairs as `publish` takes them.
pub fn as_refs<'a>(files: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    files.iter().map(|(f, t)| (*f, t.as_str())).collect()
}

/// The work contact book of phone `i`: display names and numbers (`data1`), by raw
/// contact, from `content query` as a technician would run it.
pub fn contact_book(phones: &Phones, i: usize, user: u32) -> Vec<String> {
    column(
        phones,
        i,
        user,
        "data --projection raw_contact_id:data1 --sort raw_contact_id",
        "data1",
    )
}

/// The work profile's raw contacts (not deleted), as `_id` values.
pub fn raw_contacts(phones: &Phones, i: usize, user: u32) -> Vec<String> {
    column(
        phones,
        i,
        user,
        "raw_contacts --projection _id --where 'deleted=0'",
        "_id",
    )
}

/// `content query --user USER --uri content://com.android.contacts/QUERY`: the value of
/// `name` (the last column) in each row.
fn column(phones: &Phones, i: usize, user: u32, query: &str, name: &str) -> Vec<String> {
    let out = phones.shell(
        i,
        &format!("content query --user {user} --uri content://com.android.contacts/{query}"),
    );
    if out.trim() == "No result found." {
        return Vec::new();
    }
    let key = format!("{name}=");
    out.lines()
        .map(|l| {
            l.split_once(key.as_str())
                .map(|(_, v)| v.to_owned())
                .unwrap_or_else(|| panic!("unexpected content query line {l:?}"))
        })
        .collect()
}

/// The id of phone `i`'s work profile ("Shop", a managed profile: flags 0x1030), from
/// `pm list users`; `Err` with the output while there is none or it is not running.
pub fn work_profile(phones: &Phones, i: usize) -> Result<u32, String> {
    let users = phones.shell(i, "pm list users");
    users
        .lines()
        .find_map(|l| {
            let rest = l.trim().strip_prefix("UserInfo{")?;
            let (id, rest) = rest.split_once(':')?;
            rest.starts_with("Shop:1030} running")
                .then(|| id.parse().ok())
                .flatten()
        })
        .ok_or(users)
}

/// Asserts through `adb shell` that phone `i` is on the butcher-shop profile with exactly
/// `contacts` (display names) in its work contact book.
pub fn assert_on_profile(phones: &Phones, i: usize, contacts: &[&str]) {
    let serial = &phones.serials()[i];
    let user = work_profile(phones, i)
        .unwrap_or_else(|users| panic!("{serial}: no running work profile \"Shop\":\n{users}"));
    let sh = |script: &str| phones.shell(i, script);
    assert_eq!(
        sh(&format!("pm list packages --user {user} com.whatsapp.w4b")),
        "package:com.whatsapp.w4b\n",
        "{serial}: WhatsApp Business in the work profile"
    );
    assert_eq!(
        sh("pm list packages --user 0 com.whatsapp.w4b"),
        "",
        "{serial}: no WhatsApp Business in the personal user"
    );
    for setting in [
        "managed_profile_contact_remote_search",
        "cross_profile_calendar_enabled",
    ] {
        assert_eq!(
            sh(&format!("settings get --user {user} secure {setting}")),
            "0\n",
            "{serial}: {setting}"
        );
    }
    let backup = sh(&format!("bmgr --user {user} enabled 2>&1"));
    assert!(
        backup == "Backup Manager currently disabled\n"
            || backup.contains(&format!("not activated for user {user}")),
        "{serial}: backup is on: {backup}"
    );
    let book = contact_book(phones, i, user);
    let names: Vec<&str> = book
        .iter()
        .map(String::as_str)
        .filter(|v| !v.starts_with('+'))
        .collect();
    let mut expected = contacts.to_vec();
    expected.sort_unstable();
    let mut names_sorted = names.clone();
    names_sorted.sort_unstable();
    assert_eq!(
        names_sorted, expected,
        "{serial}: the work contact book holds exactly the allow-list (each once)"
    );
    assert_eq!(
        raw_contacts(phones, i, user).len(),
        contacts.len(),
        "{serial}: one raw contact per allow-listed contact"
    );
}

/// The display names of the butcher-shop profile's contacts.
pub const CONTACTS: [&str; 2] = ["Meyer Wholesale Meats", "Hofmann Farm"];
