//! Snapshot tests of profile diffs: formatting never shows, semantic changes always do.

use corral_profiles::{diff, resolve};
use expect_test::{Expect, expect};

use crate::fixture::{examples, files};

#[track_caller]
fn check(old: &str, new: &str, expect: Expect) {
    let a = resolve(&files(old), None);
    let b = resolve(&files(new), None);
    assert!(
        !a.has_errors() && !b.has_errors(),
        "{:?} {:?}",
        a.diagnostics,
        b.diagnostics
    );
    let d = diff(
        a.profiles.values().last().unwrap(),
        b.profiles.values().last().unwrap(),
    );
    expect.assert_eq(&d.to_text());
}

#[test]
fn reformatting_and_reordering_is_no_difference() {
    check(
        r#"name = "shop"
[messenger]
packages = ["com.whatsapp.w4b"]
grant = ["android.permission.READ_CONTACTS", "android.permission.CAMERA"]
[[contacts.entries]]
name = "Meyer"
phone = "+49 30 12345678"
basis = "contract"
"#,
        r#"# Same profile, written differently.
name = 'shop'
[contacts]
entries = [ { basis = 'contract', phone = "+493012345678", name = "Meyer" } ]

[messenger]
grant = [
  "android.permission.CAMERA",     # sorted differently
  "android.permission.READ_CONTACTS",
]
packages = ['com.whatsapp.w4b']
personal_copy = "keep"    # the default, said out loud
"#,
        expect![[r#"
            --- shop (sha256:826ad72b9d79fc26)
            +++ shop (sha256:826ad72b9d79fc26)
            no differences
        "#]],
    );
}

#[test]
fn changes_are_listed_by_path() {
    check(
        r#"name = "shop"
[messenger]
packages = ["com.whatsapp.w4b"]
grant = ["android.permission.READ_CONTACTS"]
[[contacts.entries]]
name = "Meyer"
phone = "+49 30 12345678"
basis = "contract"
[[contacts.entries]]
name = "Hofmann"
phone = "+49 331 2345678"
basis = "contract"
"#,
        r#"name = "shop"
[messenger]
packages = ["com.whatsapp.w4b"]
grant = ["android.permission.READ_CONTACTS"]
personal_copy = "uninstall"
[[contacts.entries]]
name = "Meyer Wholesale"
phone = "+49 30 12345678"
basis = "contract"
[[contacts.entries]]
name = "Becker"
phone = "+49 40 1234567"
basis = "consent"
[devices.R58M1.privacy]
backup = true
"#,
        expect![[r#"
            --- shop (sha256:14d24fd373abf066)
            +++ shop (sha256:e9945ed18f256640)
            ~ contacts.entries[+493012345678].name: "Meyer" -> "Meyer Wholesale"
            - contacts.entries[+493312345678]: {"basis":"contract","name":"Hofmann","phone":"+493312345678"}
            + contacts.entries[+49401234567]: {"basis":"consent","name":"Becker","phone":"+49401234567"}
            + devices: {"R58M1":{"privacy":{"backup":true}}}
            ~ messenger.personal_copy: "keep" -> "uninstall"
        "#]],
    );
}

#[test]
fn json_form() {
    let r = resolve(&examples(), None);
    let mut it = r.profiles.values();
    let (a, b) = (it.next().unwrap(), it.next().unwrap());
    let mut d = diff(a, b);
    d.changes.retain(|c| c.path.starts_with("messenger"));
    expect![[r#"
        {
          "old": [
            "base",
            "sha256:f5e83bd5ad671944"
          ],
          "new": [
            "butcher-shop",
            "sha256:ea53843846cf1153"
          ],
          "changes": [
            {
              "path": "messenger.grant",
              "kind": "added",
              "new": "android.permission.POST_NOTIFICATIONS"
            },
            {
              "path": "messenger.packages",
              "kind": "removed",
              "old": "com.whatsapp"
            },
            {
              "path": "messenger.packages",
              "kind": "added",
              "new": "com.whatsapp.w4b"
            },
            {
              "path": "messenger.personal_copy",
              "kind": "changed",
              "old": "hide",
              "new": "uninstall"
            }
          ]
        }"#]]
    .assert_eq(&d.to_json());
}
