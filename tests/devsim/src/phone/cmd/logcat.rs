//! `logcat`: the phone's log buffer in the default `threadtime` format. `-d` dumps and
//! exits, `-t N` prints the newest N entries (and implies `-d`), `-c` clears. Like logcat,
//! each buffer's first printed entry is preceded by `--------- beginning of <buffer>`
//! (every simulated entry is `system_server`'s, in the `system` buffer).
//! Deviation: without `-d` a real logcat keeps streaming; here it prints what is there and
//! exits, so a forgotten `-d` cannot hang a test.

use super::Ctx;

/// `logcat [-d] [-c] [-t N]`.
pub fn logcat(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let mut count = None;
    let mut clear = false;
    let mut args = argv.iter().skip(1).map(String::as_str);
    while let Some(arg) = args.next() {
        match arg {
            "-d" => {}
            "-c" => clear = true,
            "-t" => match args.next().and_then(|n| n.parse::<usize>().ok()) {
                Some(n) => count = Some(n),
                None => return bad(ctx, "-t needs a line count"),
            },
            other => match other.strip_prefix("-t").map(str::parse::<usize>) {
                Some(Ok(n)) => count = Some(n),
                _ => return bad(ctx, &format!("option {other} is not simulated")),
            },
        }
    }
    if clear {
        ctx.phone.log().clear();
        return 0;
    }
    let entries = ctx.phone.log().newest(count);
    if !entries.is_empty() {
        ctx.outln("--------- beginning of system");
    }
    for entry in entries {
        ctx.outln(entry.threadtime());
    }
    0
}

fn bad(ctx: &mut Ctx<'_>, why: &str) -> u8 {
    ctx.errln(format!("devsim: logcat: {why} (-d, -c and -t N are)"));
    1
}
