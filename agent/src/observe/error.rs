//! The one error every parser returns: which command printed what, where, and why it was
//! not what Android prints. The agent reports it; it never guesses past it.

/// Output a parser did not expect. `line_no` is 1-based; 0 means the output as a whole
/// (e.g. a missing section or an exit status).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unexpected output of `{command}` (line {line_no}): {reason}: {line:?}")]
pub struct ParseError {
    /// The command whose output this is.
    pub command: String,
    /// 1-based line number, 0 for the whole output.
    pub line_no: usize,
    /// The offending line (truncated to 200 characters).
    pub line: String,
    /// What was expected instead.
    pub reason: String,
}

impl ParseError {
    /// An error about line `line_no` (1-based) of `command`'s output.
    pub fn at(command: &str, line_no: usize, line: &str, reason: impl Into<String>) -> Self {
        ParseError {
            command: command.to_owned(),
            line_no,
            line: line.chars().take(200).collect(),
            reason: reason.into(),
        }
    }

    /// An error about the output as a whole.
    pub fn whole(command: &str, output: &str, reason: impl Into<String>) -> Self {
        ParseError::at(command, 0, output, reason)
    }
}

/// The lines of `text` numbered from 1, without the final newline's empty line.
pub fn numbered(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.strip_suffix('\n')
        .unwrap_or(text)
        .split('\n')
        .enumerate()
        .filter(move |_| !text.is_empty())
        .map(|(i, l)| (i + 1, l))
}

/// Android's syntax for package names as `pm` prints them: `.`-separated parts, each a
/// letter followed by letters, digits and `_` (system packages may have one part, like
/// `android`).
pub fn is_android_package(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name.split('.').all(|part| {
            part.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_ignores_only_the_final_newline() {
        let got: Vec<_> = numbered("a\n\nb\n").collect();
        assert_eq!(got, vec![(1, "a"), (2, ""), (3, "b")]);
        assert_eq!(numbered("").count(), 0);
        assert_eq!(numbered("\n").collect::<Vec<_>>(), vec![(1, "")]);
    }

    #[test]
    fn package_syntax() {
        assert!(is_android_package("android"));
        assert!(is_android_package("com.whatsapp.w4b"));
        assert!(!is_android_package("com..x"));
        assert!(!is_android_package("1com.x"));
        assert!(!is_android_package("com.x y"));
        assert!(!is_android_package(""));
    }
}
