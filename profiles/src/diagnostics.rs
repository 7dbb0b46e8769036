//! Diagnostics: what is wrong with a profile, where (file:line:col), and a hint.
//!
//! Validation never stops at the first problem: every stage pushes [`Diag`]s into a
//! [`Sink`], and the caller gets all of them at once, sorted by position, as public
//! [`Diagnostic`]s with line and column resolved. Rendering lives in `render.rs`.

use serde::Serialize;

/// A profile file as the caller read it. The crate never reads files itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    /// The name shown in diagnostics, usually the path as given on the command line.
    pub name: String,
    /// The file's text.
    pub text: String,
}

impl SourceFile {
    /// A source file from a name and its text.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        SourceFile {
            name: name.into(),
            text: text.into(),
        }
    }
}

/// How bad a diagnostic is. Only errors make a profile invalid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The profile cannot be used.
    Error,
    /// Probably a mistake; the profile is still valid.
    Warning,
    /// Something the author should know (e.g. a setting that waits for the admin app).
    Note,
}

/// What kind of problem a diagnostic reports; stable strings for the JSON API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// The file is not valid TOML.
    Syntax,
    /// The file could not be read (only produced by callers that read files).
    UnreadableFile,
    /// A key the schema does not have.
    UnknownKey,
    /// A value of the wrong TOML type.
    WrongType,
    /// A value of the right type but not an allowed one.
    InvalidValue,
    /// A malformed Android package name.
    InvalidPackage,
    /// A malformed permission name.
    InvalidPermission,
    /// A phone number that cannot be normalised to E.164.
    InvalidPhone,
    /// The same thing listed twice.
    Duplicate,
    /// A required key is absent.
    Missing,
    /// `extends` names a profile that is not among the inputs.
    UnknownParent,
    /// Profiles extend each other in a circle.
    InheritanceCycle,
    /// Two files declare the same profile name.
    DuplicateProfile,
    /// A contact group the contact book does not have.
    UnknownGroup,
    /// A setting only the profile-owner admin component can enforce.
    NeedsProfileOwner,
    /// Something said twice or that has no effect.
    Redundant,
    /// Two settings that contradict each other.
    Conflict,
}

impl Code {
    /// The kebab-case name used in JSON and in `error[...]` headers.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Syntax => "syntax",
            Code::UnreadableFile => "unreadable-file",
            Code::UnknownKey => "unknown-key",
            Code::WrongType => "wrong-type",
            Code::InvalidValue => "invalid-value",
            Code::InvalidPackage => "invalid-package",
            Code::InvalidPermission => "invalid-permission",
            Code::InvalidPhone => "invalid-phone",
            Code::Duplicate => "duplicate",
            Code::Missing => "missing",
            Code::UnknownParent => "unknown-parent",
            Code::InheritanceCycle => "inheritance-cycle",
            Code::DuplicateProfile => "duplicate-profile",
            Code::UnknownGroup => "unknown-group",
            Code::NeedsProfileOwner => "needs-profile-owner",
            Code::Redundant => "redundant",
            Code::Conflict => "conflict",
        }
    }
}

/// A position in one source file: a byte range plus the 1-based line and column (in
/// characters) of its start.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Position {
    /// The file's name as given in [`SourceFile::name`].
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub column: u32,
    /// Byte offset of the start.
    pub start: usize,
    /// Byte offset just past the end.
    pub end: usize,
}

/// A second place that explains the first ("first listed here").
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Related {
    /// Where.
    #[serde(flatten)]
    pub position: Position,
    /// What is there.
    pub message: String,
}

/// One problem found in a profile.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Diagnostic {
    /// Where the problem is.
    #[serde(flatten)]
    pub position: Position,
    /// How bad it is.
    pub severity: Severity,
    /// Its kind.
    pub code: Code,
    /// What is wrong, in one line.
    pub message: String,
    /// A short text shown under the highlighted span.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Other places involved.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Related>,
}

