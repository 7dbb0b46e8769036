//! Per-user and device settings: `settings`, `bmgr`, `getprop`/`setprop`.

use expect_test::expect;

use super::{check, phone};

#[test]
fn settings_per_user() {
    let p = phone(14, &["pm create-user --profileOf 0 --managed Work"]);
    check(
        &p,
        "settings get --user 10 secure managed_profile_contact_remote_search",
        expect![[r#"
        1
    "#]],
    );
    check(
        &p,
        "settings get secure managed_profile_contact_remote_search",
        expect![[r#"
        null
    "#]],
    );
    check(
        &p,
        "settings put --user 10 secure managed_profile_contact_remote_search 0",
        expect![[""]],
    );
    check(
        &p,
        "settings --user 10 get secure managed_profile_contact_remote_search",
        expect![[r#"
        0
    "#]],
    );
    check(
        &p,
        "settings list --user 10 secure",
        expect![[r#"
        android_id=24baa3f8a0e28982
        cross_profile_calendar_enabled=1
        install_non_market_apps=1
        location_mode=3
        managed_profile_contact_remote_search=0
    "#]],
    );
    check(
        &p,
        "settings delete --user 10 secure cross_profile_calendar_enabled",
        expect![[r#"
        Deleted 1 rows
    "#]],
    );
    check(
        &p,
        "settings get global adb_enabled",
        expect![[r#"
        1
    "#]],
    );
    check(
        &p,
        "settings get secure",
        expect![[r#"
        [stderr]
        Bad arguments
        [exit 255]
    "#]],
    );
    check(
        &p,
        "settings frob secure x",
        expect![[r#"
        [stderr]
        Invalid command: frob
        [exit 255]
    "#]],
    );
    check(
        &p,
        "settings get nowhere x",
        expect![[r#"
        [stderr]
        Invalid namespace 'nowhere'
        [exit 255]
    "#]],
    );
    check(
        &p,
        "settings --user 42 get secure x",
        expect![[r#"
        [stderr]
        Invalid user: 42
        [exit 255]
    "#]],
    );
    check(
        &p,
        "settings --user 10 --user 10 get secure x",
        expect![[r#"
        [stderr]
        Invalid user: --user specified more than once
        Bad arguments
        [exit 255]
    "#]],
    );
}

#[test]
fn backup_manager() {
    let p = phone(14, &["pm create-user --profileOf 0 --managed Work"]);
    check(
        &p,
        "bmgr enabled; bmgr activated",
        expect![[r#"
        Backup Manager currently enabled
        Backup Manager currently activated
    "#]],
    );
    check(
        &p,
        "bmgr enable false; bmgr enabled",
        expect![[r#"
        Backup Manager now disabled
        Backup Manager currently disabled
    "#]],
    );
    check(
        &p,
        "bmgr --user 10 enabled; bmgr --user 10 activated",
        expect![[r#"
        Backup Manager currently deactivated
        [stderr]
        Error: Backup Manager is not activated for user 10
    "#]],
    );
    check(
        &p,
        "bmgr --user 10 activate true; am start-user 10 >/dev/null; bmgr --user 10 enabled",
        expect![[r#"
        Backup service now activated for user 10
        Backup Manager currently disabled
    "#]],
    );
    check(
        &p,
        "bmgr --user 10 enable false; bmgr --user 10 enabled; bmgr --user 10 activate false",
        expect![[r#"
        Backup Manager now disabled
        Backup Manager currently disabled
        Backup service now deactivated for user 10
    "#]],
    );
    check(
        &p,
        "bmgr --user 10 enable false",
        expect![[r#"
        [stderr]
        Error: Backup Manager is not activated for user 10
    "#]],
    );
    check(
        &p,
        "bmgr frob",
        expect![[r#"
        [stderr]
        Unknown command
        usage: bmgr [--user <userId>] [backup|restore|list|transport|run]
               bmgr backup PACKAGE
               bmgr enable BOOL
               bmgr enabled
               bmgr list transports [-c]
               bmgr list sets
               bmgr transport WHICH|-c WHICH_COMPONENT
               bmgr restore TOKEN
               bmgr restore TOKEN PACKAGE...
               bmgr run
               bmgr wipe TRANSPORT PACKAGE
               bmgr fullbackup PACKAGE...
               bmgr backupnow [--monitor|--monitor-verbose] --all|PACKAGE...
               bmgr cancel backups
               bmgr init TRANSPORT...
               bmgr activate BOOL
               bmgr activated
               bmgr autorestore BOOL
               bmgr scheduling BOOL
    "#]],
    );
}

#[test]
fn properties() {
    let p = phone(14, &[]);
    check(
        &p,
        "getprop ro.build.version.release; getprop ro.build.version.sdk; getprop ro.product.model",
        expect![[r#"
        14
        34
        Pixel 7
    "#]],
    );
    check(
        &p,
        "getprop ro.product.manufacturer; getprop ro.product.cpu.abi; getprop no.such; getprop no.such dflt",
        expect![[r#"
        Google
        arm64-v8a

        dflt
    "#]],
    );
    check(
        &phone(11, &[]),
        "getprop ro.build.version.release; getprop ro.build.version.sdk",
        expect![[r#"
        11
        30
    "#]],
    );
    check(
        &p,
        "getprop | grep -E 'version.(sdk|release)]'",
        expect![[r#"
        [ro.build.version.release]: [14]
        [ro.build.version.sdk]: [34]
    "#]],
    );
    check(
        &p,
        "setprop fw.max_users 10",
        expect![[r#"
        [stderr]
        Failed to set property 'fw.max_users' to '10'.
        See dmesg for error reason.
        [exit 1]
    "#]],
    );
    check(
        &p,
        "setprop debug.corral 1 && getprop debug.corral",
        expect![[r#"
        1
    "#]],
    );
}
