//! The SQL subset `content --where` and `--sort` accept, evaluated the way SQLite would.
//!
//! Supported: `=`/`==`, `!=`/`<>`, `<`, `<=`, `>`, `>=`, `IN (…)`, `NOT IN`, `LIKE`
//! (ASCII case-insensitive, `%` and `_`), `BETWEEN … AND …`, `IS [NOT] NULL`,
//! `IS [NOT] value`, `AND`, `OR`, `NOT`, parentheses, single-quoted strings (`''`
//! escapes a quote), double-quoted or bare column names, integers and decimals. Three-
//! valued logic: a comparison with NULL is NULL and NULL rows do not match. Parsing is
//! here; evaluation is in [`super::sql_eval`].

use super::Value;
pub use super::sql_eval::{compare, sort_order};

/// A parse or evaluation error, worded like SQLite's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SqlError {
    /// `near "X": syntax error`.
    #[error("near \"{0}\": syntax error")]
    Syntax(String),
    /// `incomplete input`.
    #[error("incomplete input")]
    Incomplete,
    /// `no such column: X`.
    #[error("no such column: {0}")]
    NoColumn(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(Value),
    Op(&'static str),
}

fn lex(text: &str) -> Result<Vec<Tok>, SqlError> {
    let chars: Vec<char> = text.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' {
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(SqlError::Syntax(format!("'{s}"))),
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        s.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(ch) => {
                        s.push(*ch);
                        i += 1;
                    }
                }
            }
            toks.push(Tok::Str(s));
        } else if c == '"' || c == '`' {
            let end = chars[i + 1..]
                .iter()
                .position(|&x| x == c)
                .ok_or(SqlError::Incomplete)?;
            toks.push(Tok::Ident(chars[i + 1..i + 1 + end].iter().collect()));
            i += end + 2;
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            let s: String = chars[start..i].iter().collect();
            let v = if let Ok(n) = s.parse::<i64>() {
                Value::Int(n)
            } else if let Ok(f) = s.parse::<f64>() {
                Value::Real(f)
            } else {
                return Err(SqlError::Syntax(s));
            };
            toks.push(Tok::Num(v));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            toks.push(Tok::Ident(chars[start..i].iter().collect()));
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let op = ["<=", ">=", "<>", "!=", "=="]
                .into_iter()
                .find(|o| *o == two);
            if let Some(op) = op {
                toks.push(Tok::Op(op));
                i += 2;
            } else {
                let op = ["=", "<", ">", "(", ")", ",", "-"]
                    .into_iter()
                    .find(|o| o.starts_with(c))
                    .ok_or_else(|| SqlError::Syntax(c.to_string()))?;
                toks.push(Tok::Op(op));
                i += 1;
            }
        }
    }
    Ok(toks)
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Column(String),
    Lit(Value),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp(Box<Expr>, &'static str, Box<Expr>),
    Is(Box<Expr>, Box<Expr>, bool),
    In(Box<Expr>, Vec<Expr>, bool),
    Like(Box<Expr>, Box<Expr>, bool),
    Between(Box<Expr>, Box<Expr>, Box<Expr>, bool),
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

fn is_kw(t: Option<&Tok>, kw: &str) -> bool {
    matches!(t, Some(Tok::Ident(s)) if s.eq_ignore_ascii_case(kw))
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn near(&self) -> SqlError {
        match self.peek() {
            None => SqlError::Incomplete,
            Some(Tok::Ident(s)) => SqlError::Syntax(s.clone()),
            Some(Tok::Str(s)) => SqlError::Syntax(format!("'{s}'")),
            Some(Tok::Num(v)) => SqlError::Syntax(v.render()),
            Some(Tok::Op(o)) => SqlError::Syntax((*o).to_string()),
        }
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if is_kw(self.peek(), kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_op(&mut self, op: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Op(o)) if *o == op) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<Expr, SqlError> {
        let mut left = self.and()?;
        while self.eat_kw("OR") {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, SqlError> {
        let mut left = self.not()?;
        while self.eat_kw("AND") {
            left = Expr::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, SqlError> {
        if self.eat_kw("NOT") {
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<Expr, SqlError> {
        let left = self.operand()?;
        if let Some(Tok::Op(op)) = self.peek() {
            let op = *op;
            if ["=", "==", "!=", "<>", "<", "<=", ">", ">="].contains(&op) {
                self.pos += 1;
                let right = self.operand()?;
                let op = match op {
                    "==" => "=",
                    "<>" => "!=",
                    o => o,
                };
                return Ok(Expr::Cmp(Box::new(left), op, Box::new(right)));
            }
        }
        if self.eat_kw("IS") {
            let negated = self.eat_kw("NOT");
            let right = self.operand()?;
            return Ok(Expr::Is(Box::new(left), Box::new(right), negated));
        }
        let negated = self.eat_kw("NOT");
        if self.eat_kw("IN") {
            if !self.eat_op("(") {
                return Err(self.near());
            }
            let mut items = vec![self.operand()?];
            while self.eat_op(",") {
                items.push(self.operand()?);
            }
            if !self.eat_op(")") {
                return Err(self.near());
            }
            return Ok(Expr::In(Box::new(left), items, negated));
        }
        if self.eat_kw("LIKE") {
            return Ok(Expr::Like(
                Box::new(left),
                Box::new(self.operand()?),
                negated,
            ));
        }
        if self.eat_kw("BETWEEN") {
            let low = self.operand()?;
            if !self.eat_kw("AND") {
                return Err(self.near());
            }
            let high = self.operand()?;
            return Ok(Expr::Between(
                Box::new(left),
                Box::new(low),
                Box::new(high),
                negated,
            ));
        }
        if negated {
            return Err(self.near());
        }
        Ok(left)
    }

    fn operand(&mut self) -> Result<Expr, SqlError> {
        let tok = self.peek().cloned().ok_or(SqlError::Incomplete)?;
        self.pos += 1;
        match tok {
            Tok::Str(s) => Ok(Expr::Lit(Value::Text(s))),
            Tok::Num(v) => Ok(Expr::Lit(v)),
            Tok::Ident(s) if s.eq_ignore_ascii_case("NULL") => Ok(Expr::Lit(Value::Null)),
            Tok::Ident(s)
                if ["AND", "OR", "NOT", "IN", "IS", "LIKE"]
                    .iter()
                    .any(|k| s.eq_ignore_ascii_case(k)) =>
            {
                Err(SqlError::Syntax(s))
            }
            Tok::Ident(s) => Ok(Expr::Column(s)),
            Tok::Op("-") => match self.operand()? {
                Expr::Lit(Value::Int(n)) => Ok(Expr::Lit(Value::Int(-n))),
                Expr::Lit(Value::Real(f)) => Ok(Expr::Lit(Value::Real(-f))),
                _ => Err(SqlError::Syntax("-".into())),
            },
            Tok::Op("(") => {
                let inner = self.or()?;
                if !self.eat_op(")") {
                    return Err(self.near());
                }
                Ok(inner)
            }
            Tok::Op(o) => Err(SqlError::Syntax(o.to_string())),
        }
    }
}

/// Parses a WHERE clause.
pub fn parse(text: &str) -> Result<Expr, SqlError> {
    let mut p = Parser {
        toks: lex(text)?,
        pos: 0,
    };
    if p.toks.is_empty() {
        return Err(SqlError::Incomplete);
    }
    let expr = p.or()?;
    if p.pos < p.toks.len() {
        return Err(p.near());
    }
    Ok(expr)
}

/// One ORDER BY term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    pub column: String,
    pub descending: bool,
}

/// Parses `col [COLLATE X] [ASC|DESC][, …]`.
pub fn parse_sort(text: &str) -> Result<Vec<SortKey>, SqlError> {
    let mut keys = Vec::new();
    for part in text.split(',') {
        let words: Vec<&str> = part.split_whitespace().collect();
        let Some((column, rest)) = words.split_first() else {
            return Err(SqlError::Syntax(",".into()));
        };
        let mut descending = false;
        let mut i = 0;
        while i < rest.len() {
            let w = rest[i];
            if w.eq_ignore_ascii_case("DESC") {
                descending = true;
            } else if w.eq_ignore_ascii_case("ASC") {
                descending = false;
            } else if w.eq_ignore_ascii_case("COLLATE") && i + 1 < rest.len() {
                i += 1;
            } else {
                return Err(SqlError::Syntax(w.to_string()));
            }
            i += 1;
        }
        keys.push(SortKey {
            column: column.trim_matches('"').to_string(),
            descending,
        });
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(sql: &str) -> Result<Option<bool>, SqlError> {
        let row = |c: &str| match c {
            "_id" => Value::Int(5),
            "mimetype" => Value::Text("vnd.android.cursor.item/phone_v2".into()),
            "data1" => Value::Text("+4917612345".into()),
            _ => Value::Null,
        };
        Ok(parse(sql)?.truth(&row))
    }

    #[test]
    fn the_subset_evaluates_like_sqlite() {
        let cases = [
            ("_id=5", Some(true)),
            ("_id == '5'", Some(true)),
            ("_id <> 5", Some(false)),
            ("_id IN (1, 2, 5)", Some(true)),
            ("_id NOT IN (1,2)", Some(true)),
            ("mimetype LIKE '%PHONE%'", Some(true)),
            ("data2 IS NULL AND NOT (_id < 3 OR _id > 9)", Some(true)),
            ("data2 = 1", None),
            ("data2 = 1 OR _id >= 5", Some(true)),
            ("data1 IS NOT NULL", Some(true)),
            ("_id BETWEEN 1 AND 4", Some(false)),
            ("mimetype='it''s'", Some(false)),
        ];
        for (sql, want) in cases {
            assert_eq!(eval(sql), Ok(want), "{sql}");
        }
    }

    #[test]
    fn bad_sql_is_an_error_not_a_panic() {
        for sql in [
            "", "_id =", "(_id = 1", "_id = 'x", "_id IN 1", "AND", "_id ~ 1", "\"col", "1.2.3",
        ] {
            assert!(eval(sql).is_err(), "{sql}");
        }
        assert_eq!(eval("_id = = 1"), Err(SqlError::Syntax("=".into())));
    }

    #[test]
    fn sort_terms_parse() {
        let keys = parse_sort("_id DESC, display_name COLLATE LOCALIZED ASC").unwrap();
        assert_eq!(keys.len(), 2);
        assert!(keys[0].descending);
        assert!(parse_sort("_id SIDEWAYS").is_err());
    }
}