impl Diagnostic {
    /// A diagnostic about a whole file that could not be read; for callers that do I/O.
    pub fn unreadable(file: &str, reason: &str) -> Diagnostic {
        Diagnostic {
            position: Position {
                file: file.to_owned(),
                line: 1,
                column: 1,
                start: 0,
                end: 0,
            },
            severity: Severity::Error,
            code: Code::UnreadableFile,
            message: format!("cannot read `{file}`: {reason}"),
            label: None,
            hint: None,
            related: Vec::new(),
        }
    }

    /// Whether this diagnostic makes the profile invalid.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A byte range in one of the inputs, by index into the caller's file list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub(crate) struct Loc {
    pub file: u32,
    pub start: u32,
    pub end: u32,
}

impl Loc {
    pub(crate) fn new(file: usize, span: std::ops::Range<usize>) -> Loc {
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Loc {
            file: clamp(file),
            start: clamp(span.start),
            end: clamp(span.end.max(span.start)),
        }
    }
}

/// A diagnostic before line and column are known.
#[derive(Clone, Debug)]
pub(crate) struct Diag {
    pub severity: Severity,
    pub code: Code,
    pub loc: Loc,
    pub message: String,
    pub label: Option<String>,
    pub hint: Option<String>,
    pub related: Vec<(Loc, String)>,
}

impl Diag {
    pub(crate) fn error(code: Code, loc: Loc, message: impl Into<String>) -> Diag {
        Diag {
            severity: Severity::Error,
            code,
            loc,
            message: message.into(),
            label: None,
            hint: None,
            related: Vec::new(),
        }
    }

    pub(crate) fn warning(code: Code, loc: Loc, message: impl Into<String>) -> Diag {
        Diag {
            severity: Severity::Warning,
            ..Diag::error(code, loc, message)
        }
    }

    pub(crate) fn note(code: Code, loc: Loc, message: impl Into<String>) -> Diag {
        Diag {
            severity: Severity::Note,
            ..Diag::error(code, loc, message)
        }
    }

    pub(crate) fn label(mut self, label: impl Into<String>) -> Diag {
        self.label = Some(label.into());
        self
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Diag {
        self.hint = Some(hint.into());
        self
    }

    pub(crate) fn hint_opt(mut self, hint: Option<String>) -> Diag {
        self.hint = hint;
        self
    }

    pub(crate) fn related(mut self, loc: Loc, message: impl Into<String>) -> Diag {
        self.related.push((loc, message.into()));
        self
    }
}

/// Where diagnostics accumulate.
pub(crate) type Sink = Vec<Diag>;

/// Turns positions into file:line:col, removes exact repeats (a parent's problem seen
/// again through each child) and sorts by file order, then position.
pub(crate) fn finish(diags: Vec<Diag>, files: &[SourceFile]) -> Vec<Diagnostic> {
    let mut sorted = diags;
    sorted.sort_by(|a, b| {
        (a.loc, a.severity, a.code, &a.message).cmp(&(b.loc, b.severity, b.code, &b.message))
    });
    sorted.dedup_by(|a, b| {
        a.loc == b.loc && a.code == b.code && a.message == b.message && a.severity == b.severity
    });
    sorted
        .into_iter()
        .map(|d| Diagnostic {
            position: position(d.loc, files),
            severity: d.severity,
            code: d.code,
            message: d.message,
            label: d.label,
            hint: d.hint,
            related: d
                .related
                .into_iter()
                .map(|(loc, message)| Related {
                    position: position(loc, files),
                    message,
                })
                .collect(),
        })
        .collect()
}

pub(crate) fn position(loc: Loc, files: &[SourceFile]) -> Position {
    let Some(file) = files.get(loc.file as usize) else {
        return Position {
            file: String::new(),
            line: 1,
            column: 1,
            start: 0,
            end: 0,
        };
    };
    let text = &file.text;
    let start = floor_char_boundary(text, loc.start as usize);
    let end = floor_char_boundary(text, (loc.end as usize).max(start));
    let before = &text[..start];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..start].chars().count() + 1;
    let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    Position {
        file: file.name.clone(),
        line: clamp(line),
        column: clamp(column),
        start,
        end,
    }
}

/// The largest char boundary at or below `i`, clamped to the text.
pub(crate) fn floor_char_boundary(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}
