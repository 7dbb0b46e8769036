//! mksh's arithmetic (`$((…))`): 32-bit wrapping integers, C operators with C
//! precedence (`,` `=` `op=` `?:` `||` `&&` `|` `^` `&` `==` `!=` `<` `<=` `>` `>=` `<<`
//! `>>` `+` `-` `*` `/` `%`, unary `+ - ! ~`, `++`/`--`), numbers as `N`, `0xN` or
//! `BASE#N`, and variables whose values are themselves evaluated (unset or empty: 0).
//!
//! Errors are mksh's `evalerr` texts (`EXPR: unexpected 'X'`, `EXPR: bad number 'X'`,
//! `EXPR: zero divisor`, …), without the `/system/bin/sh: ` prefix.

/// Variable access for [`eval`].
pub trait Vars {
    fn get(&self, name: &str) -> Option<String>;
    fn set(&mut self, name: &str, value: String);
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(i32),
    Name(String),
    Op(&'static str),
}

const OPS: &[&str] = &[
    "<<=", ">>=", "++", "--", "==", "!=", "<=", ">=", "&&", "||", "<<", ">>", "*=", "/=", "%=",
    "+=", "-=", "&=", "^=", "|=", "=", "<", ">", "+", "-", "*", "/", "%", "&", "^", "|", "!", "~",
    "?", ":", ",", "(", ")",
];

#[derive(Debug)]
enum Expr {
    Num(i32),
    Var(String),
    Unary(&'static str, Box<Expr>),
    /// `++x`, `--x`, `x++`, `x--`: operator, variable, prefix.
    Step(&'static str, String, bool),
    Binary(&'static str, Box<Expr>, Box<Expr>),
    Assign(&'static str, String, Box<Expr>),
    Ternary(Box<Expr>, Box<Expr>, Box<Expr>),
}

/// Nesting allowed for parentheses and variables referring to expressions.
const MAX_DEPTH: usize = 64;

fn parse_number(tok: &str) -> Option<i32> {
    let (base, digits) = if let Some(hex) = tok.strip_prefix("0x").or(tok.strip_prefix("0X")) {
        (16, hex)
    } else if let Some((b, d)) = tok.split_once('#') {
        (b.parse::<u32>().ok().filter(|b| (2..=36).contains(b))?, d)
    } else {
        (10, tok)
    };
    if digits.is_empty() {
        return None;
    }
    digits
        .chars()
        .try_fold(0u32, |acc, c| {
            Some(acc.wrapping_mul(base).wrapping_add(c.to_digit(base)?))
        })
        .map(|v| v as i32)
}

fn tokenize(expr: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '#') {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            let n = parse_number(&text).ok_or_else(|| format!("{expr}: bad number '{text}'"))?;
            out.push(Tok::Num(n));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Name(chars[start..i].iter().collect()));
        } else {
            let rest: String = chars[i..chars.len().min(i + 3)].iter().collect();
            let Some(op) = OPS.iter().find(|op| rest.starts_with(*op)) else {
                return Err(format!("{expr}: unexpected '{c}'"));
            };
            out.push(Tok::Op(op));
            i += op.chars().count();
        }
    }
    Ok(out)
}

struct Parser<'e> {
    expr: &'e str,
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

/// Binary operators by precedence level, loosest first (after `,`, `=` and `?:`).
const LEVELS: &[&[&str]] = &[
    &["||"],
    &["&&"],
    &["|"],
    &["^"],
    &["&"],
    &["==", "!="],
    &["<", "<=", ">", ">="],
    &["<<", ">>"],
    &["+", "-"],
    &["*", "/", "%"],
];

impl Parser<'_> {
    fn peek_op(&self) -> Option<&'static str> {
        match self.toks.get(self.pos) {
            Some(Tok::Op(op)) => Some(op),
            _ => None,
        }
    }

    fn unexpected(&self) -> String {
        let what = match self.toks.get(self.pos) {
            None => "end of expression".to_string(),
            Some(Tok::Num(n)) => n.to_string(),
            Some(Tok::Name(n)) => n.clone(),
            Some(Tok::Op(op)) => (*op).to_string(),
        };
        format!("{}: unexpected '{what}'", self.expr)
    }

    fn comma(&mut self) -> Result<Expr, String> {
        let mut e = self.assign()?;
        while self.peek_op() == Some(",") {
            self.pos += 1;
            e = Expr::Binary(",", Box::new(e), Box::new(self.assign()?));
        }
        Ok(e)
    }

    fn assign(&mut self) -> Result<Expr, String> {
        if let (Some(Tok::Name(name)), Some(Tok::Op(op))) =
            (self.toks.get(self.pos), self.toks.get(self.pos + 1))
            && op.ends_with('=')
            && !matches!(*op, "==" | "!=" | "<=" | ">=")
        {
            let (name, op) = (name.clone(), *op);
            self.pos += 2;
            return Ok(Expr::Assign(op, name, Box::new(self.assign()?)));
        }
        self.ternary()
    }

    fn ternary(&mut self) -> Result<Expr, String> {
        let cond = self.binary(0)?;
        if self.peek_op() != Some("?") {
            return Ok(cond);
        }
        self.pos += 1;
        let yes = self.comma()?;
        if self.peek_op() != Some(":") {
            return Err(format!("{}: missing :", self.expr));
        }
        self.pos += 1;
        let no = self.ternary()?;
        Ok(Expr::Ternary(Box::new(cond), Box::new(yes), Box::new(no)))
    }

