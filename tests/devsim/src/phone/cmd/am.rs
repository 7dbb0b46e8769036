//! `am` / `cmd activity`: `start-user`, `stop-user`, `get-current-user`, `force-stop`.
//!
//! `start-user` answers `Success: user started` or, on stderr, `Error: could not start
//! user` — both with exit 0, as `ActivityManagerShellCommand.runStartUser` returns 0.

use super::Ctx;
use super::args::{Args, number_format};

const AM_FRAMES: &[&str] = &[
    "com.android.server.am.ActivityManagerShellCommand.onCommand(ActivityManagerShellCommand.java:286)",
    "com.android.modules.utils.BasicShellCommandHandler.exec(BasicShellCommandHandler.java:97)",
    "android.os.ShellCommand.exec(ShellCommand.java:38)",
];

/// `am …` (`argv[0]` is `am` or `activity`).
pub fn am(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let Some(sub) = argv.get(1) else {
        ctx.outln("Activity manager (activity) commands:\n  help\n      Print this help text.");
        return 255;
    };
    let rest = &argv[2..];
    match sub.as_str() {
        "start-user" => start_user(ctx, rest),
        "stop-user" => stop_user(ctx, rest),
        "get-current-user" => {
            ctx.outln("0");
            0
        }
        "force-stop" | "kill" => 0,
        other => {
            ctx.outln(format!("Unknown command: {other}"));
            255
        }
    }
}

fn start_user(ctx: &mut Ctx<'_>, rest: &[String]) -> u8 {
    let mut a = Args::new(rest);
    while let Some(opt) = a.next_option() {
        match opt.as_str() {
            "-w" => {}
            "--display" if ctx.version().0 >= 14 => {
                let _ = a.next_arg();
            }
            other => {
                ctx.errln(format!("Error: unknown option: {other}"));
                return 255;
            }
        }
    }
    let arg = match a.next_arg_required() {
        Ok(v) => v,
        Err(e) => return ctx.exception("start-user", &e, AM_FRAMES),
    };
    let Ok(id) = arg.parse::<i32>() else {
        return ctx.exception("start-user", &number_format(&arg), AM_FRAMES);
    };
    let started = ctx.phone.update(|s| {
        let Some(user) = u32::try_from(id).ok().and_then(|id| s.users.get(&id)) else {
            return false;
        };
        let parent_running = user
            .parent
            .is_none_or(|p| s.users.get(&p).is_some_and(|p| p.running));
        if !parent_running {
            return false;
        }
        if let Some(user) = s.users.get_mut(&(id as u32)) {
            user.running = true;
        }
        true
    });
    if started {
        ctx.outln("Success: user started");
    } else {
        ctx.errln("Error: could not start user");
    }
    0
}

fn stop_user(ctx: &mut Ctx<'_>, rest: &[String]) -> u8 {
    let mut a = Args::new(rest);
    while let Some(opt) = a.next_option() {
        if opt != "-w" && opt != "-f" {
            ctx.errln(format!("Error: unknown option: {opt}"));
            return 255;
        }
    }
    let arg = match a.next_arg_required() {
        Ok(v) => v,
        Err(e) => return ctx.exception("stop-user", &e, AM_FRAMES),
    };
    let Ok(id) = arg.parse::<i32>() else {
        return ctx.exception("stop-user", &number_format(&arg), AM_FRAMES);
    };
    if id <= 0 {
        return ctx.exception(
            "stop-user",
            &format!("java.lang.IllegalArgumentException: Can't stop system user {id}"),
            &[
                "com.android.server.am.UserController.stopUser(UserController.java:765)",
                "com.android.server.am.ActivityManagerService.stopUser(ActivityManagerService.java:16281)",
                AM_FRAMES[0],
            ],
        );
    }
    ctx.phone.update(|s| {
        let id = id as u32;
        let children: Vec<u32> = s
            .users
            .values()
            .filter(|u| u.parent == Some(id))
            .map(|u| u.id)
            .collect();
        for u in children.into_iter().chain([id]) {
            if let Some(user) = s.users.get_mut(&u) {
                user.running = false;
            }
        }
    });
    0
}
