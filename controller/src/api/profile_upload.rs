//! What uploading a set of profile files means, as a pure function: which profiles the
//! files declare, which stored profiles extend them (and so must be re-resolved), and
//! the version and canonical TOML of each — or every diagnostic.
//!
//! A parent named in `extends` that is not among the uploaded files is taken from the
//! source stored by an earlier upload (shown in diagnostics as `stored:<file name>`).
//! Must never: do I/O; the caller loads the stored sources and publishes the result.

use std::collections::{BTreeSet, VecDeque};

use corral_profiles::{Diagnostic, SourceFile};
use serde::Deserialize;

use crate::domain::{ProfileName, VersionHash};
use crate::store::{ProfileSource, ProfileUpload};

/// How many files one request may carry.
pub const MAX_FILES: usize = 100;

/// One profile file in a request.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadFile {
    /// The name diagnostics refer to, e.g. `base.toml`.
    pub name: String,
    /// The file's TOML text.
    pub text: String,
}

/// The body of `POST /profiles` and `POST /profiles/validate`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadRequest {
    pub files: Vec<UploadFile>,
}

/// Why a request's file list is unusable before any TOML is read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileListError {
    #[error("`files` is empty; send at least one profile file")]
    Empty,
    #[error("`files` has {0} entries; at most {MAX_FILES} are allowed per request")]
    TooMany(usize),
    #[error("`files[{index}].name` {reason}")]
    BadName { index: usize, reason: &'static str },
    #[error(
        "`files[{index}].name` is `{name}`, like `files[{first}].name`; file names must be unique"
    )]
    Duplicate {
        index: usize,
        first: usize,
        name: String,
    },
}

/// A profile to publish and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub upload: ProfileUpload,
    /// False for a stored profile re-resolved because a parent changed.
    pub uploaded: bool,
}

/// The outcome: profiles to publish (parents first) when there are no errors, and every
/// diagnostic (warnings and notes too).
#[derive(Debug, Clone, Default)]
pub struct UploadPlan {
    pub profiles: Vec<Planned>,
    pub diagnostics: Vec<Diagnostic>,
}

impl UploadPlan {
    /// Whether any diagnostic is an error (then `profiles` is empty).
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Checks the file list itself: not empty, not too long, unique non-empty names.
pub fn check_files(files: &[UploadFile]) -> Result<(), FileListError> {
    if files.is_empty() {
        return Err(FileListError::Empty);
    }
    if files.len() > MAX_FILES {
        return Err(FileListError::TooMany(files.len()));
    }
    for (index, file) in files.iter().enumerate() {
        let reason = if file.name.trim().is_empty() {
            Some("is empty")
        } else if file.name.len() > 255 {
            Some("is longer than 255 bytes")
        } else if file.name.chars().any(char::is_control) {
            Some("contains control characters")
        } else if file.name.starts_with("stored:") {
            Some("must not start with `stored:` (that names stored sources in diagnostics)")
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(FileListError::BadName { index, reason });
        }
        if let Some(first) = files[..index].iter().position(|f| f.name == file.name) {
            return Err(FileListError::Duplicate {
                index,
                first,
                name: file.name.clone(),
            });
        }
    }
    Ok(())
}

fn stored_name(source: &ProfileSource) -> String {
    format!("stored:{}", source.file_name)
}

/// Resolves `files` against the `stored` sources. Stored profiles that extend an
/// uploaded one, directly or not, are re-resolved and planned too.
pub fn plan_upload(files: &[UploadFile], stored: &[ProfileSource]) -> UploadPlan {
    let uploaded: Vec<SourceFile> = files
        .iter()
        .map(|f| SourceFile::new(f.name.clone(), f.text.clone()))
        .collect();
    let all: Vec<usize> = (0..uploaded.len()).collect();
    // First pass, only for the names the files declare (valid or not).
    let declared: BTreeSet<String> = corral_profiles::resolve_targets(&uploaded, &all, None)
        .files
        .into_values()
        .map(|n| n.to_string())
        .collect();
    let children = descendants(&declared, stored);
    let mut input = uploaded;
    let mut targets = all;
    let mut sources: Vec<(String, bool)> = files.iter().map(|f| (f.text.clone(), true)).collect();
    for source in stored {
        if declared.contains(source.profile.as_str()) {
            continue;
        }
        if children.contains(source.profile.as_str()) {
            targets.push(input.len());
        }
        input.push(SourceFile::new(stored_name(source), source.source.clone()));
        sources.push((source.source.clone(), false));
    }
    let resolution = corral_profiles::resolve_targets(&input, &targets, None);
    let mut plan = UploadPlan {
        profiles: Vec::new(),
        diagnostics: resolution.diagnostics.clone(),
    };
    if plan.has_errors() {
        return plan;
    }
    let mut resolved = Vec::new();
    for &t in &targets {
        let file = &input[t];
        let Some(profile) = resolution.profile_of_file(&file.name) else {
            continue;
        };
        let (source, is_upload) = &sources[t];
        let file_name = match file.name.strip_prefix("stored:") {
            Some(original) if !is_upload => original.to_owned(),
            _ => file.name.clone(),
        };
        resolved.push((
            profile.parents.len(),
            profile,
            file_name,
            source,
            *is_upload,
        ));
    }
    // Parents before children: a profile's chain of parents is shorter than its child's.
    resolved.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));
    for (_, profile, file_name, source, uploaded) in resolved {
        let (Ok(name), Ok(version)) = (
            ProfileName::parse(profile.name.as_str()),
            VersionHash::parse(profile.version().as_str()),
        ) else {
            // The profiles crate's names and versions are stricter than ours; this
            // would be a bug, reported as an error diagnostic rather than a panic.
            plan.diagnostics.push(Diagnostic::unreadable(
                &file_name,
                "its profile name or version is not accepted by the controller",
            ));
            plan.profiles.clear();
            return plan;
        };
        plan.profiles.push(Planned {
            upload: ProfileUpload {
                profile: name,
                file_name,
                source: source.clone(),
                parent: profile
                    .parents
                    .first()
                    .and_then(|p| ProfileName::parse(p.as_str()).ok()),
                version,
                canonical_toml: profile.canonical_toml(),
            },
            uploaded,
        });
    }
    plan
}

/// Stored profiles that extend any of `roots`, directly or through others (not the roots).
fn descendants(roots: &BTreeSet<String>, stored: &[ProfileSource]) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut queue: VecDeque<&str> = roots.iter().map(String::as_str).collect();
    while let Some(parent) = queue.pop_front() {
        for source in stored {
            let child = source.profile.as_str();
            if source.parent.as_ref().is_some_and(|p| p.as_str() == parent)
                && !roots.contains(child)
                && found.insert(child.to_owned())
            {
                queue.push_back(child);
            }
        }
    }
    found
}
