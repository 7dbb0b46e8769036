//! Snapshot tests of resolution: inheritance, merge rules, defaults, device overrides and
//! the canonical form `show --resolved` prints.

use corral_profiles::{DeviceSerial, resolve};
use expect_test::{Expect, expect};

use crate::fixture::files;

/// Every resolved profile's version and canonical TOML, then any diagnostics.
#[track_caller]
fn check(input: &str, expect: Expect) {
    let files = files(input);
    check_files(&files, expect);
}

#[track_caller]
pub(crate) fn check_files(files: &[corral_profiles::SourceFile], expect: Expect) {
    let resolution = resolve(files, None);
    let mut out = String::new();
    for p in resolution.profiles.values() {
        out.push_str(&format!(
            "=== {} {}\n{}",
            p.name,
            p.version(),
            p.canonical_toml()
        ));
    }
    out.push_str(&corral_profiles::render_short(&resolution.diagnostics));
    expect.assert_eq(&out);
}

#[test]
fn defaults_fill_everything_left_out() {
    check(
        "name = \"min\"\n[messenger]\npackages = [\"com.whatsapp\"]\n",
        expect![[r#"
        === min sha256:84d4b99cdfd40546
        name = "min"

        [agent]
        heartbeat = "1m"
        reconcile = "15m"

        [contacts]
        entries = []
        groups = []
        mode = "exact"

        [messenger]
        grant = []
        packages = ["com.whatsapp"]
        personal_copy = "keep"

        [privacy]
        allowed_accounts = []
        backup = false
        cross_profile_calendar = false
        cross_profile_contact_search = false

        [work_profile]
        allowed_apps = []
        install = []
        name = "Work"
        other_apps = "hide"
    "#]],
    );
}

#[test]
fn tables_merge_and_arrays_replace() {
    check(
        r#"//- base.toml
name = "base"
description = "not inherited"
[messenger]
packages = ["com.whatsapp"]
grant = ["android.permission.READ_CONTACTS", "android.permission.CAMERA"]
personal_copy = "hide"
[privacy]
backup = false
cross_profile_calendar = true
//- child.toml
name = "child"
extends = "base"
[messenger]
grant = ["android.permission.READ_CONTACTS"]
[privacy]
backup = true
"#,
        expect![[r#"
            === base sha256:ba5ad901123eec11
            description = "not inherited"
            name = "base"

            [agent]
            heartbeat = "1m"
            reconcile = "15m"

            [contacts]
            entries = []
            groups = []
            mode = "exact"

            [messenger]
            grant = [
                "android.permission.CAMERA",
                "android.permission.READ_CONTACTS",
            ]
            packages = ["com.whatsapp"]
            personal_copy = "hide"

            [privacy]
            allowed_accounts = []
            backup = false
            cross_profile_calendar = true
            cross_profile_contact_search = false

            [work_profile]
            allowed_apps = []
            install = []
            name = "Work"
            other_apps = "hide"
            === child sha256:4e73482a885aab40
            name = "child"

            [agent]
            heartbeat = "1m"
            reconcile = "15m"

            [contacts]
            entries = []
            groups = []
            mode = "exact"

            [messenger]
            grant = ["android.permission.READ_CONTACTS"]
            packages = ["com.whatsapp"]
            personal_copy = "hide"

            [privacy]
            allowed_accounts = []
            backup = true
            cross_profile_calendar = true
            cross_profile_contact_search = false

            [work_profile]
            allowed_apps = []
            install = []
            name = "Work"
            other_apps = "hide"
        "#]],
    );
}

#[test]
fn three_levels_of_inheritance() {
    check(
        r#"//- a.toml
name = "a"
[messenger]
packages = ["com.whatsapp"]
[agent]
heartbeat = "30s"
//- b.toml
name = "b"
extends = "a"
[agent]
reconcile = "1h"
//- c.toml
name = "c"
extends = "b"
[work_profile]
name = "Shop"
"#,
        expect![[r#"
            === a sha256:1a41a3ac5d9cab5f
            name = "a"

            [agent]
            heartbeat = "30s"
            reconcile = "15m"

            [contacts]
            entries = []
            groups = []
            mode = "exact"

            [messenger]
            grant = []
            packages = ["com.whatsapp"]
            personal_copy = "keep"

            [privacy]
            allowed_accounts = []
            backup = false
            cross_profile_calendar = false
            cross_profile_contact_search = false

            [work_profile]
            allowed_apps = []
            install = []
            name = "Work"
            other_apps = "hide"
            === b sha256:da5a32da9c96b544
            name = "b"

            [agent]
            heartbeat = "30s"
            reconcile = "1h"

            [contacts]
            entries = []
            groups = []
            mode = "exact"

            [messenger]
            grant = []
            packages = ["com.whatsapp"]
            personal_copy = "keep"

            [privacy]
            allowed_accounts = []
            backup = false
            cross_profile_calendar = false
            cross_profile_contact_search = false

            [work_profile]
            allowed_apps = []
            install = []
            name = "Work"
            other_apps = "hide"
            === c sha256:5382f733019d374c
            name = "c"

            [agent]
            heartbeat = "30s"
            reconcile = "1h"

            [contacts]
            entries = []
            groups = []
            mode = "exact"

            [messenger]
            grant = []
            packages = ["com.whatsapp"]
            personal_copy = "keep"

            [privacy]
            allowed_accounts = []
            backup = false
            cross_profile_calendar = false
            cross_profile_contact_search = false

            [work_profile]
            allowed_apps = []
            install = []
            name = "Shop"
            other_apps = "hide"
        "#]],
    );
}

#[test]
fn device_overrides_apply_on_top() {
    let files = files(
        r#"name = "shop"
[messenger]
packages = ["com.whatsapp.w4b"]
[privacy]
backup = false
[devices.R58M1.privacy]
backup = true
[devices.R58M2.privacy]
backup = false
"#,
    );
    let resolution = resolve(&files, None);
    let p = resolution.profiles.values().next().unwrap();
    let r1 = p.for_device(Some(&DeviceSerial::parse("R58M1").unwrap()));
    let r2 = p.for_device(Some(&DeviceSerial::parse("R58M2").unwrap()));
    let other = p.for_device(Some(&DeviceSerial::parse("OTHER").unwrap()));
    assert!(r1.settings.privacy.backup);
    assert!(!r2.settings.privacy.backup);
    // An override equal to the profile changes nothing, not even the effective version.
    assert_eq!(r2.effective_version, other.effective_version);
    assert_ne!(r1.effective_version, other.effective_version);
    assert_eq!(r1.profile_version, p.version());
    // And it is not part of the canonical form.
    expect![[r#"
        name = "shop"

        [agent]
        heartbeat = "1m"
        reconcile = "15m"

        [contacts]
        entries = []
        groups = []
        mode = "exact"

        [devices.R58M1.privacy]
        backup = true

        [messenger]
        grant = []
        packages = ["com.whatsapp.w4b"]
        personal_copy = "keep"

        [privacy]
        allowed_accounts = []
        backup = false
        cross_profile_calendar = false
        cross_profile_contact_search = false

        [work_profile]
        allowed_apps = []
        install = []
        name = "Work"
        other_apps = "hide"
    "#]]
    .assert_eq(&p.canonical_toml());
}

#[test]
fn targets_only_report_their_own_chain() {
    let files = files(
        r#"//- base.toml
name = "base"
[messenger]
packages = ["com.whatsapp"]
//- shop.toml
name = "shop"
extends = "base"
//- broken-sibling.toml
name = "broken"
[messenger]
packages = 3
"#,
    );
    let resolution = corral_profiles::resolve_targets(&files, &[1], None);
    assert!(
        resolution.diagnostics.is_empty(),
        "{:?}",
        resolution.diagnostics
    );
    assert_eq!(resolution.profiles.len(), 1);
    assert!(resolution.profile_of_file("shop.toml").is_some());
}
