//! The one-shot commands next to `serve`: `check-config`, `admin token` (also while
//! `serve` runs, on the same SQLite file) and `token create`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::binary::{corral, run, serve};

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn check_config_prints_the_effective_config_with_secrets_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    std::fs::write(
        dir.path().join("corral.toml"),
        "[gateway]\nlisten = \"0.0.0.0:9443\"\n",
    )
    .unwrap();
    let out = corral()
        .args([
            "check-config",
            "--data-dir",
            data,
            "--database-url",
            "postgres://corral:hunter2@db/corral",
        ])
        .env("CORRAL_CONSOLE_LISTEN", "127.0.0.1:9090")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("listen = \"0.0.0.0:9443\""), "{text}");
    assert!(text.contains("listen = \"127.0.0.1:9090\""), "{text}");
    assert!(
        text.contains("url = \"postgres://corral:***@db/corral\""),
        "{text}"
    );
    assert!(!text.contains("hunter2"));
}

#[test]
fn check_config_names_the_bad_key_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("corral.toml"),
        "[console]\nlisten = \"localhost\"\n",
    )
    .unwrap();
    let out = run(&["check-config", "--data-dir", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim(),
        "corral: error: invalid console.listen: \"localhost\" is not an address like 127.0.0.1:8080"
    );
}

#[test]
fn admin_token_works_while_serve_runs_and_token_create_prints_an_enrollment_token() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let server = serve(dir.path());

    let tokens: Vec<String> = (0..2)
        .map(|_| {
            let out = run(&["admin", "token", "--data-dir", data]);
            assert!(out.status.success(), "{}", stderr(&out));
            stdout(&out).trim().to_owned()
        })
        .collect();
    for t in &tokens {
        assert!(t.starts_with("api-") && t.contains('.'), "{t}");
    }
    assert_ne!(tokens[0], tokens[1]);

    let out = run(&[
        "token",
        "create",
        "--profile",
        "shop",
        "--expires",
        "2h",
        "--data-dir",
        data,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let enrollment = stdout(&out).trim().to_owned();
    assert!(enrollment.starts_with("enr-"), "{enrollment}");
    assert_eq!(
        enrollment.split_once('.').unwrap().1.len(),
        43,
        "256 bits of secret"
    );
    assert!(stderr(&out).contains("profile shop has no published version yet"));

    assert_eq!(server.get("/healthz").0, 200);
    assert!(server.stop().success());
}

#[test]
fn admin_token_before_the_first_start_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["admin", "token", "--data-dir", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no admin account yet: start `corral serve` once first"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn token_create_rejects_bad_names_and_durations() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let out = run(&["token", "create", "--profile", "Shop!", "--data-dir", data]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("invalid profile name"),
        "{}",
        stderr(&out)
    );
    let out = run(&[
        "token",
        "create",
        "--group",
        "vans",
        "--expires",
        "soon",
        "--data-dir",
        data,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--expires"), "{}", stderr(&out));
}
