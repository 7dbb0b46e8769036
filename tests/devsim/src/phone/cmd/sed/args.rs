//! The arguments of sed commands: delimited regexes (`s`, `y`, addresses), `s`
//! replacements and flags, and the text of `a`, `i`, `c`.

use super::parse::{Kind, Parser, Repl, unescape};

impl Parser<'_> {
    /// toybox's `unescape_delimited_string`: text up to an unescaped delimiter (the
    /// first char when `delim` is `None`), with `\DELIM` and printf escapes resolved and
    /// delimiters inside `[…]` kept.
    pub(super) fn delimited(&mut self, delim: Option<char>) -> Option<(String, char)> {
        let mut pos = self.pos;
        let d = match delim {
            Some(d) => d,
            None => {
                let mut d = *self.chars.get(pos)?;
                pos += 1;
                if d == '\\' {
                    d = *self.chars.get(pos)?;
                    pos += 1;
                }
                if d == '\\' || d == '\n' {
                    return None;
                }
                d
            }
        };
        let mut out = String::new();
        let mut bracket = false;
        loop {
            let c = *self.chars.get(pos)?;
            if !bracket && c == d {
                break;
            }
            if !bracket && c == '[' {
                bracket = true;
                if matches!(self.chars.get(pos + 1), Some('-' | ']')) {
                    out.push(c);
                    pos += 1;
                }
            } else if bracket && c == ']' {
                bracket = false;
            } else if bracket
                && c == '-'
                && pos > 0
                && self.chars.get(pos - 1) == self.chars.get(pos + 1)
            {
                pos += 2;
                continue;
            } else if c == '\\' {
                let next = *self.chars.get(pos + 1)?;
                if next == d {
                    pos += 1;
                } else if next == '\\' {
                    out.push('\\');
                    pos += 1;
                } else if let Some(u) = unescape(next) {
                    out.push(u);
                    pos += 2;
                    continue;
                } else if !bracket {
                    out.push('\\');
                    pos += 1;
                }
            }
            out.push(self.chars[pos]);
            pos += 1;
        }
        self.pos = pos + 1;
        Some((out, d))
    }

    /// The text of `a`, `i`, `c`: to the end of the line, `\` + newline continues it,
    /// other escapes are resolved; `a\` + newline + text is the classic spelling.
    pub(super) fn text(&mut self) -> String {
        self.skip_blanks();
        if self.peek() == Some('\\') && self.chars.get(self.pos + 1) == Some(&'\n') {
            self.pos += 2;
        }
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if c == '\n' {
                break;
            }
            self.pos += 1;
            if c == '\\' {
                match self.peek() {
                    Some(n) => {
                        self.pos += 1;
                        out.push(unescape(n).unwrap_or(n));
                    }
                    None => break,
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    pub(super) fn subst(&mut self, start: usize) -> Result<Kind, String> {
        let at = self.pos;
        let Some((pattern, d)) = self.delimited(None) else {
            return Err(self.bad(start, at));
        };
        let begin = self.pos;
        let mut repl = Vec::new();
        let mut text = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.bad(start, begin));
            };
            self.pos += 1;
            match c {
                c if c == d => break,
                '&' => {
                    repl.push(Repl::Text(std::mem::take(&mut text)));
                    repl.push(Repl::Group(0));
                }
                '\\' => {
                    let Some(n) = self.peek() else {
                        return Err(self.bad(start, begin));
                    };
                    self.pos += 1;
                    if let Some(g) = n.to_digit(10) {
                        repl.push(Repl::Text(std::mem::take(&mut text)));
                        repl.push(Repl::Group(g as usize));
                    } else {
                        text.push(unescape(n).unwrap_or(n));
                    }
                }
                other => text.push(other),
            }
        }
        repl.push(Repl::Text(text));
        repl.retain(|r| r != &Repl::Text(String::new()));
        let (mut icase, mut global, mut print, mut nth) = (false, false, false, 0);
        while let Some(c) = self.peek() {
            match c {
                '\n' => break,
                c if c.is_whitespace() => {}
                'i' | 'I' => icase = true,
                'g' => global = true,
                'p' => print = true,
                c if c.is_ascii_digit() && nth == 0 => {
                    let n = self.number();
                    if n == 0 {
                        break;
                    }
                    nth = usize::try_from(n).unwrap_or(usize::MAX);
                    continue;
                }
                _ => break,
            }
            self.pos += 1;
        }
        let re = self.regex(&pattern, icase)?;
        Ok(Kind::Subst {
            re,
            repl,
            global,
            print,
            nth,
        })
    }
}
