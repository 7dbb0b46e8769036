//! `pm list packages [-s|-d] --user N` (one `package:<name>` per line) and
//! `pm query-activities --components --user N -a MAIN -c LAUNCHER` (one
//! `<package>/<activity>` per line, or `No activities found`).
//!
//! `pm list packages` prints nothing at all for an empty result; an unknown option or user
//! prints an error line (`Error: Unknown option: -x`, exit 255) which is not `package:…`.
//! `query-activities --components` prints `ComponentName.flattenToShortString()`
//! (`com.whatsapp/.Main` or `com.whatsapp/com.whatsapp.Main`).

use std::collections::BTreeSet;

use super::error::{ParseError, is_android_package, numbered};

/// The package names listed, in order; each must be a syntactically valid package.
pub fn parse_package_list(command: &str, text: &str) -> Result<Vec<String>, ParseError> {
    let mut out = Vec::new();
    for (n, line) in numbered(text) {
        let name = line
            .strip_prefix("package:")
            .ok_or_else(|| ParseError::at(command, n, line, "expected `package:<name>`"))?;
        if !is_android_package(name) {
            return Err(ParseError::at(command, n, line, "not a package name"));
        }
        out.push(name.to_owned());
    }
    Ok(out)
}

/// The packages that have an activity matching the query (for the launcher query: the
/// packages a person can open).
pub fn parse_activities(command: &str, text: &str) -> Result<BTreeSet<String>, ParseError> {
    let mut out = BTreeSet::new();
    for (n, line) in numbered(text) {
        if n == 1 && line == "No activities found" {
            if text.trim_end_matches('\n') != line {
                return Err(ParseError::at(
                    command,
                    n + 1,
                    "",
                    "output after `No activities found`",
                ));
            }
            return Ok(out);
        }
        let (package, activity) = line
            .split_once('/')
            .ok_or_else(|| ParseError::at(command, n, line, "expected `<package>/<activity>`"))?;
        let class = activity.strip_prefix('.').unwrap_or(activity);
        if !is_android_package(package) || !is_android_package(&class.replace('$', "_")) {
            return Err(ParseError::at(
                command,
                n,
                line,
                "expected `<package>/<activity>`",
            ));
        }
        out.insert(package.to_owned());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    #[track_caller]
    fn check_list(text: &str, expected: Expect) {
        let got = match parse_package_list("pm list packages --user 10", text) {
            Ok(p) => p.join(" "),
            Err(e) => format!("error: {e}"),
        };
        expected.assert_eq(&got);
    }

    #[track_caller]
    fn check_activities(text: &str, expected: Expect) {
        let got = match parse_activities("pm query-activities", text) {
            Ok(p) => p.into_iter().collect::<Vec<_>>().join(" "),
            Err(e) => format!("error: {e}"),
        };
        expected.assert_eq(&got);
    }

    #[test]
    fn package_lists() {
        check_list(
            "package:android\npackage:com.android.settings\npackage:com.whatsapp.w4b\n",
            expect!["android com.android.settings com.whatsapp.w4b"],
        );
        check_list("", expect![""]);
        check_list(
            "Error: Unknown option: -x\n",
            expect![[
                r#"error: unexpected output of `pm list packages --user 10` (line 1): expected `package:<name>`: "Error: Unknown option: -x""#
            ]],
        );
        check_list(
            "package:/data/app/x/base.apk=com.x\n",
            expect![[
                r#"error: unexpected output of `pm list packages --user 10` (line 1): not a package name: "package:/data/app/x/base.apk=com.x""#
            ]],
        );
        check_list(
            "\nException occurred while executing 'list':\n",
            expect![[
                r#"error: unexpected output of `pm list packages --user 10` (line 1): expected `package:<name>`: """#
            ]],
        );
    }

    #[test]
    fn launcher_activities() {
        check_activities(
            "com.android.settings/.Settings\ncom.whatsapp.w4b/com.whatsapp.Main\ncom.android.settings/.Other$Inner\n",
            expect!["com.android.settings com.whatsapp.w4b"],
        );
        check_activities("No activities found\n", expect![""]);
        check_activities(
            "1 activities found:\n  Activity #0:\n",
            expect![[
                r#"error: unexpected output of `pm query-activities` (line 1): expected `<package>/<activity>`: "1 activities found:""#
            ]],
        );
        check_activities(
            "Unknown command: query-activities\n",
            expect![[
                r#"error: unexpected output of `pm query-activities` (line 1): expected `<package>/<activity>`: "Unknown command: query-activities""#
            ]],
        );
    }
}
