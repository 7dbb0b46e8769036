//! sed scripts into commands, following toybox's `parse_pattern`: addresses (line
//! numbers, `$`, `/RE/` and `\cREc`), `!`, `{ … }` blocks, and the commands
//! `s y p P d D q = n N h H g G x l a i c b t T :`, separated by newlines or `;`.
//!
//! Errors carry toybox's text: `bad pattern 'REST'@POS (C)`, `bad regex 'RE': why`,
//! `no }`.

use crate::phone::cmd::regex::Pattern;

/// An address.
#[derive(Debug, Clone, PartialEq)]
pub enum Addr {
    Line(u64),
    Last,
    /// A regex (index into [`Script::regexes`]); `None` reuses the last one used.
    Re(Option<usize>),
}

/// A piece of an `s` replacement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repl {
    Text(String),
    /// `&` (0) or `\1`…`\9`.
    Group(usize),
}

/// What a command does.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// `{`, with the index just past its `}`.
    Block(usize),
    EndBlock,
    Subst {
        re: Option<usize>,
        repl: Vec<Repl>,
        global: bool,
        print: bool,
        nth: usize,
    },
    Translate(Vec<char>, Vec<char>),
    /// `a`, `i`, `c` and their text.
    Text(char, String),
    /// `b`, `t`, `T` and the label (`None`: end of script).
    Branch(char, Option<String>),
    Label,
    /// Commands without arguments: `p P d D q = n N h H g G x l`.
    Simple(char),
}

/// One command with its addresses.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub addr: [Option<Addr>; 2],
    pub not: bool,
    pub kind: Kind,
    /// `:label` name (for [`Kind::Label`]).
    pub label: String,
    /// Whether the command's range is active (run time).
    pub hit: bool,
}

/// A parsed script.
#[derive(Debug, Default)]
pub struct Script {
    pub commands: Vec<Command>,
    pub regexes: Vec<Pattern>,
}

pub(super) struct Parser<'a> {
    pub(super) chars: Vec<char>,
    pub(super) pos: usize,
    pub(super) extended: bool,
    pub(super) script: &'a mut Script,
    pub(super) open: &'a mut Vec<usize>,
}

/// toybox's `unescape`: the printf escapes `\\abefnrtv`.
pub fn unescape(c: char) -> Option<char> {
    Some(match c {
        '\\' => '\\',
        'a' => '\x07',
        'b' => '\x08',
        'e' => '\x1b',
        'f' => '\x0c',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'v' => '\x0b',
        _ => return None,
    })
}

/// Parses one `-e` script (or the script argument) into `script`. `open` tracks `{`
/// across scripts; check it is empty after the last one (`no }`).
pub fn parse_into(
    text: &str,
    extended: bool,
    script: &mut Script,
    open: &mut Vec<usize>,
) -> Result<(), String> {
    let mut p = Parser {
        chars: text.chars().collect(),
        pos: 0,
        extended,
        script,
        open,
    };
    p.commands()
}

