//! `pm` / `cmd package`: the dispatcher and `list packages`. Users (`list users`,
//! `create-user`, `remove-user`) are in `pm_users`. Installing lives in `pm_install`, per-user
//! package state (hide, disable, suspend, grant, restrictions) in `pm_state`.

use super::args::{Args, parse_user};
use super::{Ctx, pm_install, pm_state, pm_users};
use crate::phone::state::{State, enabled};

const PM_FRAMES: &[&str] = &[
    "com.android.server.pm.PackageManagerShellCommand.onCommand(PackageManagerShellCommand.java:221)",
    "com.android.modules.utils.BasicShellCommandHandler.exec(BasicShellCommandHandler.java:97)",
    "android.os.ShellCommand.exec(ShellCommand.java:38)",
];

/// The frames under a `PackageManagerShellCommand` exception.
pub fn frames() -> &'static [&'static str] {
    PM_FRAMES
}

/// `pm …` and `cmd package …` (`argv[0]` is `pm` or `package`).
pub fn pm(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let Some(sub) = argv.get(1) else {
        ctx.outln("Package manager (package) commands:\n  help\n    Print this help text.\n");
        return 255;
    };
    let rest = &argv[2..];
    match sub.as_str() {
        "list" => match rest.first().map(String::as_str) {
            Some("users") => pm_users::list_users(ctx),
            Some("packages") => list_packages(ctx, &rest[1..]),
            Some(other) => {
                ctx.errln(format!("Error: unknown list type '{other}'"));
                255
            }
            None => {
                ctx.errln("Error: didn't specify type of data to list");
                255
            }
        },
        "create-user" => pm_users::create_user(ctx, rest),
        "remove-user" => pm_users::remove_user(ctx, rest),
        "install" => pm_install::install(ctx, rest),
        "install-existing" => pm_install::install_existing(ctx, rest),
        "uninstall" => pm_install::uninstall(ctx, rest),
        "path" => pm_install::path(ctx, rest),
        "hide" => pm_state::set_hidden(ctx, rest, true),
        "unhide" => pm_state::set_hidden(ctx, rest, false),
        "enable" => pm_state::set_enabled(ctx, "enable", rest, enabled::ENABLED),
        "disable" => pm_state::set_enabled(ctx, "disable", rest, enabled::DISABLED),
        "disable-user" => pm_state::set_enabled(ctx, "disable-user", rest, enabled::DISABLED_USER),
        "disable-until-used" => pm_state::set_enabled(
            ctx,
            "disable-until-used",
            rest,
            enabled::DISABLED_UNTIL_USED,
        ),
        "default-state" => pm_state::set_enabled(ctx, "default-state", rest, enabled::DEFAULT),
        "suspend" => pm_state::set_suspended(ctx, rest, true),
        "unsuspend" => pm_state::set_suspended(ctx, rest, false),
        "grant" => pm_state::grant(ctx, rest, true),
        "revoke" => pm_state::grant(ctx, rest, false),
        "set-user-restriction" => pm_state::set_user_restriction(ctx, rest),
        "query-activities" => super::pm_query::query_activities(ctx, rest),
        "get-max-users" => {
            let max = ctx.phone.config().max_users;
            ctx.outln(format!("Maximum supported users: {max}"));
            0
        }
        "help" | "-h" => {
            ctx.outln("Package manager (package) commands:\n  help\n    Print this help text.\n");
            0
        }
        other => {
            ctx.outln(format!("Unknown command: {other}"));
            255
        }
    }
}

/// `cmd user …`.
pub fn cmd_user(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    match argv.get(1).map(String::as_str) {
        Some("list") => pm_users::list_users(ctx),
        Some(other) => {
            ctx.outln(format!("Unknown command: {other}"));
            255
        }
        None => {
            ctx.outln("User manager (user) commands:\n  help\n    Prints this help text.\n");
            255
        }
    }
}

/// The exception `handleIncomingUser` throws for a user that does not exist.
pub fn no_such_user(ctx: &mut Ctx<'_>, command: &str, user: i64) -> u8 {
    ctx.exception(
        command,
        &format!("java.lang.SecurityException: Shell does not have permission to access user {user}"),
        &[
            "com.android.server.am.ActivityManagerService.handleIncomingUser(ActivityManagerService.java:14589)",
            "android.app.ActivityManager.handleIncomingUser(ActivityManager.java:4835)",
            PM_FRAMES[0],
        ],
    )
}

