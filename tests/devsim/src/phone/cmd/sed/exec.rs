//! Running a parsed sed script over lines, as toybox's `process_line` does.

use super::parse::{Addr, Kind, Repl, Script};
use super::{Line, MAX_COMMANDS};

/// Why a run stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// A run-time error (`no previous regex`, `no :label`, `no s//\N/`).
    Error(String),
    /// The command budget ran out.
    Killed,
}

enum Next {
    Line,
    /// Continue the script at this command on the next line (`n`, `N`).
    Restart(usize),
    Quit,
}

/// One sed run: its output and the state kept across lines.
pub struct Run<'s> {
    script: &'s mut Script,
    quiet: bool,
    pub out: Vec<u8>,
    noeol: bool,
    hold: String,
    count: u64,
    last_re: Option<usize>,
    steps: usize,
}

impl<'s> Run<'s> {
    pub fn new(script: &'s mut Script, quiet: bool) -> Self {
        Run {
            script,
            quiet,
            out: Vec::new(),
            noeol: false,
            hold: String::new(),
            count: 0,
            last_re: None,
            steps: 0,
        }
    }

    /// Runs the script over `lines` (which `N` may join).
    pub fn lines(&mut self, lines: &mut [Line]) -> Result<(), Stop> {
        let mut i = 0;
        let mut restart = None;
        while i < lines.len() {
            self.count += 1;
            let start = restart.take().unwrap_or(0);
            match self.line(lines, i, start)? {
                Next::Line => {}
                Next::Restart(pc) => restart = Some(pc),
                Next::Quit => break,
            }
            i += 1;
        }
        Ok(())
    }

    fn emit(&mut self, text: &str, eol: bool) {
        if self.noeol {
            self.out.push(b'\n');
        }
        self.noeol = !eol;
        self.out.extend_from_slice(text.as_bytes());
        if eol {
            self.out.push(b'\n');
        }
    }

    fn regex(&mut self, index: Option<usize>) -> Result<usize, Stop> {
        match index.or(self.last_re) {
            Some(i) => {
                self.last_re = Some(i);
                Ok(i)
            }
            None => Err(Stop::Error("no previous regex".into())),
        }
    }

    fn re_matches(&mut self, index: Option<usize>, line: Option<&str>) -> Result<bool, Stop> {
        let i = self.regex(index)?;
        Ok(match (line, self.script.regexes.get(i)) {
            (Some(l), Some(re)) => re.matches(l),
            _ => false,
        })
    }

    /// Whether command `pc` applies to this line, updating its range state.
    fn selected(&mut self, pc: usize, line: Option<&str>, last: bool) -> Result<bool, Stop> {
        let Some(cmd) = self.script.commands.get(pc) else {
            return Ok(false);
        };
        let (not, mut hit) = (cmd.not, cmd.hit);
        let [a1, a2] = cmd.addr.clone();
        let Some(a1) = a1 else {
            return Ok(true);
        };
        let mut miss = false;
        if hit {
            match &a2 {
                None => hit = false,
                Some(Addr::Re(r)) => miss = self.re_matches(*r, line)?,
                Some(Addr::Line(n)) if *n < self.count => hit = false,
                Some(_) => {}
            }
        } else {
            hit = match a1 {
                Addr::Re(r) => self.re_matches(r, line)?,
                Addr::Line(n) => n == self.count,
                Addr::Last => last,
            };
            miss = a2.is_none();
        }
        let run = hit != not;
        if miss || a2 == Some(Addr::Line(self.count)) {
            hit = false;
        }
        if let Some(cmd) = self.script.commands.get_mut(pc) {
            cmd.hit = hit;
        }
        Ok(run)
    }

