//! Packages: `pm list packages`, install (path and streamed), install-existing,
//! uninstall, hide, disable, suspend, grant/revoke.

use expect_test::expect;

use super::{check, phone, phone_with};

const MAKE_PROFILE: &str = "pm create-user --profileOf 0 --managed Work";

#[test]
fn list_packages_filters() {
    let p = phone(14, &[]);
    check(
        &p,
        "pm list packages -3",
        expect![[r#"
        package:com.whatsapp
        package:com.whatsapp.w4b
    "#]],
    );
    check(
        &p,
        "pm list packages whatsapp",
        expect![[r#"
        package:com.whatsapp
        package:com.whatsapp.w4b
    "#]],
    );
    check(
        &p,
        "pm list packages -3 -f -U --show-versioncode -i",
        expect![[r#"
        package:/data/app/~~Bj6_xqJzQQ2i0ZdisvBLRl==/com.whatsapp-ByXfWNkQZr2l2nfld9CpXQ==/base.apk=com.whatsapp versionCode:241523001  installer=com.android.vending uid:10200
        package:/data/app/~~KEcFVtsL8zznnEL_UHaVlB==/com.whatsapp.w4b-KrOuCGmDnSWyWYxZSEHkcO==/base.apk=com.whatsapp.w4b versionCode:241523001  installer=com.android.vending uid:10201
    "#]],
    );
    check(
        &p,
        "pm list packages -s contacts",
        expect![[r#"
        package:com.android.providers.contacts
        package:com.google.android.contacts
    "#]],
    );
    check(
        &p,
        "pm list packages --bogus",
        expect![[r#"
        Error: Unknown option: --bogus
        [exit 255]
    "#]],
    );
    check(
        &p,
        "pm list packages --user 99",
        expect![[r#"
        [stderr]

        Exception occurred while executing 'list':
        java.lang.SecurityException: Shell does not have permission to access user 99
        	at com.android.server.am.ActivityManagerService.handleIncomingUser(ActivityManagerService.java:14589)
        	at android.app.ActivityManager.handleIncomingUser(ActivityManager.java:4835)
        	at com.android.server.pm.PackageManagerShellCommand.onCommand(PackageManagerShellCommand.java:221)
        [exit 255]
    "#]],
    );
    check(
        &phone(11, &[]),
        "pm list packages -f -3",
        expect![[r#"
        package:/data/app/~~Bj6_xqJzQQ2i0ZdisvBLRl==/com.whatsapp-ByXfWNkQZr2l2nfld9CpXQ==/base.apk=com.whatsapp
        package:/data/app/~~KEcFVtsL8zznnEL_UHaVlB==/com.whatsapp.w4b-KrOuCGmDnSWyWYxZSEHkcO==/base.apk=com.whatsapp.w4b
    "#]],
    );
}

#[test]
fn a_phone_without_messenger() {
    let p = phone_with(14, |c| c.preinstalled_messengers.clear(), &[]);
    check(&p, "pm list packages -3", expect![[""]]);
    check(
        &p,
        "pm install-existing --user 0 com.whatsapp",
        expect![[r#"
        android.content.pm.PackageManager$NameNotFoundException: Package com.whatsapp doesn't exist
        [exit 1]
    "#]],
    );
}

#[test]
fn install_existing_into_a_profile() {
    let p = phone(14, &[MAKE_PROFILE]);
    check(&p, "pm list packages --user 10 whatsapp", expect![[""]]);
    check(
        &p,
        "pm install-existing --user 10 com.whatsapp",
        expect![[r#"
        Package com.whatsapp installed for user: 10
    "#]],
    );
    check(
        &p,
        "pm list packages --user 10 whatsapp",
        expect![[r#"
        package:com.whatsapp
    "#]],
    );
    check(
        &p,
        "pm install-existing --user 10 com.nope",
        expect![[r#"
        android.content.pm.PackageManager$NameNotFoundException: Package com.nope doesn't exist
        [exit 1]
    "#]],
    );
    check(
        &p,
        "pm install-existing --wait --user 10 com.whatsapp.w4b",
        expect![[r#"
        Installing package com.whatsapp.w4b for user: 10
        Received intent for package install
    "#]],
    );
    check(
        &p,
        "pm install-existing",
        expect![[r#"
        Error: package name not specified
        [exit 1]
    "#]],
    );
}

#[test]
fn hide_disable_suspend() {
    let p = phone(14, &[MAKE_PROFILE]);
    check(
        &p,
        "pm hide --user 0 com.whatsapp",
        expect![[r#"
        Package com.whatsapp new hidden state: true
    "#]],
    );
    check(
        &p,
        "pm list packages whatsapp",
        expect![[r#"
        package:com.whatsapp.w4b
    "#]],
    );
    check(
        &p,
        "pm unhide --user 0 com.whatsapp",
        expect![[r#"
        Package com.whatsapp new hidden state: false
    "#]],
    );
    check(
        &p,
        "pm hide --user 10 com.whatsapp",
        expect![[r#"
        Package com.whatsapp new hidden state: false
    "#]],
    );
    check(
        &p,
        "pm hide com.nope",
        expect![[r#"
        Package com.nope new hidden state: true
    "#]],
    );
    check(
        &p,
        "pm hide",
        expect![[r#"
        [stderr]
        Error: no package or component specified
        [exit 1]
    "#]],
    );
    check(
        &p,
        "pm disable-user --user 0 com.android.chrome",
        expect![[r#"
        Package com.android.chrome new state: disabled-user
    "#]],
    );
    check(
        &p,
        "pm list packages -d",
        expect![[r#"
        package:com.android.chrome
    "#]],
    );
    check(
        &p,
        "pm enable com.android.chrome",
        expect![[r#"
        Package com.android.chrome new state: enabled
    "#]],
    );
    check(
        &p,
        "pm disable-user com.nope",
        expect![[r#"
        [stderr]

        Exception occurred while executing 'disable-user':
        java.lang.IllegalArgumentException: Unknown package: com.nope
        	at com.android.server.pm.PackageManagerService.setEnabledSetting(PackageManagerService.java:3977)
        	at com.android.server.pm.PackageManagerService$IPackageManagerImpl.setApplicationEnabledSetting(PackageManagerService.java:5934)
        	at com.android.server.pm.PackageManagerShellCommand.onCommand(PackageManagerShellCommand.java:221)
        [exit 255]
    "#]],
    );
    check(
        &p,
        "pm suspend --user 0 com.whatsapp com.google.android.dialer",
        expect![[r#"
        Package com.whatsapp new suspended state: true
        Package com.google.android.dialer new suspended state: false
    "#]],
    );
    check(
        &p,
        "pm unsuspend com.whatsapp",
        expect![[r#"
        Package com.whatsapp new suspended state: false
    "#]],
    );
    check(
        &p,
        "pm suspend com.nope",
        expect![[r#"
        [stderr]

        Exception occurred while executing 'suspend':
        java.lang.IllegalArgumentException: Unknown target package: com.nope
        	at com.android.server.pm.PackageManagerService.isPackageSuspendedForUser(PackageManagerService.java:4541)
        	at com.android.server.pm.PackageManagerShellCommand.onCommand(PackageManagerShellCommand.java:221)
        [exit 255]
    "#]],
    );
}

#[test]
fn runtime_permissions() {
    let p = phone(14, &[]);
    check(
        &p,
        "pm grant com.whatsapp android.permission.READ_CONTACTS",
        expect![[""]],
    );
    check(
        &p,
        "pm revoke --user 0 com.whatsapp android.permission.READ_CONTACTS",
        expect![[""]],
    );
    check(
        &p,
        "pm grant com.whatsapp android.permission.INTERNET",
        expect![[r#"
        [stderr]

        Exception occurred while executing 'grant':
        java.lang.SecurityException: Permission android.permission.INTERNET requested by com.whatsapp is not a changeable permission type
        	at com.android.server.pm.permission.PermissionManagerServiceImpl.grantRuntimePermissionInternal(PermissionManagerServiceImpl.java:1424)
        	at com.android.server.pm.permission.PermissionManagerService.grantRuntimePermission(PermissionManagerService.java:521)
        	at com.android.server.pm.PackageManagerShellCommand.onCommand(PackageManagerShellCommand.java:221)
        [exit 255]
    "#]],
    );
    check(
        &p,
        "pm grant com.whatsapp android.permission.READ_SMS",
        expect![[r#"
        [stderr]

        Exception occurred while executing 'grant':
        java.lang.SecurityException: Package com.whatsapp has not requested permission android.permission.READ_SMS
        	at com.android.server.pm.permission.PermissionManagerServiceImpl.grantRuntimePermissionInternal(PermissionManagerServiceImpl.java:1424)
        	at com.android.server.pm.permission.PermissionManagerService.grantRuntimePermission(PermissionManagerService.java:521)
        	at com.android.server.pm.PackageManagerShellCommand.onCommand(PackageManagerShellCommand.java:221)
        [exit 255]
    "#]],
    );
    check(
        &p,
        "pm grant com.whatsapp android.permission.NOPE",
        expect![[r#"
        [stderr]

        Exception occurred while executing 'grant':
        java.lang.IllegalArgumentException: Unknown permission: android.permission.NOPE
        	at com.android.server.pm.permission.PermissionManagerServiceImpl.grantRuntimePermissionInternal(PermissionManagerServiceImpl.java:1424)
        	at com.android.server.pm.permission.PermissionManagerService.grantRuntimePermission(PermissionManagerService.java:521)
        	at com.android.server.pm.PackageManagerShellCommand.onCommand(PackageManagerShellCommand.java:221)
        [exit 255]
    "#]],
    );
    check(
        &p,
        "pm grant com.nope android.permission.READ_CONTACTS",
        expect![[r#"
        [stderr]

        Exception occurred while executing 'grant':
        java.lang.IllegalArgumentException: Unknown package: com.nope
        	at com.android.server.pm.permission.PermissionManagerServiceImpl.grantRuntimePermissionInternal(PermissionManagerServiceImpl.java:1424)
        	at com.android.server.pm.permission.PermissionManagerService.grantRuntimePermission(PermissionManagerService.java:521)
        	at com.android.server.pm.PackageManagerShellCommand.onCommand(PackageManagerShellCommand.java:221)
        [exit 255]
    "#]],
    );
    check(
        &p,
        "pm grant com.whatsapp",
        expect![[r#"
        [stderr]
        Error: no permission specified
        [exit 1]
    "#]],
    );
    check(
        &p,
        "pm grant --user 10 com.whatsapp android.permission.READ_CONTACTS",
        expect![[r#"
        [stderr]

        Exception occurred while executing 'grant':
        java.lang.IllegalArgumentException: Unknown package: com.whatsapp
        	at com.android.server.pm.permission.PermissionManagerServiceImpl.grantRuntimePermissionInternal(PermissionManagerServiceImpl.java:1424)
        	at com.android.server.pm.permission.PermissionManagerService.grantRuntimePermission(PermissionManagerService.java:521)
        	at com.android.server.pm.PackageManagerShellCommand.onCommand(PackageManagerShellCommand.java:221)
        [exit 255]
    "#]],
    );
    let granted = p.read(|s| s.packages["com.whatsapp"].users[&0].granted.clone());
    assert!(granted.is_empty());
}

#[test]
fn unknown_pm_commands() {
    let p = phone(14, &[]);
    check(
        &p,
        "pm frobnicate",
        expect![[r#"
        Unknown command: frobnicate
        [exit 255]
    "#]],
    );
    check(
        &p,
        "cmd nosuchservice",
        expect![[r#"
        [stderr]
        cmd: Can't find service: nosuchservice
        [exit 20]
    "#]],
    );
    check(
        &p,
        "pm list widgets",
        expect![[r#"
        [stderr]
        Error: unknown list type 'widgets'
        [exit 255]
    "#]],
    );
}
