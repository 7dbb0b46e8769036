//! The shell: quoting, lists, redirections, variables, errors, coreutils, faults.

use expect_test::expect;

use super::{check, phone, render, run_with_stdin};
use crate::faults::{FaultAction, FaultRule};

#[test]
fn quoting_and_lists() {
    let p = phone(14, &[]);
    check(
        &p,
        "echo 'a  b' \"c $?\" d\\ e",
        expect![[r#"
        a  b c 0 d e
    "#]],
    );
    check(
        &p,
        "false; echo $?; true && echo yes || echo no; false || echo fallback",
        expect![[r#"
        1
        yes
        fallback
    "#]],
    );
    check(
        &p,
        "echo -n x; echo y",
        expect![[r#"
        xy
    "#]],
    );
    check(
        &p,
        "echo 'a\\nb'",
        expect![[r#"
        a
        b
    "#]],
    );
    check(
        &p,
        "X=1; echo \"$X ${X}\" '$X'",
        expect![[r#"
        1 1 $X
    "#]],
    );
    check(
        &p,
        "echo $(echo inner) `echo back`",
        expect![[r#"
        inner back
    "#]],
    );
    check(
        &p,
        "exit 3; echo never",
        expect![[r#"
        [exit 3]
    "#]],
    );
    check(
        &p,
        "(exit 4); echo $?",
        expect![[r#"
        4
    "#]],
    );
    check(
        &p,
        "sh -c 'echo in sh; exit 7'; echo $?",
        expect![[r#"
        in sh
        7
    "#]],
    );
    check(
        &p,
        "! false && echo negated",
        expect![[r#"
        negated
    "#]],
    );
    check(&p, "# only a comment", expect![[""]]);
    check(&p, "", expect![[""]]);
}

#[test]
fn syntax_errors_and_unknown_commands() {
    let p = phone(14, &[]);
    check(
        &p,
        "echo 'open",
        expect![[r#"
        [stderr]
        /system/bin/sh: no closing quote
        [exit 1]
    "#]],
    );
    check(
        &p,
        "echo )",
        expect![[r#"
        [stderr]
        /system/bin/sh: syntax error: ')' unexpected
        [exit 1]
    "#]],
    );
    check(
        &p,
        "true &&",
        expect![[r#"
        [stderr]
        /system/bin/sh: syntax error: unexpected EOF
        [exit 1]
    "#]],
    );
    check(
        &p,
        ";;",
        expect![[r#"
            [stderr]
            /system/bin/sh: syntax error: ';;' unexpected
            [exit 1]
        "#]],
    );
    check(
        &p,
        "(echo x",
        expect![[r#"
        [stderr]
        /system/bin/sh: syntax error: '(' unmatched
        [exit 1]
    "#]],
    );
    check(
        &p,
        "if true; then echo x; fi",
        expect![[r#"
            x
        "#]],
    );
    check(
        &p,
        "nosuchcmd --flag",
        expect![[r#"
        [stderr]
        /system/bin/sh: nosuchcmd: inaccessible or not found
        [exit 127]
    "#]],
    );
    check(
        &p,
        "/data/local/tmp/missing",
        expect![[r#"
        [stderr]
        /system/bin/sh: /data/local/tmp/missing: inaccessible or not found
        [exit 127]
    "#]],
    );
}

#[test]
fn identity_and_tools() {
    let p = phone(14, &[]);
    check(
        &p,
        "id",
        expect![[r#"
        uid=2000(shell) gid=2000(shell) groups=2000(shell),1004(input),1007(log),1011(adb),1015(sdcard_rw),1028(sdcard_r),1078(ext_data_rw),1079(ext_obb_rw),3001(net_bt_admin),3002(net_bt),3003(inet),3006(net_bw_stats),3009(readproc),3011(uhid),3012(readtracefs) context=u:r:shell:s0
    "#]],
    );
    check(
        &phone(11, &[]),
        "id; whoami",
        expect![[r#"
        uid=2000(shell) gid=2000(shell) groups=2000(shell),1004(input),1007(log),1011(adb),1015(sdcard_rw),1028(sdcard_r),1078(ext_data_rw),1079(ext_obb_rw),3001(net_bt_admin),3002(net_bt),3003(inet),3006(net_bw_stats),3009(readproc),3011(uhid) context=u:r:shell:s0
        shell
    "#]],
    );
    check(
        &p,
        "which pm sh nosuch; echo $?",
        expect![[r#"
        /system/bin/pm
        /system/bin/sh
        1
    "#]],
    );
    check(
        &p,
        "pm list packages | grep -v google | head -3",
        expect![[r#"
        package:android
        package:com.android.chrome
        package:com.android.managedprovisioning
    "#]],
    );
    check(
        &p,
        "pm list packages -3 | wc -l",
        expect![[r#"
        2
    "#]],
    );
    check(
        &p,
        "/system/bin/getprop ro.build.version.sdk",
        expect![[r#"
        34
    "#]],
    );
}

#[test]
fn reboot_from_the_shell_drops_everything_and_logcat_shows_why() {
    let p = phone(
        14,
        &[
            "pm create-user --profileOf 0 --managed Work",
            "am start-user 10",
        ],
    );
    let boots = p.boot_count();
    check(
        &p,
        "echo before; svc power reboot; echo never",
        expect![[r#"
        before
        [disconnect]
        [rebooted]
    "#]],
    );
    assert_eq!(p.boot_count(), boots + 1);
    // The work profile of user 0 came back running with the phone.
    let users = p.run_shell("pm list users", &mut std::io::empty());
    assert!(String::from_utf8_lossy(&users.stdout).contains("{10:Work:1030} running"));
    let log = p.run_shell("logcat -d -t 5", &mut std::io::empty());
    let text = String::from_utf8_lossy(&log.stdout).into_owned();
    // Without the time stamp (`MM-DD HH:MM:SS.mmm `).
    let shown: Vec<&str> = text
        .lines()
        .map(|l| {
            if l.starts_with("---") {
                l
            } else {
                l.get(19..).unwrap_or(l)
            }
        })
        .collect();
    expect![[r#"
        [
            "--------- beginning of system",
            " 1521  1521 I SystemServer: Entered the Android system server!",
        ]
    "#]]
    .assert_debug_eq(&shown);
    check(
        &p,
        "reboot -x",
        expect![[r#"
        [stderr]
        usage: reboot [-p] [REASON]
        [exit 1]
    "#]],
    );
    check(
        &p,
        "svc wifi enable",
        expect![[r#"
        [stderr]
        devsim: svc wifi enable: not simulated (only `svc power reboot|shutdown`)
        [exit 1]
    "#]],
    );
    check(&p, "logcat -c; logcat -d", expect![[r#""#]]);
    check(
        &p,
        "logcat -f /sdcard/x",
        expect![[r#"
        [stderr]
        devsim: logcat: option -f is not simulated (-d, -c and -t N are)
        [exit 1]
    "#]],
    );
    check(
        &p,
        "reboot recovery",
        expect![[r#"
        [disconnect]
        [rebooted]
    "#]],
    );
}

#[test]
fn faults_fail_drop_and_reboot() {
    let p = phone(
        14,
        &[
            "pm create-user --profileOf 0 --managed Work",
            "am start-user 10",
        ],
    );
    p.faults().add_rule(FaultRule {
        pattern: "install-existing".into(),
        action: FaultAction::Fail {
            stderr: "Error: injected\n".into(),
            exit: 9,
        },
        times: Some(1),
    });
    check(
        &p,
        "pm install-existing --user 10 com.whatsapp; echo after=$?",
        expect![[r#"
        after=9
        [stderr]
        Error: injected
    "#]],
    );
    p.faults().add_rule(FaultRule {
        pattern: "list users".into(),
        action: FaultAction::DropConnection,
        times: Some(1),
    });
    check(
        &p,
        "echo before; pm list users; echo never",
        expect![[r#"
        before
        [disconnect]
    "#]],
    );
    p.faults().add_rule(FaultRule {
        pattern: "getprop".into(),
        action: FaultAction::Reboot,
        times: Some(1),
    });
    check(
        &p,
        "getprop ro.product.model",
        expect![[r#"
            [disconnect]
        "#]],
    );
    check(
        &p,
        "pm list users",
        expect![[r#"
        Users:
        	UserInfo{0:Owner:4c13} running
        	UserInfo{10:Work:1030} running
    "#]],
    );
}

#[test]
fn hostile_input_never_panics() {
    let p = phone(14, &[]);
    let inputs = [
        "'",
        "\"",
        "$(",
        "`",
        "${",
        "\\",
        "&&&",
        "|||",
        ">",
        "2>&",
        "<",
        "echo $(((",
        "a=",
        "=",
        "echo \u{0}",
        "ls \u{1F600}*",
        "$((1+1))",
        "echo ${}",
        ")(",
        "cmd",
        "pm",
        "am",
        "dpm",
        "content",
        "settings",
        "bmgr",
        "sh -c",
        "exit abc",
        "kill -9",
        "kill x",
        "rm",
        "chmod",
        "stat",
        "grep",
        "cd /nope",
        "sleep x",
        "ps -Z",
        "pm list",
        "pm install -S -5",
        "pm install -S 99999999999999999999",
        "content query --uri content://com.android.contacts/data --where \"((\"",
    ];
    for input in inputs {
        let _ = p.run_shell(input, &mut std::io::empty());
    }
    let deep = format!("{}echo deep{}", "echo $(".repeat(40), ")".repeat(40));
    let out = p.run_shell(&deep, &mut std::io::empty());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("too much recursion"),
        "{out:?}"
    );
}

#[test]
fn sh_reads_a_script_from_stdin() {
    let p = phone(14, &[]);
    let out = run_with_stdin(&p, "sh", b"echo one\nexit 4\n");
    expect![[r#"
        one
        [exit 4]
    "#]]
    .assert_eq(&render(&out));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 128, ..Default::default() })]

    /// Any line of shell metacharacters, words and Android commands gives an outcome.
    #[test]
    fn any_line_gives_an_outcome(line in "((pm|cmd|content|dpm|settings|bmgr|am|echo|ls|grep|cat|\\$\\(|`|'|\"|\\\\|;|&&|\\|\\||\\||&|>|<|2>&1|\\(|\\)|\\$\\?|\\*|--user|10|-c|x| ){0,12})") {
        let p = phone(14, &[]);
        let out = p.run_shell(&line, &mut std::io::empty());
        proptest::prop_assert!(!out.disconnect);
    }

    /// Arbitrary bytes are never mistaken for an APK and never panic the parser.
    #[test]
    fn arbitrary_bytes_are_not_apks(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
        proptest::prop_assert!(crate::phone::apk::parse_apk(&bytes).is_err());
    }

    /// Arbitrary `--where` text parses or fails cleanly.
    #[test]
    fn arbitrary_where_clauses_do_not_panic(text in "[ -~]{0,40}") {
        let _ = crate::phone::contacts::sql_where::parse(&text);
        let _ = crate::phone::contacts::sql_where::parse_sort(&text);
    }
}
