//! `dumpsys account --checkin`: the account *types* and their counts per user — the
//! data-minimising form of the account dump ("*Only* upload the account types and the
//! count of each", AccountManagerService), so no account name ever reaches the agent.
//!
//! ```text
//! User UserInfo{0:null:4c13}:
//!   com.google,1
//!
//! User UserInfo{10:Shop:1030}:
//!
//! ```
//!
//! Each user's header is `User ` + `UserInfo.toString()` + `:`; its rows are
//! `<type>,<count>` indented by two spaces (`IndentingPrintWriter`); a blank line ends it.

use std::collections::{BTreeMap, BTreeSet};

use super::error::{ParseError, numbered};

const COMMAND: &str = "dumpsys account --checkin";

/// The account types of every user, by user id.
pub fn parse_account_types(text: &str) -> Result<BTreeMap<u32, BTreeSet<String>>, ParseError> {
    let mut out: BTreeMap<u32, BTreeSet<String>> = BTreeMap::new();
    let mut current: Option<u32> = None;
    for (n, line) in numbered(text) {
        if line.trim().is_empty() {
            current = None;
            continue;
        }
        if let Some(rest) = line.strip_prefix("User UserInfo{") {
            let id = rest
                .split_once(':')
                .and_then(|(id, _)| id.parse::<u32>().ok())
                .filter(|_| rest.ends_with("}:"))
                .ok_or_else(|| {
                    ParseError::at(COMMAND, n, line, "expected `User UserInfo{id:name:flags}:`")
                })?;
            if out.insert(id, BTreeSet::new()).is_some() {
                return Err(ParseError::at(COMMAND, n, line, "user listed twice"));
            }
            current = Some(id);
            continue;
        }
        let Some(user) = current else {
            return Err(ParseError::at(
                COMMAND,
                n,
                line,
                "expected `User UserInfo{…}:`",
            ));
        };
        let row = line
            .strip_prefix("  ")
            .ok_or_else(|| ParseError::at(COMMAND, n, line, "expected `  <type>,<count>`"))?;
        let (kind, count) = row
            .rsplit_once(',')
            .ok_or_else(|| ParseError::at(COMMAND, n, line, "expected `  <type>,<count>`"))?;
        let count_ok = !count.is_empty() && count.bytes().all(|b| b.is_ascii_digit());
        if kind.is_empty() || !count_ok || kind.chars().any(char::is_whitespace) {
            return Err(ParseError::at(
                COMMAND,
                n,
                line,
                "expected `  <type>,<count>`",
            ));
        }
        if count != "0"
            && let Some(types) = out.get_mut(&user)
        {
            types.insert(kind.to_owned());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    #[track_caller]
    fn check(text: &str, expected: Expect) {
        let got = match parse_account_types(text) {
            Ok(m) => format!("{m:?}"),
            Err(e) => format!("error: {e}"),
        };
        expected.assert_eq(&got);
    }

    #[test]
    fn checkin_dumps() {
        check(
            "User UserInfo{0:null:4c13}:\n  com.google,1\n  com.whatsapp,1\n\nUser UserInfo{10:Shop:1030}:\n\n",
            expect![[r#"{0: {"com.google", "com.whatsapp"}, 10: {}}"#]],
        );
        check(
            "User UserInfo{0:Owner:c13}:\n\nUser UserInfo{10:Work profile:1030}:\n  com.whatsapp.w4b,1\n  com.google,2\n\n",
            expect![[r#"{0: {}, 10: {"com.google", "com.whatsapp.w4b"}}"#]],
        );
        check("", expect!["{}"]);
    }

    #[test]
    fn anything_else_is_an_error() {
        // The full dump (without --checkin) carries account names: refused.
        check(
            "User UserInfo{0:null:4c13}:\n  Accounts: 1\n    Account {name=a@b.c, type=com.google}\n",
            expect![[
                r#"error: unexpected output of `dumpsys account --checkin` (line 2): expected `  <type>,<count>`: "  Accounts: 1""#
            ]],
        );
        check(
            "Can't find service: account\n",
            expect![[
                r#"error: unexpected output of `dumpsys account --checkin` (line 1): expected `User UserInfo{…}:`: "Can't find service: account""#
            ]],
        );
        check(
            "User UserInfo{x:a:1}:\n",
            expect![[
                r#"error: unexpected output of `dumpsys account --checkin` (line 1): expected `User UserInfo{id:name:flags}:`: "User UserInfo{x:a:1}:""#
            ]],
        );
    }
}
