//! The lexer's `$` forms: `$?` `$$` `$#` `$!` `$@` `$*` `$-` `$0`…`$9`, `$NAME`,
//! `${…}` (plain, `${#NAME}`, and the `-` `=` `+` `?` operators with or without `:`,
//! `#` `##` `%` `%%`), `$(…)`, `$((…))` and backticks.

use super::lexer::{LexError, Lexer, ParamOp, Seg, Word, push_lit};

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A parameter name: a variable name, a positional number or a special parameter.
pub(super) fn is_param_name(s: &str) -> bool {
    is_name(s)
        || (!s.is_empty() && s.chars().all(|c| c.is_ascii_digit()))
        || matches!(s, "?" | "$" | "#" | "!" | "@" | "*" | "-")
}

/// `${…}` operands nested deeper than this are a bad substitution.
const MAX_BRACE_NESTING: usize = 32;

/// Lexes `text` as one word whose whitespace is literal (a `${…}` operand).
pub(super) fn lex_word(text: &str) -> Result<Word, LexError> {
    lex_word_at(text, 0)
}

fn lex_word_at(text: &str, depth: usize) -> Result<Word, LexError> {
    let mut lx = Lexer {
        chars: text.chars().collect(),
        pos: 0,
        depth,
    };
    let mut word = Word::default();
    while lx.pos < lx.chars.len() {
        lx.word_piece(&mut word)?;
    }
    Ok(word)
}

/// What a `${…}` holds.
enum Brace {
    Plain(String),
    Op(String, ParamOp, String),
}

/// Splits the inside of `${…}` into name, operator and operand text.
fn split_param(inner: &str) -> Option<Brace> {
    if let Some(name) = inner.strip_prefix('#').filter(|n| !n.is_empty())
        && is_param_name(name)
    {
        return Some(Brace::Op(name.to_string(), ParamOp::Length, String::new()));
    }
    let name_len = match inner.chars().next()? {
        c if c.is_ascii_digit() => inner.chars().take_while(char::is_ascii_digit).count(),
        c if c.is_ascii_alphabetic() || c == '_' => inner
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .count(),
        '?' | '$' | '#' | '!' | '@' | '*' | '-' => 1,
        _ => return None,
    };
    let (name, rest) = inner.split_at(name_len);
    let ops: [(&str, ParamOp); 12] = [
        (":-", ParamOp::Default { colon: true }),
        (":=", ParamOp::Assign { colon: true }),
        (":+", ParamOp::Alternative { colon: true }),
        (":?", ParamOp::Error { colon: true }),
        ("##", ParamOp::TrimPrefix { longest: true }),
        ("%%", ParamOp::TrimSuffix { longest: true }),
        ("-", ParamOp::Default { colon: false }),
        ("=", ParamOp::Assign { colon: false }),
        ("+", ParamOp::Alternative { colon: false }),
        ("?", ParamOp::Error { colon: false }),
        ("#", ParamOp::TrimPrefix { longest: false }),
        ("%", ParamOp::TrimSuffix { longest: false }),
    ];
    if rest.is_empty() {
        return Some(Brace::Plain(name.to_string()));
    }
    let (op_text, op) = ops.iter().find(|(t, _)| rest.starts_with(t))?;
    Some(Brace::Op(
        name.to_string(),
        *op,
        rest[op_text.len()..].to_string(),
    ))
}

