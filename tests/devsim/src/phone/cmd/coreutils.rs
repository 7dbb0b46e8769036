//! Small tools as Android's toybox and mksh builtins print them: `echo`, `cat`, `id`,
//! `whoami`, `sleep`, `which`, `pwd`, `uname`, `df`. (`ls`/`stat` are in `files`,
//! `rm`/`mkdir`/`chmod`/`touch`/`test` in `fileops`, `grep`/`head`/`tail`/`wc` in `text`.)

use std::time::Duration;

use super::Ctx;

/// mksh's `echo`: `-n`, `-e`, `-E`; backslash escapes are on by default.
pub fn echo(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let mut newline = true;
    let mut escapes = true;
    let mut i = 1;
    while let Some(a) = argv.get(i) {
        if a.len() < 2
            || !a.starts_with('-')
            || !a[1..].chars().all(|c| matches!(c, 'n' | 'e' | 'E'))
        {
            break;
        }
        for c in a[1..].chars() {
            match c {
                'n' => newline = false,
                'e' => escapes = true,
                _ => escapes = false,
            }
        }
        i += 1;
    }
    let text = argv[i.min(argv.len())..].join(" ");
    if !escapes {
        ctx.out.out(&text);
    } else {
        let (expanded, stop) = unescape(&text);
        ctx.out.out(expanded);
        if stop {
            return 0;
        }
    }
    if newline {
        ctx.out.out("\n");
    }
    0
}

/// Expands echo's escapes; the flag is true after `\c`.
fn unescape(s: &str) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            Some('n') => out.push(b'\n'),
            Some('t') => out.push(b'\t'),
            Some('r') => out.push(b'\r'),
            Some('a') => out.push(7),
            Some('b') => out.push(8),
            Some('f') => out.push(12),
            Some('v') => out.push(11),
            Some('\\') => out.push(b'\\'),
            Some('c') => return (out, true),
            Some('0') => {
                let mut v: u32 = 0;
                for _ in 0..3 {
                    match chars.peek().and_then(|c| c.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            chars.next();
                        }
                        None => break,
                    }
                }
                out.push((v & 0xff) as u8);
            }
            Some(other) => {
                out.push(b'\\');
                let mut buf = [0u8; 4];
                out.extend_from_slice(other.encode_utf8(&mut buf).as_bytes());
            }
            None => out.push(b'\\'),
        }
    }
    (out, false)
}

/// `cat [FILE|-]…` (stdin without arguments).
pub fn cat(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let files: Vec<&String> = argv[1..]
        .iter()
        .filter(|a| a.as_str() == "-" || !a.starts_with('-'))
        .collect();
    if files.is_empty() {
        let mut buf = Vec::new();
        let _ = ctx.stdin.read_to_end(&mut buf);
        ctx.out.out(buf);
        return 0;
    }
    let mut status = 0;
    for f in files {
        if f == "-" {
            let mut buf = Vec::new();
            let _ = ctx.stdin.read_to_end(&mut buf);
            ctx.out.out(buf);
            continue;
        }
        let path = ctx.path(f);
        match ctx.phone.fs().read(&path) {
            Ok(data) => ctx.out.out(data),
            Err(e) => {
                ctx.errln(format!("cat: {f}: {}", e.message()));
                status = 1;
            }
        }
    }
    status
}

/// `id`.
pub fn id(ctx: &mut Ctx<'_>, _argv: &[String]) -> u8 {
    let line = ctx.version().shell_id();
    ctx.outln(line);
    0
}

/// `whoami`.
pub fn whoami(ctx: &mut Ctx<'_>, _argv: &[String]) -> u8 {
    ctx.outln("shell");
    0
}

/// `sleep SECONDS` (fractions allowed).
pub fn sleep(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let Some(arg) = argv.get(1) else {
        ctx.errln("sleep: Needs 1 argument (see \"sleep --help\")");
        return 1;
    };
    match arg.trim_end_matches('s').parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs >= 0.0 => {
            std::thread::sleep(Duration::from_secs_f64(secs.min(86_400.0)));
            0
        }
        _ => {
            ctx.errln(format!("sleep: Not a number '{arg}'"));
            1
        }
    }
}

/// `which NAME…`.
pub fn which(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let mut status = 0;
    for name in &argv[1..] {
        if super::is_system_binary(name) || name == "sh" {
            ctx.outln(format!("/system/bin/{name}"));
        } else if name.contains('/')
            && ctx
                .phone
                .fs()
                .stat(&ctx.path(name))
                .is_ok_and(|s| s.mode & 0o111 != 0)
        {
            ctx.outln(name);
        } else {
            status = 1;
        }
    }
    status
}

/// `pwd`.
pub fn pwd(ctx: &mut Ctx<'_>, _argv: &[String]) -> u8 {
    let cwd = ctx.cwd.to_string();
    ctx.outln(cwd);
    0
}

/// `uname [-a|-r|-m|-s]`.
pub fn uname(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let arch = if ctx.phone.config().abi.starts_with("x86") {
        "x86_64"
    } else {
        "aarch64"
    };
    let kernel = if ctx.version().0 >= 14 {
        "5.10.198-android13-4-gd3a3b4c6b1d0"
    } else {
        "4.19.157-g5c3f2c0a8b49"
    };
    let line = match argv.get(1).map(String::as_str) {
        Some("-a") => format!(
            "Linux localhost {kernel} #1 SMP PREEMPT Mon Jan 1 00:00:00 UTC 2024 {arch} Toybox"
        ),
        Some("-r") => kernel.to_string(),
        Some("-m") => arch.to_string(),
        _ => "Linux".to_string(),
    };
    ctx.outln(line);
    0
}

/// Size of the simulated `/data` partition, in 1K blocks (a 128 GB phone).
const DATA_BLOCKS: u64 = 115_249_236;

/// toybox `df [-k] [PATH…]`: one line for `/data` (what corral asks about), sized from the
/// phone's free storage. Other paths print the same partition, as `/data/local/tmp` would.
pub fn df(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let free_kb = ctx.phone.read(|s| s.free_storage_bytes) / 1024;
    let total = DATA_BLOCKS.max(free_kb);
    let used = total - free_kb;
    let percent = (used * 100).div_ceil(total.max(1));
    ctx.outln("Filesystem       1K-blocks    Used Available Use% Mounted on");
    let paths = argv[1..]
        .iter()
        .filter(|a| !a.starts_with('-'))
        .count()
        .max(1);
    for _ in 0..paths {
        ctx.outln(format!(
            "/dev/block/dm-46 {total:>9} {used:>7} {free_kb:>9} {percent:>3}% /data"
        ));
    }
    0
}
