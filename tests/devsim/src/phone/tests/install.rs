//! Installing and removing packages: `pm install` from a path or streamed, the install
//! rules, `pm uninstall`.

use expect_test::expect;

use super::{check, phone, phone_with, render, run_with_stdin};
use crate::phone::apk::{TestApk, build_test_apk};

const MAKE_PROFILE: &str = "pm create-user --profileOf 0 --managed Work";

#[test]
fn install_from_a_pushed_file() {
    let p = phone(14, &[MAKE_PROFILE]);
    p.fs()
        .write(
            "/data/local/tmp/agent.apk",
            0o644,
            &build_test_apk("com.corral.agent", 3),
        )
        .expect("push");
    p.fs()
        .write("/data/local/tmp/junk.apk", 0o644, b"not a zip")
        .expect("push");
    check(
        &p,
        "pm install --user 10 /data/local/tmp/agent.apk",
        expect![[r#"
        Success
    "#]],
    );
    check(
        &p,
        "pm list packages --user 10 corral; pm list packages --user 0 corral; echo $?",
        expect![[r#"
        package:com.corral.agent
        0
    "#]],
    );
    check(
        &p,
        "pm install /data/local/tmp/junk.apk",
        expect![[r#"
        Failure [INSTALL_PARSE_FAILED_NOT_APK: Failed to parse /data/app/vmdl1038476289.tmp/base.apk: Failed to load asset path /data/app/vmdl1038476289.tmp/base.apk]
        [exit 1]
    "#]],
    );
    check(
        &p,
        "pm install /data/local/tmp/missing.apk",
        expect![[r#"
        [stderr]
        Error: Unable to open file: /data/local/tmp/missing.apk
        Consider using a file under /data/local/tmp/
        [exit 1]
    "#]],
    );
    check(
        &p,
        "pm install",
        expect![[r#"
        [stderr]
        Error: must either specify a package size or an APK file
        [exit 1]
    "#]],
    );
    check(
        &p,
        "pm install --bogus /data/local/tmp/agent.apk",
        expect![[r#"
        [stderr]

        Exception occurred while executing 'install':
        java.lang.IllegalArgumentException: Unknown option --bogus
        	at com.android.server.pm.PackageManagerShellCommand.makeInstallParams(PackageManagerShellCommand.java:3030)
        [exit 255]
    "#]],
    );
    check(
        &p,
        "pm install --user 42 /data/local/tmp/agent.apk",
        expect![[r#"
        [stderr]

        Exception occurred while executing 'install':
        java.lang.SecurityException: Shell does not have permission to access user 42
        	at com.android.server.am.ActivityManagerService.handleIncomingUser(ActivityManagerService.java:14589)
        	at android.app.ActivityManager.handleIncomingUser(ActivityManager.java:4835)
        	at com.android.server.pm.PackageManagerShellCommand.onCommand(PackageManagerShellCommand.java:221)
        [exit 255]
    "#]],
    );
}

#[test]
fn streamed_install_reads_exactly_size_bytes() {
    let p = phone(14, &[]);
    let apk = build_test_apk("com.corral.agent", 5);
    let cmd = format!("cmd package 'install' -S {}", apk.len());
    let out = run_with_stdin(&p, &cmd, &apk);
    expect![[r#"
        Success
    "#]]
    .assert_eq(&render(&out));
    let out = run_with_stdin(&p, "cmd package install -S 5", b"PK\x03\x04x");
    expect![[r#"
        Failure [INSTALL_PARSE_FAILED_NOT_APK: Failed to parse /data/app/vmdl1038476289.tmp/base.apk: Failed to load asset path /data/app/vmdl1038476289.tmp/base.apk]
        [exit 1]
    "#]].assert_eq(&render(&out));
    check(
        &p,
        "pm path com.corral.agent | grep -c base.apk",
        expect![[r#"
        1
    "#]],
    );
}

#[test]
fn install_rules() {
    let p = phone_with(11, |c| c.free_storage_bytes = 4000, &[]);
    let mut test_only = TestApk::new("com.corral.dpc", 2);
    test_only.test_only = true;
    p.fs()
        .write("/data/local/tmp/dpc.apk", 0o644, &test_only.build())
        .expect("push");
    check(
        &p,
        "pm install /data/local/tmp/dpc.apk",
        expect![[r#"
        Failure [INSTALL_FAILED_TEST_ONLY: installPackageLI]
        [exit 1]
    "#]],
    );
    check(
        &p,
        "pm install -t /data/local/tmp/dpc.apk",
        expect![[r#"
        Success
    "#]],
    );
    let old = TestApk::new("com.corral.dpc", 1);
    let mut old = old;
    old.test_only = true;
    p.fs()
        .write("/data/local/tmp/old.apk", 0o644, &old.build())
        .expect("push");
    check(
        &p,
        "pm install -t /data/local/tmp/old.apk",
        expect![[r#"
        Failure [INSTALL_FAILED_VERSION_DOWNGRADE: Downgrade detected: Update version code 1 is older than current 2]
        [exit 1]
    "#]],
    );
    let mut big = TestApk::new("com.big", 1);
    big.padding = 10_000;
    p.fs()
        .write("/data/local/tmp/big.apk", 0o644, &big.build())
        .expect("push");
    check(
        &p,
        "pm install /data/local/tmp/big.apk",
        expect![[r#"
        Failure [INSTALL_FAILED_INSUFFICIENT_STORAGE]
        [exit 1]
    "#]],
    );
}

#[test]
fn uninstall() {
    let p = phone(
        14,
        &[MAKE_PROFILE, "pm install-existing --user 10 com.whatsapp"],
    );
    check(
        &p,
        "pm uninstall --user 0 com.whatsapp",
        expect![[r#"
        Success
    "#]],
    );
    check(
        &p,
        "pm uninstall --user 0 com.whatsapp",
        expect![[r#"
        Failure [not installed for 0]
        [exit 1]
    "#]],
    );
    check(
        &p,
        "pm list packages -U whatsapp; pm list packages --user 10 -U com.whatsapp",
        expect![[r#"
        package:com.whatsapp.w4b uid:10201
        package:com.whatsapp uid:1010200
    "#]],
    );
    check(
        &p,
        "pm uninstall com.android.chrome",
        expect![[r#"
        Failure [DELETE_FAILED_INTERNAL_ERROR]
        [exit 1]
    "#]],
    );
    check(
        &p,
        "pm uninstall --user 0 com.android.chrome",
        expect![[r#"
        Success
    "#]],
    );
    check(
        &p,
        "pm list packages chrome; pm list packages -u chrome",
        expect![[r#"
        package:com.android.chrome
    "#]],
    );
    check(
        &p,
        "pm uninstall com.nope",
        expect![[r#"
        Failure [DELETE_FAILED_INTERNAL_ERROR]
        [exit 1]
    "#]],
    );
    check(
        &p,
        "pm uninstall --user 77 com.whatsapp",
        expect![[r#"
        Failure [user 77 doesn't exist]
        [exit 1]
    "#]],
    );
    check(
        &p,
        "pm uninstall com.whatsapp && pm list packages --user 10 whatsapp",
        expect![[r#"
        Success
    "#]],
    );
}