impl Lexer {
    /// After a `$`: the expansion it starts, or a literal `$`.
    pub(super) fn dollar(&mut self, word: &mut Word, quoted: bool) -> Result<(), LexError> {
        match self.peek() {
            Some(c @ ('?' | '$' | '#' | '!' | '@' | '*' | '-' | '0'..='9')) => {
                self.pos += 1;
                word.0.push(Seg::Var {
                    name: c.to_string(),
                    quoted,
                });
            }
            Some('{') => {
                self.pos += 1;
                let inner = self.brace_body()?;
                word.0.push(match split_param(&inner) {
                    Some(Brace::Plain(name)) => Seg::Var { name, quoted },
                    Some(Brace::Op(..)) if self.depth >= MAX_BRACE_NESTING => {
                        Seg::BadSubst(format!("${{{inner}}}"))
                    }
                    Some(Brace::Op(name, op, arg)) => Seg::Param {
                        name,
                        op,
                        arg: lex_word_at(&arg, self.depth + 1)?,
                        quoted,
                    },
                    None => Seg::BadSubst(format!("${{{inner}}}")),
                });
            }
            Some('(') => {
                self.pos += 1;
                if self.peek() == Some('(')
                    && let Some(expr) = self.arith_body()
                {
                    word.0.push(Seg::Arith { expr, quoted });
                    return Ok(());
                }
                let script = self.paren_script()?;
                word.0.push(Seg::Cmd { script, quoted });
            }
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    self.pos += 1;
                }
                let name = self.chars[start..self.pos].iter().collect();
                word.0.push(Seg::Var { name, quoted });
            }
            _ => push_lit(word, '$', quoted),
        }
        Ok(())
    }

    /// The text of `${ … }` up to its matching `}`, respecting quotes and nesting.
    fn brace_body(&mut self) -> Result<String, LexError> {
        let start = self.pos;
        let mut depth = 1;
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                '\\' => self.pos += 1,
                '\'' => {
                    while self.peek().is_some_and(|c| c != '\'') {
                        self.pos += 1;
                    }
                    self.pos += 1;
                }
                '{' if self.chars.get(self.pos.wrapping_sub(2)) == Some(&'$') => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(self.chars[start..self.pos - 1].iter().collect());
                    }
                }
                _ => {}
            }
        }
        Err(LexError::UnexpectedEof)
    }

    /// After `$(` with `(` next: the expression of `$((…))` when its `))` is found;
    /// otherwise nothing is consumed (it is a command substitution of a subshell).
    fn arith_body(&mut self) -> Option<String> {
        let start = self.pos + 1;
        let mut depth = 0usize;
        let mut i = start;
        while let Some(&c) = self.chars.get(i) {
            match c {
                '(' => depth += 1,
                ')' if depth == 0 => {
                    if self.chars.get(i + 1) == Some(&')') {
                        self.pos = i + 2;
                        return Some(self.chars[start..i].iter().collect());
                    }
                    return None;
                }
                ')' => depth -= 1,
                _ => {}
            }
            i += 1;
        }
        None
    }

    /// The text of `$( … )` up to its matching `)`, respecting quotes.
    pub(super) fn paren_script(&mut self) -> Result<String, LexError> {
        let start = self.pos;
        let mut depth = 1;
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                '\\' => self.pos += 1,
                '\'' => {
                    while self.peek().is_some_and(|c| c != '\'') {
                        self.pos += 1;
                    }
                    if self.peek().is_none() {
                        return Err(LexError::NoClosingQuote);
                    }
                    self.pos += 1;
                }
                '"' => {
                    while let Some(c) = self.peek() {
                        self.pos += 1;
                        if c == '\\' {
                            self.pos += 1;
                        } else if c == '"' {
                            break;
                        }
                    }
                }
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        let end = self.pos - 1;
                        return Ok(self.chars[start..end].iter().collect());
                    }
                }
                _ => {}
            }
        }
        Err(LexError::UnexpectedEof)
    }

    /// The text between backticks (`\``, `\\` and `\$` unescaped).
    pub(super) fn backtick(&mut self) -> Result<String, LexError> {
        let mut s = String::new();
        loop {
            match self.peek() {
                None => return Err(LexError::NoClosingQuote),
                Some('`') => {
                    self.pos += 1;
                    return Ok(s);
                }
                Some('\\') if matches!(self.chars.get(self.pos + 1), Some('`' | '\\' | '$')) => {
                    s.push(self.chars[self.pos + 1]);
                    self.pos += 2;
                }
                Some(c) => {
                    s.push(c);
                    self.pos += 1;
                }
            }
        }
    }
}
