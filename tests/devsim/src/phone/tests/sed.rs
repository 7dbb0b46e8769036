//! toybox `sed`: substitution with groups, addresses, `-n`/`-e`/`-E`/`-i`, the other
//! commands, and its error messages.

use expect_test::expect;

use super::{check, phone, render, run_with_stdin};

#[test]
fn substitution_and_groups() {
    let p = phone(
        14,
        &["echo 'Row: 0 _id=42\nRow: 1 _id=7' > /data/local/tmp/rows"],
    );
    check(
        &p,
        "sed -n 's/^Row: 0 _id=\\([0-9]*\\).*/\\1/p' /data/local/tmp/rows",
        expect![[r#"
            42
        "#]],
    );
    check(
        &p,
        "echo hello world | sed 's/o/0/'; echo hello world | sed 's/o/0/g'; echo hello world | sed 's/o/0/2'",
        expect![[r#"
            hell0 world
            hell0 w0rld
            hello w0rld
        "#]],
    );
    check(
        &p,
        "echo 'a.b.c' | sed -E 's/([a-z])\\.([a-z])/\\2.\\1/'; echo abc | sed 's/b/[&]/; s/c/\\n/'",
        expect![[r#"
            b.a.c
            a[b]

        "#]],
    );
    check(
        &p,
        "echo abc | sed 's/x*/-/g'; echo 'a/b' | sed 's|/|\\\\|; s,\\\\,:,'; echo AbC | sed 's/b/x/i'",
        expect![[r#"
            -a-b-c-
            a:b
            AxC
        "#]],
    );
    check(
        &p,
        "echo abc | sed -e 's/a/1/' -e 's/b/2/'; echo abc | sed 's/a/1/;s/c/3/'",
        expect![[r#"
            12c
            1b3
        "#]],
    );
}

#[test]
fn addresses_and_commands() {
    let p = phone(
        14,
        &["echo 'one\ntwo\nthree\nfour\nfive' > /data/local/tmp/f"],
    );
    let f = "/data/local/tmp/f";
    check(
        &p,
        &format!("sed -n '2p;$p' {f}; sed '2,4d' {f}; sed -n '/t/p' {f}"),
        expect![[r#"
            two
            five
            one
            five
            two
            three
        "#]],
    );
    check(
        &p,
        &format!("sed -n '/two/,/four/p' {f}; sed '3q' {f}; sed -n '$=' {f}; sed '2!d' {f}"),
        expect![[r#"
            two
            three
            four
            one
            two
            three
            5
            two
        "#]],
    );
    check(
        &p,
        &format!(
            "sed '1i\\\nfirst' {f} | head -2; sed '/two/a after' {f} | head -3; sed '2,3c\\\ngone' {f}"
        ),
        expect![[r#"
            first
            one
            one
            two
            after
            one
            gone
            four
            five
        "#]],
    );
    check(
        &p,
        &format!("sed -n 'h;n;G;p' {f}; sed 'N;s/\\n/+/' {f}; sed '$!N;P;D' {f} | wc -l"),
        expect![[r#"
            two
            one
            four
            three
            one+two
            three+four
            5
        "#]],
    );
    check(
        &p,
        &format!(
            "sed -n '/o/{{s/o/0/g;p}}' {f}; sed 'y/abcdefghijklmnopqrstuvwxyz/ABCDEFGHIJKLMNOPQRSTUVWXYZ/' {f} | head -1"
        ),
        expect![[r#"
            0ne
            tw0
            f0ur
            ONE
        "#]],
    );
    check(
        &p,
        &format!(
            "sed -e ':a' -e 'N' -e '$!ba' -e 's/\\n/,/g' {f}; sed 's/o/O/;ta;s/$/ (no o)/;:a' {f}"
        ),
        expect![[r#"
            one,two,three,four,five
            One
            twO
            three (no o)
            fOur
            five (no o)
        "#]],
    );
}

#[test]
fn in_place_files_and_newlines() {
    let p = phone(14, &["echo 'x=1\ny=2' > /data/local/tmp/conf"]);
    check(
        &p,
        "sed -i 's/=/: /' /data/local/tmp/conf && cat /data/local/tmp/conf",
        expect![[r#"
            x: 1
            y: 2
        "#]],
    );
    let out = run_with_stdin(&p, "sed 's/b/B/'", b"a\nb");
    expect![[r#"
        a
        B"#]]
    .assert_eq(&render(&out));
    check(
        &p,
        "sed p /nope /data/local/tmp/conf; echo $?",
        expect![[r#"
            x: 1
            x: 1
            y: 2
            y: 2
            1
            [stderr]
            sed: /nope: No such file or directory
        "#]],
    );
}

#[test]
fn errors_read_like_toybox() {
    let p = phone(14, &[]);
    check(
        &p,
        "sed; sed 's/a/b'; sed 's/\\(/x/'; sed '{p'",
        expect![[r#"
            [stderr]
            sed: no pattern
            sed: bad pattern 's/a/b'@5 (b)
            sed: bad regex '\(': parentheses not balanced
            sed: no }
            [exit 1]
        "#]],
    );
    // At the end of the script toybox prints the NUL it stopped at.
    let out = p.run_shell("sed k; sed 'p}'", &mut std::io::empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "sed: bad pattern 'k'@2 (\0)\nsed: bad pattern '}'@2 (\0)\n"
    );
    check(
        &p,
        "echo a | sed 's/a/\\1/'; echo $?; echo a | sed -q p; echo a | sed ':a;ba'",
        expect![[r#"
            1
            [stderr]
            sed: no s//\1/
            sed: Unknown option 'q' (see "sed --help")
            Killed
            [exit 137]
        "#]],
    );
}
