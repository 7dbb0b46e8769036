//! Entry points for fuzzing the parser and validator (used by `profiles/fuzz` and by a
//! unit test that runs them over mutated inputs on every `cargo test`).
//!
//! Besides "never panic", each run checks the properties a valid profile must have: its
//! canonical TOML resolves again to the same version, and planning against an empty
//! phone and then against the planned result converges.

use crate::diagnostics::SourceFile;
use crate::render::{Style, render, to_json};
use crate::{AllowList, ContactDirectory, GroupName, ObservedPhone, plan, resolve, simulate};

/// Splits `data` into up to three profile files at `\0` bytes (so inheritance across
/// files is exercised), resolves them, renders the diagnostics both ways, and checks the
/// round-trip and fixpoint properties of every profile that resolved.
pub fn parse_and_validate(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let files: Vec<SourceFile> = text
        .splitn(3, '\0')
        .enumerate()
        .map(|(i, t)| SourceFile::new(format!("f{i}.toml"), t))
        .collect();
    let resolution = resolve(&files, Some(&EmptyBook));
    let _ = render(&resolution.diagnostics, &files, Style::Plain);
    let _ = to_json(&resolution.diagnostics);
    for profile in resolution.profiles.values() {
        let canonical = profile.canonical_toml();
        let again = resolve(
            &[SourceFile::new("canonical.toml", canonical.clone())],
            None,
        );
        let Some(reparsed) = again.profiles.values().next() else {
            panic!(
                "canonical form does not resolve:\n{canonical}\n{:?}",
                again.diagnostics
            );
        };
        assert_eq!(
            reparsed.version(),
            profile.version(),
            "canonical form changes the version:\n{canonical}"
        );
        let target = profile.for_device(None);
        let allow = AllowList::build(
            &target.settings.contacts.entries,
            &Default::default(),
            &EmptyBook,
        )
        .unwrap_or_default();
        let mut phone = ObservedPhone::new();
        let first = plan::plan(&target, &allow, &phone);
        simulate::apply_all(&mut phone, &first.actions);
        let second = plan::plan(&target, &allow, &phone);
        assert!(
            second.actions.is_empty(),
            "plan does not converge: {:?}",
            second.actions
        );
    }
}

struct EmptyBook;

impl ContactDirectory for EmptyBook {
    fn group(&self, _: &GroupName) -> Option<Vec<crate::DirectoryContact>> {
        Some(Vec::new())
    }

    fn group_names(&self) -> Vec<GroupName> {
        Vec::new()
    }
}
