//! Property tests: random scripts built from the shell's constructs and the text tools
//! never panic, never disconnect, and always end (loops are bounded).

use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::phone;
use crate::phone::shell::run::Shell;

fn simple() -> impl Strategy<Value = String> {
    let fixed = prop_oneof![
        Just("echo a"),
        Just("true"),
        Just("false"),
        Just(":"),
        Just("break"),
        Just("continue 2"),
        Just("exit 3"),
        Just("x=$((x+1))"),
        Just("echo ${x:-none} ${#x} ${x%1} ${x#?} ${y:=d} ${z:+alt}"),
        Just("[ \"$x\" -lt 3 ]"),
        Just("test -n \"$x\" -a ! -d /nope"),
        Just("read y"),
        Just("set -- a 'b c'; shift; echo $# \"$@\""),
        Just("echo 'a:b:c' | cut -d: -f2-"),
        Just("echo hello | tr a-z A-Z | sed -n 's/\\(L*\\)O/[\\1]/p'"),
        Just("printf x | sha256sum | cut -c1-8"),
        Just("echo b a | tr ' ' '\\n' | sort -r | uniq -c"),
        Just("x=$(echo 1; false)"),
        Just("eval 'x=2'"),
        Just("case $x in 1|2) echo low;; *) echo other;; esac"),
        Just("sed -e '$!N' -e 's/\\n/,/' /nope"),
        Just("getprop ro.build.version.sdk"),
        Just("set -e"),
        Just("echo $((x * 3 / (x - 1)))"),
    ]
    .prop_map(str::to_string);
    let garbage = "[;&|(){}<>$`'\"\\\\a-z0-9 =#*?!\\[\\]\n-]{0,10}";
    prop_oneof![4 => fixed, 1 => garbage]
}

fn script() -> impl Strategy<Value = String> {
    simple().prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}; {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} && {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} || {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} | {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}\n{b}")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(c, t, e)| format!("if {c}; then {t}; elif {t}; then :; else {e}; fi")),
            inner
                .clone()
                .prop_map(|b| format!("for i in 1 2 $x; do {b}; done")),
            (inner.clone(), inner.clone()).prop_map(|(c, b)| format!("while {c}; do {b}; done")),
            (inner.clone(), inner.clone()).prop_map(|(c, b)| format!("until {c}\ndo {b}\ndone")),
            inner.clone().prop_map(|b| format!("while :; do {b}; done")),
            inner.clone().prop_map(|b| format!("{{ {b}; }} 2>&1")),
            inner.clone().prop_map(|b| format!("( {b} )")),
            inner.clone().prop_map(|b| format!("x=$( {b} )")),
            inner
                .clone()
                .prop_map(|b| format!("sh -c '{}' sh 1", b.replace('\'', ""))),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Any script of loops, conditionals, expansions and text tools ends quickly.
    #[test]
    fn random_scripts_terminate(text in script()) {
        let p = phone(14, &[]);
        let mut shell = Shell::new(&p);
        shell.set_loop_limit(2_000);
        let start = Instant::now();
        let _ = shell.run_text(&text, &mut std::io::empty());
        prop_assert!(!shell.disconnected());
        prop_assert!(start.elapsed() < Duration::from_secs(60), "{text}");
    }
}

/// Values that triple every round: trimming and splitting stay linear, and the memory
/// limit ends the loop long before the iteration budget would.
#[test]
fn growing_values_end_quickly() {
    let p = phone(14, &[]);
    let start = Instant::now();
    let out = p.run_shell(
        "while x=$( echo ${x:-none} ${#x} ${x%1} ${x#?} ${x%%* *} ${x##*n} ); do nosuch; done",
        &mut std::io::empty(),
    );
    assert_eq!(out.exit, 137, "{out:?}");
    assert!(
        start.elapsed() < Duration::from_secs(120),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn runaway_loops_through_the_phone_are_killed() {
    let p = phone(14, &[]);
    let start = Instant::now();
    let out = p.run_shell(
        "for i in 1 2; do while :; do x=$(while :; do :; done); done; done",
        &mut std::io::empty(),
    );
    assert_eq!(out.exit, 137);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "Killed\n");
    assert!(start.elapsed() < Duration::from_secs(120));
}
