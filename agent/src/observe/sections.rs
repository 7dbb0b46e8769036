//! Many commands in one shell round trip: each command is framed by a section line and a
//! status line, and the output is split back into one (text, exit status) per section.
//!
//! ```text
//! echo '__CORRAL_SECTION_<nonce>__ users'; pm list users; __corral_s=$?; echo; echo "__CORRAL_STATUS_<nonce>__ $__corral_s"
//! ```
//!
//! The `echo` before the status line ends a last line that has no newline; the splitter
//! removes it again, so each section's text is what the command printed, byte for byte.
//! Anything outside a section, a section without a status, or a name twice is an error.
//!
//! The markers carry a random nonce per script (`__CORRAL_SECTION_5f3a…__`): a contact
//! name or an app label that imitates a marker cannot guess it, so output the phone's
//! users control cannot forge a section boundary. Pure; no I/O.

use std::collections::BTreeMap;

use super::error::ParseError;

fn markers(nonce: u64) -> (String, String) {
    (
        format!("__CORRAL_SECTION_{nonce:016x}__ "),
        format!("__CORRAL_STATUS_{nonce:016x}__ "),
    )
}

/// One command of a batched observation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// A name without spaces, unique in the script.
    pub name: String,
    /// The shell command.
    pub command: String,
}

impl Section {
    /// A section named `name` running `command`.
    pub fn new(name: impl Into<String>, command: impl Into<String>) -> Self {
        Section {
            name: name.into(),
            command: command.into(),
        }
    }
}

/// What one section's command printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionOutput {
    /// The command line, for error messages.
    pub command: String,
    /// Its output (stdout and stderr merged).
    pub text: String,
    /// Its exit status.
    pub exit: u8,
}

/// The script that runs every section in order, with markers made from `nonce`.
pub fn script(sections: &[Section], nonce: u64) -> String {
    let (section, status) = markers(nonce);
    sections
        .iter()
        .map(|s| {
            format!(
                "echo '{section}{}'; {}; __corral_s=$?; echo; echo \"{status}$__corral_s\"",
                s.name, s.command
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Splits the script's output into sections, checking that exactly `sections` ran.
pub fn split(
    sections: &[Section],
    nonce: u64,
    output: &str,
) -> Result<BTreeMap<String, SectionOutput>, ParseError> {
    const WHAT: &str = "observation script";
    let (section, status_marker) = markers(nonce);
    let mut out = BTreeMap::new();
    let mut rest = output;
    let mut line_no = 1;
    for s in sections {
        let header = format!("{section}{}\n", s.name);
        let Some(body) = rest.strip_prefix(&header) else {
            let line = rest.lines().next().unwrap_or("");
            return Err(ParseError::at(
                WHAT,
                line_no,
                line,
                format!("expected the start of section `{}`", s.name),
            ));
        };
        line_no += 1;
        // The status line is the first one starting with the status prefix after a newline.
        let needle = format!("\n{status_marker}");
        let at = if body.starts_with(&status_marker) {
            None
        } else {
            body.find(&needle)
        };
        let Some(at) = at else {
            return Err(ParseError::at(
                WHAT,
                line_no,
                body.lines().next().unwrap_or(""),
                format!("section `{}` has no status line", s.name),
            ));
        };
        let text = &body[..at];
        let after = &body[at + needle.len()..];
        let (status, remaining) = after.split_once('\n').unwrap_or((after, ""));
        let exit: u8 = status.trim_end_matches('\r').parse().map_err(|_| {
            ParseError::at(WHAT, line_no, status, format!("bad status of `{}`", s.name))
        })?;
        line_no += text.matches('\n').count() + 2;
        if out
            .insert(
                s.name.clone(),
                SectionOutput {
                    command: s.command.clone(),
                    text: text.to_owned(),
                    exit,
                },
            )
            .is_some()
        {
            return Err(ParseError::whole(
                WHAT,
                "",
                format!("section `{}` twice", s.name),
            ));
        }
        rest = remaining;
    }
    if !rest.is_empty() {
        return Err(ParseError::at(
            WHAT,
            line_no,
            rest.lines().next().unwrap_or(""),
            "output after the last section",
        ));
    }
    Ok(out)
}

impl SectionOutput {
    /// The text if the command exited with 0, else an error naming the status.
    pub fn ok(&self) -> Result<&str, ParseError> {
        if self.exit == 0 {
            Ok(&self.text)
        } else {
            Err(ParseError::at(
                &self.command,
                1,
                self.text.lines().next().unwrap_or(""),
                format!("exit status {}", self.exit),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn two() -> Vec<Section> {
        vec![
            Section::new("a", "echo one"),
            Section::new("b", "printf two"),
        ]
    }

    #[test]
    fn splits_and_restores_the_exact_text() {
        let raw = "__CORRAL_SECTION_0000000000000007__ a\none\n\n__CORRAL_STATUS_0000000000000007__ 0\n__CORRAL_SECTION_0000000000000007__ b\ntwo\n__CORRAL_STATUS_0000000000000007__ 3\n";
        let got = split(&two(), 7, raw).unwrap();
        assert_eq!(got["a"].text, "one\n");
        assert_eq!(got["a"].exit, 0);
        assert_eq!(got["b"].text, "two");
        assert_eq!(got["b"].exit, 3);
        assert!(got["b"].ok().is_err());
    }

    #[test]
    fn empty_output_is_an_empty_section() {
        let raw = "__CORRAL_SECTION_0000000000000007__ a\n\n__CORRAL_STATUS_0000000000000007__ 0\n__CORRAL_SECTION_0000000000000007__ b\n\n__CORRAL_STATUS_0000000000000007__ 0\n";
        let got = split(&two(), 7, raw).unwrap();
        assert_eq!(got["a"].text, "");
        assert_eq!(got["b"].text, "");
    }

    #[test]
    fn missing_or_extra_sections_are_errors() {
        let raw =
            "__CORRAL_SECTION_0000000000000007__ a\none\n\n__CORRAL_STATUS_0000000000000007__ 0\n";
        let err = split(&two(), 7, raw).unwrap_err();
        assert!(err.reason.contains("section `b`"), "{err}");
        let raw = "junk\n__CORRAL_SECTION_0000000000000007__ a\n";
        assert!(split(&two(), 7, raw).is_err());
        let raw = "__CORRAL_SECTION_0000000000000007__ a\none\n\n__CORRAL_STATUS_0000000000000007__ 0\n__CORRAL_SECTION_0000000000000007__ b\n\n__CORRAL_STATUS_0000000000000007__ 0\nmore\n";
        assert!(split(&two(), 7, raw).is_err());
        let raw =
            "__CORRAL_SECTION_0000000000000007__ a\none\n\n__CORRAL_STATUS_0000000000000007__ x\n";
        assert!(split(&two(), 7, raw).is_err());
    }

    #[test]
    fn the_script_frames_each_command() {
        expect_test::expect![[r#"
            echo '__CORRAL_SECTION_0000000000000007__ a'; echo one; __corral_s=$?; echo; echo "__CORRAL_STATUS_0000000000000007__ $__corral_s"
            echo '__CORRAL_SECTION_0000000000000007__ b'; printf two; __corral_s=$?; echo; echo "__CORRAL_STATUS_0000000000000007__ $__corral_s""#]]
        .assert_eq(&script(&two(), 7));
    }
}
