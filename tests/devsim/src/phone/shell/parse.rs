//! The shell's parser: tokens into lists (`;`, newline, `&`), and-or chains (`&&`,
//! `||`), pipelines (`|`, leading `!`), subshells `( … )` and simple commands with
//! assignments and redirections.
//!
//! Compound commands (`if`, `for`, `while`, `case`, functions, `{ …; }`) are not part of
//! the simulated shell: they are reported as [`ParseError::Unsupported`].

use super::lexer::{Op, Redir, RedirKind, Token, Word};

/// A list of and-or chains.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Script {
    pub items: Vec<Item>,
}

/// One and-or chain and whether it runs in the background (`&`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub chain: AndOr,
    pub background: bool,
}

/// `a && b || c`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AndOr {
    pub first: Pipeline,
    pub rest: Vec<(Op, Pipeline)>,
}

/// `a | b | c`, optionally negated with `!`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline {
    pub negate: bool,
    pub commands: Vec<Command>,
}

/// A command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Simple(Simple),
    Subshell(Script, Vec<Redir>),
}

/// `NAME=value … word … redirections`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Simple {
    pub assigns: Vec<(String, Word)>,
    pub words: Vec<Word>,
    pub redirs: Vec<Redir>,
}

/// A parse error, worded as mksh prints it after `/system/bin/sh: `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("syntax error: '{0}' unexpected")]
    Unexpected(String),
    #[error("syntax error: unexpected EOF")]
    Eof,
    #[error("syntax error: '{0}' unmatched")]
    Unmatched(String),
    /// A compound command the simulated shell does not implement.
    #[error("{0}: compound commands are not supported by the simulated shell")]
    Unsupported(String),
}

const KEYWORDS: &[&str] = &[
    "if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac",
    "function", "{", "}", "[[", "select", "time",
];

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: u32,
}

/// Parses a token stream.
pub fn parse(tokens: Vec<Token>) -> Result<Script, ParseError> {
    let mut p = Parser {
        tokens,
        pos: 0,
        depth: 0,
    };
    let script = p.list()?;
    match p.peek() {
        None => Ok(script),
        Some(t) => Err(ParseError::Unexpected(describe(t))),
    }
}

fn describe(t: &Token) -> String {
    match t {
        Token::Op(op) => op.text().to_string(),
        Token::Word(w) => w.literal().unwrap_or_else(|| "word".into()),
        Token::Redir { kind, .. } => match kind {
            RedirKind::Out => ">",
            RedirKind::Append => ">>",
            RedirKind::In => "<",
            RedirKind::Dup => ">&",
        }
        .to_string(),
    }
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn peek_op(&self) -> Option<Op> {
        match self.peek() {
            Some(Token::Op(op)) => Some(*op),
            _ => None,
        }
    }

    fn skip_newlines(&mut self) {
        while self.peek_op() == Some(Op::Newline) {
            self.pos += 1;
        }
    }

    fn list(&mut self) -> Result<Script, ParseError> {
        let mut items = Vec::new();
        loop {
            self.skip_newlines();
            match self.peek() {
                None => break,
                Some(Token::Op(Op::RParen)) if self.depth > 0 => break,
                _ => {}
            }
            let chain = self.and_or()?;
            let background = match self.peek_op() {
                Some(Op::Amp) => {
                    self.pos += 1;
                    true
                }
                Some(Op::Semi | Op::Newline) => {
                    self.pos += 1;
                    false
                }
                None => false,
                Some(Op::RParen) if self.depth > 0 => false,
                Some(op) => return Err(ParseError::Unexpected(op.text().into())),
            };
            items.push(Item { chain, background });
        }
        Ok(Script { items })
    }

    fn and_or(&mut self) -> Result<AndOr, ParseError> {
        let first = self.pipeline()?;
        let mut rest = Vec::new();
        while let Some(op @ (Op::And | Op::Or)) = self.peek_op() {
            self.pos += 1;
            self.skip_newlines();
            rest.push((op, self.pipeline()?));
        }
        Ok(AndOr { first, rest })
    }

    fn pipeline(&mut self) -> Result<Pipeline, ParseError> {
        let negate =
            matches!(self.peek(), Some(Token::Word(w)) if w.literal().as_deref() == Some("!"));
        if negate {
            self.pos += 1;
        }
        let mut commands = vec![self.command()?];
        while self.peek_op() == Some(Op::Pipe) {
            self.pos += 1;
            self.skip_newlines();
            commands.push(self.command()?);
        }
        Ok(Pipeline { negate, commands })
    }

    fn command(&mut self) -> Result<Command, ParseError> {
        match self.peek() {
            None => Err(ParseError::Eof),
            Some(Token::Op(Op::LParen)) => {
                self.pos += 1;
                self.depth += 1;
                let inner = self.list()?;
                self.depth -= 1;
                if self.peek_op() != Some(Op::RParen) {
                    return Err(ParseError::Unmatched("(".into()));
                }
                self.pos += 1;
                if inner.items.is_empty() {
                    return Err(ParseError::Unexpected(")".into()));
                }
                let mut redirs = Vec::new();
                while let Some(Token::Redir { .. }) = self.peek() {
                    redirs.push(self.redir()?);
                }
                Ok(Command::Subshell(inner, redirs))
            }
            Some(Token::Op(op)) => Err(ParseError::Unexpected(op.text().into())),
            Some(_) => self.simple().map(Command::Simple),
        }
    }

    fn redir(&mut self) -> Result<Redir, ParseError> {
        let Some(Token::Redir { fd, kind }) = self.peek().cloned() else {
            return Err(ParseError::Eof);
        };
        self.pos += 1;
        match self.peek().cloned() {
            Some(Token::Word(target)) => {
                self.pos += 1;
                Ok(Redir { fd, kind, target })
            }
            Some(t) => Err(ParseError::Unexpected(describe(&t))),
            None => Err(ParseError::Eof),
        }
    }

    fn simple(&mut self) -> Result<Simple, ParseError> {
        let mut cmd = Simple::default();
        loop {
            match self.peek() {
                Some(Token::Redir { .. }) => {
                    let r = self.redir()?;
                    cmd.redirs.push(r);
                }
                Some(Token::Word(w)) => {
                    let w = w.clone();
                    if cmd.words.is_empty() {
                        if let Some(name) = w.assignment_name() {
                            cmd.assigns.push((name, w));
                            self.pos += 1;
                            continue;
                        }
                        let unquoted = w.0.iter().all(|s| matches!(s, super::lexer::Seg::Lit(_)));
                        if let Some(kw) = w
                            .literal()
                            .filter(|l| unquoted && KEYWORDS.contains(&l.as_str()))
                        {
                            return Err(ParseError::Unsupported(kw));
                        }
                    }
                    cmd.words.push(w);
                    self.pos += 1;
                }
                _ => break,
            }
        }
        if cmd.words.is_empty() && cmd.assigns.is_empty() && cmd.redirs.is_empty() {
            return match self.peek() {
                Some(t) => Err(ParseError::Unexpected(describe(t))),
                None => Err(ParseError::Eof),
            };
        }
        Ok(cmd)
    }
}
