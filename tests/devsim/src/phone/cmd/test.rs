//! mksh's `test` / `[` builtin (`c_test` in funcs.c): POSIX's special cases for one to
//! four arguments, then the `-o` / `-a` / `!` / `( )` expression grammar; string,
//! integer (mksh's 32-bit arithmetic) and file operators. Errors are `bi_errorf`'s
//! (`/system/bin/sh: [: …`) and exit 2.
//!
//! Deviation: integer operands naming a variable count as 0 (mksh would evaluate the
//! variable); the simulated file system has no symlinks, devices, FIFOs or sockets.

use super::Ctx;

const SH: &str = "/system/bin/sh";

const UNARY: &[&str] = &[
    "-a", "-b", "-c", "-d", "-e", "-f", "-G", "-g", "-H", "-h", "-k", "-L", "-n", "-O", "-o", "-p",
    "-r", "-S", "-s", "-t", "-u", "-v", "-w", "-x", "-z",
];
const BINARY: &[&str] = &[
    "=", "==", "!=", "<", ">", "-eq", "-ne", "-gt", "-ge", "-lt", "-le", "-ef", "-nt", "-ot",
];

struct Te<'c, 'a, 'p> {
    ctx: &'c mut Ctx<'p>,
    name: &'a str,
    args: &'a [String],
    pos: usize,
    error: bool,
}

/// `test EXPR` / `[ EXPR ]`.
pub fn test(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let name = argv
        .first()
        .map(|a| a.rsplit('/').next().unwrap_or(a))
        .unwrap_or("test");
    let mut args = argv.get(1..).unwrap_or_default();
    if name == "[" {
        match args.split_last() {
            Some((last, rest)) if last == "]" => args = rest,
            _ => {
                ctx.errln(format!("{SH}: [: missing ]"));
                return 2;
            }
        }
    }
    let mut te = Te {
        ctx,
        name,
        args,
        pos: 0,
        error: false,
    };
    let mut invert = 0;
    let truth = match te.special(args.len(), &mut invert) {
        Some(t) => t,
        None => {
            te.pos = 0;
            invert = 0;
            let rv = te.oexpr(true);
            if !te.error && te.pos < te.args.len() {
                te.fail(0, "unexpected operator/operand");
            }
            rv
        }
    };
    if te.error {
        return 2;
    }
    u8::from(truth == (invert % 2 == 1))
}

