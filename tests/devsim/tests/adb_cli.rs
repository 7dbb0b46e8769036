//! The `corral-devsim` binary: the one-line-per-phone announcement, serving real adb,
//! clean shutdown on SIGTERM, `inspect`, and its exit statuses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::AdbServer;

const BIN: &str = env!("CARGO_BIN_EXE_corral-devsim");

#[test]
fn serves_announced_phones_until_sigterm_then_inspect_reads_their_state() {
    let state = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args([
            "--phones",
            "3",
            "--latency",
            "none",
            "--android",
            "11",
            "--state-dir",
        ])
        .arg(state.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let announced: Vec<String> = (0..3).map(|_| lines.next().unwrap().unwrap()).collect();
    let models = ["Pixel_7", "Pixel_6a", "SM_A546B"];
    let mut serials = Vec::new();
    for (line, model) in announced.iter().zip(models) {
        let words: Vec<&str> = line.split(' ').collect();
        assert_eq!(words.len(), 4, "{line}");
        assert_eq!(words[0], "phone");
        assert!(words[1].starts_with("127.0.0.1:"), "{line}");
        assert_eq!(words[2], format!("model={model}"));
        assert_eq!(words[3], "android=11");
        serials.push(words[1].to_owned());
    }

    let adb = AdbServer::start();
    adb.connect(&serials[2]);
    let out = adb.shell(&serials[2], "echo ok");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n");

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(lines.next().is_none(), "nothing more on stdout");

    let out = Command::new(BIN)
        .args(["inspect", "--serial", &serials[2], "--state-dir"])
        .arg(state.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json.is_object(), "{json}");
}

#[test]
fn inspect_of_an_unknown_phone_fails_clearly() {
    let state = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["inspect", "--serial", "127.0.0.1:1", "--state-dir"])
        .arg(state.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no state for phone 127.0.0.1:1"), "{err}");
}

#[test]
fn bad_arguments_exit_2() {
    for args in [
        &["--phones", "0"][..],
        &["--android", "9"],
        &["--latency", "slow"],
        &["--bogus"],
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty());
    }
}
