//! Diagnostics about the shape of a file: TOML syntax, unknown and misplaced keys,
//! wrong types, missing keys, and the JSON form.

use corral_profiles::resolve;
use expect_test::expect;

use super::check;
use crate::fixture::files;

#[test]
fn valid_minimal_profile_has_no_diagnostics() {
    check(crate::fixture::MINIMAL, expect![[""]]);
}

#[test]
fn syntax_error() {
    check(
        r#"name = "shop"
[messenger
packages = ["com.whatsapp"]
"#,
        expect![[r#"
            error[syntax]: invalid TOML: unclosed table, expected `]`
             --> profile.toml:2:11
              |
            2 | [messenger
              |           ^

            error[unknown-key]: unknown key `packages` at the top level
             --> profile.toml:3:1
              |
            3 | packages = ["com.whatsapp"]
              | ^^^^^^^^ unknown key
              |
              = help: `packages` belongs in `[messenger]`"#]],
    );
}

#[test]
fn unknown_keys_suggest_the_nearest() {
    check(
        r#"name = "shop"
[messenger]
packages = ["com.whatsapp.w4b"]
personal_coppy = "hide"
[privacy]
bakup = false
[agnet]
heartbeat = "30s"
"#,
        expect![[r#"
            error[unknown-key]: unknown key `personal_coppy` in `[messenger]`
             --> profile.toml:4:1
              |
            4 | personal_coppy = "hide"
              | ^^^^^^^^^^^^^^ unknown key
              |
              = help: did you mean `personal_copy`?

            error[unknown-key]: unknown key `bakup` in `[privacy]`
             --> profile.toml:6:1
              |
            6 | bakup = false
              | ^^^^^ unknown key
              |
              = help: did you mean `backup`?

            error[unknown-key]: unknown key `agnet` at the top level
             --> profile.toml:7:2
              |
            7 | [agnet]
              |  ^^^^^ unknown key
              |
              = help: did you mean `agent`?"#]],
    );
}

#[test]
fn misplaced_key_names_its_section() {
    check(
        r#"name = "shop"
backup = false
[messenger]
packages = ["com.whatsapp.w4b"]
reconcile = "5m"
"#,
        expect![[r#"
            error[unknown-key]: unknown key `backup` at the top level
             --> profile.toml:2:1
              |
            2 | backup = false
              | ^^^^^^ unknown key
              |
              = help: `backup` belongs in `[privacy]`

            error[unknown-key]: unknown key `reconcile` in `[messenger]`
             --> profile.toml:5:1
              |
            5 | reconcile = "5m"
              | ^^^^^^^^^ unknown key
              |
              = help: `reconcile` belongs in `[agent]`"#]],
    );
}

#[test]
fn wrong_types() {
    check(
        r#"name = "shop"
[messenger]
packages = "com.whatsapp.w4b"
personal_copy = true
[privacy]
backup = "no"
[agent]
heartbeat = 60
[work_profile]
allowed_apps = ["com.a.b", 3]
"#,
        expect![[r#"
            error[wrong-type]: `messenger.packages` must be an array of strings, like `["a", "b"]`
             --> profile.toml:3:12
              |
            3 | packages = "com.whatsapp.w4b"
              |            ^^^^^^^^^^^^^^^^^^ this is a string

            error[wrong-type]: `messenger.personal_copy` must be a string
             --> profile.toml:4:17
              |
            4 | personal_copy = true
              |                 ^^^^ this is a boolean

            error[wrong-type]: `privacy.backup` must be a boolean (`true` or `false`)
             --> profile.toml:6:10
              |
            6 | backup = "no"
              |          ^^^^ this is a string

            error[wrong-type]: `agent.heartbeat` must be a string
             --> profile.toml:8:13
              |
            8 | heartbeat = 60
              |             ^^ this is an integer

            error[wrong-type]: `work_profile.allowed_apps[2]` must be a string
              --> profile.toml:10:28
               |
            10 | allowed_apps = ["com.a.b", 3]
               |                            ^ this is an integer"#]],
    );
}

#[test]
fn missing_name_and_messenger() {
    check(
        r#"description = "forgot everything"
[privacy]
backup = false
"#,
        expect![[r#"
            error[missing]: a profile needs a `name`
             --> profile.toml:1:1
              |
            1 | description = "forgot everything"
              | ^
              |
              = help: start the file with `name = "shop-staff"`; other profiles use it in `extends`"#]],
    );
}

#[test]
fn json_form_for_the_api() {
    let files = files(
        "name = \"shop\"\n[messenger]\npackages = [\"com.whatsapp.w4b\"]\npersonal_copy = \"hid\"\n",
    );
    let resolution = resolve(&files, None);
    expect![[r#"
        [
          {
            "file": "profile.toml",
            "line": 4,
            "column": 17,
            "start": 74,
            "end": 79,
            "severity": "error",
            "code": "invalid-value",
            "message": "`messenger.personal_copy` cannot be `hid`",
            "label": "expected one of: keep, hide, uninstall",
            "hint": "did you mean `hide`?"
          }
        ]"#]]
    .assert_eq(&corral_profiles::to_json(&resolution.diagnostics));
}

#[test]
fn header_values() {
    check(
        r#"name = "Butcher Shop"
extends = "Base Profile"
devices = ["R58M1"]
[messenger]
packages = ["com.whatsapp.w4b"]
"#,
        expect![[r#"
            error[invalid-value]: `Butcher Shop` is not a valid profile name
             --> profile.toml:1:8
              |
            1 | name = "Butcher Shop"
              |        ^^^^^^^^^^^^^^
              |
              = help: a profile name is 1 to 63 lowercase letters, digits and `-`, like `butcher-shop`

            error[invalid-value]: `Base Profile` is not a valid profile name
             --> profile.toml:2:11
              |
            2 | extends = "Base Profile"
              |           ^^^^^^^^^^^^^^
              |
              = help: a profile name is 1 to 63 lowercase letters, digits and `-`, like `base-profile`

            error[wrong-type]: `devices` must be a table (`[devices]`)
             --> profile.toml:3:11
              |
            3 | devices = ["R58M1"]
              |           ^^^^^^^^^ this is an array"#]],
    );
}
