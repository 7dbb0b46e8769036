//! Inheritance and per-device overrides: from a set of files to resolved profiles, or all
//! the diagnostics that say why not.
//!
//! Merge rules (also in docs/profiles.md): a profile starts from its parent's merged
//! settings; tables merge key by key; every other value — arrays included — replaces the
//! parent's whole. `name`, `description` and `extends` are never inherited. Device
//! overrides are merged the same way on top of the profile's result, parent overrides
//! first.

use std::collections::BTreeMap;

use crate::contacts::ContactDirectory;
use crate::diagnostics::{Code, Diag, Diagnostic, Loc, Severity, Sink, SourceFile, finish};
use crate::model::ResolvedProfile;
use crate::names::{DeviceSerial, ProfileName, nearest};
use crate::parse::{ParsedFile, SECTIONS, parse_file};
use crate::read::Reader;
use crate::tree::{Table, merge};
use crate::validate::read_settings;

/// The outcome of resolving a set of files.
#[derive(Clone, Debug, Default)]
pub struct Resolution {
    /// The profiles that resolved without errors, by name.
    pub profiles: BTreeMap<ProfileName, ResolvedProfile>,
    /// Which profile each target file declares (when it declares a valid name).
    pub files: BTreeMap<String, ProfileName>,
    /// Every problem found, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Resolution {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The profile a target file declares, if it resolved.
    pub fn profile_of_file(&self, file: &str) -> Option<&ResolvedProfile> {
        self.files
            .get(file)
            .and_then(|name| self.profiles.get(name))
    }
}

/// The profiles could not all be resolved.
#[derive(Clone, Debug, thiserror::Error)]
pub enum ProfileError {
    /// The input has errors; show the diagnostics to the author.
    #[error("the profile has {} error(s)", .0.iter().filter(|d| d.is_error()).count())]
    Invalid(Vec<Diagnostic>),
    /// No input declares the requested profile.
    #[error("no profile named `{0}`")]
    NotFound(String),
}

/// Resolves every file as a profile. Equivalent to [`resolve_targets`] with all files as
/// targets.
pub fn resolve(files: &[SourceFile], directory: Option<&dyn ContactDirectory>) -> Resolution {
    let all: Vec<usize> = (0..files.len()).collect();
    resolve_targets(files, &all, directory)
}

/// Resolves the profiles declared by `targets` (indices into `files`); the other files
/// are only looked at as possible parents, and their problems are reported only when a
/// target inherits from them. With a `directory`, contact groups are checked against it;
/// without one they are left for later.
pub fn resolve_targets(
    files: &[SourceFile],
    targets: &[usize],
    directory: Option<&dyn ContactDirectory>,
) -> Resolution {
    let mut parse_sinks: Vec<Sink> = Vec::with_capacity(files.len());
    let mut parsed: Vec<ParsedFile> = Vec::with_capacity(files.len());
    for (i, f) in files.iter().enumerate() {
        let mut sink = Sink::new();
        parsed.push(parse_file(i, &f.text, &mut sink));
        parse_sinks.push(sink);
    }
    let mut by_name: BTreeMap<&ProfileName, Vec<usize>> = BTreeMap::new();
    for (i, p) in parsed.iter().enumerate() {
        if let Some(n) = &p.name {
            by_name.entry(&n.value).or_default().push(i);
        }
    }
    let mut out = Resolution::default();
    let mut all: Sink = Vec::new();
    let mut target_names: BTreeMap<&ProfileName, usize> = BTreeMap::new();
    for &t in targets.iter().filter(|&&t| t < files.len()) {
        let mut sink = Sink::new();
        let chain = chain(t, &parsed, &by_name, &mut sink);
        for &i in &chain {
            sink.extend(parse_sinks[i].iter().cloned());
        }
        let this = &parsed[t];
        if let Some(name) = &this.name {
            match target_names.get(&name.value) {
                Some(&first) if first != t => sink.push(
                    Diag::error(
                        Code::DuplicateProfile,
                        name.loc,
                        format!("another file also declares the profile `{}`", name.value),
                    )
                    .related(parsed[first].anchor, "declared here first")
                    .hint("profile names must be unique; rename one of them"),
                ),
                _ => {
                    target_names.insert(&name.value, t);
                }
            }
        }
        // When the chain is broken or a file is not valid TOML, "missing key" problems are
        // only consequences; leave them out.
        let broken = sink
            .iter()
            .any(|d| d.severity == Severity::Error && d.code != Code::Syntax)
            || chain
                .iter()
                .any(|&i| parse_sinks[i].iter().any(|d| d.code == Code::Syntax));
        let mut built = Sink::new();
        let resolved = build(t, &chain, &parsed, directory, &mut built);
        sink.extend(
            built
                .into_iter()
                .filter(|d| !(broken && d.code == Code::Missing)),
        );
        let ok = !sink.iter().any(|d| d.severity == Severity::Error);
        if let (Some(name), Some(profile), true) = (&this.name, resolved, ok) {
            out.profiles.insert(name.value.clone(), profile);
        }
        if let Some(name) = &this.name {
            out.files.insert(files[t].name.clone(), name.value.clone());
        }
        all.extend(sink);
    }
    out.diagnostics = finish(all, files);
    out
}

