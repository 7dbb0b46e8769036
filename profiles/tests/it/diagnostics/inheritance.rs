//! Diagnostics about inheritance and overrides: unknown parents, cycles, duplicate
//! profile names, problems reported once in the parent, device overrides.

use expect_test::expect;

use super::check;

#[test]
fn unknown_parent_suggests_a_known_one() {
    check(
        r#"//- base.toml
name = "base"
[messenger]
packages = ["com.whatsapp"]
//- shop.toml
name = "shop"
extends = "bsae"
"#,
        expect![[r#"
            error[unknown-parent]: no profile named `bsae` to extend
             --> shop.toml:2:11
              |
            2 | extends = "bsae"
              |           ^^^^^^ unknown profile
              |
              = help: did you mean `base`?"#]],
    );
}

#[test]
fn inheritance_cycle() {
    check(
        r#"//- a.toml
name = "a"
extends = "c"
[messenger]
packages = ["com.whatsapp"]
//- b.toml
name = "b"
extends = "a"
//- c.toml
name = "c"
extends = "b"
"#,
        expect![[r#"
            error[inheritance-cycle]: profiles extend each other in a circle: `a` → `c` → `b` → `a`
             --> a.toml:2:11
              |
            2 | extends = "c"
              |           ^^^ `a` extends `c`
              |
             ::: c.toml:2:11
              |
            2 | extends = "b"
              |           --- `c` extends `b`
              |
             ::: b.toml:2:11
              |
            2 | extends = "a"
              |           --- `b` extends `a`
              |
              = help: remove one `extends` so that the chain ends at a profile without a parent"#]],
    );
}

#[test]
fn two_files_with_one_name() {
    check(
        r#"//- one.toml
name = "shop"
[messenger]
packages = ["com.whatsapp"]
//- two.toml
name = "shop"
[messenger]
packages = ["com.whatsapp.w4b"]
"#,
        expect![[r#"
            error[duplicate-profile]: another file also declares the profile `shop`
             --> two.toml:1:8
              |
            1 | name = "shop"
              |        ^^^^^^
              |
             ::: one.toml:1:8
              |
            1 | name = "shop"
              |        ------ declared here first
              |
              = help: profile names must be unique; rename one of them"#]],
    );
}

#[test]
fn parent_problems_are_reported_once_in_the_parent() {
    check(
        r#"//- base.toml
name = "base"
[messenger]
packages = ["com.whatsapp"]
grant = ["android.permission.READ_CONTACTS"]
[[contacts.entries]]
name = "Bad"
phone = "+1 555"
basis = "consent"
//- shop.toml
name = "shop"
extends = "base"
"#,
        expect![[r#"
            error[invalid-phone]: `+1 555` is not a valid number for country code +1
             --> base.toml:7:9
              |
            7 | phone = "+1 555"
              |         ^^^^^^^^ not a valid phone number
              |
              = help: check the digits; numbers are normalised to E.164 (`+4930123456`)"#]],
    );
}

#[test]
fn device_overrides_are_checked() {
    check(
        r#"name = "shop"
[messenger]
packages = ["com.whatsapp.w4b"]
[devices."R58M 1"]
[devices.R58M1]
name = "other"
[devices.R58M1.privacy]
backup = "yes"
[devices.R58M1.agnet]
reconcile = "5m"
"#,
        expect![[r#"
            error[invalid-value]: `R58M 1` is not a device serial
             --> profile.toml:4:10
              |
            4 | [devices."R58M 1"]
              |          ^^^^^^^^
              |
              = help: a device serial is 1 to 64 letters, digits, `.`, `_`, `:` or `-`

            error[invalid-value]: `name` cannot be overridden per device
             --> profile.toml:6:1
              |
            6 | name = "other"
              | ^^^^
              |
              = help: a device override may only contain the sections messenger, work_profile, contacts, privacy and agent

            error[wrong-type]: `privacy.backup` must be a boolean (`true` or `false`)
             --> profile.toml:8:10
              |
            8 | backup = "yes"
              |          ^^^^^ this is a string

            error[unknown-key]: unknown key `agnet` in a device override
             --> profile.toml:9:16
              |
            9 | [devices.R58M1.agnet]
              |                ^^^^^ unknown key
              |
              = help: did you mean `agent`?"#]],
    );
}
