//! What each planner command prints when it worked, and the check of its output. Pure.
//!
//! Texts from AOSP (shared/reference/adb-and-android-shell.md §3) and the device
//! simulator. Most Android tools signal failure only in words — `am start-user` exits 0
//! with `Error: could not start user`, `content` exits 0 with `Error while accessing
//! provider`, `pm hide` of a missing package prints `new hidden state: false` — so every
//! command's output is compared with the success text exactly; silence is a text too.

use corral_profiles::{Action, UserId};

/// What one command must print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Exactly these lines (each ends with a newline).
    Lines(Vec<String>),
    /// `Success: created user id <N>`: the new user's id.
    CreatedUser,
    /// A line starting with this, and nothing else.
    LinePrefix(String),
}

/// The expected output of command `index` of `action`, rendered for the work user `work`.
pub fn expected(action: &Action, index: usize, work: Option<UserId>) -> Expect {
    let user = |u: corral_profiles::UserRef| match u {
        corral_profiles::UserRef::Personal => UserId(0),
        corral_profiles::UserRef::Work => work.unwrap_or(UserId(u32::MAX)),
    };
    let line = |s: String| Expect::Lines(vec![s]);
    let silent = Expect::Lines(Vec::new());
    match action {
        Action::CreateWorkProfile { .. } => Expect::CreatedUser,
        Action::StartUser { .. } => Expect::LinePrefix("Success: user started".into()),
        Action::InstallExisting { user: u, package } => line(format!(
            "Package {package} installed for user: {}",
            user(*u)
        )),
        Action::InstallApk { .. } if index == 0 => silent,
        Action::InstallApk { .. } | Action::Uninstall { .. } => line("Success".into()),
        Action::Unhide { package, .. } => {
            line(format!("Package {package} new hidden state: false"))
        }
        Action::Hide { package, .. } => line(format!("Package {package} new hidden state: true")),
        Action::Enable { package, .. } => line(format!("Package {package} new state: enabled")),
        Action::Unsuspend { package, .. } => {
            line(format!("Package {package} new suspended state: false"))
        }
        Action::SetBackup {
            user: u,
            enabled: true,
        } if index == 0 => line(format!(
            "Backup service now activated for user {}",
            user(*u)
        )),
        Action::SetBackup { enabled, .. } => line(format!(
            "Backup Manager now {}",
            if *enabled { "enabled" } else { "disabled" }
        )),
        Action::Grant { .. }
        | Action::PutSecureSetting { .. }
        | Action::RemoveContacts { .. }
        | Action::AddContacts { .. } => silent,
    }
}

/// Checks one command's output: `Ok(Some(id))` for a created user, `Ok(None)` otherwise,
/// or why it is not the success text.
pub fn check(expect: &Expect, output: &str) -> Result<Option<UserId>, String> {
    let lines: Vec<&str> = output.strip_suffix('\n').map_or_else(
        || {
            if output.is_empty() {
                Vec::new()
            } else {
                vec![output]
            }
        },
        |o| o.split('\n').collect(),
    );
    match expect {
        Expect::Lines(want) => {
            if lines.len() == want.len() && lines.iter().zip(want).all(|(a, b)| *a == b) {
                Ok(None)
            } else if want.is_empty() {
                Err(format!("expected no output, got {:?}", first(output)))
            } else {
                Err(format!(
                    "expected {:?}, got {:?}",
                    want.join("\n"),
                    first(output)
                ))
            }
        }
        Expect::LinePrefix(prefix) => match lines.as_slice() {
            [l] if l.starts_with(prefix.as_str()) => Ok(None),
            _ => Err(format!("expected {prefix:?}, got {:?}", first(output))),
        },
        Expect::CreatedUser => {
            let id = match lines.as_slice() {
                [l] => l
                    .strip_prefix("Success: created user id ")
                    .and_then(|n| n.parse::<u32>().ok()),
                _ => None,
            };
            id.map(|n| Some(UserId(n))).ok_or_else(|| {
                format!(
                    "expected \"Success: created user id <N>\", got {:?}",
                    first(output)
                )
            })
        }
    }
}

