//! Tidy: the invariants written in docs/ARCHITECTURE.md, checked as tests so a change that
//! breaks one fails `cargo test` (after rust-analyzer's `xtask/src/tidy.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Every Rust source file of the workspace's own crates (fuzz crates included, target
/// directories excluded).
fn rust_sources() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let root = workspace_root();
    for top in ["agent", "controller", "profiles", "tests", "wire"] {
        walk(&root.join(top), &mut out);
    }
    out.sort();
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if !["target", "corpus", "artifacts", "fixtures"].contains(&name.as_ref()) {
                walk(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

fn rel(path: &Path) -> String {
    path.strip_prefix(workspace_root())
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn every_module_says_what_it_owns() {
    let missing: Vec<String> = rust_sources()
        .into_iter()
        .filter(|p| {
            let text = fs::read_to_string(p).unwrap();
            !text
                .lines()
                .find(|l| !l.trim().is_empty())
                .is_some_and(|l| l.starts_with("//!"))
        })
        .map(|p| rel(&p))
        .collect();
    assert!(
        missing.is_empty(),
        "files without a leading `//!` module doc: {missing:#?}"
    );
}

#[test]
fn no_debugging_leftovers_or_skipped_tests() {
    // Built from pieces so this file does not trip its own check.
    let banned = [
        ["dbg", "!("].concat(),
        ["todo", "!("].concat(),
        ["unimplemented", "!("].concat(),
        ["#[", "ignore"].concat(),
        ["#[", "should_panic"].concat(),
    ];
    let mut hits = Vec::new();
    for path in rust_sources() {
        let text = fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            for b in &banned {
                if line.contains(b.as_str()) {
                    hits.push(format!("{}:{}: {}", rel(&path), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(hits.is_empty(), "banned constructs: {hits:#?}");
}

#[test]
fn crypto_uses_ring_only() {
    let lock = fs::read_to_string(workspace_root().join("Cargo.lock")).unwrap();
    for banned in [
        "name = \"aws-lc-rs\"",
        "name = \"aws-lc-sys\"",
        "name = \"openssl-sys\"",
    ] {
        assert!(
            !lock.contains(banned),
            "Cargo.lock contains {banned}: only ring is allowed"
        );
    }
}

#[test]
fn readme_test_command_is_what_ci_runs() {
    let ci = fs::read_to_string(workspace_root().join(".ci/run")).unwrap();
    let readme = fs::read_to_string(workspace_root().join("README.md")).unwrap();
    assert!(ci.contains("./test.sh"), ".ci/run must call ./test.sh");
    assert!(readme.contains("./test.sh"), "README must name ./test.sh");
    assert!(readme.contains("./demo.sh"), "README must name ./demo.sh");
}
