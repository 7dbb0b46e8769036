//! The exit marker: how a script's exit status survives a channel that loses it.
//!
//! adb_client's `shell_command` on the direct TCP path opens a `shell:` v1 stream, which
//! carries stdout and stderr merged and no exit status. So every script is sent as
//!
//! ```text
//! ( SCRIPT
//! ) 2>&1; __corral_rc=$?; echo; echo "__CORRAL_EXIT__$__corral_rc"
//! ```
//!
//! — the script in a subshell (its variables and `exit` stay inside), stderr joined to
//! stdout *inside* the shell (so the marker is written after every byte of the script's
//! output, whatever order a transport would put two streams in), then an empty line and the
//! marker with the status. [`unwrap`] takes the **last** marker, which must end the output,
//! and removes the newline `echo` added before it; the script's own output is returned
//! byte for byte. No marker (a dropped connection) is an error, never a guess.
//!
//! The newline before `)` keeps a trailing comment in the script from swallowing the
//! parenthesis. Pure functions; no I/O.

use super::{ShellError, ShellOutput};

/// The marker's prefix; the exit status follows it.
pub const EXIT_MARKER: &str = "__CORRAL_EXIT__";

/// The script as sent: merged output, then the exit marker.
pub fn wrap(script: &str) -> String {
    format!("( {script}\n) 2>&1; __corral_rc=$?; echo; echo \"{EXIT_MARKER}$__corral_rc\"")
}

/// Splits what a wrapped script printed into its output and exit status.
pub fn unwrap(raw: &[u8]) -> Result<ShellOutput, ShellError> {
    let text = String::from_utf8_lossy(raw);
    let needle = format!("\n{EXIT_MARKER}");
    let at = text.rfind(&needle).ok_or(ShellError::NoExitStatus)?;
    let tail = &text[at + needle.len()..];
    // `echo` ends the marker line with `\n`; a `\r\n` from a PTY is tolerated.
    let digits = tail
        .strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .ok_or(ShellError::NoExitStatus)?;
    if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ShellError::NoExitStatus);
    }
    let exit: u8 = digits.parse().map_err(|_| ShellError::NoExitStatus)?;
    Ok(ShellOutput {
        output: text[..at].to_owned(),
        exit,
    })
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    #[track_caller]
    fn check(raw: &str, expected: Expect) {
        let got = match unwrap(raw.as_bytes()) {
            Ok(out) => format!("exit={} output={:?}", out.exit, out.output),
            Err(e) => format!("error: {e}"),
        };
        expected.assert_eq(&got);
    }

    #[test]
    fn output_is_returned_byte_for_byte() {
        check(
            "Users:\n\tUserInfo{0:Owner:c13} running\n\n__CORRAL_EXIT__0\n",
            expect![[r#"exit=0 output="Users:\n\tUserInfo{0:Owner:c13} running\n""#]],
        );
        check("\n__CORRAL_EXIT__0\n", expect![[r#"exit=0 output="""#]]);
        check(
            "no newline\n__CORRAL_EXIT__255\n",
            expect![[r#"exit=255 output="no newline""#]],
        );
        check(
            "x\r\n__CORRAL_EXIT__1\r\n",
            expect![[r#"exit=1 output="x\r""#]],
        );
    }

    #[test]
    fn the_last_marker_counts() {
        check(
            "echo __CORRAL_EXIT__7\n__CORRAL_EXIT__7\n\n__CORRAL_EXIT__0\n",
            expect![[r#"exit=0 output="echo __CORRAL_EXIT__7\n__CORRAL_EXIT__7\n""#]],
        );
    }

    #[test]
    fn a_cut_short_output_is_an_error() {
        check(
            "Users:\n",
            expect!["error: the shell output has no exit status (the script was cut short)"],
        );
        check(
            "x\n__CORRAL_EXIT__",
            expect!["error: the shell output has no exit status (the script was cut short)"],
        );
        check(
            "x\n__CORRAL_EXIT__12",
            expect!["error: the shell output has no exit status (the script was cut short)"],
        );
        check(
            "x\n__CORRAL_EXIT__256\n",
            expect!["error: the shell output has no exit status (the script was cut short)"],
        );
        check(
            "x\n__CORRAL_EXIT__0\ntrailing\n",
            expect!["error: the shell output has no exit status (the script was cut short)"],
        );
    }

    #[test]
    fn wrapping_keeps_the_script_intact() {
        expect![[r#"
            ( pm list users # comment
            ) 2>&1; __corral_rc=$?; echo; echo "__CORRAL_EXIT__$__corral_rc""#]]
        .assert_eq(&wrap("pm list users # comment"));
    }
}