impl Parser<'_> {
    pub(super) fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    pub(super) fn bad(&self, start: usize, at: usize) -> String {
        let rest: String = self.chars[start.min(self.chars.len())..].iter().collect();
        let c = self.chars.get(at).copied().unwrap_or('\0');
        format!(
            "bad pattern '{rest}'@{} ({c})",
            at.saturating_sub(start) + 1
        )
    }

    pub(super) fn skip_blanks(&mut self) {
        while self.peek().is_some_and(|c| c.is_whitespace() && c != '\n') {
            self.pos += 1;
        }
    }

    pub(super) fn regex(&mut self, text: &str, icase: bool) -> Result<Option<usize>, String> {
        if text.is_empty() {
            return Ok(None);
        }
        let re = Pattern::compile(text, self.extended, icase)
            .map_err(|e| format!("bad regex '{text}': {e}"))?;
        self.script.regexes.push(re);
        Ok(Some(self.script.regexes.len() - 1))
    }

    pub(super) fn number(&mut self) -> u64 {
        let start = self.pos;
        let (radix, skip) = match (self.peek(), self.chars.get(self.pos + 1)) {
            (Some('0'), Some('x' | 'X')) => (16, 2),
            (Some('0'), _) => (8, 0),
            _ => (10, 0),
        };
        self.pos += skip;
        let digits_start = self.pos;
        while self.peek().is_some_and(|c| c.is_digit(radix)) {
            self.pos += 1;
        }
        if self.pos == digits_start && skip > 0 {
            self.pos = start + 1;
            return 0;
        }
        let s: String = self.chars[digits_start..self.pos].iter().collect();
        u64::from_str_radix(&s, radix).unwrap_or(u64::MAX)
    }

    fn commands(&mut self) -> Result<(), String> {
        loop {
            loop {
                while self.peek().is_some_and(|c| c.is_whitespace() || c == ';') {
                    self.pos += 1;
                }
                if self.peek() == Some('#') {
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.pos += 1;
                    }
                } else {
                    break;
                }
            }
            if self.pos >= self.chars.len() {
                return Ok(());
            }
            self.command()?;
        }
    }

    fn command(&mut self) -> Result<(), String> {
        let start = self.pos;
        let mut addr: [Option<Addr>; 2] = [None, None];
        let mut count = 0;
        for (i, slot) in addr.iter_mut().enumerate() {
            if self.peek() == Some(',') {
                self.pos += 1;
            } else if i > 0 {
                break;
            }
            match self.peek() {
                Some(c) if c.is_ascii_digit() => {
                    let n = self.number();
                    // Line 0 is no address at all, as in toybox.
                    *slot = (n != 0).then_some(Addr::Line(n));
                }
                Some('$') => {
                    self.pos += 1;
                    *slot = Some(Addr::Last);
                }
                Some('/' | '\\') => {
                    let at = self.pos;
                    let Some((re, _)) = self.delimited(None) else {
                        return Err(self.bad(start, at));
                    };
                    *slot = Some(Addr::Re(self.regex(&re, false)?));
                }
                _ => break,
            }
            count = i + 1;
        }
        self.skip_blanks();
        if self.peek().is_none() || self.peek() == Some('\n') {
            return Err(self.bad(start, self.pos));
        }
        let mut not = false;
        while self.peek() == Some('!') {
            not = true;
            self.pos += 1;
        }
        self.skip_blanks();
        let Some(c) = self.peek() else {
            return Err(self.bad(start, self.pos));
        };
        self.pos += 1;
        if ("}:".contains(c) && count > 0) || ("aiqr=".contains(c) && count > 1) {
            return Err(self.bad(start, self.pos));
        }
        let mut label = String::new();
        let kind = match c {
            '{' => {
                self.open.push(self.script.commands.len());
                Kind::Block(0)
            }
            '}' => {
                let Some(open) = self.open.pop() else {
                    return Err(self.bad(start, self.pos));
                };
                let end = self.script.commands.len() + 1;
                if let Some(cmd) = self.script.commands.get_mut(open) {
                    cmd.kind = Kind::Block(end);
                }
                Kind::EndBlock
            }
            's' => self.subst(start)?,
            'y' => {
                let at = self.pos;
                let Some((from, d)) = self.delimited(None) else {
                    return Err(self.bad(start, at));
                };
                let at = self.pos;
                let to = self.delimited(Some(d));
                match to {
                    Some((to, _)) if to.chars().count() == from.chars().count() => {
                        Kind::Translate(from.chars().collect(), to.chars().collect())
                    }
                    _ => return Err(self.bad(start, at)),
                }
            }
            'a' | 'i' | 'c' => Kind::Text(c, self.text()),
            'b' | 't' | 'T' | ':' => {
                self.skip_blanks();
                let begin = self.pos;
                while self
                    .peek()
                    .is_some_and(|ch| ch != ';' && !ch.is_whitespace())
                {
                    self.pos += 1;
                }
                let name: String = self.chars[begin..self.pos].iter().collect();
                if c == ':' {
                    if name.is_empty() {
                        return Err(self.bad(start, self.pos));
                    }
                    label = name;
                    Kind::Label
                } else {
                    Kind::Branch(c, (!name.is_empty()).then_some(name))
                }
            }
            c if "dDgGhHlnNpPqx=".contains(c) => Kind::Simple(c),
            _ => return Err(self.bad(start, self.pos)),
        };
        self.script.commands.push(Command {
            addr,
            not,
            kind,
            label,
            hit: false,
        });
        Ok(())
    }
}
