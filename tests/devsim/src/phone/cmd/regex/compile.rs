//! Pattern text into nodes: POSIX basic (BRE) and extended (ERE) spelling, as bionic's
//! `regcomp` reads it, plus the GNU escapes toybox users rely on (`\|`, `\+`, `\?` in a
//! BRE; `\n`, `\t`, `\d`, `\s`, `\w`).
//!
//! The compiler never fails: malformed input compiles to something (mostly literals)
//! and the first problem is reported alongside, worded like bionic's `regerror`, for the
//! callers that must refuse it (`sed`, `grep`).

use super::{Node, RegexError};

/// Nesting deeper than this is taken literally (keeps the compiler's recursion bounded).
const MAX_NESTING: usize = 32;
/// `RE_DUP_MAX`.
const DUP_MAX: usize = 255;

pub(super) struct Compiled {
    pub alternatives: Vec<Vec<Node>>,
    pub groups: usize,
    pub error: Option<RegexError>,
}

struct Compiler {
    chars: Vec<char>,
    pos: usize,
    ere: bool,
    depth: usize,
    groups: usize,
    closed: Vec<bool>,
    error: Option<RegexError>,
}

/// Compiles `pattern` (ERE when `extended`).
pub(super) fn compile(pattern: &str, extended: bool) -> Compiled {
    let mut c = Compiler {
        chars: pattern.chars().collect(),
        pos: 0,
        ere: extended,
        depth: 0,
        groups: 0,
        closed: vec![true],
        error: None,
    };
    let mut alternatives = c.alternatives();
    // A stray close at the top level: an error, then literal.
    while c.pos < c.chars.len() {
        c.fail(RegexError::Paren);
        c.pos += if c.ere { 1 } else { 2 };
        alternatives.push(vec![Node::Char(')')]);
        alternatives.extend(c.alternatives());
    }
    Compiled {
        alternatives,
        groups: c.groups,
        error: c.error,
    }
}

/// The ranges of a named class (`[:digit:]`), ASCII only like bionic in the C locale.
fn named_class(name: &str) -> Option<Vec<(char, char)>> {
    let r = |s: &[(char, char)]| Some(s.to_vec());
    match name {
        "alpha" => r(&[('a', 'z'), ('A', 'Z')]),
        "digit" => r(&[('0', '9')]),
        "alnum" => r(&[('a', 'z'), ('A', 'Z'), ('0', '9')]),
        "upper" => r(&[('A', 'Z')]),
        "lower" => r(&[('a', 'z')]),
        "space" => r(&[(' ', ' '), ('\t', '\r')]),
        "blank" => r(&[(' ', ' '), ('\t', '\t')]),
        "punct" => r(&[('!', '/'), (':', '@'), ('[', '`'), ('{', '~')]),
        "print" => r(&[(' ', '~')]),
        "graph" => r(&[('!', '~')]),
        "cntrl" => r(&[('\0', '\x1f'), ('\x7f', '\x7f')]),
        "xdigit" => r(&[('0', '9'), ('a', 'f'), ('A', 'F')]),
        _ => None,
    }
}

impl Compiler {
    fn fail(&mut self, e: RegexError) {
        self.error.get_or_insert(e);
    }

    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    /// Length of an alternation operator at the cursor.
    fn at_alt(&self) -> Option<usize> {
        match (self.ere, self.peek(0), self.peek(1)) {
            (true, Some('|'), _) => Some(1),
            (false, Some('\\'), Some('|')) => Some(2),
            _ => None,
        }
    }

    /// Length of a group close at the cursor (only inside a group).
    fn at_close(&self) -> Option<usize> {
        if self.depth == 0 {
            return None;
        }
        match (self.ere, self.peek(0), self.peek(1)) {
            (true, Some(')'), _) => Some(1),
            (false, Some('\\'), Some(')')) => Some(2),
            _ => None,
        }
    }

    fn at_sequence_end(&self) -> bool {
        self.pos >= self.chars.len() || self.at_alt().is_some() || self.at_close().is_some()
    }

    fn alternatives(&mut self) -> Vec<Vec<Node>> {
        let mut alts = vec![self.sequence()];
        while let Some(len) = self.at_alt() {
            self.pos += len;
            alts.push(self.sequence());
        }
        alts
    }

    fn sequence(&mut self) -> Vec<Node> {
        let mut seq: Vec<Node> = Vec::new();
        while !self.at_sequence_end() {
            let c = self.chars[self.pos];
            self.pos += 1;
            let node = match c {
                '*' => {
                    self.quantify(&mut seq, 0, usize::MAX, '*');
                    continue;
                }
                '+' | '?' if self.ere => {
                    let min = usize::from(c == '+');
                    let max = if c == '+' { usize::MAX } else { 1 };
                    self.quantify(&mut seq, min, max, c);
                    continue;
                }
                '{' if self.ere && self.peek(0).is_some_and(|d| d.is_ascii_digit()) => {
                    self.interval(&mut seq);
                    continue;
                }
                '\\' => match self.escape(&mut seq) {
                    Some(node) => node,
                    None => continue,
                },
                '(' if self.ere => self.group(),
                ')' if self.ere => {
                    self.fail(RegexError::Paren);
                    Node::Char(')')
                }
                '.' => Node::Any,
                '[' => self.class(),
                '^' if self.ere || seq.is_empty() => Node::Start,
                '$' if self.ere || self.at_sequence_end() => Node::End,
                other => Node::Char(other),
            };
            seq.push(node);
        }
        seq
    }