impl Te<'_, '_, '_> {
    fn word(&self, at: usize) -> Option<&str> {
        self.args.get(at).map(String::as_str)
    }

    fn fail(&mut self, ofs: isize, msg: &str) {
        self.error = true;
        let at = self.pos.checked_add_signed(ofs);
        let name = self.name;
        match at.and_then(|a| self.word(a)).map(str::to_string) {
            Some(op) => self.ctx.errln(format!("{SH}: {name}: {op}: {msg}")),
            None => self.ctx.errln(format!("{SH}: {name}: {msg}")),
        }
    }

    /// POSIX's rules by argument count; `None` leaves it to the grammar.
    fn special(&mut self, argc: usize, invert: &mut u32) -> Option<bool> {
        let w = |i: usize| self.args.get(self.pos + i).map(String::as_str);
        match argc {
            0 => Some(false),
            1 => {
                let s = w(0)?.to_string();
                Some(!s.is_empty())
            }
            2 => {
                let (a, b) = (w(0)?.to_string(), w(1)?.to_string());
                if a == "!" {
                    *invert += 1;
                    return Some(!b.is_empty());
                }
                if UNARY.contains(&a.as_str()) {
                    return Some(self.eval(&a, &b, None));
                }
                None
            }
            3 => {
                let (a, op, b) = (w(0)?.to_string(), w(1)?.to_string(), w(2)?.to_string());
                if BINARY.contains(&op.as_str()) {
                    return Some(self.eval(&op, &a, Some(&b)));
                }
                if op == "-a" || op == "-o" {
                    let (x, y) = (!a.is_empty(), !b.is_empty());
                    return Some(if op == "-a" { x && y } else { x || y });
                }
                if a == "!" {
                    *invert += 1;
                    self.pos += 1;
                    return self.special(2, invert);
                }
                if a == "(" && b == ")" {
                    return Some(!op.is_empty());
                }
                None
            }
            4 => {
                let (a, d) = (w(0)?.to_string(), w(3)?.to_string());
                if a == "!" {
                    *invert += 1;
                    self.pos += 1;
                    return self.special(3, invert);
                }
                if a == "(" && d == ")" {
                    self.pos += 1;
                    return self.special(2, invert);
                }
                None
            }
            _ => None,
        }
    }

    fn isa(&mut self, token: &str) -> bool {
        if self.word(self.pos) == Some(token) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn oexpr(&mut self, eval: bool) -> bool {
        let rv = self.aexpr(eval);
        if !self.error && self.isa("-o") {
            let rest = self.oexpr(eval && !rv);
            return rest || rv;
        }
        rv
    }

    fn aexpr(&mut self, eval: bool) -> bool {
        let rv = self.nexpr(eval);
        if !self.error && self.isa("-a") {
            let rest = self.aexpr(eval && rv);
            return rest && rv;
        }
        rv
    }

    fn nexpr(&mut self, eval: bool) -> bool {
        if !self.error && self.isa("!") {
            return !self.nexpr(eval);
        }
        self.primary(eval)
    }

    fn primary(&mut self, eval: bool) -> bool {
        if self.error {
            return false;
        }
        if self.isa("(") {
            let rv = self.oexpr(eval);
            if self.error {
                return false;
            }
            if !self.isa(")") {
                self.fail(0, "missing )");
                return false;
            }
            return rv;
        }
        let next_is_binary = self.word(self.pos + 1).is_some_and(|w| BINARY.contains(&w));
        if self.pos + 1 < self.args.len()
            && !next_is_binary
            && let Some(op) = self.word(self.pos).filter(|w| UNARY.contains(w))
        {
            let op = op.to_string();
            self.pos += 1;
            let Some(opnd) = self.word(self.pos).map(str::to_string) else {
                self.fail(-1, "missing argument");
                return false;
            };
            self.pos += 1;
            return eval && self.eval(&op, &opnd, None);
        }
        let Some(opnd1) = self.word(self.pos).map(str::to_string) else {
            self.fail(0, "expression expected");
            return false;
        };
        self.pos += 1;
        if let Some(op) = self.word(self.pos).filter(|w| BINARY.contains(w)) {
            let op = op.to_string();
            self.pos += 1;
            let Some(opnd2) = self.word(self.pos).map(str::to_string) else {
                self.fail(-1, "missing second argument");
                return false;
            };
            self.pos += 1;
            return eval && self.eval(&op, &opnd1, Some(&opnd2));
        }
        eval && !opnd1.is_empty()
    }

    /// mksh's `evaluate` for an integer operand; prints its error.
    fn number(&mut self, s: &str) -> Option<i64> {
        match arith(s) {
            Ok(v) => Some(v),
            Err(msg) => {
                self.ctx.errln(format!("{SH}: {msg}"));
                self.error = true;
                None
            }
        }
    }

    fn eval(&mut self, op: &str, a: &str, b: Option<&str>) -> bool {
        let Some(b) = b else { return self.unary(op, a) };
        match op {
            "=" | "==" => a == b,
            "!=" => a != b,
            "<" => a.as_bytes() < b.as_bytes(),
            ">" => a.as_bytes() > b.as_bytes(),
            "-ef" => {
                let (x, y) = (self.ctx.path(a), self.ctx.path(b));
                let fs = self.ctx.phone.fs();
                fs.stat(&x).is_ok() && fs.stat(&y).is_ok() && x == y
            }
            "-nt" | "-ot" => {
                let fs = self.ctx.phone.fs();
                let (x, y) = (fs.stat(&self.ctx.path(a)), fs.stat(&self.ctx.path(b)));
                match (op, x, y) {
                    ("-nt", Ok(x), Ok(y)) => x.mtime > y.mtime,
                    ("-nt", Ok(_), Err(_)) => true,
                    ("-ot", Ok(x), Ok(y)) => x.mtime < y.mtime,
                    ("-ot", Err(_), Ok(_)) => true,
                    _ => false,
                }
            }
            _ => {
                let (Some(x), Some(y)) = (self.number(a), self.number(b)) else {
                    return true;
                };
                match op {
                    "-eq" => x == y,
                    "-ne" => x != y,
                    "-gt" => x > y,
                    "-ge" => x >= y,
                    "-lt" => x < y,
                    _ => x <= y,
                }
            }
        }
    }

    fn unary(&mut self, op: &str, a: &str) -> bool {
        match op {
            "-n" => !a.is_empty(),
            "-z" => a.is_empty(),
            "-t" => {
                if a.parse::<i32>().is_err() {
                    self.ctx
                        .errln(format!("{SH}: {}: {a}: bad number", self.name));
                    self.error = true;
                }
                false
            }
            "-v" | "-o" => false,
            _ => {
                let path = self.ctx.path(a);
                let fs = self.ctx.phone.fs();
                let Ok(st) = fs.stat(&path) else { return false };
                match op {
                    "-a" | "-e" | "-r" => true,
                    "-f" => st.is_file(),
                    "-d" => st.is_dir(),
                    "-s" => st.size > 0,
                    "-x" => st.mode & 0o111 != 0,
                    "-w" => crate::phone::fs::AndroidPath::parse(&path)
                        .is_ok_and(|p| fs.is_writable(&p)),
                    "-u" => st.mode & 0o4000 != 0,
                    "-g" => st.mode & 0o2000 != 0,
                    "-k" => st.mode & 0o1000 != 0,
                    "-O" | "-G" => crate::phone::fs::AndroidPath::parse(&path)
                        .is_ok_and(|p| fs.is_writable(&p)),
                    _ => false,
                }
            }
        }
    }
}

