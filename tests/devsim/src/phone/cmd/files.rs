//! toybox `ls` (`-l`, `-a`, `-d`, `-1`) and `stat` (default format and `-c`) over the
//! phone's file system. Output is not a terminal, so `ls` prints one name per line.
//! Owners are Android's: `shell` under `/data/local/tmp`, `root` elsewhere; times are
//! UTC (`persist.sys.timezone` is `Etc/UTC`).

use super::Ctx;
use crate::phone::fs::{FileStat, S_IFDIR, S_IFMT};

/// Directories the shell user may not list.
const UNREADABLE: &[&str] = &[
    "/data",
    "/data/local",
    "/data/data",
    "/data/app",
    "/data/system",
];

fn owner(path: &str) -> (u32, &'static str, u32, &'static str) {
    if path == "/data/local/tmp" || path.starts_with("/data/local/tmp/") {
        (2000, "shell", 2000, "shell")
    } else if path == "/data" {
        (1000, "system", 1000, "system")
    } else if path.starts_with("/sdcard") {
        (0, "root", 1015, "sdcard_rw")
    } else {
        (0, "root", 0, "root")
    }
}

/// `drwxrwx--x`-style mode string.
pub fn mode_string(mode: u32) -> String {
    let kind = match mode & S_IFMT {
        S_IFDIR => 'd',
        0o120000 => 'l',
        0o020000 => 'c',
        0o060000 => 'b',
        0o010000 => 'p',
        0o140000 => 's',
        _ => '-',
    };
    let mut s = String::from(kind);
    for (shift, special, on, off) in [
        (6, 0o4000, 's', 'S'),
        (3, 0o2000, 's', 'S'),
        (0, 0o1000, 't', 'T'),
    ] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(match (bits & 1 != 0, mode & special != 0) {
            (true, true) => on,
            (false, true) => off,
            (true, false) => 'x',
            (false, false) => '-',
        });
    }
    s
}

/// `(year, month, day, hour, minute, second)` of a Unix time, UTC.
pub fn civil(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        month,
        day,
        (rem / 3600) as u32,
        (rem % 3600 / 60) as u32,
        (rem % 60) as u32,
    )
}

fn ls_date(secs: i64) -> String {
    let (y, mo, d, h, mi, _) = civil(secs);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}")
}

fn stat_date(secs: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(secs);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.000000000 +0000")
}

fn shown_size(st: &FileStat) -> u64 {
    if st.is_dir() { 4096 } else { st.size }
}

fn blocks(st: &FileStat) -> u64 {
    shown_size(st).div_ceil(4096) * 8
}

/// `ls [-l] [-a] [-d] [-1] [PATH…]`.
pub fn ls(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let (mut long, mut all, mut dir_only) = (false, false, false);
    let mut targets = Vec::new();
    for a in &argv[1..] {
        if a.starts_with('-') && a.len() > 1 {
            for c in a[1..].chars() {
                match c {
                    'l' => long = true,
                    'a' | 'A' => all = true,
                    'd' => dir_only = true,
                    '1' | 'h' | 'n' | 'Z' | 'S' | 't' | 'r' => {}
                    other => {
                        ctx.errln(format!("ls: Unknown option '{other}' (see \"ls --help\")"));
                        return 1;
                    }
                }
            }
        } else {
            targets.push(a.clone());
        }
    }
    if targets.is_empty() {
        targets.push(".".into());
    }
    let fs = ctx.phone.fs().clone();
    let mut status = 0;
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for t in &targets {
        let path = ctx.path(t);
        match fs.stat(&path) {
            Ok(st) if st.is_dir() && !dir_only => dirs.push((t.clone(), path)),
            Ok(st) => files.push((t.clone(), path, st)),
            Err(e) => {
                ctx.errln(format!("ls: {t}: {}", e.message()));
                status = 1;
            }
        }
    }
    if !files.is_empty() {
        let entries: Vec<(String, String, FileStat)> = files.clone();
        print_entries(ctx, &entries, long, false);
    }
    let show_headers = targets.len() > 1;
    for (i, (name, path)) in dirs.iter().enumerate() {
        if show_headers {
            if i > 0 || !files.is_empty() {
                ctx.outln("");
            }
            ctx.outln(format!("{name}:"));
        }
        if UNREADABLE.contains(&path.as_str()) {
            ctx.errln(format!("ls: {name}: Permission denied"));
            status = 1;
            continue;
        }
        let mut entries = Vec::new();
        if all {
            if let Ok(st) = fs.stat(path) {
                entries.push((".".to_string(), path.clone(), st));
            }
            let parent = crate::phone::shell::expand::resolve(path, "..");
            if let Ok(st) = fs.stat(&parent) {
                entries.push(("..".to_string(), parent, st));
            }
        }
        match fs.list(path) {
            Ok(list) => {
                for (n, st) in list {
                    if all || !n.starts_with('.') {
                        let child = crate::phone::shell::expand::resolve(path, &n);
                        entries.push((n, child, st));
                    }
                }
            }
            Err(e) => {
                ctx.errln(format!("ls: {name}: {}", e.message()));
                status = 1;
                continue;
            }
        }
        print_entries(ctx, &entries, long, true);
    }
    status
}

