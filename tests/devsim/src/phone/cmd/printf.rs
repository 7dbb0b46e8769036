//! toybox `printf FORMAT [ARG…]`: C conversions `%c %s %b %d %i %o %u %x %X %e %E %f %g
//! %G` with flags, width and precision (`*` too), backslash escapes (`\n`, `\t`, `\\`,
//! `\NNN`, `\xHH`, `\c`), and the format reused while arguments remain.

use super::Ctx;

/// toybox's `handle_slash` after a backslash: the byte, or `None` for `\c` (stop).
fn slash(s: &[u8], i: &mut usize, posix: bool) -> Option<u8> {
    if s.get(*i) == Some(&b'c') {
        return None;
    }
    let start = *i;
    let mut base = 0;
    if s.get(*i) == Some(&b'x') {
        *i += 1;
        base = 16;
    } else {
        if posix && s.get(*i) == Some(&b'0') {
            *i += 1;
        }
        if s.get(*i).is_some_and(|c| (b'0'..=b'7').contains(c)) {
            base = 8;
        } else if *i != start {
            return Some(0);
        }
    }
    if base == 0 {
        let c = s.get(*i).copied();
        return Some(
            match c.and_then(|c| super::sed::parse::unescape(char::from(c))) {
                Some(u) => {
                    *i += 1;
                    u as u8
                }
                None => b'\\',
            },
        );
    }
    let mut len = if base == 8 { 3 } else { 2 };
    let mut value: u32 = 0;
    while len > 0 {
        let Some(d) = s.get(*i).and_then(|c| char::from(*c).to_digit(base)) else {
            break;
        };
        value = value * base + d;
        *i += 1;
        len -= 1;
    }
    Some((value & 0xff) as u8)
}

fn pad(body: String, width: usize, left: bool, zero: bool) -> String {
    let len = body.chars().count();
    if len >= width {
        return body;
    }
    let fill = width - len;
    if left {
        format!("{body}{}", " ".repeat(fill))
    } else if zero {
        let sign = body.starts_with(['-', '+', ' ']);
        let (head, tail) = body.split_at(usize::from(sign));
        format!("{head}{}{tail}", "0".repeat(fill))
    } else {
        format!("{}{body}", " ".repeat(fill))
    }
}

