//! toybox text tools: `cut`, the hash tools, `tr`, `sort`, `uniq`, `grep` errors, and
//! mksh's `test`/`[`.

use expect_test::expect;

use super::{check, phone, render, run_with_stdin};

#[test]
fn cut_fields_chars_and_bytes() {
    let p = phone(14, &[]);
    check(
        &p,
        "echo 'abc  /data/x.apk' | cut -d' ' -f1; echo 'a:b:c:d' | cut -d: -f2,4; echo 'a:b:c:d' | cut -d: -f2-",
        expect![[r#"
            abc
            b:d
            b:c:d
        "#]],
    );
    check(
        &p,
        "echo 'a:b:c' | cut -d: -f-2; echo nodelim | cut -d: -f2; echo nodelim | cut -s -d: -f2; echo 'a:b' | cut -d: -f5",
        expect![[r#"
            a:b
            nodelim

        "#]],
    );
    check(
        &p,
        "echo hello | cut -c2-4; echo héllo | cut -c2; echo hello | cut -b1,3,5; echo 'a b  c' | cut -F 3",
        expect![[r#"
            ell
            é
            hlo
            c
        "#]],
    );
    check(
        &p,
        "echo x | cut; cut -d: -c1; echo x | cut -f0; echo x | cut -f 3-1; cut -f1 /nope",
        expect![[r#"
            [stderr]
            cut: no selections
            cut: -d needs -Ff
            cut: bad -f '0'
                          ^
            cut: bad -f '3-1'
                         ^
            cut: /nope: No such file or directory
            [exit 1]
        "#]],
    );
    let out = run_with_stdin(&p, "cut -f2", b"a\tb\tc\nd\te\n");
    expect![[r#"
        b
        e
    "#]]
    .assert_eq(&render(&out));
}

#[test]
fn hash_tools_print_like_toybox() {
    let p = phone(14, &["echo hello > /data/local/tmp/h"]);
    check(
        &p,
        "sha256sum /data/local/tmp/h; md5sum /data/local/tmp/h; echo hello | sha1sum; echo -n | md5sum -b",
        expect![[r#"
            5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03  /data/local/tmp/h
            b1946ac92492d2347c6235b4d2611184  /data/local/tmp/h
            f572d396fae9206628714fb2ce00f72e94f2258f  -
            d41d8cd98f00b204e9800998ecf8427e
        "#]],
    );
    check(
        &p,
        "cd /data/local/tmp && sha256sum h > sums && sha256sum -c sums && echo bad > h && sha256sum -c sums; echo $?",
        expect![[r#"
            h: OK
            h: FAILED
            1
        "#]],
    );
    check(
        &p,
        "sha256sum /nope /data/local/tmp/h; echo $?; sha512sum -s x",
        expect![[r#"
            1d7a363ce12430881ec56c9cf1409c49c491043618e598c356e2959040872f5a  /data/local/tmp/h
            1
            [stderr]
            sha256sum: /nope: No such file or directory
            sha512sum: -s only with -c
            [exit 1]
        "#]],
    );
}

#[test]
fn tr_sort_uniq() {
    let p = phone(14, &[]);
    check(
        &p,
        "echo Hello | tr a-z A-Z; echo hello | tr -d l; echo 'a  b   c' | tr -s ' '; echo abc | tr abc x; echo a1b2 | tr -cd '[:digit:]\\n'",
        expect![[r#"
            HELLO
            heo
            a b c
            xxx
            12
        "#]],
    );
    check(
        &p,
        "echo 'a,b' | tr , '\\n'; echo abc | tr; echo abc | tr a",
        expect![[r#"
            a
            b
            [stderr]
            tr: Needs 1 argument (see "tr --help")
            tr: Needs 2 arguments (see "tr --help")
            [exit 1]
        "#]],
    );
    let out = run_with_stdin(&p, "sort", b"b\na\nc\na\n");
    expect![[r#"
        a
        a
        b
        c
    "#]]
    .assert_eq(&render(&out));
    let out = run_with_stdin(&p, "sort -n -r -u", b"10\n9\n100\n9\n");
    expect![[r#"
        100
        10
        9
    "#]]
    .assert_eq(&render(&out));
    let out = run_with_stdin(&p, "sort -t: -k2,2n", b"x:3\ny:1\nz:2\n");
    expect![[r#"
        y:1
        z:2
        x:3
    "#]]
    .assert_eq(&render(&out));
    let out = run_with_stdin(&p, "uniq -c; echo end", b"a\na\nb\na\n");
    expect![[r#"
              2 a
              1 b
              1 a
        end
    "#]]
    .assert_eq(&render(&out));
    let out = run_with_stdin(&p, "sort | uniq -d", b"a\nb\na\n");
    expect![[r#"
        a
    "#]]
    .assert_eq(&render(&out));
    check(
        &p,
        "grep 'a\\(' /dev/null; echo $?; sort -k x",
        expect![[r#"
            2
            [stderr]
            grep: bad REGEX 'a\(': parentheses not balanced
            sort: bad -k 'x'
            [exit 1]
        "#]],
    );
}

#[test]
fn test_builtin_like_mksh() {
    let p = phone(14, &["touch /data/local/tmp/f"]);
    check(
        &p,
        "[ a = a ] && echo eq; [ a != b ] && echo ne; [ 3 -lt 10 ] && echo lt; [ 10 -lt 3 ] || echo notlt; [ abc \\< abd ] && echo less",
        expect![[r#"
            eq
            ne
            lt
            notlt
            less
        "#]],
    );
    check(
        &p,
        "[ -n x -a -z '' ] && echo and; [ ! -e /nope -o -f /nope ] && echo or; [ \\( 1 -eq 1 \\) ] && echo paren; test -d /data/local/tmp && echo dir; [ -f /data/local/tmp/f ] && echo file; [ ] || echo empty",
        expect![[r#"
            and
            or
            paren
            dir
            file
            empty
        "#]],
    );
    check(
        &p,
        "[ 1 = 1; echo $?; [ 1a -eq 1 ]; echo $?; [ 1 -eq ]; echo $?; [ a b c d e ]; echo $?; [ -f ]; echo $?; [ ' 08' -gt 7 ] && echo ws; [ 2#101 -eq 5 ] && echo base",
        expect![[r#"
            2
            2
            2
            2
            0
            ws
            base
            [stderr]
            /system/bin/sh: [: missing ]
            /system/bin/sh: 1a: bad number '1a'
            /system/bin/sh: [: -eq: missing second argument
            /system/bin/sh: [: b: unexpected operator/operand
        "#]],
    );
}
