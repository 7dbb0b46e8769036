//! Tidy: the crate's written invariants, checked on every `cargo test`.
//!
//! **Architecture invariant:** corral-profiles does no I/O — no tokio, sqlx or HTTP client
//! among its dependencies and no `std::fs`/`std::net` in its sources. Every module starts
//! with a `//!` doc and stays a readable size. (Debugging leftovers and skipped tests
//! are checked for the whole workspace by `tests/tidy`.)

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn no_io_dependencies() {
    let manifest = std::fs::read_to_string(crate_dir().join("Cargo.toml")).unwrap();
    let deps = manifest
        .split("[dependencies]")
        .nth(1)
        .unwrap()
        .split("\n[")
        .next()
        .unwrap();
    for banned in ["tokio", "sqlx", "reqwest", "hyper", "axum", "async-std"] {
        assert!(
            !deps.contains(banned),
            "corral-profiles must not depend on {banned}"
        );
    }
}

#[test]
fn no_io_in_sources() {
    let mut files = Vec::new();
    sources(&crate_dir().join("src"), &mut files);
    assert!(files.len() > 10);
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for banned in [
            "std::fs",
            "std::net",
            "tokio",
            "sqlx",
            "reqwest",
            "std::process",
            "std::env",
        ] {
            assert!(
                !text.contains(banned),
                "{} uses {banned}; corral-profiles does no I/O",
                f.display()
            );
        }
    }
}

#[test]
fn every_module_is_documented_and_readable() {
    let mut files = Vec::new();
    sources(&crate_dir().join("src"), &mut files);
    sources(&crate_dir().join("tests"), &mut files);
    sources(&crate_dir().join("benches"), &mut files);
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(
            text.starts_with("//!"),
            "{} lacks a `//!` module doc",
            f.display()
        );
        let lines = text.lines().count();
        assert!(
            lines <= 400,
            "{} has {lines} lines; split it by idea",
            f.display()
        );
    }
}