fn first(output: &str) -> String {
    let t: String = output.chars().take(300).collect();
    if output.is_empty() {
        "nothing".into()
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use corral_profiles::{PackageName, UserRef};
    use expect_test::expect;

    use super::*;

    fn pkg(s: &str) -> PackageName {
        PackageName::parse(s).unwrap_or_else(|_| unreachable!())
    }

    fn show(r: Result<Option<UserId>, String>) -> String {
        format!("{r:?}")
    }

    #[test]
    fn success_texts() {
        let w = Some(UserId(10));
        let create = Action::CreateWorkProfile {
            name: "Shop".into(),
        };
        expect!["Ok(Some(UserId(10)))"].assert_eq(&show(check(
            &expected(&create, 0, None),
            "Success: created user id 10\n",
        )));
        let start = Action::StartUser {
            user: UserRef::Work,
        };
        expect!["Ok(None)"].assert_eq(&show(check(
            &expected(&start, 0, w),
            "Success: user started\n",
        )));
        let install = Action::InstallExisting {
            user: UserRef::Work,
            package: pkg("com.whatsapp.w4b"),
        };
        expect!["Ok(None)"].assert_eq(&show(check(
            &expected(&install, 0, w),
            "Package com.whatsapp.w4b installed for user: 10\n",
        )));
        let hide = Action::Hide {
            user: UserRef::Personal,
            package: pkg("com.whatsapp"),
        };
        expect!["Ok(None)"].assert_eq(&show(check(
            &expected(&hide, 0, w),
            "Package com.whatsapp new hidden state: true\n",
        )));
        let grant = Action::Grant {
            user: UserRef::Work,
            package: pkg("com.whatsapp"),
            permission: corral_profiles::Permission::parse("android.permission.READ_CONTACTS")
                .unwrap_or_else(|_| unreachable!()),
        };
        expect!["Ok(None)"].assert_eq(&show(check(&expected(&grant, 0, w), "")));
        let backup_on = Action::SetBackup {
            user: UserRef::Work,
            enabled: true,
        };
        expect!["Ok(None)"].assert_eq(&show(check(
            &expected(&backup_on, 0, w),
            "Backup service now activated for user 10\n",
        )));
        expect!["Ok(None)"].assert_eq(&show(check(
            &expected(&backup_on, 1, w),
            "Backup Manager now enabled\n",
        )));
    }

    #[test]
    fn failures_in_words_are_failures() {
        let w = Some(UserId(10));
        let start = Action::StartUser {
            user: UserRef::Work,
        };
        expect![[
            r#"Err("expected \"Success: user started\", got \"Error: could not start user\\n\"")"#
        ]]
        .assert_eq(&show(check(
            &expected(&start, 0, w),
            "Error: could not start user\n",
        )));
        let hide = Action::Hide {
            user: UserRef::Work,
            package: pkg("com.android.chrome"),
        };
        expect![[r#"Err("expected \"Package com.android.chrome new hidden state: true\", got \"Package com.android.chrome new hidden state: false\\n\"")"#]]
            .assert_eq(&show(check(
                &expected(&hide, 0, w),
                "Package com.android.chrome new hidden state: false\n",
            )));
        let remove = Action::RemoveContacts {
            user: UserRef::Work,
            ids: vec![],
        };
        expect![[r#"Err("expected no output, got \"Error while accessing provider:com.android.contacts\\njava.lang.SecurityException\\n\"")"#]]
            .assert_eq(&show(check(
                &expected(&remove, 0, w),
                "Error while accessing provider:com.android.contacts\njava.lang.SecurityException\n",
            )));
        let create = Action::CreateWorkProfile {
            name: "Shop".into(),
        };
        expect![[r#"Err("expected \"Success: created user id <N>\", got \"Error: android.os.ServiceSpecificException: Cannot add more profiles of type android.os.usertype.profile.MANAGED for user 0 (code 6)\\nError: couldn't create User.\\n\"")"#]]
            .assert_eq(&show(check(
                &expected(&create, 0, None),
                "Error: android.os.ServiceSpecificException: Cannot add more profiles of type android.os.usertype.profile.MANAGED for user 0 (code 6)\nError: couldn't create User.\n",
            )));
        let backup_on = Action::SetBackup {
            user: UserRef::Work,
            enabled: true,
        };
        expect![[r#"Err("expected \"Backup Manager now enabled\", got \"Error: Backup Manager is not activated for user 10\\n\"")"#]]
            .assert_eq(&show(check(
                &expected(&backup_on, 1, w),
                "Error: Backup Manager is not activated for user 10\n",
            )));
    }
}
