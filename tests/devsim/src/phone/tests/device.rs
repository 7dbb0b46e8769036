//! Device-level commands: `dpm`, `settings`, `bmgr`, `getprop`/`setprop`.

use expect_test::expect;

use super::{TestPhone, check, phone_with};
use crate::phone::apk::TestApk;

const ADMIN: &str = "com.corral.agent/.AdminReceiver";

fn with_dpc(version: u8, no_account: bool) -> TestPhone {
    let p = phone_with(
        version,
        |c| {
            if no_account {
                c.google_account = None;
            }
        },
        &["pm create-user --profileOf 0 --managed Work"],
    );
    let mut apk = TestApk::new("com.corral.agent", 1);
    apk.admin_receivers.push(".AdminReceiver".into());
    apk.test_only = true;
    p.fs()
        .write("/data/local/tmp/agent.apk", 0o644, &apk.build())
        .expect("push");
    let out = p.run_shell(
        "pm install -t --user 10 /data/local/tmp/agent.apk",
        &mut std::io::empty(),
    );
    assert_eq!(out.exit, 0);
    p
}

#[test]
fn set_profile_owner_android_14() {
    let p = with_dpc(14, false);
    check(
        &p,
        &format!("dpm set-profile-owner --user 10 {ADMIN}"),
        expect![[r#"
        Success: Active admin and profile owner set to com.corral.agent/.AdminReceiver for user 10
    "#]],
    );
    check(
        &p,
        "dpm list-owners",
        expect![[r#"
        1 owner:
        User 10: admin=com.corral.agent/.AdminReceiver,ProfileOwner,ManagedProfileOwner(parentUserId=0)
    "#]],
    );
    check(
        &p,
        &format!("dpm set-profile-owner --user 10 {ADMIN}"),
        expect![[r#"
        [stderr]

        Exception occurred while executing 'set-profile-owner':
        java.lang.IllegalStateException: Trying to set the profile owner, but profile owner is already set.
        	at com.android.server.devicepolicy.DevicePolicyManagerServiceShellCommand.onCommand(DevicePolicyManagerServiceShellCommand.java:111)
        	at com.android.modules.utils.BasicShellCommandHandler.exec(BasicShellCommandHandler.java:97)
        	at android.os.ShellCommand.exec(ShellCommand.java:38)
        [exit 255]
    "#]],
    );
    check(
        &p,
        &format!("dpm set-profile-owner --user 0 {ADMIN}"),
        expect![[r#"
        [stderr]

        Exception occurred while executing 'set-profile-owner':
        java.lang.IllegalArgumentException: Unknown admin: ComponentInfo{com.corral.agent/com.corral.agent.AdminReceiver}
        	at com.android.server.devicepolicy.DevicePolicyManagerServiceShellCommand.onCommand(DevicePolicyManagerServiceShellCommand.java:111)
        	at com.android.modules.utils.BasicShellCommandHandler.exec(BasicShellCommandHandler.java:97)
        	at android.os.ShellCommand.exec(ShellCommand.java:38)
        [exit 255]
    "#]],
    );
    check(
        &p,
        "dpm set-profile-owner --user 10 nonsense",
        expect![[r#"
        [stderr]

        Exception occurred while executing 'set-profile-owner':
        java.lang.IllegalArgumentException: Invalid component nonsense
        	at com.android.server.devicepolicy.DevicePolicyManagerServiceShellCommand.onCommand(DevicePolicyManagerServiceShellCommand.java:111)
        	at com.android.modules.utils.BasicShellCommandHandler.exec(BasicShellCommandHandler.java:97)
        	at android.os.ShellCommand.exec(ShellCommand.java:38)
        [exit 255]
    "#]],
    );
    check(
        &p,
        &format!("dpm remove-active-admin --user 10 {ADMIN} && dpm list-owners"),
        expect![[r#"
        Success: Admin removed ComponentInfo{com.corral.agent/com.corral.agent.AdminReceiver}
        no owners
    "#]],
    );
}

#[test]
fn set_profile_owner_android_11() {
    let p = with_dpc(11, false);
    check(
        &p,
        &format!("dpm set-profile-owner --user 10 {ADMIN}"),
        expect![[r#"
        Success: Active admin and profile owner set to {com.corral.agent/com.corral.agent.AdminReceiver} for user 10
    "#]],
    );
    check(
        &p,
        "dpm list-owners 2>&1 | tail -1",
        expect![[r#"
        Error: unknown command 'list-owners'
    "#]],
    );
    let out = p.run_shell(
        &format!("dpm set-profile-owner --user 0 {ADMIN}"),
        &mut std::io::empty(),
    );
    expect!["Error: Unknown admin: ComponentInfo{com.corral.agent/com.corral.agent.AdminReceiver} exit=0"].assert_eq(&format!("{} exit={}", String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or(""), out.exit));
    check(
        &p,
        &format!("dpm set-profile-owner --user 10 {ADMIN}"),
        expect![[r#"
        [stderr]
        java.lang.IllegalStateException: Trying to set the profile owner, but profile owner is already set.
        	at android.os.Parcel.createExceptionOrNull(Parcel.java:2373)
        	at android.os.Parcel.createException(Parcel.java:2357)
        	at android.os.Parcel.readException(Parcel.java:2340)
        	at com.android.commands.dpm.Dpm.onRun(Dpm.java:116)
        	at com.android.internal.os.BaseCommand.run(BaseCommand.java:56)
        	at com.android.commands.dpm.Dpm.main(Dpm.java:41)
        	at com.android.internal.os.RuntimeInit.nativeFinishInit(Native Method)
        	at com.android.internal.os.RuntimeInit.main(RuntimeInit.java:399)
        [exit 1]
    "#]],
    );
}

#[test]
fn accounts_block_owners() {
    let p = with_dpc(14, false);
    check(
        &p,
        "pm install-existing --user 0 com.corral.agent",
        expect![[r#"
        Package com.corral.agent installed for user: 0
    "#]],
    );
    check(
        &p,
        &format!("dpm set-profile-owner --user 0 {ADMIN}"),
        expect![[r#"
        [stderr]

        Exception occurred while executing 'set-profile-owner':
        java.lang.IllegalStateException: Not allowed to set the profile owner because there are already some accounts on the profile
        	at com.android.server.devicepolicy.DevicePolicyManagerServiceShellCommand.onCommand(DevicePolicyManagerServiceShellCommand.java:111)
        	at com.android.modules.utils.BasicShellCommandHandler.exec(BasicShellCommandHandler.java:97)
        	at android.os.ShellCommand.exec(ShellCommand.java:38)
        [exit 255]
    "#]],
    );
    check(
        &p,
        &format!("dpm set-device-owner {ADMIN}"),
        expect![[r#"
        [stderr]

        Exception occurred while executing 'set-device-owner':
        java.lang.IllegalStateException: Not allowed to set the device owner because there are already several users on the device.
        	at com.android.server.devicepolicy.DevicePolicyManagerServiceShellCommand.onCommand(DevicePolicyManagerServiceShellCommand.java:111)
        	at com.android.modules.utils.BasicShellCommandHandler.exec(BasicShellCommandHandler.java:97)
        	at android.os.ShellCommand.exec(ShellCommand.java:38)
        [exit 255]
    "#]],
    );
}

#[test]
fn device_owner_on_a_clean_phone() {
    let p = with_dpc(14, true);
    check(
        &p,
        "pm install-existing --user 0 com.corral.agent",
        expect![[r#"
        Package com.corral.agent installed for user: 0
    "#]],
    );
    check(
        &p,
        &format!("dpm set-device-owner {ADMIN}"),
        expect![[r#"
        [stderr]

        Exception occurred while executing 'set-device-owner':
        java.lang.IllegalStateException: Not allowed to set the device owner because there are already several users on the device.
        	at com.android.server.devicepolicy.DevicePolicyManagerServiceShellCommand.onCommand(DevicePolicyManagerServiceShellCommand.java:111)
        	at com.android.modules.utils.BasicShellCommandHandler.exec(BasicShellCommandHandler.java:97)
        	at android.os.ShellCommand.exec(ShellCommand.java:38)
        [exit 255]
    "#]],
    );
    check(
        &p,
        "pm remove-user 10",
        expect![[r#"
        Success: removed user
    "#]],
    );
    check(
        &p,
        &format!("dpm set-device-owner {ADMIN}"),
        expect![[r#"
        Success: Device owner set to package com.corral.agent/.AdminReceiver
        Active admin set to component com.corral.agent/.AdminReceiver
    "#]],
    );
    check(
        &p,
        "dpm list-owners; bmgr activated; bmgr enabled",
        expect![[r#"
        1 owner:
        User  0: admin=com.corral.agent/.AdminReceiver,DeviceOwner
        Backup Manager currently deactivated
        [stderr]
        Error: Backup Manager is not activated for user 0
    "#]],
    );
    check(
        &p,
        "pm uninstall com.corral.agent",
        expect![[r#"
        Failure [DELETE_FAILED_DEVICE_POLICY_MANAGER]
        [exit 1]
    "#]],
    );
    check(
        &p,
        &format!("dpm set-device-owner {ADMIN}"),
        expect![[r#"
        com.corral.agent/.AdminReceiver was already an admin for user 0. No need to set it again.
        [stderr]

        Exception occurred while executing 'set-device-owner':
        java.lang.IllegalStateException: Trying to set the device owner (ComponentInfo{com.corral.agent/com.corral.agent.AdminReceiver}), but device owner (ComponentInfo{com.corral.agent/com.corral.agent.AdminReceiver}) is already set.
        	at com.android.server.devicepolicy.DevicePolicyManagerServiceShellCommand.onCommand(DevicePolicyManagerServiceShellCommand.java:111)
        	at com.android.modules.utils.BasicShellCommandHandler.exec(BasicShellCommandHandler.java:97)
        	at android.os.ShellCommand.exec(ShellCommand.java:38)
        [exit 255]
    "#]],
    );
    check(
        &p,
        &format!("dpm remove-active-admin {ADMIN} && bmgr activated"),
        expect![[r#"
        Success: Admin removed ComponentInfo{com.corral.agent/com.corral.agent.AdminReceiver}
        Backup Manager currently activated
    "#]],
    );
    let old = with_dpc(11, true);
    check(
        &old,
        "pm install-existing --user 0 com.corral.agent >/dev/null && pm remove-user 10",
        expect![[r#"
        Success: removed user
    "#]],
    );
    check(
        &old,
        &format!("dpm set-device-owner {ADMIN}"),
        expect![[r#"
        Success: Device owner set to package ComponentInfo{com.corral.agent/com.corral.agent.AdminReceiver}
        Active admin set to component {com.corral.agent/com.corral.agent.AdminReceiver}
    "#]],
    );
}

#[test]
fn unknown_admins() {
    let p = with_dpc(14, true);
    check(
        &p,
        "dpm set-device-owner com.corral.agent/.Nope",
        expect![[r#"
        com.corral.agent/.Nope was already an admin for user 0. No need to set it again.
        [stderr]

        Exception occurred while executing 'set-device-owner':
        java.lang.IllegalArgumentException: Invalid component ComponentInfo{com.corral.agent/com.corral.agent.Nope} for device owner
        	at com.android.server.devicepolicy.DevicePolicyManagerServiceShellCommand.onCommand(DevicePolicyManagerServiceShellCommand.java:111)
        	at com.android.modules.utils.BasicShellCommandHandler.exec(BasicShellCommandHandler.java:97)
        	at android.os.ShellCommand.exec(ShellCommand.java:38)
        [exit 255]
    "#]],
    );
    let old = with_dpc(11, true);
    let out = old.run_shell(
        "dpm set-device-owner com.corral.agent/.Nope",
        &mut std::io::empty(),
    );
    expect!["Error: Unknown admin: ComponentInfo{com.corral.agent/com.corral.agent.Nope} exit=0"]
        .assert_eq(&format!(
            "{} exit={}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or(""),
            out.exit
        ));
}
