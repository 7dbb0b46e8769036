//! Rebooting from the shell: `svc power reboot|shutdown [REASON]` (`PowerCommand.java`:
//! `PowerManager.reboot` with no confirmation; nothing is printed, the phone goes down
//! before the command returns) and toolbox `reboot [-p] [REASON]` (sets
//! `sys.powerctl`, which the shell user may). Either reboots the simulated phone: the
//! command's connection and every other one to the phone drop.

use super::Ctx;

/// `svc …`: only the `power` service's reboot and shutdown are simulated.
pub fn svc(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let args: Vec<&str> = argv.iter().skip(1).map(String::as_str).collect();
    match args.as_slice() {
        ["power", "reboot", rest @ ..] if rest.len() <= 1 => {
            go_down(ctx, rest.first().copied());
            0
        }
        ["power", "shutdown"] => {
            go_down(ctx, Some("shutdown"));
            0
        }
        _ => {
            ctx.errln(format!(
                "devsim: svc {}: not simulated (only `svc power reboot|shutdown`)",
                args.join(" ")
            ));
            1
        }
    }
}

/// Toolbox `reboot [-p] [REASON]`.
pub fn reboot(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let args: Vec<&str> = argv.iter().skip(1).map(String::as_str).collect();
    match args.as_slice() {
        [] => go_down(ctx, None),
        ["-p"] => go_down(ctx, Some("shutdown")),
        [reason] if !reason.starts_with('-') => go_down(ctx, Some(reason)),
        _ => {
            ctx.errln("usage: reboot [-p] [REASON]");
            return 1;
        }
    }
    0
}

/// `ShutdownThread` logs the reason, then the phone reboots (a shutdown is modelled as a
/// reboot: a simulated phone is always plugged in).
fn go_down(ctx: &mut Ctx<'_>, reason: Option<&str>) {
    ctx.phone.log_system(
        'I',
        "ShutdownThread",
        &format!("Rebooting, reason: {}", reason.unwrap_or("null")),
    );
    ctx.phone.reboot_from_shell();
}
