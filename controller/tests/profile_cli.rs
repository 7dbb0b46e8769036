//! The `corral profile …` contract, run against the built binary: exit codes, where
//! output goes, and what it says, on the example profiles and on broken files.

// Test helpers unwrap too: a failure there is a failed test, not bad input handling.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use expect_test::expect;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../profiles/examples")
}

fn corral(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_corral"))
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .arg("profile")
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn check_accepts_the_examples() {
    let out = corral(&examples(), &["check", "base.toml", "butcher-shop.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("base.toml: `base` is valid, version sha256:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("butcher-shop.toml: `butcher-shop` is valid"),
        "{stdout}"
    );
}

#[test]
fn check_finds_the_parent_next_to_the_file() {
    let file = examples().join("butcher-shop.toml");
    let out = corral(Path::new("/"), &["check", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn check_reports_every_problem_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("broken.toml"),
        "name = \"shop\"\nextends = \"bsae\"\n[messenger]\npackages = [\"whatsapp\"]\npersonal_coppy = \"hide\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("base.toml"),
        "name = \"base\"\n[messenger]\npackages = [\"com.whatsapp\"]\n",
    )
    .unwrap();
    let out = corral(dir.path(), &["check", "broken.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    expect![[r#"
        error[unknown-parent]: no profile named `bsae` to extend
         --> broken.toml:2:11
          |
        2 | extends = "bsae"
          |           ^^^^^^ unknown profile
          |
          = help: did you mean `base`?

        error[invalid-package]: `whatsapp` in `messenger.packages` is not valid
         --> broken.toml:4:13
          |
        4 | packages = ["whatsapp"]
          |             ^^^^^^^^^^ a package name has at least two `.`-separated parts, like `com.whatsapp`

        error[unknown-key]: unknown key `personal_coppy` in `[messenger]`
         --> broken.toml:5:1
          |
        5 | personal_coppy = "hide"
          | ^^^^^^^^^^^^^^ unknown key
          |
          = help: did you mean `personal_copy`?

        error: not valid: 3 errors, 0 other diagnostics
    "#]].assert_eq(&text(&out.stderr));
}

#[test]
fn check_json_goes_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.toml"),
        "name = \"p\"\n[messenger]\npackages = [\"com.whatsapp\"]\n[privacy]\nbakup = false\n",
    )
    .unwrap();
    let out = corral(dir.path(), &["check", "--format", "json", "p.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json[0]["code"], "unknown-key");
    assert_eq!(
        (
            json[0]["file"].as_str(),
            json[0]["line"].as_u64(),
            json[0]["column"].as_u64()
        ),
        (Some("p.toml"), Some(5), Some(1))
    );
    assert_eq!(json[0]["hint"], "did you mean `backup`?");
}

#[test]
fn check_fails_on_a_missing_file() {
    let out = corral(&examples(), &["check", "no-such-profile.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("cannot read `no-such-profile.toml`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn show_resolved_prints_a_profile_with_the_same_version() {
    let out = corral(&examples(), &["show", "--resolved", "butcher-shop.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    let version = shown
        .lines()
        .next()
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_owned();
    assert!(
        version.starts_with("sha256:") && version.len() == 23,
        "{version}"
    );
    assert!(
        shown.contains("personal_copy = \"uninstall\"")
            && shown.contains("phone = \"+493312345678\""),
        "{shown}"
    );
    // The canonical form is itself a profile, with the same version.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("canonical.toml"), &shown).unwrap();
    let again = corral(dir.path(), &["show", "canonical.toml"]);
    assert_eq!(
        text(&again.stdout).trim(),
        format!("butcher-shop {version}")
    );
}

#[test]
fn diff_exit_codes() {
    let same = corral(&examples(), &["diff", "base.toml", "base.toml"]);
    assert_eq!(same.status.code(), Some(0));
    let differ = corral(&examples(), &["diff", "base.toml", "butcher-shop.toml"]);
    assert_eq!(differ.status.code(), Some(1));
    let stdout = text(&differ.stdout);
    assert!(
        stdout.contains("~ messenger.personal_copy: \"hide\" -> \"uninstall\""),
        "{stdout}"
    );
    let json = corral(
        &examples(),
        &["diff", "--json", "base.toml", "butcher-shop.toml"],
    );
    let parsed: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(parsed["changes"].as_array().unwrap().len() > 5);
}

#[test]
fn diff_ignores_formatting_and_fails_on_invalid_input() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(examples().join("base.toml")).unwrap();
    // Same profile: comments gone, keys reordered, sections reversed.
    let mut sections: Vec<&str> = base.split("\n[").collect();
    let head = sections
        .remove(0)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    sections.reverse();
    let reordered = format!("{head}\n[{}", sections.join("\n["));
    std::fs::create_dir(dir.path().join("new")).unwrap();
    std::fs::write(dir.path().join("new/base.toml"), reordered).unwrap();
    let base_path = examples().join("base.toml");
    let out = corral(
        dir.path(),
        &["diff", base_path.to_str().unwrap(), "new/base.toml"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    std::fs::write(dir.path().join("bad.toml"), "name = \"bad\"\n").unwrap();
    let out = corral(
        dir.path(),
        &["diff", base_path.to_str().unwrap(), "bad.toml"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("error[missing]"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn plan_and_capture() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("phone.json"),
        r#"{ "users": [ { "id": 0, "name": "Owner", "flags": 3091, "running": true },
                      { "id": 10, "name": "Shop", "flags": 4144, "running": true } ],
            "personal_packages": { "com.whatsapp.w4b": {} },
            "work": { "user": 10, "contacts": [ { "id": 4, "name": "Stranger", "numbers": ["+4917612345678"] } ] } }"#,
    )
    .unwrap();
    let phone = dir.path().join("phone.json");
    let out = corral(
        &examples(),
        &[
            "plan",
            "butcher-shop.toml",
            "--observed",
            phone.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("pm install-existing --user 10 com.whatsapp.w4b"),
        "{stdout}"
    );
    assert!(
        stdout.contains("pm uninstall --user 0 com.whatsapp.w4b"),
        "{stdout}"
    );
    assert!(stdout.contains("--where '_id IN (4)'"), "{stdout}");
    let out = corral(dir.path(), &["capture", "phone.json", "--name", "cloned"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("name = \"cloned\""));
}
