//! One-line answers: `settings get --user N secure KEY` (the value, or `null` when unset),
//! `bmgr --user N enabled`, `getprop ro.build.version.sdk`, and `dpm list-owners`
//! (Android 12+).

use super::error::{ParseError, numbered};

fn single_line<'a>(command: &str, text: &'a str) -> Result<&'a str, ParseError> {
    let lines: Vec<(usize, &str)> = numbered(text).collect();
    match lines.as_slice() {
        [(_, line)] => Ok(line),
        [] => Err(ParseError::whole(command, text, "no output")),
        [_, (n, line), ..] => Err(ParseError::at(command, *n, line, "more than one line")),
    }
}

/// `settings get`: `None` for an unset setting (`null`).
pub fn parse_setting(command: &str, text: &str) -> Result<Option<String>, ParseError> {
    let line = single_line(command, text)?;
    if line.starts_with("Invalid ") || line.starts_with("Exception") || line.starts_with("Error") {
        return Err(ParseError::at(command, 1, line, "settings failed"));
    }
    Ok((line != "null").then(|| line.to_owned()))
}

/// `bmgr --user N enabled`: `None` when the backup service is not activated for the user
/// (Android 10+), which means no backup.
pub fn parse_backup(command: &str, user: u32, text: &str) -> Result<Option<bool>, ParseError> {
    let line = single_line(command, text)?;
    match line {
        "Backup Manager currently enabled" => Ok(Some(true)),
        "Backup Manager currently disabled" => Ok(Some(false)),
        l if l == format!("Error: Backup Manager is not activated for user {user}") => Ok(None),
        l => Err(ParseError::at(
            command,
            1,
            l,
            "expected `Backup Manager currently enabled|disabled`",
        )),
    }
}

/// `getprop ro.build.version.sdk`: the API level.
pub fn parse_sdk(text: &str) -> Result<u32, ParseError> {
    const COMMAND: &str = "getprop ro.build.version.sdk";
    let line = single_line(COMMAND, text)?;
    line.parse()
        .ok()
        .filter(|sdk| (21..1000).contains(sdk))
        .ok_or_else(|| ParseError::at(COMMAND, 1, line, "expected an API level"))
}

/// `dpm list-owners`: the profile owner component of `user`, if any.
///
/// `no owners`, or `1 owner:` / `<n> owners:` followed by one
/// `User %2d: admin=<pkg/.Cls>[,DeviceOwner][,ProfileOwner][,ManagedProfileOwner(…)][,Affiliated]`
/// per owner.
pub fn parse_profile_owner(text: &str, user: u32) -> Result<Option<String>, ParseError> {
    const COMMAND: &str = "dpm list-owners";
    let mut lines = numbered(text);
    let Some((_, head)) = lines.next() else {
        return Err(ParseError::whole(COMMAND, text, "no output"));
    };
    let expected: usize = match head {
        "no owners" => 0,
        "1 owner:" => 1,
        h => h
            .strip_suffix(" owners:")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| {
                ParseError::at(COMMAND, 1, h, "expected `no owners` or `<n> owners:`")
            })?,
    };
    let mut found = None;
    let mut count = 0;
    for (n, line) in lines {
        count += 1;
        let err = || ParseError::at(COMMAND, n, line, "expected `User <id>: admin=<component>…`");
        let rest = line.strip_prefix("User ").ok_or_else(err)?;
        let (id, rest) = rest.split_once(": admin=").ok_or_else(err)?;
        let id: u32 = id.trim_start().parse().map_err(|_| err())?;
        let mut parts = rest.split(',');
        let component = parts.next().filter(|c| c.contains('/')).ok_or_else(err)?;
        let profile_owner = parts.any(|p| p == "ProfileOwner");
        if id == user && profile_owner {
            found = Some(component.to_owned());
        }
    }
    if count != expected {
        return Err(ParseError::whole(
            COMMAND,
            text,
            format!("announced {expected} owners, listed {count}"),
        ));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;

    fn show<T: std::fmt::Debug>(r: Result<T, ParseError>) -> String {
        match r {
            Ok(v) => format!("{v:?}"),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn settings() {
        let c = "settings get --user 10 secure x";
        expect![[r#"Some("0")"#]].assert_eq(&show(parse_setting(c, "0\n")));
        expect!["None"].assert_eq(&show(parse_setting(c, "null\n")));
        expect![[r#"error: unexpected output of `settings get --user 10 secure x` (line 1): settings failed: "Invalid user: 10""#]]
            .assert_eq(&show(parse_setting(c, "Invalid user: 10\n")));
        expect![[r#"error: unexpected output of `settings get --user 10 secure x` (line 2): more than one line: "b""#]]
            .assert_eq(&show(parse_setting(c, "a\nb\n")));
        expect![[r#"error: unexpected output of `settings get --user 10 secure x` (line 0): no output: """#]]
            .assert_eq(&show(parse_setting(c, "")));
    }

    #[test]
    fn backup() {
        let c = "bmgr --user 10 enabled";
        expect!["Some(true)"].assert_eq(&show(parse_backup(
            c,
            10,
            "Backup Manager currently enabled\n",
        )));
        expect!["Some(false)"].assert_eq(&show(parse_backup(
            c,
            10,
            "Backup Manager currently disabled\n",
        )));
        expect!["None"].assert_eq(&show(parse_backup(
            c,
            10,
            "Error: Backup Manager is not activated for user 10\n",
        )));
        expect![[r#"error: unexpected output of `bmgr --user 10 enabled` (line 1): expected `Backup Manager currently enabled|disabled`: "Error: Backup Manager is not activated for user 11""#]]
            .assert_eq(&show(parse_backup(c, 10, "Error: Backup Manager is not activated for user 11\n")));
        expect![[r#"error: unexpected output of `bmgr --user 10 enabled` (line 2): more than one line: "\tat com.android.commands.bmgr.Bmgr.run""#]]
            .assert_eq(&show(parse_backup(c, 10, "Exception caught:\n\tat com.android.commands.bmgr.Bmgr.run\n")));
    }

    #[test]
    fn sdk() {
        expect!["34"].assert_eq(&show(parse_sdk("34\n")));
        expect![[r#"error: unexpected output of `getprop ro.build.version.sdk` (line 1): expected an API level: """#]]
            .assert_eq(&show(parse_sdk("\n")));
    }

    #[test]
    fn owners() {
        expect!["None"].assert_eq(&show(parse_profile_owner("no owners\n", 10)));
        let two = "2 owners:\nUser  0: admin=com.x/.Admin,DeviceOwner\nUser 10: admin=com.corral.admin/.Admin,ProfileOwner,ManagedProfileOwner(parentUserId=0)\n";
        expect![[r#"Some("com.corral.admin/.Admin")"#]]
            .assert_eq(&show(parse_profile_owner(two, 10)));
        expect!["None"].assert_eq(&show(parse_profile_owner(two, 11)));
        expect![[r#"error: unexpected output of `dpm list-owners` (line 0): announced 1 owners, listed 0: "1 owner:\n""#]]
            .assert_eq(&show(parse_profile_owner("1 owner:\n", 10)));
        expect![[r#"error: unexpected output of `dpm list-owners` (line 1): expected `no owners` or `<n> owners:`: "usage: dpm [subcommand] [options]""#]]
            .assert_eq(&show(parse_profile_owner("usage: dpm [subcommand] [options]\n", 10)));
    }
}
