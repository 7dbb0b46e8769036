//! `settings [--user N] get|put|delete|list system|secure|global KEY [VALUE]`, parsed
//! like `SettingsService`'s shell command: `--user` anywhere, default the current user
//! (0), errors on stderr with exit 255. `global` is device-wide.

use super::Ctx;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Get,
    Put,
    Delete,
    List,
    Reset,
}

/// `settings …` (`argv[0]` is `settings`).
pub fn settings(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let (mut user, mut verb, mut table, mut key, mut value) = (
        None::<i64>,
        None,
        None::<String>,
        None::<String>,
        None::<String>,
    );
    let mut it = argv.iter().skip(1);
    if argv.len() < 2 {
        ctx.outln("Settings provider (settings) commands:\n  help\n      Print this help text.");
        return 0;
    }
    while let Some(arg) = it.next() {
        if arg == "--user" {
            if user.is_some() {
                ctx.errln("Invalid user: --user specified more than once");
                break;
            }
            let Some(v) = it.next() else {
                ctx.exception(
                    "--user",
                    "java.lang.IllegalArgumentException: Argument expected after \"--user\"",
                    &[],
                );
                return 255;
            };
            user = Some(match v.as_str() {
                "current" | "cur" => 0,
                n => match n.parse::<i32>() {
                    Ok(n) => i64::from(n),
                    Err(_) => {
                        return ctx.exception(
                            arg,
                            &format!("java.lang.NumberFormatException: For input string: \"{n}\""),
                            &["com.android.providers.settings.SettingsService$MyShellCommand.onCommand(SettingsService.java:107)"],
                        );
                    }
                },
            });
        } else if verb.is_none() {
            verb = Some(match arg.to_ascii_lowercase().as_str() {
                "get" => Verb::Get,
                "put" => Verb::Put,
                "delete" => Verb::Delete,
                "list" => Verb::List,
                "reset" => Verb::Reset,
                "help" | "-h" => {
                    ctx.outln("Settings provider (settings) commands:\n  help\n      Print this help text.");
                    return 0;
                }
                _ => {
                    ctx.errln(format!("Invalid command: {arg}"));
                    return 255;
                }
            });
        } else if table.is_none() {
            let t = arg.to_ascii_lowercase();
            if !matches!(t.as_str(), "system" | "secure" | "global") {
                ctx.errln(format!("Invalid namespace '{arg}'"));
                return 255;
            }
            table = Some(t);
            if verb == Some(Verb::List) {
                break;
            }
        } else if key.is_none() {
            key = Some(arg.clone());
            if matches!(verb, Some(Verb::Get | Verb::Delete)) {
                break;
            }
        } else if value.is_none() {
            value = Some(arg.clone());
        }
    }
    let valid = match verb {
        Some(Verb::Get | Verb::Delete) => table.is_some() && key.is_some(),
        Some(Verb::Put) => table.is_some() && key.is_some() && value.is_some(),
        Some(Verb::List | Verb::Reset) => table.is_some(),
        None => false,
    };
    let (Some(verb), Some(table), true) = (verb, table, valid) else {
        ctx.errln("Bad arguments");
        return 255;
    };
    let user = user.unwrap_or(0);
    let exists = u32::try_from(user)
        .ok()
        .is_some_and(|u| ctx.phone.read(|s| s.users.contains_key(&u)));
    if !exists {
        ctx.errln(format!("Invalid user: {user}"));
        return 255;
    }
    let user = user as u32;
    let key = key.unwrap_or_default();
    match verb {
        Verb::Get => {
            let v = ctx.phone.read(|s| match table.as_str() {
                "global" => s.global_settings.get(&key).cloned(),
                "secure" => s
                    .user_data
                    .get(&user)
                    .and_then(|d| d.secure.get(&key).cloned()),
                _ => s
                    .user_data
                    .get(&user)
                    .and_then(|d| d.system.get(&key).cloned()),
            });
            ctx.outln(v.unwrap_or_else(|| "null".into()));
        }
        Verb::Put => {
            let value = value.unwrap_or_default();
            ctx.phone.update(|s| {
                let map = match table.as_str() {
                    "global" => &mut s.global_settings,
                    "secure" => &mut s.data_mut(user).secure,
                    _ => &mut s.data_mut(user).system,
                };
                map.insert(key, value);
            });
        }
        Verb::Delete => {
            let n = ctx.phone.update(|s| {
                let map = match table.as_str() {
                    "global" => &mut s.global_settings,
                    "secure" => &mut s.data_mut(user).secure,
                    _ => &mut s.data_mut(user).system,
                };
                usize::from(map.remove(&key).is_some())
            });
            ctx.outln(format!("Deleted {n} rows"));
        }
        Verb::List => {
            let lines: Vec<String> = ctx.phone.read(|s| {
                let map = match table.as_str() {
                    "global" => Some(&s.global_settings),
                    "secure" => s.user_data.get(&user).map(|d| &d.secure),
                    _ => s.user_data.get(&user).map(|d| &d.system),
                };
                map.map(|m| m.iter().map(|(k, v)| format!("{k}={v}")).collect())
                    .unwrap_or_default()
            });
            for l in lines {
                ctx.outln(l);
            }
        }
        Verb::Reset => {}
    }
    0
}
