//! The shell's parser: tokens into lists (`;`, newline, `&`), and-or chains (`&&`,
//! `||`), pipelines (`|`, leading `!`), subshells `( … )`, simple commands with
//! assignments and redirections, and the compound commands of [`super::compound`]
//! (`if`, `for`, `while`, `until`, `case`, `{ …; }`).
//!
//! Reserved words count only where a command starts, as in mksh. Errors are mksh's:
//! `syntax error: 'X' unexpected`, `syntax error: 'X' unmatched` (end of input inside
//! a compound command), `syntax error: unexpected EOF`. Functions, `select`, `time` and
//! `[[ … ]]` are not implemented ([`ParseError::Unsupported`]).

use super::lexer::{Op, Redir, RedirKind, Seg, Token, Word};

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
    Compound(Compound, Vec<Redir>),
}

/// The compound commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compound {
    /// `{ list; }`.
    Brace(Script),
    /// `if c; then t; [elif c; then t;]… [else e;] fi`.
    If {
        branches: Vec<(Script, Script)>,
        otherwise: Option<Script>,
    },
    /// `for NAME [in WORD…]; do body; done` (no `in`: the positional parameters).
    For {
        var: String,
        words: Option<Vec<Word>>,
        body: Script,
    },
    /// `while c; do body; done`, or `until` when `until`.
    Loop {
        until: bool,
        cond: Script,
        body: Script,
    },
    /// `case WORD in PATTERN[|PATTERN]…) list ;; … esac`.
    Case {
        word: Word,
        arms: Vec<(Vec<Word>, Script)>,
    },
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
    #[error("{0}: bad identifier")]
    BadIdentifier(String),
    /// More nested constructs than [`MAX_NESTING`].
    #[error("syntax error: nesting too deep")]
    TooDeep,
    /// A construct the simulated shell does not implement.
    #[error("{0}: not supported by the simulated shell")]
    Unsupported(String),
}

/// Compound commands and subshells nested deeper than this are refused (the parser and
/// the executor recurse once per level).
pub const MAX_NESTING: usize = 64;

/// Words reserved at the start of a command.
pub const RESERVED: &[&str] = &[
    "if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac",
    "in", "{", "}", "function", "select", "time", "[[",
];

pub(super) struct Parser {
    pub(super) tokens: Vec<Token>,
    pub(super) pos: usize,
    /// Open constructs, innermost last (`(`, `if`, `for`, `{`, …) for "unmatched".
    pub(super) open: Vec<&'static str>,
}

/// Parses a token stream.
pub fn parse(tokens: Vec<Token>) -> Result<Script, ParseError> {
    let mut p = Parser {
        tokens,
        pos: 0,
        open: Vec::new(),
    };
    let script = p.list(&[])?;
    match p.peek() {
        None => Ok(script),
        Some(t) => Err(ParseError::Unexpected(describe(t))),
    }
}

pub(super) fn describe(t: &Token) -> String {
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

/// The reserved word a token is, when it is an unquoted literal one.
pub(super) fn reserved(t: &Token) -> Option<&'static str> {
    let Token::Word(w) = t else { return None };
    if !w.0.iter().all(|s| matches!(s, Seg::Lit(_))) {
        return None;
    }
    let text = w.literal()?;
    RESERVED.iter().find(|r| **r == text).copied()
}

impl Parser {
    pub(super) fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    pub(super) fn peek_op(&self) -> Option<Op> {
        match self.peek() {
            Some(Token::Op(op)) => Some(*op),
            _ => None,
        }
    }

