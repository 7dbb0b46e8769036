//! Parsing the compound commands: `if`, `for`, `while`/`until`, `case`, `{ …; }`, as
//! mksh's `get_command` does (`do … done` after `for`/`while`, optional `in` and `;`
//! after `for NAME`, `(` before a `case` pattern, `;;` optional before `esac`).

use super::lexer::{Op, Token};
use super::parse::{Command, Compound, ParseError, Parser, Script};

impl Parser {
    /// A command starting with reserved word `kw`.
    pub(super) fn compound(&mut self, kw: &'static str) -> Result<Command, ParseError> {
        let compound = match kw {
            "if" => self.if_clause()?,
            "for" => self.for_clause()?,
            "while" | "until" => {
                self.pos += 1;
                self.open.push(kw);
                let cond = self.nonempty_list(&["do"])?;
                let body = self.do_group()?;
                self.open.pop();
                Compound::Loop {
                    until: kw == "until",
                    cond,
                    body,
                }
            }
            "case" => self.case_clause()?,
            "{" => {
                self.pos += 1;
                self.open.push("{");
                let body = self.nonempty_list(&["}"])?;
                self.expect("}")?;
                self.open.pop();
                Compound::Brace(body)
            }
            "function" | "select" | "time" | "[[" => {
                return Err(ParseError::Unsupported(kw.to_string()));
            }
            other => return Err(ParseError::Unexpected(other.to_string())),
        };
        let redirs = self.redirs()?;
        Ok(Command::Compound(compound, redirs))
    }

    /// Consumes reserved word `kw` or fails at the current token.
    fn expect(&mut self, kw: &str) -> Result<(), ParseError> {
        if self.peek_reserved() == Some(kw) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn if_clause(&mut self) -> Result<Compound, ParseError> {
        self.pos += 1;
        self.open.push("if");
        let mut branches = Vec::new();
        let mut otherwise = None;
        loop {
            let cond = self.nonempty_list(&["then"])?;
            self.expect("then")?;
            let body = self.nonempty_list(&["elif", "else", "fi"])?;
            branches.push((cond, body));
            match self.peek_reserved() {
                Some("elif") => self.pos += 1,
                Some("else") => {
                    self.pos += 1;
                    otherwise = Some(self.nonempty_list(&["fi"])?);
                    self.expect("fi")?;
                    break;
                }
                Some("fi") => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.unexpected()),
            }
        }
        self.open.pop();
        Ok(Compound::If {
            branches,
            otherwise,
        })
    }

    /// `do list done` (or `{ list; }`).
    fn do_group(&mut self) -> Result<Script, ParseError> {
        self.skip_newlines();
        let end = match self.peek_reserved() {
            Some("do") => "done",
            Some("{") => "}",
            _ => return Err(self.unexpected()),
        };
        self.pos += 1;
        let body = self.nonempty_list(&[end])?;
        self.expect(end)?;
        Ok(body)
    }

    fn for_clause(&mut self) -> Result<Compound, ParseError> {
        self.pos += 1;
        let var = match self.peek() {
            Some(Token::Word(w)) => {
                let name = w.literal().unwrap_or_default();
                let valid = name
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !valid {
                    return Err(ParseError::BadIdentifier("for".into()));
                }
                self.pos += 1;
                name
            }
            _ => return Err(self.unexpected()),
        };
        self.open.push("for");
        self.skip_newlines();
        let words = if self.peek_reserved() == Some("in") {
            self.pos += 1;
            let mut words = Vec::new();
            while let Some(Token::Word(w)) = self.peek() {
                words.push(w.clone());
                self.pos += 1;
            }
            match self.peek_op() {
                Some(Op::Semi | Op::Newline) => self.pos += 1,
                _ => return Err(self.unexpected()),
            }
            Some(words)
        } else {
            if self.peek_op() == Some(Op::Semi) {
                self.pos += 1;
            }
            None
        };
        let body = self.do_group()?;
        self.open.pop();
        Ok(Compound::For { var, words, body })
    }

    fn case_clause(&mut self) -> Result<Compound, ParseError> {
        self.pos += 1;
        let word = match self.peek() {
            Some(Token::Word(w)) => w.clone(),
            _ => return Err(self.unexpected()),
        };
        self.pos += 1;
        self.open.push("case");
        self.skip_newlines();
        let end = match self.peek_reserved() {
            Some("in") => "esac",
            Some("{") => "}",
            _ => return Err(self.unexpected()),
        };
        self.pos += 1;
        let mut arms = Vec::new();
        loop {
            self.skip_newlines();
            if self.peek_reserved() == Some(end) {
                self.pos += 1;
                break;
            }
            if self.peek_op() == Some(Op::LParen) {
                self.pos += 1;
            }
            let mut patterns = Vec::new();
            loop {
                match self.peek() {
                    Some(Token::Word(w)) => patterns.push(w.clone()),
                    _ => return Err(self.unexpected()),
                }
                self.pos += 1;
                if self.peek_op() != Some(Op::Pipe) {
                    break;
                }
                self.pos += 1;
            }
            if self.peek_op() != Some(Op::RParen) {
                return Err(self.unexpected());
            }
            self.pos += 1;
            let body = self.list(&[end])?;
            arms.push((patterns, body));
            self.skip_newlines();
            match self.peek_op() {
                Some(Op::DSemi) => self.pos += 1,
                _ if self.peek_reserved() == Some(end) => {}
                _ => return Err(self.unexpected()),
            }
        }
        self.open.pop();
        Ok(Compound::Case { word, arms })
    }
}