    fn line(&mut self, lines: &mut [Line], i: usize, start: usize) -> Result<Next, Stop> {
        let (text, eol) = lines[i].clone();
        let last = i + 1 == lines.len();
        let mut line = Some(text);
        let mut appends = Vec::new();
        let (mut tea, mut emit_line, mut next) = (false, true, Next::Line);
        let mut pc = start;
        while pc < self.script.commands.len() {
            self.steps += 1;
            if self.steps > MAX_COMMANDS {
                return Err(Stop::Killed);
            }
            let kind = self.script.commands[pc].kind.clone();
            if !self.selected(pc, line.as_deref(), last)? {
                pc = match kind {
                    Kind::Block(end) => end,
                    _ => pc + 1,
                };
                continue;
            }
            let Some(cur) = line.as_mut() else {
                pc += 1;
                continue;
            };
            match kind {
                Kind::Block(_) | Kind::EndBlock | Kind::Label => {}
                Kind::Text('a', t) => appends.push(t),
                Kind::Text('i', t) => self.emit(&t, true),
                Kind::Text(_, t) => {
                    if !self.script.commands[pc].hit {
                        self.emit(&t, true);
                    }
                    line = None;
                }
                Kind::Branch(c, label) => {
                    let t = tea;
                    if c != 'b' {
                        tea = false;
                    }
                    if c == 'b' || (t != (c == 'T')) {
                        let Some(label) = label else { break };
                        let target = self
                            .script
                            .commands
                            .iter()
                            .position(|cmd| cmd.kind == Kind::Label && cmd.label == label);
                        match target {
                            Some(t) => pc = t,
                            None => return Err(Stop::Error(format!("no :{label}"))),
                        }
                        continue;
                    }
                }
                Kind::Simple('d') => line = None,
                Kind::Simple('D') => {
                    let rest = cur.split_once('\n').map(|(_, r)| r.to_string());
                    match rest.filter(|r| !r.is_empty()) {
                        Some(r) => {
                            *cur = r;
                            pc = 0;
                            continue;
                        }
                        None => line = None,
                    }
                }
                Kind::Simple('g') => cur.clone_from(&self.hold),
                Kind::Simple('G') => {
                    cur.push('\n');
                    cur.push_str(&self.hold);
                }
                Kind::Simple('h') => self.hold.clone_from(cur),
                Kind::Simple('H') => {
                    self.hold.push('\n');
                    self.hold.push_str(cur);
                }
                Kind::Simple('x') => std::mem::swap(cur, &mut self.hold),
                Kind::Simple('l') => {
                    let text = cur.clone();
                    self.list(&text);
                }
                Kind::Simple('n') => {
                    next = Next::Restart(pc + 1);
                    break;
                }
                Kind::Simple('N') => {
                    // Without a next line toybox quits without the default output.
                    if let Some((following, _)) = lines.get_mut(i + 1) {
                        *following = format!("{cur}\n{following}");
                        next = Next::Restart(pc + 1);
                    } else {
                        next = Next::Quit;
                    }
                    emit_line = false;
                    break;
                }
                Kind::Simple('p') => {
                    let text = cur.clone();
                    self.emit(&text, eol);
                }
                Kind::Simple('P') => {
                    let text = cur.split('\n').next().unwrap_or("").to_string();
                    self.emit(&text, eol);
                }
                Kind::Simple('q') => {
                    next = Next::Quit;
                    break;
                }
                Kind::Simple('=') => {
                    let n = self.count.to_string();
                    self.emit(&n, true);
                }
                Kind::Simple(_) => {}
                Kind::Translate(from, to) => {
                    *cur = cur
                        .chars()
                        .map(|c| from.iter().position(|f| *f == c).map_or(c, |j| to[j]))
                        .collect();
                }
                Kind::Subst {
                    re,
                    repl,
                    global,
                    print,
                    nth,
                } => {
                    let re = self.regex(re)?;
                    let text = cur.clone();
                    if let Some(new) = self.subst(re, &text, &repl, global, nth)? {
                        *cur = new;
                        tea = true;
                        if print {
                            let text = cur.clone();
                            self.emit(&text, eol);
                        }
                    }
                }
            }
            pc += 1;
        }
        if let Some(l) = line.filter(|_| emit_line && !self.quiet) {
            self.emit(&l, eol);
        }
        for a in appends {
            self.emit(&a, true);
        }
        Ok(next)
    }

    /// `s`: `Some(new line)` when the regex matched at all (even if the `N`th
    /// occurrence did not exist, as toybox counts it).
    fn subst(
        &mut self,
        re: usize,
        text: &str,
        repl: &[Repl],
        global: bool,
        nth: usize,
    ) -> Result<Option<String>, Stop> {
        let Some(pattern) = self.script.regexes.get(re) else {
            return Ok(None);
        };
        let mut cur: Vec<char> = text.chars().collect();
        let (mut pos, mut count, mut zmatch, mut matched) = (0, 0, true, false);
        while pos <= cur.len() {
            self.steps += 1;
            if self.steps > MAX_COMMANDS {
                return Err(Stop::Killed);
            }
            let Some(caps) = pattern.find_at(&cur, pos) else {
                break;
            };
            matched = true;
            let Some((so, eo)) = caps.first().copied().flatten() else {
                break;
            };
            if so == eo && !zmatch {
                pos += 1;
                zmatch = true;
                continue;
            }
            zmatch = false;
            if nth != 0 {
                count += 1;
                if count != nth {
                    pos = eo;
                    continue;
                }
            }
            let mut piece: Vec<char> = Vec::new();
            for r in repl {
                match r {
                    Repl::Text(t) => piece.extend(t.chars()),
                    Repl::Group(g) => match caps.get(*g).copied().flatten() {
                        Some((s, e)) => piece.extend_from_slice(&cur[s..e]),
                        None => return Err(Stop::Error(format!("no s//\\{g}/"))),
                    },
                }
            }
            let tail = cur.split_off(eo);
            cur.truncate(so);
            pos = so + piece.len();
            cur.extend(piece);
            cur.extend(tail);
            if !global {
                break;
            }
        }
        Ok(matched.then(|| cur.into_iter().collect()))
    }

    /// `l`: escapes, octal for other control bytes, wrapped at 76 columns, `$` at the end.
    fn list(&mut self, text: &str) {
        const WIDTH: usize = 76;
        let mut buf = String::new();
        for b in text.bytes() {
            if buf.len() >= WIDTH {
                buf.push('\\');
                let chunk = std::mem::take(&mut buf);
                self.emit(&chunk, true);
            }
            match b {
                b'\\' => buf.push_str("\\\\"),
                7 => buf.push_str("\\a"),
                8 => buf.push_str("\\b"),
                12 => buf.push_str("\\f"),
                b'\r' => buf.push_str("\\r"),
                b'\t' => buf.push_str("\\t"),
                11 => buf.push_str("\\v"),
                b' '..=b'~' => buf.push(char::from(b)),
                other => buf.push_str(&format!("\\{other:03o}")),
            }
        }
        buf.push('$');
        self.emit(&buf, true);
    }
}
