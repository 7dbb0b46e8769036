//! Diagnostics for people (rustc-style, through `annotate-snippets`) and for programs
//! (JSON for the controller's API).

use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};

use crate::diagnostics::{Diagnostic, Severity, SourceFile};

/// Whether to colour the output (for a terminal) or not (files, tests, pipes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// No escape codes.
    Plain,
    /// ANSI colours, as rustc uses them.
    Color,
}

/// Renders diagnostics the way rustc does, with the offending source lines. `files` are
/// the sources the diagnostics refer to (by name); a diagnostic whose file is not among
/// them is rendered without source lines.
pub fn render(diagnostics: &[Diagnostic], files: &[SourceFile], style: Style) -> String {
    let renderer = match style {
        Style::Plain => Renderer::plain(),
        Style::Color => Renderer::styled(),
    };
    let mut out = String::new();
    for d in diagnostics {
        let level = match d.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
            Severity::Note => Level::NOTE,
        };
        let source = files.iter().find(|f| f.name == d.position.file);
        let mut group: Group<'_> = match source {
            Some(f) => {
                let mut snippet = Snippet::source(f.text.as_str())
                    .path(f.name.as_str())
                    .annotation(
                        AnnotationKind::Primary
                            .span(span(&f.text, d.position.start, d.position.end))
                            .label(d.label.as_deref()),
                    );
                for r in d.related.iter().filter(|r| r.position.file == f.name) {
                    snippet = snippet.annotation(
                        AnnotationKind::Context
                            .span(span(&f.text, r.position.start, r.position.end))
                            .label(r.message.as_str()),
                    );
                }
                level
                    .primary_title(d.message.as_str())
                    .id(d.code.as_str())
                    .element(snippet)
            }
            None => level
                .primary_title(d.message.as_str())
                .id(d.code.as_str())
                .element(
                    Origin::path(d.position.file.as_str())
                        .line(d.position.line as usize)
                        .char_column(d.position.column as usize),
                ),
        };
        for r in d
            .related
            .iter()
            .filter(|r| source.is_none_or(|f| f.name != r.position.file))
        {
            group = match files.iter().find(|f| f.name == r.position.file) {
                Some(f) => group.element(
                    Snippet::source(f.text.as_str())
                        .path(f.name.as_str())
                        .annotation(
                            AnnotationKind::Context
                                .span(span(&f.text, r.position.start, r.position.end))
                                .label(r.message.as_str()),
                        ),
                ),
                None => group.element(Level::NOTE.message(format!(
                    "{}: {}:{}:{}",
                    r.message, r.position.file, r.position.line, r.position.column
                ))),
            };
        }
        if let Some(h) = &d.hint {
            group = group.element(Level::HELP.message(h.as_str()));
        }
        out.push_str(&renderer.render(&[group]));
        out.push_str("\n\n");
    }
    out
}

/// A span that is inside `text` and on character boundaries.
fn span(text: &str, start: usize, end: usize) -> std::ops::Range<usize> {
    let start = crate::diagnostics::floor_char_boundary(text, start);
    let end = crate::diagnostics::floor_char_boundary(text, end.max(start));
    start..end
}

/// One line per diagnostic, `file:line:col: severity[code]: message`, for logs and for
/// the short form of the CLI.
pub fn render_short(diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let sev = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        };
        out.push_str(&format!(
            "{}:{}:{}: {sev}[{}]: {}\n",
            d.position.file,
            d.position.line,
            d.position.column,
            d.code.as_str(),
            d.message
        ));
    }
    out
}

/// The diagnostics as a pretty-printed JSON array (the API's format).
pub fn to_json(diagnostics: &[Diagnostic]) -> String {
    serde_json::to_string_pretty(diagnostics).unwrap_or_else(|_| "[]".to_owned())
}
