//! toybox `sort` (`-n -r -u -f -b -s -t SEP -k POS1[,POS2]`) and `uniq` (`-c -d -u -i
//! -f N -s N -w N`), comparing bytes as the C locale does.

use std::cmp::Ordering;

use super::{Ctx, toybox};

/// A `-k` key: 1-based start field and char, end field and char (0: end of line).
#[derive(Debug, Clone, Copy)]
struct Key {
    start: (usize, usize),
    end: (usize, usize),
    numeric: bool,
    reverse: bool,
    fold: bool,
    blanks: bool,
}

fn parse_pos(s: &str) -> Option<(usize, usize, String)> {
    let split = s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len());
    let (pos, flags) = s.split_at(split);
    let (f, c) = match pos.split_once('.') {
        Some((f, c)) => (f.parse().ok()?, c.parse().ok()?),
        None => (pos.parse().ok()?, 0),
    };
    Some((f, c, flags.to_string()))
}

/// The fields of a line: separated by `sep`, or runs of blanks kept with the field after.
fn fields(line: &str, sep: Option<char>) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    match sep {
        Some(sep) => {
            let mut start = 0;
            for (i, c) in line.char_indices() {
                if c == sep {
                    out.push((start, i));
                    start = i + c.len_utf8();
                }
            }
            out.push((start, line.len()));
        }
        None => {
            let b = line.as_bytes();
            let mut i = 0;
            while i < b.len() {
                let start = i;
                while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
                    i += 1;
                }
                while i < b.len() && b[i] != b' ' && b[i] != b'\t' {
                    i += 1;
                }
                out.push((start, i));
            }
        }
    }
    out
}

fn key_text<'l>(line: &'l str, key: &Key, sep: Option<char>) -> &'l str {
    let f = fields(line, sep);
    let Some(&(fs, fe)) = f.get(key.start.0.saturating_sub(1)) else {
        return "";
    };
    let mut s = fs;
    if key.blanks {
        s += line[fs..fe].len() - line[fs..fe].trim_start().len();
    }
    s = (s + key.start.1.saturating_sub(1)).min(fe);
    let e = match key.end {
        (0, _) => line.len(),
        (ef, ec) => match f.get(ef - 1) {
            Some(&(a, b)) if ec == 0 => b.max(a),
            Some(&(a, b)) => (a + ec).min(b),
            None => line.len(),
        },
    };
    line.get(s..e.max(s)).unwrap_or("")
}

/// The leading number of `s` as toybox's `-n` reads it (none is 0).
fn number(s: &str) -> f64 {
    let t = s.trim_start();
    let end = t
        .char_indices()
        .take_while(|(i, c)| c.is_ascii_digit() || *c == '.' || (*i == 0 && *c == '-'))
        .map(|(i, c)| i + c.len_utf8())
        .last()
        .unwrap_or(0);
    t[..end].parse().unwrap_or(0.0)
}

fn compare(a: &str, b: &str, key: &Key) -> Ordering {
    let (a, b) = if key.blanks {
        (a.trim_start(), b.trim_start())
    } else {
        (a, b)
    };
    let ord = if key.numeric {
        number(a).partial_cmp(&number(b)).unwrap_or(Ordering::Equal)
    } else if key.fold {
        a.bytes()
            .map(|c| c.to_ascii_uppercase())
            .cmp(b.bytes().map(|c| c.to_ascii_uppercase()))
    } else {
        a.as_bytes().cmp(b.as_bytes())
    };
    if key.reverse { ord.reverse() } else { ord }
}

