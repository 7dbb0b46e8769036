//! Finding the binaries under test: `corral`, `corral-agent` and `corral-devsim`, built by
//! cargo next to this test executable (`target/debug/deps/<test>` → `target/debug/<bin>`).
//!
//! `CARGO_BIN_EXE_*` exists only for a test's own package, and these binaries belong to
//! three others. `cargo test --workspace` builds them all into the same target directory;
//! `cargo test -p corral-fleet-tests` alone does not, so a missing binary — or one older
//! than a source file of a crate it is built from — fails with the `cargo build` command to
//! run, instead of testing yesterday's code.
//! Must never: build anything itself (a nested cargo with other features would rebuild the
//! workspace's dependencies back and forth).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::SystemTime;

/// The command that builds every binary the fleet tests run.
pub const BUILD_COMMAND: &str =
    "cargo build -p corral-controller -p corral-agent -p corral-devsim --bins";

/// One of the binaries, and the workspace crates it is built from (its staleness sources).
#[derive(Debug, Clone, Copy)]
pub enum Binary {
    Corral,
    Agent,
    Devsim,
}

impl Binary {
    fn file_name(self) -> &'static str {
        match self {
            Binary::Corral => "corral",
            Binary::Agent => "corral-agent",
            Binary::Devsim => "corral-devsim",
        }
    }

    fn sources(self) -> &'static [&'static str] {
        match self {
            Binary::Corral => &["controller", "wire", "profiles", "tests/devsim"],
            Binary::Agent => &["agent", "wire", "profiles"],
            Binary::Devsim => &["tests/devsim"],
        }
    }

    /// The binary's path; panics with [`BUILD_COMMAND`] when it is missing or stale.
    pub fn path(self) -> PathBuf {
        static CHECKED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
        let dir = CHECKED.get_or_init(bin_dir).clone().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.join(self.file_name());
        if let Err(e) = check_fresh(self, &path) {
            panic!("{e}\nBuild the binaries first: {BUILD_COMMAND}");
        }
        path
    }
}

/// `target/<profile>/`: the test executable lives in its `deps/`.
fn bin_dir() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_owned)
        .ok_or_else(|| format!("{} has no grandparent directory", exe.display()))
}

fn check_fresh(binary: Binary, path: &Path) -> Result<(), String> {
    let built = modified(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for krate in binary.sources() {
        if let Some((newest, file)) = newest_source(&root.join(krate).join("src"))
            && newest > built
        {
            return Err(format!(
                "{} is older than {}",
                path.display(),
                file.display()
            ));
        }
    }
    Ok(())
}

fn modified(path: &Path) -> std::io::Result<SystemTime> {
    std::fs::metadata(path)?.modified()
}

/// The most recently modified `.rs` file under `dir`.
fn newest_source(dir: &Path) -> Option<(SystemTime, PathBuf)> {
    let mut newest: Option<(SystemTime, PathBuf)> = None;
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs")
                && let Ok(at) = modified(&path)
                && newest.as_ref().is_none_or(|(n, _)| at > *n)
            {
                newest = Some((at, path));
            }
        }
    }
    newest
}
