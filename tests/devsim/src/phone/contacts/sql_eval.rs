//! Evaluation of parsed `--where` expressions with SQLite's semantics: three-valued
//! logic, type ordering (NULL < numbers < text), numeric comparison of numeric text,
//! ASCII case-insensitive `LIKE`, and the ORDER BY ordering.

use std::cmp::Ordering;

use super::Value;
use super::sql_where::{Expr, SqlError};

impl Expr {
    /// Every column the expression names, to report `no such column` before running.
    pub fn check_columns(&self, known: &dyn Fn(&str) -> bool) -> Result<(), SqlError> {
        match self {
            Expr::Column(c) if !known(c) => Err(SqlError::NoColumn(c.clone())),
            Expr::Column(_) | Expr::Lit(_) => Ok(()),
            Expr::Not(a) => a.check_columns(known),
            Expr::And(a, b)
            | Expr::Or(a, b)
            | Expr::Cmp(a, _, b)
            | Expr::Is(a, b, _)
            | Expr::Like(a, b, _) => {
                a.check_columns(known)?;
                b.check_columns(known)
            }
            Expr::In(a, items, _) => {
                a.check_columns(known)?;
                items.iter().try_for_each(|i| i.check_columns(known))
            }
            Expr::Between(a, b, c, _) => {
                a.check_columns(known)?;
                b.check_columns(known)?;
                c.check_columns(known)
            }
        }
    }

    fn value(&self, row: &dyn Fn(&str) -> Value) -> Value {
        match self {
            Expr::Column(c) => row(c),
            Expr::Lit(v) => v.clone(),
            other => match other.truth(row) {
                None => Value::Null,
                Some(b) => Value::Int(i64::from(b)),
            },
        }
    }

    /// SQL truth: `Some(true)`, `Some(false)` or `None` (NULL).
    pub fn truth(&self, row: &dyn Fn(&str) -> Value) -> Option<bool> {
        match self {
            Expr::Not(a) => a.truth(row).map(|b| !b),
            Expr::And(a, b) => match (a.truth(row), b.truth(row)) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
            Expr::Or(a, b) => match (a.truth(row), b.truth(row)) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
            Expr::Cmp(a, op, b) => {
                let ord = compare(&a.value(row), &b.value(row))?;
                Some(match *op {
                    "=" => ord == Ordering::Equal,
                    "!=" => ord != Ordering::Equal,
                    "<" => ord == Ordering::Less,
                    "<=" => ord != Ordering::Greater,
                    ">" => ord == Ordering::Greater,
                    _ => ord != Ordering::Less,
                })
            }
            Expr::Is(a, b, negated) => {
                let (x, y) = (a.value(row), b.value(row));
                let same = match (&x, &y) {
                    (Value::Null, Value::Null) => true,
                    (Value::Null, _) | (_, Value::Null) => false,
                    _ => compare(&x, &y) == Some(Ordering::Equal),
                };
                Some(same != *negated)
            }
            Expr::In(a, items, negated) => {
                let x = a.value(row);
                if x == Value::Null {
                    return None;
                }
                let mut saw_null = false;
                for item in items {
                    match compare(&x, &item.value(row)) {
                        Some(Ordering::Equal) => return Some(!*negated),
                        None => saw_null = true,
                        _ => {}
                    }
                }
                if saw_null { None } else { Some(*negated) }
            }
            Expr::Like(a, b, negated) => {
                let (x, p) = (a.value(row), b.value(row));
                if x == Value::Null || p == Value::Null {
                    return None;
                }
                Some(like(&p.render(), &x.render()) != *negated)
            }
            Expr::Between(a, lo, hi, negated) => {
                let x = a.value(row);
                let ge = compare(&x, &lo.value(row))? != Ordering::Less;
                let le = compare(&x, &hi.value(row))? != Ordering::Greater;
                Some((ge && le) != *negated)
            }
            Expr::Column(_) | Expr::Lit(_) => match self.value(row) {
                Value::Null => None,
                Value::Int(n) => Some(n != 0),
                Value::Real(f) => Some(f != 0.0),
                Value::Text(s) => Some(s.trim().parse::<f64>().is_ok_and(|f| f != 0.0)),
            },
        }
    }
}

/// SQLite comparison: NULL is unknown; a number against numeric text compares as
/// numbers; otherwise numbers sort before text.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    let num = |v: &Value| match v {
        Value::Int(n) => Some(*n as f64),
        Value::Real(f) => Some(*f),
        Value::Text(s) => s.trim().parse::<f64>().ok(),
        Value::Null => None,
    };
    match (a, b) {
        (Value::Null, _) | (_, Value::Null) => None,
        (Value::Text(x), Value::Text(y)) => Some(x.cmp(y)),
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => x.partial_cmp(&y),
            _ => Some(if matches!(a, Value::Text(_)) {
                Ordering::Greater
            } else {
                Ordering::Less
            }),
        },
    }
}

/// Ordering for ORDER BY: NULLs first, then as [`compare`].
pub fn sort_order(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        _ => compare(a, b).unwrap_or(Ordering::Equal),
    }
}

fn like(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().map(|c| c.to_ascii_lowercase()).collect();
    let t: Vec<char> = text.chars().map(|c| c.to_ascii_lowercase()).collect();
    // Iterative matcher with backtracking on the last `%`.
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '_' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '%' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '%')
}