    /// Applies a repetition to the previous node (a BRE `*` with nothing to repeat is a
    /// literal; in an ERE it is an error).
    fn quantify(&mut self, seq: &mut Vec<Node>, min: usize, max: usize, literal: char) {
        match seq.pop() {
            Some(prev) if !matches!(prev, Node::Start) => {
                seq.push(Node::Repeat(Box::new(prev), min, max));
            }
            other => {
                if self.ere {
                    self.fail(RegexError::BadRepeat);
                }
                seq.extend(other);
                seq.push(Node::Char(literal));
            }
        }
    }

    /// `{m}`, `{m,}`, `{m,n}` (after the `{`); BRE closes with `\}`.
    fn interval(&mut self, seq: &mut Vec<Node>) {
        let number = |c: &mut Compiler| {
            let mut n: Option<usize> = None;
            while let Some(d) = c.peek(0).and_then(|d| d.to_digit(10)) {
                n = Some(n.unwrap_or(0).saturating_mul(10).saturating_add(d as usize));
                c.pos += 1;
            }
            n
        };
        let min = number(self);
        let max = if self.peek(0) == Some(',') {
            self.pos += 1;
            number(self).unwrap_or(usize::MAX)
        } else {
            min.unwrap_or(0)
        };
        let close = match (self.ere, self.peek(0), self.peek(1)) {
            (true, Some('}'), _) => 1,
            (false, Some('\\'), Some('}')) => 2,
            _ => {
                self.fail(RegexError::Brace);
                return;
            }
        };
        self.pos += close;
        let Some(min) = min else {
            self.fail(RegexError::BadBrace);
            return;
        };
        if min > DUP_MAX || (max != usize::MAX && (max > DUP_MAX || max < min)) {
            self.fail(RegexError::BadBrace);
            return;
        }
        self.quantify(seq, min, max, '{');
    }

    /// After a backslash: an operator, a backreference, an escape or a literal.
    fn escape(&mut self, seq: &mut Vec<Node>) -> Option<Node> {
        let Some(n) = self.peek(0) else {
            self.fail(RegexError::Escape);
            return Some(Node::Char('\\'));
        };
        self.pos += 1;
        Some(match n {
            '(' if !self.ere => self.group(),
            ')' if !self.ere => {
                self.fail(RegexError::Paren);
                Node::Char(')')
            }
            '{' if !self.ere => {
                self.interval(seq);
                return None;
            }
            '+' | '?' if !self.ere => {
                let max = if n == '+' { usize::MAX } else { 1 };
                self.quantify(seq, usize::from(n == '+'), max, n);
                return None;
            }
            '1'..='9' => {
                let i = n as usize - '0' as usize;
                if !self.closed.get(i).copied().unwrap_or(false) {
                    self.fail(RegexError::Backref);
                }
                Node::BackRef(i)
            }
            'n' => Node::Char('\n'),
            't' => Node::Char('\t'),
            'd' => Node::Class(vec![('0', '9')], false),
            'D' => Node::Class(vec![('0', '9')], true),
            's' => Node::Class(vec![(' ', ' '), ('\t', '\r')], false),
            'S' => Node::Class(vec![(' ', ' '), ('\t', '\r')], true),
            'w' => Node::Class(vec![('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')], false),
            'W' => Node::Class(vec![('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')], true),
            other => Node::Char(other),
        })
    }

    /// A group after its opening `(` / `\(`.
    fn group(&mut self) -> Node {
        if self.depth >= MAX_NESTING {
            self.fail(RegexError::Space);
            return Node::Char('(');
        }
        self.groups += 1;
        let index = self.groups;
        self.closed.push(false);
        self.depth += 1;
        let inner = self.alternatives();
        match self.at_close() {
            Some(len) => self.pos += len,
            None => self.fail(RegexError::Paren),
        }
        self.depth -= 1;
        if let Some(c) = self.closed.get_mut(index) {
            *c = true;
        }
        Node::Group(index, inner)
    }

    /// A bracket expression after its `[`.
    fn class(&mut self) -> Node {
        let start = self.pos;
        let negate = self.peek(0) == Some('^');
        if negate {
            self.pos += 1;
        }
        let mut ranges = Vec::new();
        let mut first = true;
        while let Some(c) = self.peek(0) {
            if c == ']' && !first {
                self.pos += 1;
                return Node::Class(ranges, negate);
            }
            first = false;
            if c == '[' && matches!(self.peek(1), Some(':' | '.' | '=')) {
                let kind = self.peek(1).unwrap_or(':');
                let body = self.pos + 2;
                let end = (body..self.chars.len().saturating_sub(1))
                    .find(|&i| self.chars[i] == kind && self.chars[i + 1] == ']');
                if let Some(end) = end {
                    let name: String = self.chars[body..end].iter().collect();
                    self.pos = end + 2;
                    if kind == ':' {
                        match named_class(&name) {
                            Some(r) => ranges.extend(r),
                            None => self.fail(RegexError::CharClass),
                        }
                    } else {
                        let mut it = name.chars();
                        match (it.next(), it.next()) {
                            (Some(ch), None) => ranges.push((ch, ch)),
                            _ => self.fail(RegexError::Collate),
                        }
                    }
                    continue;
                }
            }
            self.pos += 1;
            match (self.peek(0), self.peek(1)) {
                (Some('-'), Some(hi)) if hi != ']' => {
                    self.pos += 2;
                    if hi < c {
                        self.fail(RegexError::Range);
                    }
                    ranges.push((c, hi));
                }
                _ => ranges.push((c, c)),
            }
        }
        self.fail(RegexError::Bracket);
        self.pos = start;
        Node::Char('[')
    }
}
