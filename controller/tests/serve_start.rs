//! `corral serve` as an operator meets it: the first start creates the CA (key mode 0600)
//! and an admin whose generated password is printed once; later starts print none;
//! `/healthz` answers; SIGTERM stops it cleanly; an unsafe CA key refuses to start.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::fs::PermissionsExt;

use common::binary::{run, serve};

fn password_lines(banner: &[String]) -> usize {
    banner
        .iter()
        .filter(|l| l.trim_start().starts_with("password:"))
        .count()
}

#[test]
fn the_first_start_prints_the_admin_password_once_and_later_starts_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    let first = serve(&data);
    assert_eq!(password_lines(&first.banner), 1, "{:#?}", first.banner);
    let password = first
        .banner
        .iter()
        .find_map(|l| l.trim().strip_prefix("password:"))
        .unwrap()
        .trim()
        .to_owned();
    assert!(
        password.len() >= 20,
        "a generated password, not a default: {password:?}"
    );
    assert!(first.banner.iter().any(|l| l.contains("user:     admin")));
    assert!(first.stop().success());

    let second = serve(&data);
    assert_eq!(password_lines(&second.banner), 0, "{:#?}", second.banner);
    assert!(!second.banner.concat().contains(&password));
    assert!(second.stop().success());
}

#[test]
fn healthz_answers_and_the_ca_key_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path());
    assert_eq!(server.get("/healthz"), (200, "ok\n".to_owned()));
    assert_eq!(server.get("/no-such-page").0, 404);

    let mode = |p: &str| {
        std::fs::metadata(dir.path().join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("ca/ca.key"), 0o600);
    assert_eq!(mode("ca"), 0o700);
    let fingerprint = server
        .banner
        .iter()
        .find_map(|l| l.strip_prefix("corral: CA fingerprint (agents pin it): "))
        .unwrap();
    assert_eq!(fingerprint.len(), 64);
    assert!(
        dir.path().join("corral.db").exists(),
        "SQLite in the data directory by default"
    );
    assert!(server.stop().success());
}

#[test]
fn a_ca_key_others_can_read_refuses_to_start_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    serve(dir.path()).stop();
    let key = dir.path().join("ca/ca.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();

    let out = run(&[
        "serve",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{} is readable by other users (mode 644)",
            key.display()
        )),
        "{err}"
    );
    assert!(err.contains("chmod 600"), "{err}");
}
