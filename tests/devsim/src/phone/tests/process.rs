//! Pushed programs run as host processes; the process table; the shell router.

use expect_test::expect;

use super::{check, phone};
use crate::phone::route::{
    ENV_ROUTER, ENV_TOKEN, ShellRouter, ShimTarget, run_shim, shim_command_line,
};

#[test]
fn shell_scripts_for_the_phone_shell_run_in_the_simulator() {
    let p = phone(14, &[]);
    p.fs()
        .write(
            "/data/local/tmp/s.sh",
            0o755,
            b"#!/system/bin/sh\necho from script\npm list users | head -1\n",
        )
        .expect("push");
    check(
        &p,
        "/data/local/tmp/s.sh",
        expect![[r#"
        from script
        Users:
    "#]],
    );
    check(
        &p,
        "chmod 644 /data/local/tmp/s.sh; /data/local/tmp/s.sh",
        expect![[r#"
        [stderr]
        /system/bin/sh: /data/local/tmp/s.sh: can't execute: Permission denied
        [exit 126]
    "#]],
    );
    check(
        &p,
        "sh /data/local/tmp/s.sh | tail -1",
        expect![[r#"
        Users:
    "#]],
    );
}

#[test]
fn host_programs_run_in_the_foreground_and_background() {
    let p = phone(14, &[]);
    p.fs()
        .write(
            "/data/local/tmp/hello",
            0o755,
            b"#!/bin/sh\necho \"hello $1\"\necho oops >&2\nexit 3\n",
        )
        .expect("push");
    check(
        &p,
        "/data/local/tmp/hello world; echo rc=$?",
        expect![[r#"
        hello world
        rc=3
        [stderr]
        oops
    "#]],
    );
    p.fs()
        .write(
            "/data/local/tmp/agent",
            0o755,
            b"#!/bin/sh\nexec sleep 30\n",
        )
        .expect("push");
    check(
        &p,
        "nohup /data/local/tmp/agent run >/dev/null 2>&1 &",
        expect![[""]],
    );
    check(
        &p,
        "pidof agent >/dev/null && echo running",
        expect![[r#"
        running
    "#]],
    );
    let ps = p.run_shell("ps -A | grep agent", &mut std::io::empty());
    assert!(
        String::from_utf8_lossy(&ps.stdout).contains(" S agent"),
        "{ps:?}"
    );
    check(
        &p,
        "kill $(pidof agent) && sleep 0.2; pidof agent; echo $?",
        expect![[r#"
        1
    "#]],
    );
    check(
        &p,
        "kill 1; kill 99999",
        expect![[r#"
        [stderr]
        /system/bin/sh: kill: 1: Operation not permitted
        /system/bin/sh: kill: 99999: No such process
        [exit 1]
    "#]],
    );
    check(
        &p,
        "setsid /data/local/tmp/agent & pidof agent >/dev/null && echo again",
        expect![[r#"
        again
    "#]],
    );
    p.reboot();
    check(
        &p,
        "pidof agent; echo $?",
        expect![[r#"
        1
    "#]],
    );
}

#[test]
fn router_runs_commands_in_the_registered_phone() {
    let p = phone(14, &["pm create-user --profileOf 0 --managed Work"]);
    let router = ShellRouter::start().expect("router");
    router.register(&p.phone);
    let env = p.shim_env().expect("env");
    let get = |k: &str| {
        env.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(get(ENV_ROUTER), router.addr().to_string());
    let target = ShimTarget {
        addr: get(ENV_ROUTER),
        token: get(ENV_TOKEN),
    };
    let args = vec![
        "-c".to_string(),
        "pm list users; echo err >&2; exit 5".to_string(),
    ];
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run_shim(&target, "sh", &args, b"", &mut out, &mut err);
    assert_eq!(code, 5);
    expect![[r#"
        Users:
        	UserInfo{0:Owner:4c13} running
        	UserInfo{10:Work:1030}
    "#]]
    .assert_eq(&String::from_utf8_lossy(&out));
    assert_eq!(err, b"err\n");
    let apk = crate::phone::apk::build_test_apk("com.routed", 1);
    let args: Vec<String> = ["install", "-S", &apk.len().to_string()]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run_shim(&target, "pm", &args, &apk, &mut out, &mut err);
    assert_eq!((code, out.clone()), (0, b"Success\n".to_vec()));
    let bad = ShimTarget {
        token: "bad-token".into(),
        ..target
    };
    let code = run_shim(&bad, "pm", &["list".into()], b"", &mut out, &mut err);
    assert_eq!(code, 255);
}

#[test]
fn shim_command_lines_quote_arguments() {
    expect!["pm list users"].assert_eq(&shim_command_line(
        "sh",
        &["-c".into(), "pm list users".into()],
    ));
    expect![[r#"pm install-existing --user 10 'it'\''s'"#]].assert_eq(&shim_command_line(
        "pm",
        &[
            "install-existing".into(),
            "--user".into(),
            "10".into(),
            "it's".into(),
        ],
    ));
    expect!["sh /data/local/tmp/x.sh"]
        .assert_eq(&shim_command_line("sh", &["/data/local/tmp/x.sh".into()]));
}
