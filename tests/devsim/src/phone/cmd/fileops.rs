//! toybox file tools: `rm`, `mkdir`, `chmod` (octal and symbolic modes), `touch`.
//! (`test`/`[` is mksh's builtin, in `test`.)

use super::Ctx;
use crate::phone::fs::errno;

/// `rm [-f] [-r|-R] PATH…`.
pub fn rm(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let (mut force, mut recursive) = (false, false);
    let mut paths = Vec::new();
    for a in &argv[1..] {
        if a.starts_with('-') && a.len() > 1 && paths.is_empty() {
            force |= a.contains('f');
            recursive |= a.contains('r') || a.contains('R');
        } else {
            paths.push(a.clone());
        }
    }
    if paths.is_empty() && !force {
        ctx.errln("rm: Needs 1 argument (see \"rm --help\")");
        return 1;
    }
    let mut status = 0;
    for p in paths {
        let path = ctx.path(&p);
        match ctx.phone.fs().remove(&path, recursive) {
            Ok(()) => {}
            Err(e) if e.errno == errno::ENOENT && force => {}
            Err(e) if e.errno == errno::EISDIR => {
                ctx.errln(format!("rm: {p}: is a directory"));
                status = 1;
            }
            Err(e) => {
                ctx.errln(format!("rm: {p}: {}", e.message()));
                status = 1;
            }
        }
    }
    status
}

/// `mkdir [-p] [-m MODE] DIR…`.
pub fn mkdir(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let mut parents = false;
    let mut mode = None;
    let mut dirs = Vec::new();
    let mut it = argv[1..].iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-p" => parents = true,
            "-m" => mode = it.next().and_then(|m| u32::from_str_radix(m, 8).ok()),
            "-pm" => {
                parents = true;
                mode = it.next().and_then(|m| u32::from_str_radix(m, 8).ok());
            }
            _ => dirs.push(a.clone()),
        }
    }
    if dirs.is_empty() {
        ctx.errln("mkdir: Needs 1 argument (see \"mkdir --help\")");
        return 1;
    }
    let mut status = 0;
    for d in dirs {
        let path = ctx.path(&d);
        let result = ctx
            .phone
            .fs()
            .mkdir(&path, parents)
            .and_then(|()| match mode {
                Some(m) => ctx.phone.fs().chmod(&path, m),
                None => Ok(()),
            });
        if let Err(e) = result {
            ctx.errln(format!("mkdir: '{d}': {}", e.message()));
            status = 1;
        }
    }
    status
}

/// Applies a symbolic (`u+x,go-w`) or octal mode to `mode`.
pub fn apply_mode(spec: &str, mode: u32) -> Option<u32> {
    if !spec.is_empty() && spec.chars().all(|c| c.is_digit(8)) {
        return u32::from_str_radix(spec, 8).ok().filter(|m| *m <= 0o7777);
    }
    let mut mode = mode & 0o7777;
    for clause in spec.split(',') {
        let op_at = clause.find(['+', '-', '='])?;
        let (who, rest) = clause.split_at(op_at);
        let mut mask = 0;
        for c in who.chars() {
            mask |= match c {
                'u' => 0o4700,
                'g' => 0o2070,
                'o' => 0o1007,
                'a' => 0o7777,
                _ => return None,
            };
        }
        if who.is_empty() {
            mask = 0o7777;
        }
        let op = rest.chars().next()?;
        let mut bits = 0;
        for c in rest[1..].chars() {
            bits |= match c {
                'r' => 0o444,
                'w' => 0o222,
                'x' => 0o111,
                's' => 0o6000,
                't' => 0o1000,
                _ => return None,
            };
        }
        let bits = bits & mask;
        mode = match op {
            '+' => mode | bits,
            '-' => mode & !bits,
            _ => (mode & !(mask & 0o777)) | bits,
        };
    }
    Some(mode)
}

/// `chmod [-R] MODE PATH…`.
pub fn chmod(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let args: Vec<&String> = argv[1..].iter().filter(|a| a.as_str() != "-R").collect();
    let (Some(spec), files) = (args.first(), args.get(1..).unwrap_or_default()) else {
        ctx.errln("chmod: Needs 2 arguments (see \"chmod --help\")");
        return 1;
    };
    if files.is_empty() {
        ctx.errln("chmod: Needs 2 arguments (see \"chmod --help\")");
        return 1;
    }
    let mut status = 0;
    for f in files {
        let path = ctx.path(f);
        let st = match ctx.phone.fs().stat(&path) {
            Ok(st) => st,
            Err(e) => {
                ctx.errln(format!("chmod: {f}: {}", e.message()));
                status = 1;
                continue;
            }
        };
        let Some(mode) = apply_mode(spec, st.mode) else {
            ctx.errln(format!("chmod: bad mode '{spec}'"));
            return 1;
        };
        if let Err(e) = ctx.phone.fs().chmod(&path, mode) {
            ctx.errln(format!("chmod: chmod '{f}' to {mode:04o}: {}", e.message()));
            status = 1;
        }
    }
    status
}

/// `touch FILE…`.
pub fn touch(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let mut status = 0;
    for f in argv[1..].iter().filter(|a| !a.starts_with('-')) {
        let path = ctx.path(f);
        let fs = ctx.phone.fs();
        let result = match fs.read(&path) {
            Ok(data) => {
                let mode = fs.stat(&path).map(|s| s.mode & 0o7777).unwrap_or(0o666);
                fs.write(&path, mode, &data)
            }
            Err(_) => fs.write(&path, 0o666, b""),
        };
        if let Err(e) = result {
            ctx.errln(format!("touch: '{f}': {}", e.message()));
            status = 1;
        }
    }
    status
}
