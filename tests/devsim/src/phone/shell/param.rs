//! Parameter expansion with operators (`${#NAME}`, `${NAME:-w}`, `${NAME:=w}`,
//! `${NAME:+w}`, `${NAME:?w}` and their colon-less forms, `${NAME#p}`, `${NAME##p}`,
//! `${NAME%p}`, `${NAME%%p}`) and arithmetic expansion (`$((…))`, see [`super::arith`]).
//!
//! Errors (`${x:?}`, `bad substitution`, arithmetic) are fatal like in a non-interactive
//! mksh: they are left in `expand_error` and the shell reports them and exits.

use super::arith::{self, Vars};
use super::dollar::lex_word;
use super::glob::Glob;
use super::lexer::{ParamOp, Word};
use super::run::Shell;

struct ShellVars<'a, 'p>(&'a mut Shell<'p>);

impl Vars for ShellVars<'_, '_> {
    fn get(&self, name: &str) -> Option<String> {
        self.0.lookup(name)
    }

    fn set(&mut self, name: &str, value: String) {
        self.0.vars.insert(name.to_string(), value);
    }
}

fn is_assignable(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
}

impl Shell<'_> {
    /// `${NAME<op>ARG}`.
    pub(super) fn param(&mut self, name: &str, op: ParamOp, arg: &Word) -> String {
        let value = self.lookup(name);
        let unset = |colon: bool| match &value {
            None => true,
            Some(v) => colon && v.is_empty(),
        };
        match op {
            ParamOp::Length => value.unwrap_or_default().chars().count().to_string(),
            ParamOp::Default { colon } => {
                if unset(colon) {
                    self.expand_single(arg)
                } else {
                    value.unwrap_or_default()
                }
            }
            ParamOp::Assign { colon } => {
                if !unset(colon) {
                    return value.unwrap_or_default();
                }
                let v = self.expand_single(arg);
                if is_assignable(name) {
                    self.vars.insert(name.to_string(), v.clone());
                } else {
                    self.expand_error
                        .get_or_insert_with(|| format!("{name}: cannot assign"));
                }
                v
            }
            ParamOp::Alternative { colon } => {
                if unset(colon) {
                    String::new()
                } else {
                    self.expand_single(arg)
                }
            }
            ParamOp::Error { colon } => {
                if !unset(colon) {
                    return value.unwrap_or_default();
                }
                let msg = self.expand_single(arg);
                let msg = if msg.is_empty() {
                    "parameter null or not set".to_string()
                } else {
                    msg
                };
                self.expand_error
                    .get_or_insert_with(|| format!("{name}: {msg}"));
                String::new()
            }
            ParamOp::TrimPrefix { longest } => {
                let v = value.unwrap_or_default();
                let glob = Glob::new(&self.pattern(arg));
                let ends = glob.prefix_matches(v.chars());
                let cut = if longest { ends.last() } else { ends.first() };
                match cut {
                    Some(&n) => v.chars().skip(n).collect(),
                    None => v,
                }
            }
            ParamOp::TrimSuffix { longest } => {
                let v = value.unwrap_or_default();
                let glob = Glob::new(&self.pattern(arg)).reversed();
                let ends = glob.prefix_matches(v.chars().rev());
                let cut = if longest { ends.last() } else { ends.first() };
                match cut {
                    Some(&n) => {
                        let keep = v.chars().count() - n;
                        v.chars().take(keep).collect()
                    }
                    None => v,
                }
            }
        }
    }

    /// `$((EXPR))`: parameters and command substitutions inside are expanded first.
    pub(super) fn arith(&mut self, expr: &str) -> String {
        let text = match lex_word(expr) {
            Ok(word) => self.expand_single(&word),
            Err(e) => {
                self.expand_error.get_or_insert_with(|| e.to_string());
                return String::new();
            }
        };
        match arith::eval(&text, &mut ShellVars(self)) {
            Ok(v) => v.to_string(),
            Err(msg) => {
                self.expand_error.get_or_insert(msg);
                String::new()
            }
        }
    }
}
