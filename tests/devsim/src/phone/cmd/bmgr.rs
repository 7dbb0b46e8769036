//! `bmgr [--user N] activate|activated|enable|enabled`, following `Bmgr.java`.
//!
//! Backup is activated for user 0 (until a device owner is set) and not activated for
//! any other user until `bmgr --user N activate true` — the rule of
//! `BackupManagerService.isBackupActivatedForUser` in Android 10–16. Every command but
//! `activate`/`activated` first requires activation. The enabled flag is the user's
//! secure setting `backup_enabled`; a user that is not running reports disabled (its
//! backup service only starts when it is unlocked). `bmgr` always exits 0.

use super::Ctx;
use super::args::parse_user;

const USAGE: &str = "usage: bmgr [--user <userId>] [backup|restore|list|transport|run]
       bmgr backup PACKAGE
       bmgr enable BOOL
       bmgr enabled
       bmgr list transports [-c]
       bmgr list sets
       bmgr transport WHICH|-c WHICH_COMPONENT
       bmgr restore TOKEN
       bmgr restore TOKEN PACKAGE...
       bmgr run
       bmgr wipe TRANSPORT PACKAGE
       bmgr fullbackup PACKAGE...
       bmgr backupnow [--monitor|--monitor-verbose] --all|PACKAGE...
       bmgr cancel backups
       bmgr init TRANSPORT...
       bmgr activate BOOL
       bmgr activated
       bmgr autorestore BOOL
       bmgr scheduling BOOL
";

/// `bmgr …`.
pub fn bmgr(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let mut args = argv.iter().skip(1).map(String::as_str).peekable();
    if args.peek().is_none() {
        ctx.out.err(USAGE);
        return 0;
    }
    let mut user: i64 = 0;
    if args.peek() == Some(&"--user") {
        args.next();
        let v = args.next().unwrap_or("");
        match parse_user(v) {
            Some(u) => user = u,
            None => {
                ctx.errln("Exception caught:");
                ctx.stack_trace(
                    &format!("java.lang.NumberFormatException: For input string: \"{v}\""),
                    &[
                        "com.android.commands.bmgr.Bmgr.parseUserId(Bmgr.java:1026)",
                        "com.android.commands.bmgr.Bmgr.run(Bmgr.java:114)",
                    ],
                );
                return 0;
            }
        }
    }
    let op = args.next().unwrap_or("");
    let arg = args.next();
    let uid = u32::try_from(user).ok();
    let (exists, running, activated) = ctx.phone.read(|s| {
        let u = uid.and_then(|u| s.users.get(&u));
        let activated = uid
            .and_then(|u| s.user_data.get(&u))
            .is_some_and(|d| d.backup_activated);
        (u.is_some(), u.is_some_and(|u| u.running), activated)
    });
    let word = |b: bool, yes: &'static str, no: &'static str| if b { yes } else { no };
    match op {
        "activate" => {
            let Some(arg) = arg else {
                ctx.out.err(USAGE);
                return 0;
            };
            let on = arg.eq_ignore_ascii_case("true");
            if let (Some(u), true) = (uid, exists) {
                ctx.phone.update(|s| s.data_mut(u).backup_activated = on);
            }
            ctx.outln(format!(
                "Backup service now {} for user {user}",
                word(on, "activated", "deactivated")
            ));
            return 0;
        }
        "activated" => {
            ctx.outln(format!(
                "Backup Manager currently {}",
                word(activated, "activated", "deactivated")
            ));
            return 0;
        }
        _ => {}
    }
    if !activated {
        ctx.errln(format!(
            "Error: Backup Manager is not activated for user {user}"
        ));
        return 0;
    }
    match op {
        "enabled" => {
            let on = running
                && ctx
                    .phone
                    .read(|s| {
                        uid.and_then(|u| s.user_data.get(&u))
                            .and_then(|d| d.secure.get("backup_enabled").cloned())
                    })
                    .as_deref()
                    == Some("1");
            ctx.outln(format!(
                "Backup Manager currently {}",
                word(on, "enabled", "disabled")
            ));
        }
        "enable" => {
            let Some(arg) = arg else {
                ctx.out.err(USAGE);
                return 0;
            };
            let on = arg.eq_ignore_ascii_case("true");
            if let (Some(u), true) = (uid, running) {
                ctx.phone.update(|s| {
                    s.data_mut(u)
                        .secure
                        .insert("backup_enabled".into(), if on { "1" } else { "0" }.into());
                });
            }
            ctx.outln(format!(
                "Backup Manager now {}",
                word(on, "enabled", "disabled")
            ));
        }
        "run" | "backup" | "cancel" | "autorestore" | "scheduling" | "fullbackup" => {}
        "list" => {
            if arg == Some("transports") {
                ctx.outln("    android/com.android.internal.backup.LocalTransport");
                ctx.outln("  * com.google.android.gms/.backup.BackupTransportService");
            }
        }
        _ => {
            ctx.errln("Unknown command");
            ctx.out.err(USAGE);
        }
    }
    0
}
