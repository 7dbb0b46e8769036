//! toybox `tr [-cdsC] SET1 [SET2]`: translate, delete and squeeze bytes. Sets take
//! ranges (`a-z`), classes (`[:digit:]`), `[=c=]`, repeats (`[c*N]`, `[c*]` in SET2) and
//! backslash escapes (`\n`, `\t`, `\\`, octal `\NNN`). SET2 shorter than SET1 repeats its
//! last byte.

use super::{Ctx, toybox};

fn class(name: &str) -> Option<Vec<u8>> {
    let pick = |f: fn(&u8) -> bool| (0..=255u8).filter(f).collect::<Vec<u8>>();
    Some(match name {
        "alpha" => pick(u8::is_ascii_alphabetic),
        "digit" => pick(u8::is_ascii_digit),
        "alnum" => pick(u8::is_ascii_alphanumeric),
        "upper" => pick(u8::is_ascii_uppercase),
        "lower" => pick(u8::is_ascii_lowercase),
        "space" => pick(|b| b" \t\n\r\x0b\x0c".contains(b)),
        "blank" => pick(|b| *b == b' ' || *b == b'\t'),
        "punct" => pick(u8::is_ascii_punctuation),
        "print" => pick(|b| (b' '..=b'~').contains(b)),
        "graph" => pick(u8::is_ascii_graphic),
        "cntrl" => pick(u8::is_ascii_control),
        "xdigit" => pick(u8::is_ascii_hexdigit),
        _ => return None,
    })
}

/// One byte of a set, resolving a backslash escape; advances `i`.
fn byte_at(s: &[u8], i: &mut usize) -> u8 {
    let b = s[*i];
    *i += 1;
    if b != b'\\' || *i >= s.len() {
        return b;
    }
    let e = s[*i];
    *i += 1;
    match e {
        b'n' => b'\n',
        b't' => b'\t',
        b'r' => b'\r',
        b'a' => 7,
        b'b' => 8,
        b'f' => 12,
        b'v' => 11,
        b'0'..=b'7' => {
            let mut v = u32::from(e - b'0');
            for _ in 0..2 {
                match s.get(*i) {
                    Some(d @ b'0'..=b'7') => {
                        v = v * 8 + u32::from(d - b'0');
                        *i += 1;
                    }
                    _ => break,
                }
            }
            (v & 0xff) as u8
        }
        other => other,
    }
}

/// The position of `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A `[c*N]` repeat count (`N` decimal, octal with a leading 0, empty: fill).
fn repeat_count(digits: &[u8], fill: Option<usize>, have: usize) -> Result<usize, String> {
    let text = String::from_utf8_lossy(digits);
    if digits.is_empty() {
        return Ok(fill.map(|f| f.saturating_sub(have)).unwrap_or(0));
    }
    let parsed = match text.strip_prefix('0') {
        Some(oct) => usize::from_str_radix(if oct.is_empty() { "0" } else { oct }, 8),
        None => text.parse(),
    };
    parsed.map_err(|_| format!("bad repeat '{text}'"))
}

/// Expands a set; `fill` is SET1's length for a `[c*]` in SET2.
fn expand(set: &str, fill: Option<usize>) -> Result<Vec<u8>, String> {
    let s = set.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let rest = &s[i..];
        if let Some(body) = rest.strip_prefix(b"[:")
            && let Some(end) = find(body, b":]")
        {
            let name = String::from_utf8_lossy(&body[..end]).into_owned();
            out.extend(class(&name).ok_or_else(|| format!("bad class '{name}'"))?);
            i += end + 4;
            continue;
        }
        if rest.len() >= 5 && rest[0] == b'[' && rest[1] == b'=' && &rest[3..5] == b"=]" {
            out.push(rest[2]);
            i += 5;
            continue;
        }
        if rest.first() == Some(&b'[') && rest.len() > 1 {
            let mut j = i + 1;
            let c = byte_at(s, &mut j);
            if s.get(j) == Some(&b'*')
                && let Some(close) = s[j..].iter().position(|b| *b == b']')
            {
                let n = repeat_count(&s[j + 1..j + close], fill, out.len())?;
                out.extend(std::iter::repeat_n(c, n.min(1 << 16)));
                i = j + close + 1;
                continue;
            }
        }
        let lo = byte_at(s, &mut i);
        if s.get(i) == Some(&b'-') && i + 1 < s.len() {
            let mut j = i + 1;
            let hi = byte_at(s, &mut j);
            if hi < lo {
                return Err(format!(
                    "range '{}-{}' out of order",
                    char::from(lo),
                    char::from(hi)
                ));
            }
            out.extend(lo..=hi);
            i = j;
        } else {
            out.push(lo);
        }
    }
    Ok(out)
}

/// `tr [-cdsC] SET1 [SET2]`.
pub fn tr(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let o = match toybox::parse(argv, "cdsC", "", true) {
        Ok(o) => o,
        Err(e) => {
            ctx.errln(format!("tr: {e}"));
            return 1;
        }
    };
    let hint = " (see \"tr --help\")";
    match o.args.len() {
        0 => {
            ctx.errln(format!("tr: Needs 1 argument{hint}"));
            return 1;
        }
        1 if !o.has('d') && !o.has('s') => {
            ctx.errln(format!("tr: Needs 2 arguments{hint}"));
            return 1;
        }
        n if n > 2 => {
            ctx.errln(format!("tr: Max 2 arguments{hint}"));
            return 1;
        }
        _ => {}
    }
    let mut set1 = match expand(&o.args[0], None) {
        Ok(s) => s,
        Err(e) => {
            ctx.errln(format!("tr: {e}"));
            return 1;
        }
    };
    if o.has('c') || o.has('C') {
        set1 = (0..=255u8).filter(|b| !set1.contains(b)).collect();
    }
    let set2 = match o.args.get(1).map(|s| expand(s, Some(set1.len()))) {
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => {
            ctx.errln(format!("tr: {e}"));
            return 1;
        }
        None => None,
    };
    let mut map: Vec<u8> = (0..=255u8).collect();
    let mut delete = [false; 256];
    let mut squeeze = [false; 256];
    if o.has('d') {
        for b in &set1 {
            delete[usize::from(*b)] = true;
        }
    } else if let Some(s2) = set2.as_ref().filter(|s| !s.is_empty()) {
        for (i, b) in set1.iter().enumerate() {
            map[usize::from(*b)] = s2[i.min(s2.len() - 1)];
        }
    }
    if o.has('s') {
        let last = if o.has('d') || set2.is_some() {
            set2.as_deref().unwrap_or(&[])
        } else {
            &set1[..]
        };
        for b in last {
            squeeze[usize::from(*b)] = true;
        }
    }
    let mut data = Vec::new();
    let _ = ctx.stdin.read_to_end(&mut data);
    let mut out: Vec<u8> = Vec::with_capacity(data.len());
    for b in data {
        if delete[usize::from(b)] {
            continue;
        }
        let m = map[usize::from(b)];
        if squeeze[usize::from(m)] && out.last() == Some(&m) {
            continue;
        }
        out.push(m);
    }
    ctx.out.out(out);
    0
}
