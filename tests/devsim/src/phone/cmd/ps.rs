//! `ps` (toybox columns), `pidof` and mksh's `kill` builtin over the phone's process
//! table: a fixed set of system processes plus the programs started from the shell.

use super::Ctx;
use crate::phone::process::{ADBD_PID, KillError};

/// System processes: pid, ppid, user, vsz, rss, name.
const SYSTEM: &[(u32, u32, &str, u64, u64, &str)] = &[
    (1, 0, "root", 10_904_748, 9_000, "init"),
    (2, 0, "root", 0, 0, "[kthreadd]"),
    (338, 1, "logd", 10_847_428, 6_012, "logd"),
    (403, 1, "root", 10_863_844, 3_124, "ueventd"),
    (612, 1, "root", 15_064_316, 118_744, "zygote64"),
    (ADBD_PID, 1, "shell", 10_922_732, 4_624, "adbd"),
    (1102, 612, "system", 19_231_012, 401_932, "system_server"),
    (
        1463,
        612,
        "u0_a100",
        17_420_300,
        233_112,
        "com.android.systemui",
    ),
    (1688, 612, "radio", 15_863_420, 98_244, "com.android.phone"),
    (
        1730,
        612,
        "u0_a110",
        16_108_812,
        143_004,
        "com.google.android.gms.persistent",
    ),
];

fn line(user: &str, pid: u32, ppid: u32, vsz: u64, rss: u64, state: &str, name: &str) -> String {
    format!(
        "{user:<10} {pid:>8} {ppid:>6} {vsz:>7} {rss:>6} {:<10} {:>10} {state} {name}",
        "0", "0"
    )
}

fn base(arg0: &str) -> &str {
    arg0.rsplit('/').next().unwrap_or(arg0)
}

/// `ps [-A|-e]`.
pub fn ps(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let mut all = false;
    for a in &argv[1..] {
        match a.as_str() {
            "-A" | "-e" | "-ef" | "-Af" => all = true,
            other => {
                let c = other.trim_start_matches('-').chars().next().unwrap_or('?');
                ctx.errln(format!("ps: Unknown option '{c}' (see \"ps --help\")"));
                return 1;
            }
        }
    }
    ctx.outln(format!(
        "{:<10} {:>8} {:>6} {:>7} {:>6} {:<10} {:>10} S NAME",
        "USER", "PID", "PPID", "VSZ", "RSS", "WCHAN", "ADDR"
    ));
    if all {
        for (pid, ppid, user, vsz, rss, name) in SYSTEM {
            ctx.outln(line(user, *pid, *ppid, *vsz, *rss, "S", name));
        }
    }
    for p in ctx.phone.processes().list() {
        let name = p.argv.first().map(|a| base(a)).unwrap_or("");
        ctx.outln(line("shell", p.pid, p.ppid, 10_800_312, 3_412, "S", name));
    }
    let me = ctx.phone.processes().allocate_pid();
    ctx.outln(line("shell", me, ADBD_PID, 10_871_996, 3_788, "R", "ps"));
    0
}

/// `pidof [-s] NAME…`.
pub fn pidof(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let single = argv.iter().any(|a| a == "-s");
    let names: Vec<&String> = argv[1..].iter().filter(|a| !a.starts_with('-')).collect();
    let procs = ctx.phone.processes().list();
    let mut pids = Vec::new();
    for name in names {
        let mut found: Vec<u32> = SYSTEM
            .iter()
            .filter(|p| p.5 == name.as_str())
            .map(|p| p.0)
            .collect();
        found.extend(
            procs
                .iter()
                .filter(|p| {
                    p.argv
                        .first()
                        .is_some_and(|a| a == name || base(a) == name.as_str())
                })
                .map(|p| p.pid),
        );
        found.sort_unstable();
        if single {
            found.truncate(1);
        }
        pids.extend(found);
    }
    if pids.is_empty() {
        return 1;
    }
    let text: Vec<String> = pids.iter().map(u32::to_string).collect();
    ctx.outln(text.join(" "));
    0
}

fn signal_number(name: &str) -> Option<i32> {
    if let Ok(n) = name.parse::<i32>() {
        return (0..=64).contains(&n).then_some(n);
    }
    let name = name.trim_start_matches("SIG");
    Some(match name {
        "HUP" => 1,
        "INT" => 2,
        "QUIT" => 3,
        "KILL" => 9,
        "USR1" => 10,
        "USR2" => 12,
        "TERM" => 15,
        "CONT" => 18,
        "STOP" => 19,
        _ => return None,
    })
}

/// mksh's `kill [-s SIG | -SIG] PID…`.
pub fn kill(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let mut signal = 15;
    let mut i = 1;
    if let Some(first) = argv.get(1) {
        if first == "-s" {
            match argv.get(2).and_then(|s| signal_number(s)) {
                Some(s) => signal = s,
                None => {
                    ctx.errln(format!(
                        "/system/bin/sh: kill: {}: unknown signal",
                        argv.get(2).map(String::as_str).unwrap_or("")
                    ));
                    return 1;
                }
            }
            i = 3;
        } else if let Some(sig) = first.strip_prefix('-') {
            match signal_number(sig) {
                Some(s) => signal = s,
                None => {
                    ctx.errln(format!("/system/bin/sh: kill: {sig}: unknown signal"));
                    return 1;
                }
            }
            i = 2;
        }
    }
    if argv.len() <= i {
        ctx.errln("/system/bin/sh: kill: usage: kill [-s signame | -signum | -signame] { job | pid | pgrp } ...");
        return 1;
    }
    let mut status = 0;
    for arg in &argv[i..] {
        let Ok(pid) = arg.parse::<u32>() else {
            ctx.errln(format!(
                "/system/bin/sh: kill: {arg}: arguments must be jobs or process IDs"
            ));
            status = 1;
            continue;
        };
        let result = if SYSTEM.iter().any(|p| p.0 == pid) {
            Err(KillError::NotPermitted)
        } else {
            ctx.phone.processes().kill(pid, signal)
        };
        if let Err(e) = result {
            ctx.errln(format!("/system/bin/sh: kill: {pid}: {e}"));
            status = 1;
        }
    }
    status
}
