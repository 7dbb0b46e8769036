//! Diagnostics about values: package and permission names, phone numbers, duplicates,
//! contact entries, enums, intervals, APK sources, warnings and notes.

use corral_profiles::{Style, render, resolve};
use expect_test::expect;

use super::check;
use crate::fixture::files;

#[test]
fn bad_package_and_permission_names() {
    check(
        r#"name = "shop"
[messenger]
packages = ["whatsapp", "com.whatsapp.business"]
grant = ["READ_CONTACTS", "android.permission.2X"]
[work_profile]
allowed_apps = ["com.android.camera2", "com..x"]
"#,
        expect![[r#"
            error[invalid-package]: `whatsapp` in `messenger.packages` is not valid
             --> profile.toml:3:13
              |
            3 | packages = ["whatsapp", "com.whatsapp.business"]
              |             ^^^^^^^^^^ a package name has at least two `.`-separated parts, like `com.whatsapp`

            warning[invalid-value]: `com.whatsapp.business` is not a WhatsApp package
             --> profile.toml:3:25
              |
            3 | packages = ["whatsapp", "com.whatsapp.business"]
              |                         ^^^^^^^^^^^^^^^^^^^^^^^
              |
              = help: corral is tested with `com.whatsapp` and `com.whatsapp.w4b`

            error[invalid-permission]: `READ_CONTACTS` in `messenger.grant` is not valid
             --> profile.toml:4:10
              |
            4 | grant = ["READ_CONTACTS", "android.permission.2X"]
              |          ^^^^^^^^^^^^^^^ a permission is written with its package, like `android.permission.READ_CONTACTS`

            error[invalid-permission]: `android.permission.2X` in `messenger.grant` is not valid
             --> profile.toml:4:27
              |
            4 | grant = ["READ_CONTACTS", "android.permission.2X"]
              |                           ^^^^^^^^^^^^^^^^^^^^^^^ a permission is a dotted name, like `android.permission.READ_CONTACTS`

            error[invalid-package]: `com..x` in `work_profile.allowed_apps` is not valid
             --> profile.toml:6:40
              |
            6 | allowed_apps = ["com.android.camera2", "com..x"]
              |                                        ^^^^^^^^ a package name has no empty parts: no `..` and no `.` at either end"#]],
    );
}

#[test]
fn phone_numbers_are_normalised_or_named() {
    check(
        r#"name = "shop"
[messenger]
packages = ["com.whatsapp.w4b"]
grant = ["android.permission.READ_CONTACTS"]
[[contacts.entries]]
name = "No country"
phone = "030 1234567"
basis = "contract"
[[contacts.entries]]
name = "Letters"
phone = "call me"
basis = "contract"
[[contacts.entries]]
name = "Too short"
phone = "+49 30 1"
basis = "contract"
"#,
        expect![[r#"
            error[invalid-phone]: `030 1234567` has no country code
             --> profile.toml:7:9
              |
            7 | phone = "030 1234567"
              |         ^^^^^^^^^^^^^ not a valid phone number
              |
              = help: write it with its country code (`+49 30 1234567`) or set `contacts.region = "DE"`

            error[invalid-phone]: `call me` is not a phone number: only digits, spaces, `+`, `-`, `.`, `/` and brackets may appear
              --> profile.toml:11:9
               |
            11 | phone = "call me"
               |         ^^^^^^^^^ not a valid phone number
               |
               = help: check the digits; numbers are normalised to E.164 (`+4930123456`)

            error[invalid-phone]: `+49 30 1` is not a valid number in DE (country code +49)
              --> profile.toml:15:9
               |
            15 | phone = "+49 30 1"
               |         ^^^^^^^^^^ not a valid phone number
               |
               = help: check the digits; numbers are normalised to E.164 (`+4930123456`)"#]],
    );
}

#[test]
fn duplicates_point_at_the_first() {
    check(
        r#"name = "shop"
[messenger]
packages = ["com.whatsapp.w4b", "com.whatsapp.w4b"]
grant = ["android.permission.READ_CONTACTS"]
[contacts]
region = "DE"
groups = ["staff", "staff"]
[[contacts.entries]]
name = "Meyer"
phone = "+49 30 12345678"
basis = "contract"
[[contacts.entries]]
name = "Meyer again"
phone = "030 12345678"
basis = "consent"
"#,
        expect![[r#"
            error[duplicate]: `com.whatsapp.w4b` is listed twice in `messenger.packages`
             --> profile.toml:3:33
              |
            3 | packages = ["com.whatsapp.w4b", "com.whatsapp.w4b"]
              |             ------------------  ^^^^^^^^^^^^^^^^^^ listed again
              |             |
              |             first listed here
              |
              = help: remove one of them

            error[duplicate]: `staff` is listed twice in `contacts.groups`
             --> profile.toml:7:20
              |
            7 | groups = ["staff", "staff"]
              |           -------  ^^^^^^^ listed again
              |           |
              |           first listed here
              |
              = help: remove one of them

            error[duplicate]: +493012345678 is listed twice
              --> profile.toml:14:9
               |
            10 | phone = "+49 30 12345678"
               |         ----------------- first listed here
            ...
            14 | phone = "030 12345678"
               |         ^^^^^^^^^^^^^^ same number as an earlier entry
               |
               = help: keep one entry per number"#]],
    );
}

#[test]
fn contact_entry_without_basis_or_phone() {
    check(
        r#"name = "shop"
[messenger]
packages = ["com.whatsapp.w4b"]
grant = ["android.permission.READ_CONTACTS"]
[[contacts.entries]]
name = "Meyer"
phone = "+49 30 12345678"
[[contacts.entries]]
name = "Hofmann"
basis = "maybe"
"#,
        expect![[r#"
            error[missing]: missing `basis` in a contact entry
             --> profile.toml:5:1
              |
            5 | [[contacts.entries]]
              | ^^^^^^^^^^^^^^^^^^^^
              |
              = help: every contact needs the lawful basis it is processed on: `basis = "consent"`, `"contract"` or `"legitimate_interest"`

            error[missing]: missing `phone` in a contact entry
             --> profile.toml:8:1
              |
            8 | [[contacts.entries]]
              | ^^^^^^^^^^^^^^^^^^^^
              |
              = help: add `phone = "+49 30 1234567"`

            error[invalid-value]: `contacts.entries[2].basis` cannot be `maybe`
              --> profile.toml:10:9
               |
            10 | basis = "maybe"
               |         ^^^^^^^ expected one of: consent, contract, legitimate_interest
               |
               = help: use one of: consent, contract, legitimate_interest"#]],
    );
}

#[test]
fn bad_enum_values_and_intervals() {
    check(
        r#"name = "shop"
[messenger]
packages = ["com.whatsapp.w4b"]
personal_copy = "delete"
[contacts]
mode = "exect"
region = "Germany"
[agent]
heartbeat = "1s"
reconcile = "fortnightly"
"#,
        expect![[r#"
            error[invalid-value]: `messenger.personal_copy` cannot be `delete`
             --> profile.toml:4:17
              |
            4 | personal_copy = "delete"
              |                 ^^^^^^^^ expected one of: keep, hide, uninstall
              |
              = help: use one of: keep, hide, uninstall

            error[invalid-value]: `contacts.mode` cannot be `exect`
             --> profile.toml:6:8
              |
            6 | mode = "exect"
              |        ^^^^^^^ expected one of: exact, report
              |
              = help: did you mean `exact`?

            error[invalid-value]: `Germany` is not a country code
             --> profile.toml:7:10
              |
            7 | region = "Germany"
              |          ^^^^^^^^^
              |
              = help: use a two-letter ISO 3166 code such as `DE`, `GB` or `US`

            error[invalid-value]: `agent.heartbeat` must be between 10s and 1h
             --> profile.toml:9:13
              |
            9 | heartbeat = "1s"
              |             ^^^^

            error[invalid-value]: `fortnightly` is not an interval
              --> profile.toml:10:13
               |
            10 | reconcile = "fortnightly"
               |             ^^^^^^^^^^^^^
               |
               = help: an interval is a whole number and a unit: `30s`, `15m` or `2h`"#]],
    );
}

#[test]
fn apk_source_must_match_a_messenger_package() {
    check(
        r#"name = "shop"
[messenger]
packages = ["com.whatsapp.w4b"]
[messenger.apk]
"com.whatsapp.w4b" = { file = "wa-business.apk", sha256 = "abc" }
"com.whatsapp" = { file = "wa.apk", sha256 = "0000000000000000000000000000000000000000000000000000000000000000" }
"#,
        expect![[r#"
            error[invalid-value]: bad `sha256` for `com.whatsapp.w4b`
             --> profile.toml:5:59
              |
            5 | "com.whatsapp.w4b" = { file = "wa-business.apk", sha256 = "abc" }
              |                                                           ^^^^^ a SHA-256 digest is 64 hex digits (`sha256sum FILE` prints it); this has 3 characters

            error[conflict]: an APK is given for `com.whatsapp`, which is not in `messenger.packages`
             --> profile.toml:6:1
              |
            6 | "com.whatsapp" = { file = "wa.apk", sha256 = "0000000000000000000000000000000000000000000000000000000000000000" }
              | ^^^^^^^^^^^^^^
              |
              = help: list the package in `messenger.packages`, or remove this APK"#]],
    );
}

#[test]
fn warnings_and_notes_do_not_invalidate() {
    check(
        r#"name = "shop"
[messenger]
packages = ["com.whatsap"]
[work_profile]
allowed_apps = ["com.whatsap"]
[contacts]
groups = ["staff"]
[privacy]
bluetooth_contact_sharing = false
"#,
        expect![[r#"
            warning[conflict]: the messenger is not granted READ_CONTACTS, so it cannot show the allow-listed contacts
             --> profile.toml:1:8
              |
            1 | name = "shop"
              |        ^^^^^^
              |
              = help: add `grant = ["android.permission.READ_CONTACTS"]` under `[messenger]`

            warning[invalid-value]: `com.whatsap` is not a WhatsApp package
             --> profile.toml:3:13
              |
            3 | packages = ["com.whatsap"]
              |             ^^^^^^^^^^^^^
              |
              = help: did you mean `com.whatsapp`?

            warning[redundant]: `com.whatsap` is the messenger; it is always in the work profile
             --> profile.toml:5:17
              |
            5 | allowed_apps = ["com.whatsap"]
              |                 ^^^^^^^^^^^^^
              |
              = help: remove it from `work_profile.allowed_apps`

            note[needs-profile-owner]: `privacy.bluetooth_contact_sharing` can only be enforced by the profile-owner admin component
             --> profile.toml:9:29
              |
            9 | bluetooth_contact_sharing = false
              |                             ^^^^^ needs the admin component
              |
              = help: until it is installed in the work profile, the agent reports this setting as unenforceable drift"#]],
    );
}

#[test]
fn unknown_group_when_a_contact_book_is_given() {
    use corral_profiles::{DirectoryContact, GroupName};
    use std::collections::BTreeMap;
    let files = files(
        r#"name = "shop"
[messenger]
packages = ["com.whatsapp.w4b"]
grant = ["android.permission.READ_CONTACTS"]
[contacts]
groups = ["staff", "supliers"]
"#,
    );
    let mut book: BTreeMap<GroupName, Vec<DirectoryContact>> = BTreeMap::new();
    book.insert(GroupName::parse("staff").unwrap(), Vec::new());
    book.insert(GroupName::parse("suppliers").unwrap(), Vec::new());
    let resolution = resolve(&files, Some(&book));
    let rendered = render(&resolution.diagnostics, &files, Style::Plain);
    expect![[r#"
        error[unknown-group]: the contact book has no group `supliers`
         --> profile.toml:6:20
          |
        6 | groups = ["staff", "supliers"]
          |                    ^^^^^^^^^^
          |
          = help: did you mean `suppliers`?"#]]
    .assert_eq(rendered.trim_end());
}

#[test]
fn contact_entry_keys_and_names() {
    check(
        r#"name = "shop"
[messenger]
packages = ["com.whatsapp.w4b"]
grant = ["android.permission.READ_CONTACTS"]
[contacts]
region = "DE"
[[contacts.entries]]
name = "Local number, read in DE"
phone = "030 12345678"
basis = "consent"
[[contacts.entries]]
name = ""
number = "+49 30 87654321"
basis = "consent"
"#,
        expect![[r#"
            error[missing]: missing `phone` in a contact entry
              --> profile.toml:11:1
               |
            11 | [[contacts.entries]]
               | ^^^^^^^^^^^^^^^^^^^^
               |
               = help: add `phone = "+49 30 1234567"`

            error[invalid-value]: a contact name must be 1 to 100 characters on one line
              --> profile.toml:12:8
               |
            12 | name = ""
               |        ^^

            error[unknown-key]: unknown key `number` in `[[contacts.entries]] #2`
              --> profile.toml:13:1
               |
            13 | number = "+49 30 87654321"
               | ^^^^^^ unknown key
               |
               = help: did you mean `phone`?"#]],
    );
}