fn print_entries(
    ctx: &mut Ctx<'_>,
    entries: &[(String, String, FileStat)],
    long: bool,
    total: bool,
) {
    if !long {
        for (n, _, _) in entries {
            ctx.outln(n);
        }
        return;
    }
    if total {
        let sum: u64 = entries.iter().map(|(_, _, st)| blocks(st) / 2).sum();
        ctx.outln(format!("total {sum}"));
    }
    let rows: Vec<[String; 7]> = entries
        .iter()
        .map(|(n, path, st)| {
            let (_, user, _, group) = owner(path);
            [
                mode_string(st.mode),
                st.nlink.to_string(),
                user.to_string(),
                group.to_string(),
                shown_size(st).to_string(),
                ls_date(st.mtime),
                n.clone(),
            ]
        })
        .collect();
    let width = |i: usize| rows.iter().map(|r| r[i].len()).max().unwrap_or(0);
    let (wl, wu, wg, ws) = (width(1), width(2), width(3), width(4));
    for r in rows {
        ctx.outln(format!(
            "{} {:>wl$} {:<wu$} {:<wg$} {:>ws$} {} {}",
            r[0], r[1], r[2], r[3], r[4], r[5], r[6]
        ));
    }
}

/// `stat [-c FORMAT] PATH…`.
pub fn stat(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let mut format = None;
    let mut paths = Vec::new();
    let mut it = argv[1..].iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-c" => format = it.next().cloned(),
            "-L" | "-t" => {}
            other if other.starts_with("--format=") => {
                format = Some(other["--format=".len()..].to_string())
            }
            _ => paths.push(a.clone()),
        }
    }
    if paths.is_empty() {
        ctx.errln("stat: Needs 1 argument (see \"stat --help\")");
        return 1;
    }
    let default = "  File: %N\n  Size: %s\t Blocks: %b\t IO Blocks: %B\t%F\nDevice: %Dh/%dd\t Inode: %i\t Links: %h\t Device type: %t,%T\nAccess: (0%a/%A)\tUid: (%5u/%8U)\tGid: (%5g/%8G)\nAccess: %x\nModify: %y\nChange: %z";
    let mut status = 0;
    for p in paths {
        let path = ctx.path(&p);
        let st = match ctx.phone.fs().stat(&path) {
            Ok(st) => st,
            Err(e) => {
                ctx.errln(format!("stat: '{p}': {}", e.message()));
                status = 1;
                continue;
            }
        };
        let fmt = format.clone().unwrap_or_else(|| default.to_string());
        let text = render_stat(&fmt, &p, &path, &st);
        ctx.outln(text);
    }
    status
}

fn render_stat(fmt: &str, name: &str, path: &str, st: &FileStat) -> String {
    let (uid, user, gid, group) = owner(path);
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        // Optional width like %5u / %8U.
        let mut width = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            width.push(*d);
            chars.next();
        }
        let w: usize = width.parse().unwrap_or(0);
        let value = match chars.next() {
            Some('a') => format!("{:o}", st.mode & 0o7777),
            Some('A') => mode_string(st.mode),
            Some('b') => blocks(st).to_string(),
            Some('B') => "512".into(),
            Some('d') => "64773".into(),
            Some('D') => "fd05".into(),
            Some('f') => format!("{:x}", st.mode),
            Some('F') => match (st.is_dir(), st.size) {
                (true, _) => "directory".into(),
                (false, 0) => "regular empty file".into(),
                _ => "regular file".into(),
            },
            Some('g') => gid.to_string(),
            Some('G') => group.into(),
            Some('h') => st.nlink.to_string(),
            Some('i') => st.ino.to_string(),
            Some('n') | Some('N') => name.into(),
            Some('o') => "4096".into(),
            Some('s') => shown_size(st).to_string(),
            Some('t') | Some('T') => "0".into(),
            Some('u') => uid.to_string(),
            Some('U') => user.into(),
            Some('x') => stat_date(st.atime),
            Some('X') => st.atime.to_string(),
            Some('y') => stat_date(st.mtime),
            Some('Y') => st.mtime.to_string(),
            Some('z') => stat_date(st.ctime),
            Some('Z') => st.ctime.to_string(),
            Some('%') => "%".into(),
            Some(other) => format!("?{other}"),
            None => "%".into(),
        };
        out.push_str(&format!("{value:>w$}"));
    }
    out
}
