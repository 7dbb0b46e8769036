//! Files from the shell: redirections, `ls`, `stat`, `chmod`, `mkdir`, `rm`, `cat`, globbing.

use expect_test::expect;

use super::{check, phone, render, run_with_stdin};

#[test]
fn redirections() {
    let p = phone(14, &[]);
    check(
        &p,
        "echo out; echo err >&2",
        expect![[r#"
        out
        [stderr]
        err
    "#]],
    );
    check(
        &p,
        "nosuch 2>/dev/null; echo $?",
        expect![[r#"
        127
    "#]],
    );
    check(
        &p,
        "nosuch >/dev/null 2>&1; echo quiet",
        expect![[r#"
        quiet
    "#]],
    );
    check(
        &p,
        "nosuch 2>&1 | grep -c inaccessible",
        expect![[r#"
        1
    "#]],
    );
    check(
        &p,
        "echo one > /data/local/tmp/f && echo two >> /data/local/tmp/f && cat /data/local/tmp/f",
        expect![[r#"
        one
        two
    "#]],
    );
    check(
        &p,
        "echo x > /data/nope",
        expect![[r#"
        [stderr]
        /system/bin/sh: can't create /data/nope: Permission denied
        [exit 1]
    "#]],
    );
    check(
        &p,
        "echo x > /system/x",
        expect![[r#"
        [stderr]
        /system/bin/sh: can't create /system/x: Read-only file system
        [exit 1]
    "#]],
    );
    check(
        &p,
        "echo x > /data/local/tmp/no/dir/f",
        expect![[r#"
        [stderr]
        /system/bin/sh: can't create /data/local/tmp/no/dir/f: No such file or directory
        [exit 1]
    "#]],
    );
    check(
        &p,
        "cat < /data/local/tmp/f",
        expect![[r#"
        one
        two
    "#]],
    );
    let out = run_with_stdin(&p, "cat", b"from stdin\n");
    expect![[r#"
        from stdin
    "#]]
    .assert_eq(&render(&out));
}

#[test]
fn files_and_listing() {
    let p = phone(14, &[]);
    p.fs()
        .write("/data/local/tmp/agent", 0o755, b"1234567")
        .expect("push");
    check(
        &p,
        "mkdir -p /data/local/tmp/a/b && ls /data/local/tmp",
        expect![[r#"
        a
        agent
    "#]],
    );
    check(
        &p,
        "ls -d /data/local/tmp /nope",
        expect![[r#"
        /data/local/tmp
        [stderr]
        ls: /nope: No such file or directory
        [exit 1]
    "#]],
    );
    check(
        &p,
        "ls /data",
        expect![[r#"
        [stderr]
        ls: /data: Permission denied
        [exit 1]
    "#]],
    );
    check(
        &p,
        "chmod 600 /data/local/tmp/agent && stat -c '%a %s %n' /data/local/tmp/agent",
        expect![[r#"
        600 7 /data/local/tmp/agent
    "#]],
    );
    check(
        &p,
        "chmod +x /data/local/tmp/agent && stat -c %A /data/local/tmp/agent",
        expect![[r#"
        -rwx--x--x
    "#]],
    );
    check(
        &p,
        "chmod 755 /nope; chmod zz /data/local/tmp/agent",
        expect![[r#"
        [stderr]
        chmod: /nope: No such file or directory
        chmod: bad mode 'zz'
        [exit 1]
    "#]],
    );
    check(
        &p,
        "rm /data/local/tmp/a; rm -r /data/local/tmp/a && rm /nope; rm -f /nope && echo ok",
        expect![[r#"
        ok
        [stderr]
        rm: /data/local/tmp/a: is a directory
        rm: /nope: No such file or directory
    "#]],
    );
    check(
        &p,
        "cd /data/local/tmp && ls *gen* && pwd",
        expect![[r#"
        agent
        /data/local/tmp
    "#]],
    );
    check(
        &p,
        "cat /nope /data/local/tmp; echo $?",
        expect![[r#"
        1
        [stderr]
        cat: /nope: No such file or directory
        cat: /data/local/tmp: Is a directory
    "#]],
    );
    check(
        &p,
        "mkdir /data/local/tmp/agent",
        expect![[r#"
        [stderr]
        mkdir: '/data/local/tmp/agent': File exists
        [exit 1]
    "#]],
    );
    check(
        &p,
        "stat /nope",
        expect![[r#"
        [stderr]
        stat: '/nope': No such file or directory
        [exit 1]
    "#]],
    );
    check(
        &p,
        "test -x /data/local/tmp/agent && [ -f /data/local/tmp/agent ] && [ 3 -gt 2 ] && echo ok",
        expect![[r#"
        ok
    "#]],
    );
    let long = p.run_shell("ls -l /data/local/tmp", &mut std::io::empty());
    let text = String::from_utf8_lossy(&long.stdout).into_owned();
    let masked: Vec<String> = text
        .lines()
        .map(|l| {
            l.split_whitespace()
                .filter(|w| !(w.contains(':') || (w.len() == 10 && w.starts_with("20"))))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    expect![[r#"
        total 4
        -rwx--x--x 1 shell shell 7 agent"#]]
    .assert_eq(&masked.join("\n"));
}

#[test]
fn listing_dot_files_and_stat_default_format() {
    let p = phone(14, &[]);
    p.fs()
        .write("/data/local/tmp/.hidden", 0o644, b"")
        .expect("push");
    check(
        &p,
        "ls -a /data/local/tmp",
        expect![[r#"
        .
        ..
        .hidden
    "#]],
    );
    let out = p.run_shell("stat /data/local/tmp/.hidden", &mut std::io::empty());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let shape: Vec<&str> = text
        .lines()
        .map(|l| l.split(':').next().unwrap_or(""))
        .collect();
    expect!["  File|  Size|Device|Access|Access|Modify|Change"].assert_eq(&shape.join("|"));
    assert!(
        text.contains("Access: (0644/-rw-r--r--)\tUid: ( 2000/   shell)\tGid: ( 2000/   shell)"),
        "{text}"
    );
    assert!(text.contains("regular empty file"), "{text}");
}