/// The file's ancestry, root first, ending with `t`. Problems (unknown parent, ambiguous
/// parent, cycles) are reported and cut the chain where they occur.
fn chain(
    t: usize,
    parsed: &[ParsedFile],
    by_name: &BTreeMap<&ProfileName, Vec<usize>>,
    sink: &mut Sink,
) -> Vec<usize> {
    let mut chain = vec![t];
    let mut current = t;
    while let Some(parent) = &parsed[current].extends {
        let candidates = by_name.get(&parent.value).map(Vec::as_slice).unwrap_or(&[]);
        let next = match candidates {
            [] => {
                let names = by_name.keys().map(|n| n.as_str());
                let hint = match nearest(parent.value.as_str(), names) {
                    Some(n) => format!("did you mean `{n}`?"),
                    None => "the parent must be one of the files given, or a `*.toml` file next to this one".to_owned(),
                };
                sink.push(
                    Diag::error(
                        Code::UnknownParent,
                        parent.loc,
                        format!("no profile named `{}` to extend", parent.value),
                    )
                    .label("unknown profile")
                    .hint(hint),
                );
                break;
            }
            [one] => *one,
            [first, second, ..] => {
                sink.push(
                    Diag::error(
                        Code::DuplicateProfile,
                        parent.loc,
                        format!("two files declare the profile `{}`", parent.value),
                    )
                    .related(parsed[*first].anchor, "declared here")
                    .related(parsed[*second].anchor, "and here")
                    .hint("profile names must be unique; rename one of them"),
                );
                break;
            }
        };
        if let Some(k) = chain.iter().position(|&i| i == next) {
            sink.push(cycle(&chain[k..], parsed));
            break;
        }
        chain.push(next);
        current = next;
    }
    chain.reverse();
    chain
}

/// One diagnostic per cycle, the same whichever member it was found from (so it is
/// reported once): it starts at the member whose name sorts first. Each member of
/// `members` extends the next; the last extends the first.
fn cycle(members: &[usize], parsed: &[ParsedFile]) -> Diag {
    let start = (0..members.len())
        .min_by_key(|&j| chain_name(parsed, members[j]))
        .unwrap_or(0);
    let order: Vec<usize> = (0..members.len())
        .map(|j| members[(start + j) % members.len()])
        .collect();
    let mut names: Vec<String> = order
        .iter()
        .map(|&i| format!("`{}`", chain_name(parsed, i)))
        .collect();
    names.push(names[0].clone());
    let label = |i: usize| match &parsed[i].extends {
        Some(e) => (
            e.loc,
            format!("`{}` extends `{}`", chain_name(parsed, i), e.value),
        ),
        None => (parsed[i].anchor, String::new()),
    };
    let (loc, first) = label(order[0]);
    let mut d = Diag::error(
        Code::InheritanceCycle,
        loc,
        format!(
            "profiles extend each other in a circle: {}",
            names.join(" → ")
        ),
    )
    .label(first)
    .hint("remove one `extends` so that the chain ends at a profile without a parent");
    for &i in &order[1..] {
        let (loc, text) = label(i);
        d = d.related(loc, text);
    }
    d
}

fn chain_name(parsed: &[ParsedFile], i: usize) -> String {
    parsed[i]
        .name
        .as_ref()
        .map_or_else(|| "this profile".to_owned(), |n| n.value.to_string())
}

fn build(
    t: usize,
    chain: &[usize],
    parsed: &[ParsedFile],
    directory: Option<&dyn ContactDirectory>,
    sink: &mut Sink,
) -> Option<ResolvedProfile> {
    let mut body = Table::default();
    let mut devices: BTreeMap<DeviceSerial, (Loc, Table)> = BTreeMap::new();
    for &i in chain {
        merge(&mut body, &parsed[i].body);
        for (serial, table) in &parsed[i].devices {
            let mut sections = Table::default();
            for s in SECTIONS {
                if let Some(e) = table.get(s) {
                    sections.entries.insert(s.to_owned(), e.clone());
                }
            }
            let slot = devices
                .entry(serial.value.clone())
                .or_insert_with(|| (serial.loc, Table::default()));
            merge(&mut slot.1, &sections);
        }
    }
    let this = &parsed[t];
    let root_loc = this.anchor;
    let mut reader = Reader::new(&body, root_loc, "");
    let settings = read_settings(&mut reader, root_loc, directory, sink);
    reader.allow(&SECTIONS);
    reader.finish(sink, &|_| None);
    let mut device_settings = BTreeMap::new();
    for (serial, (loc, over)) in devices {
        let mut merged = body.clone();
        merge(&mut merged, &over);
        let mut reader = Reader::new(&merged, loc, "");
        if let Some(s) = read_settings(&mut reader, loc, directory, sink) {
            device_settings.insert(serial, s);
        }
        reader.allow(&SECTIONS);
        reader.finish(sink, &|_| None);
    }
    let name = this.name.as_ref()?.value.clone();
    let parents = chain
        .iter()
        .rev()
        .skip(1)
        .filter_map(|&i| parsed[i].name.as_ref().map(|n| n.value.clone()))
        .collect();
    Some(ResolvedProfile {
        name,
        description: this.description.clone(),
        parents,
        settings: settings?,
        devices: device_settings,
    })
}