    pub(super) fn peek_reserved(&self) -> Option<&'static str> {
        self.peek().and_then(reserved)
    }

    pub(super) fn skip_newlines(&mut self) {
        while self.peek_op() == Some(Op::Newline) {
            self.pos += 1;
        }
    }

    /// The error for running out of tokens: the innermost open construct is unmatched.
    pub(super) fn eof(&self) -> ParseError {
        match self.open.last() {
            Some(open) => ParseError::Unmatched((*open).to_string()),
            None => ParseError::Eof,
        }
    }

    /// The error for the current token (or the end).
    pub(super) fn unexpected(&self) -> ParseError {
        match self.peek() {
            Some(t) => ParseError::Unexpected(describe(t)),
            None => self.eof(),
        }
    }

    /// A list, up to the end, a `)` or `;;` of an enclosing construct, or one of the
    /// reserved words in `stops` at a command start.
    pub(super) fn list(&mut self, stops: &[&str]) -> Result<Script, ParseError> {
        let mut items = Vec::new();
        loop {
            self.skip_newlines();
            match self.peek() {
                None => break,
                Some(Token::Op(Op::RParen)) if self.open.contains(&"(") => break,
                Some(Token::Op(Op::DSemi)) if self.open.contains(&"case") => break,
                Some(t) if reserved(t).is_some_and(|r| stops.contains(&r)) => break,
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
                Some(Op::RParen) if self.open.contains(&"(") => false,
                Some(Op::DSemi) if self.open.contains(&"case") => false,
                Some(op) => return Err(ParseError::Unexpected(op.text().into())),
            };
            let separated = matches!(
                self.tokens.get(self.pos.wrapping_sub(1)),
                Some(Token::Op(_))
            );
            items.push(Item { chain, background });
            // After a compound command without a separator the enclosing construct
            // decides (`fi done` is fine, `fi echo` is not).
            if !separated {
                break;
            }
        }
        Ok(Script { items })
    }

    /// A list that must not be empty (the bodies of compound commands).
    pub(super) fn nonempty_list(&mut self, stops: &[&str]) -> Result<Script, ParseError> {
        let list = self.list(stops)?;
        if list.items.is_empty() {
            return Err(self.unexpected());
        }
        Ok(list)
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
            None => Err(self.eof()),
            Some(Token::Op(Op::LParen)) => {
                if self.open.len() >= MAX_NESTING {
                    return Err(ParseError::TooDeep);
                }
                self.pos += 1;
                self.open.push("(");
                let inner = self.list(&[])?;
                if self.peek_op() != Some(Op::RParen) {
                    return Err(match self.peek() {
                        None => self.eof(),
                        Some(_) => self.unexpected(),
                    });
                }
                self.open.pop();
                self.pos += 1;
                if inner.items.is_empty() {
                    return Err(ParseError::Unexpected(")".into()));
                }
                let redirs = self.redirs()?;
                Ok(Command::Subshell(inner, redirs))
            }
            Some(Token::Op(op)) => Err(ParseError::Unexpected(op.text().into())),
            Some(t) => match reserved(t) {
                Some(_) if self.open.len() >= MAX_NESTING => Err(ParseError::TooDeep),
                Some(kw) => self.compound(kw),
                None => self.simple().map(Command::Simple),
            },
        }
    }

    pub(super) fn redirs(&mut self) -> Result<Vec<Redir>, ParseError> {
        let mut redirs = Vec::new();
        while let Some(Token::Redir { .. }) = self.peek() {
            redirs.push(self.redir()?);
        }
        Ok(redirs)
    }

    fn redir(&mut self) -> Result<Redir, ParseError> {
        let Some(Token::Redir { fd, kind }) = self.peek().cloned() else {
            return Err(self.eof());
        };
        self.pos += 1;
        match self.peek().cloned() {
            Some(Token::Word(target)) => {
                self.pos += 1;
                Ok(Redir { fd, kind, target })
            }
            Some(t) => Err(ParseError::Unexpected(describe(&t))),
            None => Err(self.eof()),
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
                    if cmd.words.is_empty()
                        && let Some(name) = w.assignment_name()
                    {
                        cmd.assigns.push((name, w));
                        self.pos += 1;
                        continue;
                    }
                    cmd.words.push(w);
                    self.pos += 1;
                }
                _ => break,
            }
        }
        if cmd.words.is_empty() && cmd.assigns.is_empty() && cmd.redirs.is_empty() {
            return Err(self.unexpected());
        }
        Ok(cmd)
    }
}
