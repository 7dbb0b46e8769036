//! A program pushed to a simulated phone runs as a host process, and the `sh` (and
//! `pm`, …) it finds on `PATH` is the phone's own shell, reached through the
//! `corral-devsim` binary acting as the shim.
// Test helpers outside `#[test]` functions may panic on setup failures too.
#![allow(clippy::expect_used)]

use std::time::{Duration, Instant};

use corral_devsim::phone::{Phone, PhoneConfig, ShellRouter};

fn phone(dir: &std::path::Path) -> std::sync::Arc<Phone> {
    let mut config = PhoneConfig::new("127.0.0.1:5599", dir.join("phone"));
    config.host_exe = Some(env!("CARGO_BIN_EXE_corral-devsim").into());
    let phone = Phone::open(config).expect("open phone");
    let router = ShellRouter::start().expect("router");
    router.register(&phone);
    phone
}

fn run(phone: &Phone, command: &str) -> String {
    let out = phone.run_shell(command, &mut std::io::empty());
    format!(
        "{}{}exit={}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        out.exit
    )
}

#[test]
fn a_foreground_program_talks_to_its_phone_through_sh() {
    let dir = tempfile::tempdir().expect("tempdir");
    let phone = phone(dir.path());
    let script = b"#!/bin/sh\nsh -c 'pm list users'\npm create-user --profileOf 0 --managed Work\necho \"rc=$?\"\nsh -c 'exit 3'\necho \"sh=$?\"\n";
    phone
        .fs()
        .write("/data/local/tmp/agent", 0o755, script)
        .expect("push");
    assert_eq!(
        run(&phone, "/data/local/tmp/agent run"),
        "Users:\n\tUserInfo{0:Owner:4c13} running\nSuccess: created user id 10\nrc=0\nsh=3\nexit=0"
    );
    assert_eq!(run(&phone, "pm list users | grep -c Work"), "1\nexit=0");
}

#[test]
fn a_background_program_keeps_running_until_killed_or_reboot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let phone = phone(dir.path());
    let script = b"#!/bin/sh\nsh -c 'getprop ro.build.version.sdk > /data/local/tmp/bg.out'\nexec sleep 60\n";
    phone
        .fs()
        .write("/data/local/tmp/bg", 0o755, script)
        .expect("push");
    assert_eq!(
        run(&phone, "nohup /data/local/tmp/bg run >/dev/null 2>&1 &"),
        "exit=0"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while phone
        .fs()
        .read("/data/local/tmp/bg.out")
        .map_or(true, |d| d.is_empty())
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        phone
            .fs()
            .read("/data/local/tmp/bg.out")
            .expect("written by the program"),
        b"34\n"
    );
    assert!(run(&phone, "pidof bg").ends_with("exit=0"));
    phone.reboot();
    assert_eq!(run(&phone, "pidof bg"), "exit=1");
}
