//! Behaviour tests of the simulated phone: one `check(phone, command, expect)` helper
//! and many small cases per area, on Android 11 and 14.

mod content;
mod control;
mod device;
mod files;
mod install;
mod observe;
mod packages;
mod planner;
mod process;
mod prop;
mod sed;
mod settings;
mod shell;
mod tools;
mod users;

use std::sync::Arc;

use expect_test::Expect;

use super::{AndroidVersion, Phone, PhoneConfig, ShellOutcome};

/// A phone in a temporary directory.
pub(crate) struct TestPhone {
    pub phone: Arc<Phone>,
    /// Kept so the phone's directory lives as long as the phone.
    pub _dir: tempfile::TempDir,
}

impl std::ops::Deref for TestPhone {
    type Target = Phone;
    fn deref(&self) -> &Phone {
        &self.phone
    }
}

/// A phone of Android `version`, configured by `tweak`, after running `setup`
/// (each setup command must exit 0).
pub(crate) fn phone_with(
    version: u8,
    tweak: impl FnOnce(&mut PhoneConfig),
    setup: &[&str],
) -> TestPhone {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = PhoneConfig::new("127.0.0.1:5555", dir.path().join("phone"));
    config.android = AndroidVersion(version);
    tweak(&mut config);
    let phone = Phone::open(config).expect("open phone");
    for cmd in setup {
        let out = phone.run_shell(cmd, &mut std::io::empty());
        assert_eq!(out.exit, 0, "setup `{cmd}` failed:\n{}", render(&out));
    }
    TestPhone { phone, _dir: dir }
}

/// A default phone of Android `version` after `setup`.
pub(crate) fn phone(version: u8, setup: &[&str]) -> TestPhone {
    phone_with(version, |_| {}, setup)
}

/// Stdout, then stderr and the exit code when they are not empty/zero.
pub(crate) fn render(out: &ShellOutcome) -> String {
    let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.stderr.is_empty() {
        s.push_str("[stderr]\n");
        s.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    if out.exit != 0 {
        s.push_str(&format!("[exit {}]\n", out.exit));
    }
    if out.disconnect {
        s.push_str("[disconnect]\n");
    }
    if out.rebooted {
        s.push_str("[rebooted]\n");
    }
    s
}

/// Runs `command` on `phone` and compares the rendered outcome.
pub(crate) fn check(phone: &Phone, command: &str, expect: Expect) {
    let out = phone.run_shell(command, &mut std::io::empty());
    expect.assert_eq(&render(&out));
}

/// Runs `command` with `stdin`.
pub(crate) fn run_with_stdin(phone: &Phone, command: &str, stdin: &[u8]) -> ShellOutcome {
    phone.run_shell(command, &mut std::io::Cursor::new(stdin.to_vec()))
}
