//! `pm list users` (Android's `cmd user list`): `Users:`, then one
//! `\tUserInfo{<id>:<name>:<hex flags>}` per user, ` running` appended when it runs.
//!
//! `UserInfo.toString()` must not change because TestDevice parses it (AOSP comment), so
//! this format holds from Android 7 to 16. Names may contain `:` and `}`: the id is before
//! the first `:`, the flags after the last one.

use corral_profiles::{ObservedUser, UserId};

use super::error::{ParseError, numbered};

const COMMAND: &str = "pm list users";

/// The users, in the order printed.
pub fn parse_users(text: &str) -> Result<Vec<ObservedUser>, ParseError> {
    let mut users = Vec::new();
    for (n, line) in numbered(text) {
        if n == 1 {
            if line != "Users:" {
                return Err(ParseError::at(COMMAND, n, line, "expected `Users:`"));
            }
            continue;
        }
        users.push(parse_user_line(n, line)?);
    }
    if users.is_empty() {
        return Err(ParseError::whole(COMMAND, text, "no users listed"));
    }
    Ok(users)
}

fn parse_user_line(n: usize, line: &str) -> Result<ObservedUser, ParseError> {
    let err = |why: &str| ParseError::at(COMMAND, n, line, why);
    let rest = line
        .strip_prefix("\tUserInfo{")
        .ok_or_else(|| err("expected `\\tUserInfo{…}`"))?;
    let (rest, running) = match rest.strip_suffix(" running") {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let inner = rest
        .strip_suffix('}')
        .ok_or_else(|| err("expected `}` or `} running` at the end"))?;
    let (id, rest) = inner
        .split_once(':')
        .ok_or_else(|| err("expected `id:name:flags`"))?;
    let (name, flags) = rest
        .rsplit_once(':')
        .ok_or_else(|| err("expected `id:name:flags`"))?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err("the user id is not a number"));
    }
    let id: u32 = id.parse().map_err(|_| err("the user id is out of range"))?;
    if flags.is_empty() || flags.len() > 8 || !flags.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(err("the flags are not hexadecimal"));
    }
    let flags = u32::from_str_radix(flags, 16).map_err(|_| err("the flags are not hexadecimal"))?;
    Ok(ObservedUser {
        id: UserId(id),
        name: name.to_owned(),
        flags,
        running,
    })
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    #[track_caller]
    fn check(text: &str, expected: Expect) {
        let got = match parse_users(text) {
            Ok(users) => users
                .iter()
                .map(|u| {
                    format!(
                        "{} {:?} {:x}{}",
                        u.id,
                        u.name,
                        u.flags,
                        if u.running { " running" } else { "" }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
            Err(e) => format!("error: {e}"),
        };
        expected.assert_eq(&got);
    }

    #[test]
    fn real_outputs() {
        // Android 14 (devsim and third-party captures), with a shell-created work profile.
        check(
            "Users:\n\tUserInfo{0:null:4c13} running\n\tUserInfo{10:Work profile:1030} running\n",
            expect![[r#"
                0 "null" 4c13 running
                10 "Work profile" 1030 running"#]],
        );
        // Android 11, profile stopped.
        check(
            "Users:\n\tUserInfo{0:Owner:c13} running\n\tUserInfo{10:Shop:1030}\n",
            expect![[r#"
                0 "Owner" c13 running
                10 "Shop" 1030"#]],
        );
    }

    #[test]
    fn names_with_separators() {
        check(
            "Users:\n\tUserInfo{11:a:b} running}:1030} running\n",
            expect![[r#"11 "a:b} running}" 1030 running"#]],
        );
    }

    #[test]
    fn unexpected_output_is_an_error() {
        check(
            "Error: couldn't get users\n",
            expect![[
                r#"error: unexpected output of `pm list users` (line 1): expected `Users:`: "Error: couldn't get users""#
            ]],
        );
        check(
            "Users:\n",
            expect![[
                r#"error: unexpected output of `pm list users` (line 0): no users listed: "Users:\n""#
            ]],
        );
        check(
            "Users:\n\tUserInfo{x:Owner:c13} running\n",
            expect![[
                r#"error: unexpected output of `pm list users` (line 2): the user id is not a number: "\tUserInfo{x:Owner:c13} running""#
            ]],
        );
        check(
            "Users:\n\tUserInfo{0:Owner:zz}\n",
            expect![[
                r#"error: unexpected output of `pm list users` (line 2): the flags are not hexadecimal: "\tUserInfo{0:Owner:zz}""#
            ]],
        );
        check(
            "Users:\n  UserInfo{0:Owner:c13}\n",
            expect![[
                r#"error: unexpected output of `pm list users` (line 2): expected `\tUserInfo{…}`: "  UserInfo{0:Owner:c13}""#
            ]],
        );
        check(
            "Users:\n\tUserInfo{0:Owner:c13} (current)\n",
            expect![[
                r#"error: unexpected output of `pm list users` (line 2): expected `}` or `} running` at the end: "\tUserInfo{0:Owner:c13} (current)""#
            ]],
        );
    }
}