/// `strtoll(s, &end, 0)`: the value and whether all of `s` was used.
fn parse_int(s: &str) -> (i64, bool) {
    let t = s.trim_start();
    let (neg, body) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (radix, digits) = if let Some(h) = body.strip_prefix("0x").or(body.strip_prefix("0X")) {
        (16, h)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    let n = digits.chars().take_while(|c| c.is_digit(radix)).count();
    let v = i64::from_str_radix(&digits[..n], radix).unwrap_or(0);
    let whole = n == digits.len() && (n > 0 || radix == 8);
    (if neg { v.wrapping_neg() } else { v }, whole)
}

/// `printf FORMAT [ARGUMENT…]`.
pub fn printf(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let Some(format) = argv.get(1) else {
        ctx.errln("printf: Needs 1 argument (see \"printf --help\")");
        return 1;
    };
    let f = format.as_bytes();
    let mut args = argv[2..].iter();
    let mut out: Vec<u8> = Vec::new();
    let mut status = 0;
    loop {
        let mut seen = false;
        let mut i = 0;
        while i < f.len() {
            let c = f[i];
            i += 1;
            if c == b'\\' {
                match slash(f, &mut i, false) {
                    Some(b) => out.push(b),
                    None => {
                        ctx.out.out(out);
                        return status;
                    }
                }
                continue;
            }
            if c != b'%' || f.get(i) == Some(&b'%') {
                out.push(if c == b'%' { f[i] } else { c });
                i += usize::from(c == b'%');
                continue;
            }
            let mut flags = String::new();
            while let Some(&fl) = f.get(i).filter(|c| b"-+# '0".contains(c)) {
                flags.push(char::from(fl));
                i += 1;
            }
            let number = |i: &mut usize, args: &mut std::slice::Iter<'_, String>| {
                if f.get(*i) == Some(&b'*') {
                    *i += 1;
                    return args
                        .next()
                        .map_or(0, |a| parse_int(a).0.clamp(0, 1 << 16) as usize);
                }
                let n = f[*i..].iter().take_while(|c| c.is_ascii_digit()).count();
                let digits = String::from_utf8_lossy(&f[*i..*i + n]).into_owned();
                *i += n;
                digits.parse::<usize>().unwrap_or(0).min(1 << 16)
            };
            let width = number(&mut i, &mut args);
            let prec = if f.get(i) == Some(&b'.') {
                i += 1;
                Some(number(&mut i, &mut args))
            } else {
                None
            };
            let Some(&conv) = f.get(i) else {
                ctx.out.out(out);
                ctx.errln(format!("printf: bad %@{}", i + 1));
                return 1;
            };
            i += 1;
            seen = true;
            let arg = args.next().map(String::as_str).unwrap_or("");
            let left = flags.contains('-');
            let zero = flags.contains('0') && !left;
            let text = match conv {
                b'b' => {
                    let a = arg.as_bytes();
                    let mut j = 0;
                    while j < a.len() {
                        let b = a[j];
                        j += 1;
                        if b == b'\\' {
                            match slash(a, &mut j, true) {
                                Some(x) => out.push(x),
                                None => {
                                    ctx.out.out(out);
                                    return status;
                                }
                            }
                        } else {
                            out.push(b);
                        }
                    }
                    continue;
                }
                b'c' => pad(
                    arg.chars().next().map(String::from).unwrap_or_default(),
                    width,
                    left,
                    false,
                ),
                b's' => {
                    let s: String = match prec {
                        Some(p) => arg.chars().take(p).collect(),
                        None => arg.to_string(),
                    };
                    pad(s, width, left, false)
                }
                b'd' | b'i' | b'o' | b'u' | b'x' | b'X' => {
                    let (v, whole) = match arg.as_bytes() {
                        [b'\'' | b'"', c, ..] => (i64::from(*c), true),
                        _ => parse_int(arg),
                    };
                    if !whole && !arg.is_empty() {
                        status = 1;
                        ctx.errln(format!("printf: bad %{} {arg}", char::from(conv)));
                    }
                    let digits = match conv {
                        b'o' => format!("{:o}", v as u64),
                        b'u' => format!("{}", v as u64),
                        b'x' => format!("{:x}", v as u64),
                        b'X' => format!("{:X}", v as u64),
                        _ => v.unsigned_abs().to_string(),
                    };
                    let digits = match prec {
                        Some(p) if digits.len() < p => {
                            format!("{}{digits}", "0".repeat(p - digits.len()))
                        }
                        _ => digits,
                    };
                    let sign = if matches!(conv, b'd' | b'i') && v < 0 {
                        "-"
                    } else if matches!(conv, b'd' | b'i') && flags.contains('+') {
                        "+"
                    } else if matches!(conv, b'd' | b'i') && flags.contains(' ') {
                        " "
                    } else {
                        ""
                    };
                    let alt = match conv {
                        b'x' if flags.contains('#') && v != 0 => "0x",
                        b'X' if flags.contains('#') && v != 0 => "0X",
                        b'o' if flags.contains('#') => "0",
                        _ => "",
                    };
                    pad(
                        format!("{sign}{alt}{digits}"),
                        width,
                        left,
                        zero && prec.is_none(),
                    )
                }
                b'f' | b'F' | b'e' | b'E' | b'g' | b'G' => {
                    let v: f64 = arg.trim().parse().unwrap_or_else(|_| {
                        if !arg.is_empty() {
                            status = 1;
                            ctx.errln(format!("printf: bad %{} {arg}", char::from(conv)));
                        }
                        0.0
                    });
                    let p = prec.unwrap_or(6);
                    let body = match conv {
                        b'e' => format!("{v:.p$e}"),
                        b'E' => format!("{v:.p$E}"),
                        b'g' | b'G' => format!("{v}"),
                        _ => format!("{v:.p$}"),
                    };
                    let sign = if v >= 0.0 && flags.contains('+') {
                        "+"
                    } else {
                        ""
                    };
                    pad(format!("{sign}{body}"), width, left, zero)
                }
                other => {
                    ctx.out.out(out);
                    ctx.errln(format!("printf: bad %{}@{i}", char::from(other)));
                    return 1;
                }
            };
            out.extend_from_slice(text.as_bytes());
        }
        if !seen || args.len() == 0 {
            break;
        }
    }
    ctx.out.out(out);
    status
}
