//! toybox `cut`: `-b`, `-c`, `-f` (and `-F` regex fields) with comma lists of `N`, `N-M`,
//! `N-`, `-M`; `-d`, `-O`, `-s`, `-D`. Selections are sorted and merged unless `-D`, and a
//! line without the delimiter is printed whole (POSIX), as toybox's `cut_line` does.

use super::regex::Pattern;
use super::{Ctx, toybox};

/// toybox's `get_range`: `Ok((start, end))` (`end` `u32::MAX` for open) or the offset
/// of the bad character.
fn get_range(s: &[u8]) -> Result<(u32, u32), usize> {
    let mut pairs = [0u32, u32::MAX];
    let mut end = 0;
    let mut i = 0;
    loop {
        if i == 2 {
            return Err(end);
        }
        if s.get(end).is_some_and(u8::is_ascii_digit) {
            let digits = s[end..].iter().take_while(|b| b.is_ascii_digit()).count();
            let n: Option<u32> = std::str::from_utf8(&s[end..end + digits])
                .ok()
                .and_then(|d| d.parse().ok());
            end += digits;
            match n {
                Some(n) if n >= 1 => pairs[i] = n,
                _ => return Err(end),
            }
        }
        let dash = s.get(end) == Some(&b'-');
        end += 1;
        if !dash {
            break;
        }
        i += 1;
    }
    if i == 0 {
        pairs[1] = pairs[0];
    }
    if end < s.len() {
        return Err(end);
    }
    if pairs[0] > pairs[1] || s.is_empty() {
        return Err(0);
    }
    Ok((pairs[0], pairs[1]))
}

enum Mode {
    Bytes,
    Chars,
    Fields(Vec<u8>),
    Regex(Pattern),
}

