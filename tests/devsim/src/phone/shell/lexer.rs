//! The shell's lexer: a command line into words, operators and redirections, with
//! mksh's quoting rules (single quotes, double quotes, backslash escapes). The `$`
//! forms (`$NAME`, `${…}` with its operators, `$(…)`, `$((…))`, backticks) are read by
//! [`super::dollar`].
//!
//! Works on `char`s, so any UTF-8 input is safe; errors are mksh's messages.

/// One piece of a word. Quoted pieces are never split into fields or globbed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// Unquoted literal text (subject to globbing).
    Lit(String),
    /// Literal text from quotes or escapes.
    Quoted(String),
    /// `$NAME`; `quoted` when inside double quotes.
    Var { name: String, quoted: bool },
    /// `$(…)` or backticks; `quoted` when inside double quotes.
    Cmd { script: String, quoted: bool },
    /// `${NAME<op><word>}` and `${#NAME}`.
    Param {
        name: String,
        op: ParamOp,
        arg: Word,
        quoted: bool,
    },
    /// `$((expression))`.
    Arith { expr: String, quoted: bool },
    /// A `${…}` mksh cannot make sense of: "bad substitution" when expanded.
    BadSubst(String),
}

/// The operator of a `${…}` expansion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamOp {
    /// `${#NAME}`.
    Length,
    /// `${NAME-w}`, `${NAME:-w}` (`colon`: also when empty).
    Default { colon: bool },
    /// `${NAME=w}`, `${NAME:=w}`.
    Assign { colon: bool },
    /// `${NAME+w}`, `${NAME:+w}`.
    Alternative { colon: bool },
    /// `${NAME?w}`, `${NAME:?w}`.
    Error { colon: bool },
    /// `${NAME#p}`, `${NAME##p}` (`longest`).
    TrimPrefix { longest: bool },
    /// `${NAME%p}`, `${NAME%%p}`.
    TrimSuffix { longest: bool },
}

/// A shell word before expansion.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Word(pub Vec<Seg>);

impl Word {
    /// The word's text when it is made of literal pieces only (for keywords and
    /// assignment names).
    pub fn literal(&self) -> Option<String> {
        let mut s = String::new();
        for seg in &self.0 {
            match seg {
                Seg::Lit(t) | Seg::Quoted(t) => s.push_str(t),
                _ => return None,
            }
        }
        Some(s)
    }

    /// True when the first piece is unquoted literal text starting with `NAME=`.
    pub fn assignment_name(&self) -> Option<String> {
        let Some(Seg::Lit(first)) = self.0.first() else {
            return None;
        };
        let (name, _) = first.split_once('=')?;
        let mut chars = name.chars();
        let ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        ok.then(|| name.to_string())
    }
}

/// Operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Semi,
    And,
    Or,
    Amp,
    Pipe,
    LParen,
    RParen,
    Newline,
    /// `;;` (ends a `case` arm).
    DSemi,
}

impl Op {
    /// The operator as mksh names it in "syntax error: 'X' unexpected".
    pub fn text(self) -> &'static str {
        match self {
            Op::Semi => ";",
            Op::And => "&&",
            Op::Or => "||",
            Op::Amp => "&",
            Op::Pipe => "|",
            Op::LParen => "(",
            Op::RParen => ")",
            Op::Newline => "newline",
            Op::DSemi => ";;",
        }
    }
}

/// Redirection kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirKind {
    /// `>` (and `>|`).
    Out,
    /// `>>`.
    Append,
    /// `<`.
    In,
    /// `>&N` / `<&N`: the target word names a descriptor.
    Dup,
}

/// A redirection before expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redir {
    pub fd: u32,
    pub kind: RedirKind,
    pub target: Word,
}

/// A token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    Word(Word),
    Op(Op),
    /// A redirection operator; the parser attaches the following word.
    Redir {
        fd: u32,
        kind: RedirKind,
    },
}

/// A lexing error, worded as mksh prints it after `/system/bin/sh: `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LexError {
    #[error("no closing quote")]
    NoClosingQuote,
    #[error("syntax error: unexpected EOF")]
    UnexpectedEof,
}

pub(super) struct Lexer {
    pub(super) chars: Vec<char>,
    pub(super) pos: usize,
    /// How many `${…}` operands this lexer is inside.
    pub(super) depth: usize,
}

