//! Finding the binaries under test: `corral`, `corral-agent` and `corral-devsim`, built by
//! cargo next to this test executable (`target/debug/deps/<test>` → `target/debug/<bin>`).
//!
//! `CARGO_BIN_EXE_*` exists only for a test's own package, and these binaries belong to
//! three others. `cargo test --workspace` builds them all into the same target directory;
//! `cargo test -p corral-fleet-tests` alone does not, so a missing binary — or one older
//! than a source file of a crate it is built from — fails with the `cargo build` command to
//! run, instead of testing yesterday's code. Stale is decided from cargo's own dep-info
//! file next to the binary (`corral.d`), so it names exactly the sources cargo would.
//! Must never: build anything itself (a nested cargo with other features would rebuild the
//! workspace's dependencies back and forth).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::SystemTime;

/// The command that builds every binary the fleet tests run.
pub const BUILD_COMMAND: &str =
    "cargo build -p corral-controller -p corral-agent -p corral-devsim --bins";

/// One of the binaries under test.
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

    /// The binary's path; panics with [`BUILD_COMMAND`] when it is missing or stale.
    pub fn path(self) -> PathBuf {
        static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
        let dir = DIR
            .get_or_init(bin_dir)
            .clone()
            .unwrap_or_else(|e| panic!("{e}"));
        let path = dir.join(self.file_name());
        if let Err(e) = check_fresh(&path) {
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

/// Fresh means: built after every source file it was built from, as listed by the
/// dep-info file cargo writes next to it (`<bin>.d`: `<bin>: <source> <source> …`).
fn check_fresh(path: &Path) -> Result<(), String> {
    let built = modified(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let dep_info = path.with_extension("d");
    // Cargo does not always rewrite the uplifted dep-info of a binary it did not rebuild;
    // without one, existence is all that can be checked.
    let Ok(deps) = std::fs::read_to_string(&dep_info) else {
        return Ok(());
    };
    for source in sources(&deps) {
        // A source that is gone (a deleted module) shows up as a build error anyway.
        if let Ok(at) = modified(Path::new(&source))
            && at > built
        {
            return Err(format!("{} is older than {source}", path.display()));
        }
    }
    Ok(())
}

fn modified(path: &Path) -> std::io::Result<SystemTime> {
    std::fs::metadata(path)?.modified()
}

/// The prerequisites of a Makefile-style dep-info file: after the first `: `, separated
/// by spaces, a space inside a path escaped as `\ `.
fn sources(dep_info: &str) -> Vec<String> {
    let Some((_, rest)) = dep_info.lines().next().and_then(|l| l.split_once(": ")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => current.extend(chars.next()),
            ' ' => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::sources;

    #[test]
    fn dep_info_lists_the_sources() {
        assert_eq!(
            sources("/t/corral: /w/a.rs /w/my\\ dir/b.rs\n\n/w/a.rs:\n"),
            ["/w/a.rs", "/w/my dir/b.rs"]
        );
        assert!(sources("").is_empty());
    }
}
