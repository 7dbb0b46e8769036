//! Text filters for pipelines: `grep` (basic and `-E` regular expressions, see
//! [`super::regex`]), `head`, `tail` and `wc`.

use super::Ctx;
use super::regex::Pattern;

fn input_lines(ctx: &mut Ctx<'_>, files: &[String], tool: &str) -> (Vec<String>, u8) {
    let mut text = Vec::new();
    let mut status = 0;
    if files.is_empty() {
        let _ = ctx.stdin.read_to_end(&mut text);
    }
    for f in files {
        match ctx.phone.fs().read(&ctx.path(f)) {
            Ok(d) => text.extend(d),
            Err(e) => {
                ctx.errln(format!("{tool}: {f}: {}", e.message()));
                status = 2;
            }
        }
    }
    let s = String::from_utf8_lossy(&text).into_owned();
    (s.lines().map(str::to_string).collect(), status)
}

/// `grep [-i] [-v] [-q] [-c] [-E] [-F] [-e PATTERN] PATTERN [FILE…]`.
pub fn grep(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let (mut ic, mut invert, mut quiet, mut count, mut ext, mut fixed) =
        (false, false, false, false, false, false);
    let mut pattern = None;
    let mut files = Vec::new();
    let mut it = argv[1..].iter();
    while let Some(a) = it.next() {
        if a == "-e" {
            pattern = it.next().cloned();
        } else if a.starts_with('-') && a.len() > 1 && pattern.is_none() && !a.starts_with("--") {
            for c in a[1..].chars() {
                match c {
                    'i' => ic = true,
                    'v' => invert = true,
                    'q' | 's' => quiet |= c == 'q',
                    'c' => count = true,
                    'E' => ext = true,
                    'F' => fixed = true,
                    _ => {}
                }
            }
        } else if pattern.is_none() {
            pattern = Some(a.clone());
        } else {
            files.push(a.clone());
        }
    }
    let Some(pattern) = pattern else {
        ctx.errln("grep: Needs 1 argument (see \"grep --help\")");
        return 2;
    };
    let pat = if fixed {
        Pattern::new(&pattern, ext, fixed, ic)
    } else {
        match Pattern::compile(&pattern, ext, ic) {
            Ok(p) => p,
            Err(e) => {
                ctx.errln(format!("grep: bad REGEX '{pattern}': {e}"));
                return 2;
            }
        }
    };
    let (lines, status) = input_lines(ctx, &files, "grep");
    let hits: Vec<&String> = lines.iter().filter(|l| pat.matches(l) != invert).collect();
    if count {
        ctx.outln(hits.len().to_string());
    } else if !quiet {
        for h in &hits {
            ctx.outln(h.as_str());
        }
    }
    if status != 0 {
        status
    } else {
        u8::from(hits.is_empty())
    }
}

/// `head [-n N | -N] [FILE…]`.
pub fn head(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let mut n = 10usize;
    let mut files = Vec::new();
    let mut it = argv[1..].iter();
    while let Some(a) = it.next() {
        if a == "-n" {
            n = it.next().and_then(|v| v.parse().ok()).unwrap_or(10);
        } else if let Some(num) = a.strip_prefix('-').and_then(|v| v.parse().ok()) {
            n = num;
        } else {
            files.push(a.clone());
        }
    }
    let (lines, status) = input_lines(ctx, &files, "head");
    for l in lines.into_iter().take(n) {
        ctx.outln(l);
    }
    u8::from(status != 0)
}

/// `tail [-n N | -N] [FILE…]`.
pub fn tail(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let mut n = 10usize;
    let mut files = Vec::new();
    let mut it = argv[1..].iter();
    while let Some(a) = it.next() {
        if a == "-n" {
            n = it.next().and_then(|v| v.parse().ok()).unwrap_or(10);
        } else if let Some(num) = a.strip_prefix('-').and_then(|v| v.parse().ok()) {
            n = num;
        } else {
            files.push(a.clone());
        }
    }
    let (lines, status) = input_lines(ctx, &files, "tail");
    let skip = lines.len().saturating_sub(n);
    for l in lines.into_iter().skip(skip) {
        ctx.outln(l);
    }
    u8::from(status != 0)
}

/// `wc [-l] [-w] [-c]` on stdin.
pub fn wc(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let mut data = Vec::new();
    let _ = ctx.stdin.read_to_end(&mut data);
    let text = String::from_utf8_lossy(&data);
    let lines = data.iter().filter(|b| **b == b'\n').count();
    let words = text.split_whitespace().count();
    let flags: String = argv[1..]
        .iter()
        .filter(|a| a.starts_with('-'))
        .flat_map(|a| a.chars().skip(1))
        .collect();
    let mut parts = Vec::new();
    if flags.is_empty() || flags.contains('l') {
        parts.push(lines.to_string());
    }
    if flags.is_empty() || flags.contains('w') {
        parts.push(words.to_string());
    }
    if flags.is_empty() || flags.contains('c') {
        parts.push(data.len().to_string());
    }
    let line = if parts.len() == 1 {
        parts.remove(0)
    } else {
        parts
            .iter()
            .map(|p| format!("{p:>7}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    ctx.outln(line);
    0
}