/// Splits a command line into tokens.
pub fn lex(line: &str) -> Result<Vec<Token>, LexError> {
    let mut lx = Lexer {
        chars: line.chars().collect(),
        pos: 0,
        depth: 0,
    };
    let mut tokens = Vec::new();
    let mut word = Word::default();
    let mut in_word = false;
    let flush = |word: &mut Word, in_word: &mut bool, tokens: &mut Vec<Token>| {
        if *in_word {
            tokens.push(Token::Word(std::mem::take(word)));
            *in_word = false;
        }
    };
    while let Some(c) = lx.peek() {
        match c {
            ' ' | '\t' | '\r' => {
                lx.pos += 1;
                flush(&mut word, &mut in_word, &mut tokens);
            }
            '\n' => {
                lx.pos += 1;
                flush(&mut word, &mut in_word, &mut tokens);
                tokens.push(Token::Op(Op::Newline));
            }
            '#' if !in_word => {
                while lx.peek().is_some_and(|c| c != '\n') {
                    lx.pos += 1;
                }
            }
            ';' | '&' | '|' | '(' | ')' => {
                flush(&mut word, &mut in_word, &mut tokens);
                let next = lx.chars.get(lx.pos + 1).copied();
                let (op, len) = match (c, next) {
                    (';', Some(';')) => (Op::DSemi, 2),
                    (';', _) => (Op::Semi, 1),
                    ('&', Some('&')) => (Op::And, 2),
                    ('&', _) => (Op::Amp, 1),
                    ('|', Some('|')) => (Op::Or, 2),
                    ('|', _) => (Op::Pipe, 1),
                    ('(', _) => (Op::LParen, 1),
                    _ => (Op::RParen, 1),
                };
                lx.pos += len;
                tokens.push(Token::Op(op));
            }
            '<' | '>' => {
                // A word made only of digits right before the operator is its fd.
                let fd = match (&word.0[..], in_word) {
                    ([Seg::Lit(d)], true)
                        if d.chars().all(|c| c.is_ascii_digit()) && d.len() < 3 =>
                    {
                        let fd = d.parse().unwrap_or(1);
                        word = Word::default();
                        in_word = false;
                        Some(fd)
                    }
                    _ => None,
                };
                flush(&mut word, &mut in_word, &mut tokens);
                lx.pos += 1;
                let kind = match (c, lx.peek()) {
                    ('>', Some('>')) => {
                        lx.pos += 1;
                        RedirKind::Append
                    }
                    (_, Some('&')) => {
                        lx.pos += 1;
                        RedirKind::Dup
                    }
                    ('>', Some('|')) => {
                        lx.pos += 1;
                        RedirKind::Out
                    }
                    ('>', _) => RedirKind::Out,
                    _ => RedirKind::In,
                };
                let default_fd = if c == '<' { 0 } else { 1 };
                tokens.push(Token::Redir {
                    fd: fd.unwrap_or(default_fd),
                    kind,
                });
            }
            _ => {
                in_word = true;
                lx.word_piece(&mut word)?;
            }
        }
    }
    flush(&mut word, &mut in_word, &mut tokens);
    Ok(tokens)
}

pub(super) fn push_lit(word: &mut Word, c: char, quoted: bool) {
    match (word.0.last_mut(), quoted) {
        (Some(Seg::Lit(s)), false) | (Some(Seg::Quoted(s)), true) => s.push(c),
        (_, false) => word.0.push(Seg::Lit(c.to_string())),
        (_, true) => word.0.push(Seg::Quoted(c.to_string())),
    }
}

impl Lexer {
    pub(super) fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    /// Reads one piece of a word starting at a non-separator character.
    pub(super) fn word_piece(&mut self, word: &mut Word) -> Result<(), LexError> {
        let Some(c) = self.peek() else { return Ok(()) };
        self.pos += 1;
        match c {
            '\'' => {
                let mut s = String::new();
                loop {
                    match self.peek() {
                        None => return Err(LexError::NoClosingQuote),
                        Some('\'') => break,
                        Some(ch) => s.push(ch),
                    }
                    self.pos += 1;
                }
                self.pos += 1;
                word.0.push(Seg::Quoted(s));
            }
            '"' => {
                // An empty "" still makes an (empty) field.
                word.0.push(Seg::Quoted(String::new()));
                loop {
                    match self.peek() {
                        None => return Err(LexError::NoClosingQuote),
                        Some('"') => {
                            self.pos += 1;
                            break;
                        }
                        Some('\\') => {
                            self.pos += 1;
                            match self.peek() {
                                Some(n @ ('$' | '`' | '"' | '\\')) => {
                                    self.pos += 1;
                                    push_lit(word, n, true);
                                }
                                Some('\n') => self.pos += 1,
                                _ => push_lit(word, '\\', true),
                            }
                        }
                        Some('$') => {
                            self.pos += 1;
                            self.dollar(word, true)?;
                        }
                        Some('`') => {
                            self.pos += 1;
                            let script = self.backtick()?;
                            word.0.push(Seg::Cmd {
                                script,
                                quoted: true,
                            });
                        }
                        Some(ch) => {
                            self.pos += 1;
                            push_lit(word, ch, true);
                        }
                    }
                }
            }
            '\\' => match self.peek() {
                None => push_lit(word, '\\', true),
                Some('\n') => self.pos += 1,
                Some(n) => {
                    self.pos += 1;
                    push_lit(word, n, true);
                }
            },
            '$' => self.dollar(word, false)?,
            '`' => {
                let script = self.backtick()?;
                word.0.push(Seg::Cmd {
                    script,
                    quoted: false,
                });
            }
            other => push_lit(word, other, false),
        }
        Ok(())
    }
}