    fn binary(&mut self, level: usize) -> Result<Expr, String> {
        let Some(ops) = LEVELS.get(level) else {
            return self.unary();
        };
        let mut e = self.binary(level + 1)?;
        while let Some(op) = self.peek_op().filter(|op| ops.contains(op)) {
            self.pos += 1;
            e = Expr::Binary(op, Box::new(e), Box::new(self.binary(level + 1)?));
        }
        Ok(e)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("{}: expression too deeply nested", self.expr));
        }
        let e = self.unary_inner();
        self.depth -= 1;
        e
    }

    fn unary_inner(&mut self) -> Result<Expr, String> {
        match self.toks.get(self.pos).cloned() {
            Some(Tok::Op(op @ ("+" | "-" | "!" | "~"))) => {
                self.pos += 1;
                Ok(Expr::Unary(op, Box::new(self.unary()?)))
            }
            Some(Tok::Op(op @ ("++" | "--"))) => {
                self.pos += 1;
                match self.toks.get(self.pos).cloned() {
                    Some(Tok::Name(n)) => {
                        self.pos += 1;
                        Ok(Expr::Step(op, n, true))
                    }
                    _ => Err(format!("{}: {op} requires lvalue", self.expr)),
                }
            }
            Some(Tok::Op("(")) => {
                self.pos += 1;
                let e = self.comma()?;
                if self.peek_op() != Some(")") {
                    return Err(format!("{}: missing )", self.expr));
                }
                self.pos += 1;
                Ok(e)
            }
            Some(Tok::Num(n)) => {
                self.pos += 1;
                Ok(Expr::Num(n))
            }
            Some(Tok::Name(n)) => {
                self.pos += 1;
                if let Some(op @ ("++" | "--")) = self.peek_op() {
                    self.pos += 1;
                    return Ok(Expr::Step(op, n, false));
                }
                Ok(Expr::Var(n))
            }
            _ => Err(self.unexpected()),
        }
    }
}

/// Evaluates `expr`; `depth` counts variables being evaluated as expressions.
pub fn eval(expr: &str, vars: &mut dyn Vars) -> Result<i32, String> {
    eval_depth(expr, vars, 0)
}

fn eval_depth(expr: &str, vars: &mut dyn Vars, depth: usize) -> Result<i32, String> {
    if depth > MAX_DEPTH {
        return Err(format!("{expr}: expression recurses on parameter"));
    }
    let toks = tokenize(expr)?;
    if toks.is_empty() {
        return Ok(0);
    }
    let mut p = Parser {
        expr,
        toks,
        pos: 0,
        depth: 0,
    };
    let tree = p.comma()?;
    if p.pos < p.toks.len() {
        return Err(p.unexpected());
    }
    let mut ev = Eval { expr, vars, depth };
    ev.value(&tree)
}

struct Eval<'v> {
    expr: &'v str,
    vars: &'v mut dyn Vars,
    depth: usize,
}

impl Eval<'_> {
    fn var(&mut self, name: &str) -> Result<i32, String> {
        let text = self.vars.get(name).unwrap_or_default();
        let t = text.trim();
        if t.is_empty() {
            return Ok(0);
        }
        if let Some(n) = parse_number(t) {
            return Ok(n);
        }
        eval_depth(t, self.vars, self.depth + 1)
    }

    fn value(&mut self, e: &Expr) -> Result<i32, String> {
        Ok(match e {
            Expr::Num(n) => *n,
            Expr::Var(name) => self.var(name)?,
            Expr::Unary(op, inner) => {
                let v = self.value(inner)?;
                match *op {
                    "-" => v.wrapping_neg(),
                    "!" => i32::from(v == 0),
                    "~" => !v,
                    _ => v,
                }
            }
            Expr::Step(op, name, prefix) => {
                let old = self.var(name)?;
                let new = if *op == "++" {
                    old.wrapping_add(1)
                } else {
                    old.wrapping_sub(1)
                };
                self.vars.set(name, new.to_string());
                if *prefix { new } else { old }
            }
            Expr::Assign(op, name, rhs) => {
                let r = self.value(rhs)?;
                let v = if *op == "=" {
                    r
                } else {
                    let l = self.var(name)?;
                    self.apply(op.trim_end_matches('='), l, r)?
                };
                self.vars.set(name, v.to_string());
                v
            }
            Expr::Ternary(c, yes, no) => {
                if self.value(c)? != 0 {
                    self.value(yes)?
                } else {
                    self.value(no)?
                }
            }
            Expr::Binary("&&", l, r) => i32::from(self.value(l)? != 0 && self.value(r)? != 0),
            Expr::Binary("||", l, r) => i32::from(self.value(l)? != 0 || self.value(r)? != 0),
            Expr::Binary(op, l, r) => {
                let (a, b) = (self.value(l)?, self.value(r)?);
                self.apply(op, a, b)?
            }
        })
    }

    fn apply(&self, op: &str, a: i32, b: i32) -> Result<i32, String> {
        Ok(match op {
            "+" => a.wrapping_add(b),
            "-" => a.wrapping_sub(b),
            "*" => a.wrapping_mul(b),
            "/" | "%" if b == 0 => return Err(format!("{}: zero divisor", self.expr)),
            "/" => a.wrapping_div(b),
            "%" => a.wrapping_rem(b),
            "<<" => a.wrapping_shl(b as u32 & 31),
            ">>" => a.wrapping_shr(b as u32 & 31),
            "<" => i32::from(a < b),
            "<=" => i32::from(a <= b),
            ">" => i32::from(a > b),
            ">=" => i32::from(a >= b),
            "==" => i32::from(a == b),
            "!=" => i32::from(a != b),
            "&" => a & b,
            "^" => a ^ b,
            "|" => a | b,
            _ => b,
        })
    }
}

#[cfg(test)]
mod tests;
