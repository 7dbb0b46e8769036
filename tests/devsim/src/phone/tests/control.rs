//! mksh constructs: `if`/`elif`/`else`, `for`, `while`/`until` (bounded), `case`,
//! `{ …; }`, `break`/`continue`, `$(…)` and backticks, assignments and their status,
//! `${…}` operators, `$((…))`, positional parameters, `read`, `set -e`, `eval`.

use expect_test::expect;

use super::{check, phone, render, run_with_stdin};

#[test]
fn if_elif_else() {
    let p = phone(14, &[]);
    check(
        &p,
        "if true; then echo yes; fi; if false; then echo no; else echo else; fi",
        expect![[r#"
            yes
            else
        "#]],
    );
    check(
        &p,
        "X=2\nif [ $X -eq 1 ]; then\n  echo one\nelif [ $X -eq 2 ]; then\n  echo two\nelse\n  echo other\nfi",
        expect![[r#"
            two
        "#]],
    );
    check(
        &p,
        "if false; then :; fi; echo $?; if false; then :; else (exit 3); fi; echo $?",
        expect![[r#"
            0
            3
        "#]],
    );
    check(
        &p,
        "if pm list users | grep -q Owner; then echo has-owner; fi > /data/local/tmp/o; cat /data/local/tmp/o",
        expect![[r#"
            has-owner
        "#]],
    );
}

#[test]
fn for_while_until_loops() {
    let p = phone(14, &[]);
    check(
        &p,
        "for x in a 'b c' d; do echo \"<$x>\"; done; for f in /system/bin/s*; do :; done; echo $f",
        expect![[r#"
            <a>
            <b c>
            <d>
            /system/bin/s*
        "#]],
    );
    check(
        &p,
        "L='1 2 3'; for n in $L; do echo n=$n; done; for n in; do echo never; done; echo done",
        expect![[r#"
            n=1
            n=2
            n=3
            done
        "#]],
    );
    check(
        &p,
        "i=0; while [ $i -lt 3 ]; do echo i=$i; i=$((i+1)); done; until [ $i -eq 0 ]; do i=$((i-1)); done; echo i=$i",
        expect![[r#"
            i=0
            i=1
            i=2
            i=0
        "#]],
    );
    check(
        &p,
        "for i in 1 2 3 4 5; do [ $i -eq 2 ] && continue; [ $i -eq 4 ] && break; echo $i; done",
        expect![[r#"
            1
            3
        "#]],
    );
    check(
        &p,
        "for a in x y; do for b in 1 2 3; do [ $b = 2 ] && continue 2; echo $a$b; done; done; break; echo $?",
        expect![[r#"
            x1
            y1
            0
            [stderr]
            /system/bin/sh: break: can't break
        "#]],
    );
    check(
        &p,
        "for i in 1 2; do\n  echo line $i\ndone | wc -l; while false; do :; done; echo status=$?",
        expect![[r#"
            2
            status=0
        "#]],
    );
}

#[test]
fn loops_are_bounded_like_a_killed_process() {
    let p = phone(14, &[]);
    check(
        &p,
        "while true; do :; done; echo never",
        expect![[r#"
            [stderr]
            Killed
            [exit 137]
        "#]],
    );
    // Memory runs out before the iterations do: the low-memory killer's end, too.
    check(
        &p,
        "x=ab; while :; do x=\"$x$x\"; done; echo never",
        expect![[r#"
            [stderr]
            Killed
            [exit 137]
        "#]],
    );
    check(
        &p,
        "x=$(while :; do :; done); echo after=$?",
        expect![[r#"
            after=137
            [stderr]
            Killed
        "#]],
    );
}

#[test]
fn case_and_braces() {
    let p = phone(14, &[]);
    check(
        &p,
        "for f in a.apk b.txt 'c d'; do case $f in *.apk) echo apk $f;; *.txt|*.md) echo text $f;; *) echo other;; esac; done",
        expect![[r#"
            apk a.apk
            text b.txt
            other
        "#]],
    );
    check(
        &p,
        "case x in (x) echo paren-x ;; esac; case '*' in '*') echo star; esac; case abc in a\\*) echo no;; a*) echo glob;; esac",
        expect![[r#"
            paren-x
            star
            glob
        "#]],
    );
    check(
        &p,
        "{ echo a; echo b; } | wc -l; { X=1; }; echo X=$X; { echo err >&2; } 2>/dev/null",
        expect![[r#"
            2
            X=1
        "#]],
    );
}

#[test]
fn substitutions_assignments_and_status() {
    let p = phone(14, &[]);
    check(
        &p,
        "A=$(echo one; echo two); echo \"$A\"; B=`echo back`; echo $B; echo \"$(echo \"nested $(echo deep)\")\"",
        expect![[r#"
            one
            two
            back
            nested deep
        "#]],
    );
    check(
        &p,
        "R=$(false); echo $?; R=$(true) && echo ok; R=$(exit 5) || echo failed=$?",
        expect![[r#"
            1
            ok
            failed=5
        "#]],
    );
    check(
        &p,
        "export E=1 F='two words'; echo $E $F; unset E; echo \"[${E}]\"; X=1 Y=$X; echo $Y",
        expect![[r#"
            1 two words
            []
            1
        "#]],
    );
    check(
        &p,
        "u=; echo ${u:-def} ${u-set} ${v:=assigned} $v ${u:+alt} ${v:+alt} ${#v}",
        expect![[r#"
            def assigned assigned alt 8
        "#]],
    );
    check(
        &p,
        "p=/data/local/tmp/app.apk; echo ${p##*/} ${p%.apk} ${p#/data} ${p%%/*}x",
        expect![[r#"
            app.apk /data/local/tmp/app /local/tmp/app.apk x
        "#]],
    );
    check(
        &p,
        "echo $((1+2*3)) $((10/3)) $((7%3)) $((1<2)); n=5; echo $((n*n)) $((n+=1)) $n; echo ${x:?missing}; echo never",
        expect![[r#"
            7 3 1 1
            25 6 6
            [stderr]
            /system/bin/sh: x: missing
            [exit 1]
        "#]],
    );
    check(
        &p,
        "echo $((1/0)); echo never",
        expect![[r#"
            [stderr]
            /system/bin/sh: 1/0: zero divisor
            [exit 1]
        "#]],
    );
    check(
        &p,
        "echo ${a b}",
        expect![[r#"
            [stderr]
            /system/bin/sh: ${a b}: bad substitution
            [exit 1]
        "#]],
    );
}

#[test]
fn positional_parameters_eval_set_read() {
    let p = phone(14, &[]);
    check(
        &p,
        "sh -c 'echo $0 $# $1 \"$2\"; for a; do echo \"[$a]\"; done; shift; echo $@' zero one 'two 2' three",
        expect![[r#"
            zero 3 one two 2
            [one]
            [two 2]
            [three]
            two 2 three
        "#]],
    );
    check(
        &p,
        "set -- a b; echo $# \"$@\"; for x in \"$@\"; do echo $x; done; set --; for x in \"$@\"; do echo never; done; echo $#",
        expect![[r#"
            2 a b
            a
            b
            0
        "#]],
    );
    check(
        &p,
        "cmd='echo evaluated'; eval $cmd; eval 'V=3'; echo $V",
        expect![[r#"
            evaluated
            3
        "#]],
    );
    check(
        &p,
        "set -e; true; false; echo never",
        expect![[r#"
            [exit 1]
        "#]],
    );
    check(
        &p,
        "set -e; false || echo handled; if false; then :; fi; false && true; echo survived",
        expect![[r#"
            handled
            survived
        "#]],
    );
    let out = run_with_stdin(
        &p,
        "while read -r a b; do echo \"a=$a b=$b\"; done; echo status=$?",
        b"1 2 3\n  x  \nlast",
    );
    expect![[r#"
        a=1 b=2 3
        a=x b=
        status=0
    "#]]
    .assert_eq(&render(&out));
    check(
        &p,
        "echo 'k=v' > /data/local/tmp/kv; while IFS= read line; do echo got $line; done < /data/local/tmp/kv; pm list users | while read l; do echo \"> $l\"; done",
        expect![[r#"
            got k=v
            > Users:
            > UserInfo{0:Owner:4c13} running
        "#]],
    );
    check(
        &p,
        "command -v sha256sum cd nosuch; echo $?",
        expect![[r#"
            /system/bin/sha256sum
            cd
            1
        "#]],
    );
}

#[test]
fn compound_syntax_errors_are_mksh_s() {
    let p = phone(14, &[]);
    check(
        &p,
        "if true; then echo x",
        expect![[r#"
            [stderr]
            /system/bin/sh: syntax error: 'if' unmatched
            [exit 1]
        "#]],
    );
    for (script, want) in [
        ("if true; fi", "syntax error: 'fi' unexpected"),
        ("if true; then fi", "syntax error: 'fi' unexpected"),
        ("while true; do", "syntax error: 'while' unmatched"),
        (
            "for x in a b; echo $x; done",
            "syntax error: 'echo' unexpected",
        ),
        ("for 1x in a; do :; done", "for: bad identifier"),
        ("done", "syntax error: 'done' unexpected"),
        ("{ echo a }", "syntax error: '{' unmatched"),
        ("case x in a) echo;; ", "syntax error: 'case' unmatched"),
        (
            "if true; then echo; fi echo",
            "syntax error: 'echo' unexpected",
        ),
        (
            "function f { :; }",
            "function: not supported by the simulated shell",
        ),
    ] {
        let out = p.run_shell(script, &mut std::io::empty());
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!("/system/bin/sh: {want}\n"),
            "{script}"
        );
    }
    check(
        &p,
        "while true; do if true; then break; fi done; echo ok",
        expect![[r#"
            ok
        "#]],
    );
}

#[test]
fn hostile_nesting_ends_with_an_error_not_a_crash() {
    let p = phone(
        14,
        &["echo '. /data/local/tmp/self.sh' > /data/local/tmp/self.sh"],
    );
    let deep_if = format!(
        "{}echo x{}",
        "if true; then ".repeat(5_000),
        "; fi".repeat(5_000)
    );
    let deep_paren = format!("{}echo x{}", "(".repeat(5_000), ")".repeat(5_000));
    let deep_brace = format!("echo {}x{}", "${a:-".repeat(5_000), "}".repeat(5_000));
    let deep_arith = format!("echo $(({}1{}))", "(".repeat(5_000), ")".repeat(5_000));
    for (script, want) in [
        (deep_if.as_str(), "syntax error: nesting too deep"),
        (deep_paren.as_str(), "syntax error: nesting too deep"),
        (deep_brace.as_str(), "bad substitution"),
        (deep_arith.as_str(), "expression too deeply nested"),
        ("x='eval $x'; eval $x", "too much recursion"),
        (". /data/local/tmp/self.sh", "too much recursion"),
    ] {
        let out = p.run_shell(script, &mut std::io::empty());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(want),
            "{}: {err}",
            &script[..script.len().min(40)]
        );
        assert_ne!(out.exit, 0);
    }
    // Nesting a real script would use still works.
    let nested = format!(
        "{}echo ok{}",
        "if true; then ".repeat(20),
        "; fi".repeat(20)
    );
    assert_eq!(render(&p.run_shell(&nested, &mut std::io::empty())), "ok\n");
}