/// mksh's integer evaluation of a `test` operand, 32-bit like `mksh_ari_t`: a number
/// (`[base#]digits`, optional sign), a name (0 here), or empty (0).
pub fn arith(s: &str) -> Result<i64, String> {
    let t = s.trim_matches(|c: char| c.is_ascii_whitespace());
    let (neg, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, t.strip_prefix('+').unwrap_or(t).trim_start()),
    };
    let Some(first) = body.chars().next() else {
        return if t.is_empty() {
            Ok(0)
        } else {
            Err(format!("{s}: unexpected 'end of expression'"))
        };
    };
    let tok_len = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '#'))
        .unwrap_or(body.len());
    let (tok, rest) = body.split_at(tok_len);
    if let Some(c) = rest.trim_start().chars().next() {
        return Err(format!("{s}: unexpected '{c}'"));
    }
    let value: u32 = if first.is_ascii_digit() {
        let (base, digits) = match tok.split_once('#') {
            Some((b, d)) => (b.parse::<u32>().ok().filter(|b| (2..=36).contains(b)), d),
            None => (Some(10), tok),
        };
        let parsed = base.and_then(|base| {
            if digits.is_empty() {
                return None;
            }
            digits.chars().try_fold(0u32, |acc, c| {
                let d = c.to_digit(base)?;
                Some(acc.wrapping_mul(base).wrapping_add(d))
            })
        });
        match parsed {
            Some(v) => v,
            None => return Err(format!("{s}: bad number '{tok}'")),
        }
    } else if first.is_ascii_alphabetic() || first == '_' {
        0
    } else {
        return Err(format!("{s}: unexpected '{first}'"));
    };
    let v = i64::from(value as i32);
    Ok(if neg { -v } else { v })
}