/// `cut [-Ds] [-bcfF LIST] [-dO DELIM] [FILE…]`.
pub fn cut(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let o = match toybox::parse(argv, "Dsn", "bcfFCdO", false) {
        Ok(o) => o,
        Err(e) => {
            ctx.errln(format!("cut: {e}"));
            return 1;
        }
    };
    let fields = o.has('f') || o.has('F');
    if o.has('s') && !fields {
        ctx.errln("cut: -s needs -Ff");
        return 1;
    }
    if o.has('d') && !fields {
        ctx.errln("cut: -d needs -Ff");
        return 1;
    }
    let delim = o.last('d').map(str::to_string).unwrap_or_else(|| {
        if o.has('F') {
            "[[:space:]][[:space:]]*"
        } else {
            "\t"
        }
        .into()
    });
    let mode = if o.has('b') {
        Mode::Bytes
    } else if o.has('c') || o.has('C') {
        Mode::Chars
    } else if o.has('F') {
        match Pattern::compile(&delim, true, false) {
            Ok(p) => Mode::Regex(p),
            Err(e) => {
                ctx.errln(format!("cut: bad regex '{delim}': {e}"));
                return 1;
            }
        }
    } else {
        Mode::Fields(delim.clone().into_bytes())
    };
    let out_delim = o.last('O').map(str::to_string).or_else(|| {
        if o.has('F') {
            Some(" ".into())
        } else if o.has('f') {
            Some(delim.clone())
        } else {
            None
        }
    });
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    for c in ['C', 'F', 'f', 'c', 'b'] {
        for list in o.all(c) {
            let bytes = list.as_bytes();
            let mut offset = 0;
            for item in bytes.split(|b| *b == b',') {
                if offset >= bytes.len() {
                    break;
                }
                match get_range(item) {
                    Ok(p) => pairs.push(p),
                    Err(at) => {
                        let width = 5 + 3 + 6 + offset + at;
                        ctx.errln(format!("cut: bad -{c} '{list}'\n{:>width$}", "^"));
                        return 1;
                    }
                }
                offset += item.len() + 1;
            }
        }
    }
    if pairs.is_empty() {
        ctx.errln("cut: no selections");
        return 1;
    }
    if !o.has('D') {
        pairs.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::new();
        for (s, e) in pairs {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        pairs = merged;
    }
    let (inputs, failed) = toybox::read_inputs(ctx, "cut", &o.args);
    for (_, data) in inputs {
        for line in data.split_inclusive(|b| *b == b'\n') {
            let line = line.strip_suffix(b"\n").unwrap_or(line);
            let cut = cut_line(line, &pairs, &mode, out_delim.as_deref(), &o);
            if let Some(bytes) = cut {
                ctx.out.out(bytes);
                ctx.out.out("\n");
            }
        }
    }
    u8::from(failed)
}

/// One line's output (`None`: skipped by `-s`).
fn cut_line(
    line: &[u8],
    pairs: &[(u32, u32)],
    mode: &Mode,
    out_delim: Option<&str>,
    o: &toybox::Opts,
) -> Option<Vec<u8>> {
    let len = line.len();
    let mut out = Vec::new();
    for (i, &(start, end)) in pairs.iter().enumerate() {
        let start = start.saturating_sub(1) as usize;
        if start >= len {
            continue;
        }
        let end = if end as usize > len {
            len
        } else {
            end as usize
        };
        let count = end.saturating_sub(start);
        let piece: &[u8] = match mode {
            Mode::Bytes => &line[start..end.max(start)],
            Mode::Chars => {
                let text = String::from_utf8_lossy(line);
                let chars: Vec<char> = text.chars().collect();
                if start >= chars.len() {
                    continue;
                }
                let s: String = chars[start..].iter().take(count).collect();
                if i > 0
                    && let Some(d) = out_delim
                {
                    out.extend_from_slice(d.as_bytes());
                }
                out.extend_from_slice(s.as_bytes());
                continue;
            }
            Mode::Fields(_) | Mode::Regex(_) => match field_span(line, start, count, mode) {
                Span::Whole => {
                    if o.has('D') {
                        break;
                    }
                    if o.has('s') {
                        return None;
                    }
                    out.extend_from_slice(line);
                    break;
                }
                Span::Past => continue,
                Span::At(from, to) => &line[from..to],
            },
        };
        if i > 0
            && let Some(d) = out_delim
        {
            out.extend_from_slice(d.as_bytes());
        }
        out.extend_from_slice(piece);
    }
    Some(out)
}

enum Span {
    /// No delimiter at all: the whole line.
    Whole,
    /// The line has fewer fields.
    Past,
    At(usize, usize),
}

/// The next delimiter at or after byte `from`: `(start, end)` in bytes.
fn next_delim(line: &[u8], from: usize, mode: &Mode) -> Option<(usize, usize)> {
    match mode {
        Mode::Fields(d) => line[from..]
            .iter()
            .position(|c| d.contains(c))
            .map(|p| (from + p, from + p + 1)),
        Mode::Regex(re) => {
            let text: Vec<char> = String::from_utf8_lossy(&line[from..]).chars().collect();
            let (so, eo) = re.find_at(&text, 0)?.first().copied().flatten()?;
            // Offsets in the lossily decoded text; clamped in case invalid UTF-8 grew.
            let byte = |k: usize| text[..k].iter().map(|c| c.len_utf8()).sum::<usize>();
            let len = line.len();
            Some(((from + byte(so)).min(len), (from + byte(eo)).min(len)))
        }
        _ => None,
    }
}

/// Where fields `start+1 ..= start+count` are: toybox's two passes, the first skipping
/// `start` delimiters, the second `count` more and stopping before the last one.
fn field_span(line: &[u8], start: usize, count: usize, mode: &Mode) -> Span {
    let len = line.len();
    let mut s = 0;
    let mut ss = 0;
    let mut remaining = start;
    for pass in 0..2 {
        ss = s;
        if pass == 1 {
            remaining = count;
        }
        while ss < len && remaining > 0 {
            let Some((so, eo)) = next_delim(line, ss, mode) else {
                ss = len;
                continue;
            };
            if eo == ss && matches!(mode, Mode::Regex(_)) {
                break;
            }
            remaining -= 1;
            ss = if remaining == 0 && pass == 1 { so } else { eo };
        }
        if pass == 0 {
            s = ss;
            if s >= len {
                return if remaining == start {
                    Span::Whole
                } else {
                    Span::Past
                };
            }
        }
    }
    Span::At(s, ss.max(s))
}