/// Resolves a `--user` argument: `Ok(Some(id))`, `Ok(None)` for `all`, or the exit code
/// after printing the error.
pub fn user_arg(ctx: &mut Ctx<'_>, command: &str, arg: &str) -> Result<Option<u32>, u8> {
    match parse_user(arg) {
        None => Err(ctx.exception(command, &super::args::number_format(arg), PM_FRAMES)),
        Some(-1) => Ok(None),
        Some(id) => {
            let exists =
                u32::try_from(id).is_ok_and(|id| ctx.phone.read(|s| s.users.contains_key(&id)));
            if exists {
                Ok(Some(id as u32))
            } else {
                Err(no_such_user(ctx, command, id))
            }
        }
    }
}

fn list_packages(ctx: &mut Ctx<'_>, rest: &[String]) -> u8 {
    let mut a = Args::new(rest);
    let (mut show_path, mut disabled, mut enabled_only, mut system, mut third) =
        (false, false, false, false, false);
    let (mut installer, mut uninstalled, mut uid, mut version) = (false, false, false, false);
    let mut user: Option<u32> = if ctx.version().list_packages_all_users() {
        None
    } else {
        Some(0)
    };
    while let Some(opt) = a.next_option() {
        match opt.as_str() {
            "-f" => show_path = true,
            "-d" => disabled = true,
            "-e" => enabled_only = true,
            "-s" => system = true,
            "-3" => third = true,
            "-i" => installer = true,
            "-l" | "-a" => {}
            "-u" => uninstalled = true,
            "-U" | "--uid" => uid = true,
            "--show-versioncode" => version = true,
            "--apex-only" => return 0,
            "--user" => {
                let arg = a.next_arg().unwrap_or_default();
                match user_arg(ctx, "list", &arg) {
                    Ok(u) => user = u,
                    Err(code) => return code,
                }
            }
            other => {
                ctx.outln(format!("Error: Unknown option: {other}"));
                return 255;
            }
        }
    }
    let filter = a.next_arg();
    let lines = ctx.phone.read(|s: &State| {
        let users: Vec<u32> = match user {
            Some(u) => vec![u],
            None => s.users.keys().copied().collect(),
        };
        let mut lines = Vec::new();
        for pkg in s.packages.values() {
            let visible: Vec<u32> = users
                .iter()
                .copied()
                .filter(|u| match pkg.users.get(u) {
                    Some(pu) => uninstalled || (pu.installed && !pu.hidden),
                    None => uninstalled && pkg.system,
                })
                .collect();
            let Some(first) = visible.first().copied() else {
                continue;
            };
            let state = pkg
                .users
                .get(&first)
                .map(|pu| pu.enabled)
                .unwrap_or(enabled::DEFAULT);
            let is_disabled = matches!(
                state,
                enabled::DISABLED | enabled::DISABLED_USER | enabled::DISABLED_UNTIL_USED
            );
            if (disabled && !is_disabled)
                || (enabled_only && is_disabled)
                || (system && !pkg.system)
                || (third && pkg.system)
            {
                continue;
            }
            if filter
                .as_ref()
                .is_some_and(|f| !pkg.name.contains(f.as_str()))
            {
                continue;
            }
            let mut line = String::from("package:");
            if show_path {
                line.push_str(&pkg.code_path);
                line.push('=');
            }
            line.push_str(&pkg.name);
            if version {
                line.push_str(&format!(" versionCode:{}", pkg.version_code));
            }
            if installer {
                line.push_str(&format!(
                    "  installer={}",
                    pkg.installer.as_deref().unwrap_or("null")
                ));
            }
            if uid {
                let uids: Vec<String> = visible.iter().map(|u| pkg.uid(*u).to_string()).collect();
                line.push_str(&format!(" uid:{}", uids.join(",")));
            }
            lines.push(line);
        }
        lines
    });
    for l in lines {
        ctx.outln(l);
    }
    0
}