/// `sort [-bfnrsu] [-t SEP] [-k POS1[,POS2]]… [FILE…]`.
pub fn sort(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let o = match toybox::parse(argv, "bcfnrsuzgMVdi", "tkoST", false) {
        Ok(o) => o,
        Err(e) => {
            ctx.errln(format!("sort: {e}"));
            return 1;
        }
    };
    let global = Key {
        start: (1, 0),
        end: (0, 0),
        numeric: o.has('n') || o.has('g'),
        reverse: o.has('r'),
        fold: o.has('f'),
        blanks: o.has('b'),
    };
    let sep = match o.last('t') {
        Some(t) if t.chars().count() == 1 => t.chars().next(),
        Some(t) => {
            ctx.errln(format!("sort: bad -t '{t}'"));
            return 1;
        }
        None => None,
    };
    let mut keys = Vec::new();
    for k in o.all('k') {
        let (p1, p2) = k.split_once(',').unwrap_or((k, ""));
        let parsed = parse_pos(p1).and_then(|(f, c, fl)| {
            let (ef, ec, fl2) = if p2.is_empty() {
                (0, 0, String::new())
            } else {
                parse_pos(p2)?
            };
            (f > 0).then_some((f, c, ef, ec, format!("{fl}{fl2}")))
        });
        let Some((f, c, ef, ec, flags)) = parsed else {
            ctx.errln(format!("sort: bad -k '{k}'"));
            return 1;
        };
        let own = !flags.is_empty();
        keys.push(Key {
            start: (f, c),
            end: (ef, ec),
            numeric: if own {
                flags.contains('n')
            } else {
                global.numeric
            },
            reverse: if own {
                flags.contains('r')
            } else {
                global.reverse
            },
            fold: if own {
                flags.contains('f')
            } else {
                global.fold
            },
            blanks: if own {
                flags.contains('b')
            } else {
                global.blanks
            },
        });
    }
    let (inputs, failed) = toybox::read_inputs(ctx, "sort", &o.args);
    let mut lines: Vec<String> = inputs.iter().flat_map(|(_, d)| toybox::lines(d)).collect();
    let cmp = |a: &String, b: &String| -> Ordering {
        let mut ord = if keys.is_empty() {
            compare(a, b, &global)
        } else {
            keys.iter()
                .map(|k| compare(key_text(a, k, sep), key_text(b, k, sep), k))
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        };
        if ord.is_eq() && !o.has('s') && !o.has('u') {
            ord = a.as_bytes().cmp(b.as_bytes());
            if global.reverse {
                ord = ord.reverse();
            }
        }
        ord
    };
    lines.sort_by(cmp);
    if o.has('u') {
        lines.dedup_by(|b, a| cmp(a, b).is_eq());
    }
    for l in lines {
        ctx.outln(l);
    }
    u8::from(failed)
}

/// `uniq [-cdiu] [-f FIELDS] [-s CHARS] [-w MAXCHARS] [INFILE]`.
pub fn uniq(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let o = match toybox::parse(argv, "cdiuz", "fsw", false) {
        Ok(o) => o,
        Err(e) => {
            ctx.errln(format!("uniq: {e}"));
            return 1;
        }
    };
    let num = |c: char| o.last(c).and_then(|v| v.parse::<usize>().ok());
    let (skip_fields, skip_chars, width) = (num('f').unwrap_or(0), num('s').unwrap_or(0), num('w'));
    if o.args.len() > 2 {
        ctx.errln("uniq: Max 2 arguments (see \"uniq --help\")");
        return 1;
    }
    let (inputs, failed) = toybox::read_inputs(ctx, "uniq", &o.args[..o.args.len().min(1)]);
    if failed {
        return 1;
    }
    let key = |line: &str| -> String {
        let mut rest = line;
        for _ in 0..skip_fields {
            rest = rest.trim_start_matches([' ', '\t']);
            rest = rest.trim_start_matches(|c: char| c != ' ' && c != '\t');
        }
        let k: String = rest.chars().skip(skip_chars).collect();
        let k: String = match width {
            Some(w) => k.chars().take(w).collect(),
            None => k,
        };
        if o.has('i') { k.to_lowercase() } else { k }
    };
    let lines: Vec<String> = inputs.iter().flat_map(|(_, d)| toybox::lines(d)).collect();
    let mut groups: Vec<(String, usize)> = Vec::new();
    for l in lines {
        match groups.last_mut() {
            Some((first, n)) if key(first) == key(&l) => *n += 1,
            _ => groups.push((l, 1)),
        }
    }
    let mut out = String::new();
    for (line, n) in groups {
        if (o.has('d') && n < 2) || (o.has('u') && n > 1) {
            continue;
        }
        if o.has('c') {
            out.push_str(&format!("{n:7} "));
        }
        out.push_str(&line);
        out.push('\n');
    }
    match o.args.get(1) {
        Some(file) => {
            if let Err(e) = ctx.phone.fs().write(&ctx.path(file), 0o666, out.as_bytes()) {
                ctx.errln(format!("uniq: {file}: {}", e.message()));
                return 1;
            }
        }
        None => ctx.out.out(out),
    }
    0
}
