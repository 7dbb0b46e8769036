//! Word expansion (variables, `$(…)`, field splitting, globbing; `${…}` operators and
//! `$((…))` are in [`super::param`]) and redirections (`>`, `>>`, `<`, `N>&M`,
//! `/dev/null`) for the simulated shell.
//!
//! Redirection files are opened (created or truncated) before the command runs, as mksh
//! does, and filled when it finishes; only the shell user's writable trees accept them.

use std::collections::BTreeMap;

use super::Output;
use super::lexer::{Redir, RedirKind, Seg, Word};
use super::run::{MAX_VALUE, Shell};
use crate::phone::fs::AndroidPath;

/// Where a descriptor goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The enclosing shell's descriptor.
    Fd(u32),
    /// `/dev/null`.
    Null,
    /// An opened file (index into [`Redirections::files`]).
    File(usize),
}

/// A file opened by a redirection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenFile {
    /// The normalised Android path.
    pub path: String,
    pub append: bool,
    pub data: Vec<u8>,
}

/// The descriptor table of one command.
#[derive(Debug, Clone, Default)]
pub struct Redirections {
    pub table: BTreeMap<u32, Target>,
    pub files: Vec<OpenFile>,
    /// Contents of a `<` redirection of stdin.
    pub stdin: Option<Vec<u8>>,
}

impl Redirections {
    /// Where `fd` goes (unredirected descriptors go to the enclosing shell's).
    pub fn target(&self, fd: u32) -> Target {
        self.table.get(&fd).cloned().unwrap_or(Target::Fd(fd))
    }

    /// Routes a command's output through the table: file data is kept for
    /// [`Shell::flush_files`], `/dev/null` drops, the rest goes to the caller.
    pub fn route(&mut self, out: Output) -> Output {
        let mut routed = Output::default();
        for (fd, bytes) in out.chunks {
            match self.target(fd) {
                Target::Fd(to) => routed.push(to, &bytes),
                Target::Null => {}
                Target::File(i) => {
                    if let Some(f) = self.files.get_mut(i) {
                        f.data.extend_from_slice(&bytes);
                    }
                }
            }
        }
        routed
    }
}

const IFS: &[char] = &[' ', '\t', '\n'];

#[derive(Default)]
struct Field {
    text: String,
    pattern: String,
    globby: bool,
    started: bool,
}

pub(super) fn glob_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Shell<'_> {
    /// The value of `$name`, `None` when it is not set.
    pub fn lookup(&self, name: &str) -> Option<String> {
        Some(match name {
            "?" => self.status().to_string(),
            "$" => self.pid.to_string(),
            "#" => self.args.len().to_string(),
            "0" => self.arg0.clone(),
            "@" | "*" => self.args.join(" "),
            "-" => if self.errexit { "e" } else { "" }.to_string(),
            "!" => self.last_background?.to_string(),
            n if n.chars().all(|c| c.is_ascii_digit()) => {
                let i: usize = n.parse().ok()?;
                self.args.get(i.checked_sub(1)?)?.clone()
            }
            n => self.vars.get(n)?.clone(),
        })
    }

    /// The value of `$name` (empty when unset).
    pub fn var(&self, name: &str) -> String {
        self.lookup(name).unwrap_or_default()
    }

    fn seg_value(&mut self, seg: &Seg) -> String {
        let value = self.seg_value_unchecked(seg);
        if value.len() > MAX_VALUE {
            self.too_big = true;
            return String::new();
        }
        value
    }

    fn seg_value_unchecked(&mut self, seg: &Seg) -> String {
        match seg {
            Seg::Var { name, .. } => self.var(name),
            Seg::Cmd { script, .. } => {
                let mut sub = self.subshell();
                let out = sub.run_text(script, &mut std::io::empty());
                self.subst_status = Some(sub.status());
                self.disconnect |= sub.disconnected();
                self.pending.push(2, &out.bytes_of(2));
                let mut text = String::from_utf8_lossy(&out.bytes_of(1)).into_owned();
                while text.ends_with('\n') {
                    text.pop();
                }
                text
            }
            Seg::Param { name, op, arg, .. } => self.param(name, *op, arg),
            Seg::Arith { expr, .. } => self.arith(expr),
            Seg::BadSubst(text) => {
                self.expand_error
                    .get_or_insert_with(|| format!("{text}: bad substitution"));
                String::new()
            }
            Seg::Lit(t) | Seg::Quoted(t) => t.clone(),
        }
    }

    /// Expands a word into fields: variables and `$(…)`, field splitting of unquoted
    /// expansions, globbing of unquoted `*`, `?`, `[`.
    pub fn expand_fields(&mut self, word: &Word) -> Vec<String> {
        let mut fields = Vec::new();
        let mut cur = Field::default();
        let quoted_at = word
            .0
            .iter()
            .any(|s| matches!(s, Seg::Var { name, quoted: true } if name == "@"));
        for seg in &word.0 {
            match seg {
                // `"$@"`: one field per parameter, none at all without parameters.
                Seg::Quoted(t) if quoted_at && t.is_empty() => {}
                Seg::Var { name, quoted: true } if name == "@" => {
                    for (i, a) in self.args.clone().into_iter().enumerate() {
                        if i > 0 {
                            fields.extend(self.finish(std::mem::take(&mut cur)));
                        }
                        cur.pattern.push_str(&glob_escape(&a));
                        cur.text.push_str(&a);
                        cur.started = true;
                    }
                }
                Seg::Lit(t) => {
                    cur.globby |= t.contains(['*', '?', '[']);
                    cur.text.push_str(t);
                    cur.pattern.push_str(t);
                    cur.started = true;
                }
                Seg::Quoted(_)
                | Seg::Var { quoted: true, .. }
                | Seg::Cmd { quoted: true, .. }
                | Seg::Param { quoted: true, .. }
                | Seg::Arith { quoted: true, .. } => {
                    let v = self.seg_value(seg);
                    cur.pattern.push_str(&glob_escape(&v));
                    cur.text.push_str(&v);
                    cur.started = true;
                }
                Seg::Var { .. }
                | Seg::Cmd { .. }
                | Seg::Param { .. }
                | Seg::Arith { .. }
                | Seg::BadSubst(_) => {
                    let v = self.seg_value(seg);
                    if v.is_empty() {
                        continue;
                    }
                    if v.starts_with(IFS) && cur.started {
                        fields.extend(self.finish(std::mem::take(&mut cur)));
                    }
                    for (i, piece) in v.split(IFS).filter(|p| !p.is_empty()).enumerate() {
                        if i > 0 {
                            fields.extend(self.finish(std::mem::take(&mut cur)));
                        }
                        cur.text.push_str(piece);
                        cur.pattern.push_str(&glob_escape(piece));
                        cur.started = true;
                    }
                    if v.ends_with(IFS) && cur.started {
                        fields.extend(self.finish(std::mem::take(&mut cur)));
                    }
                }
            }
        }
        if cur.started {
            fields.extend(self.finish(cur));
        }
        fields
    }

    /// Expands a word to one string (redirection targets, assignments).
    pub fn expand_single(&mut self, word: &Word) -> String {
        let mut s = String::new();
        for seg in &word.0 {
            let v = self.seg_value(seg);
            s.push_str(&v);
        }
        s
    }

    /// Expands a word into a glob pattern: quoted parts match literally (`case`,
    /// `${x#pattern}`).
    pub fn pattern(&mut self, word: &Word) -> String {
        let mut s = String::new();
        for seg in &word.0 {
            let v = self.seg_value(seg);
            match seg {
                Seg::Lit(_)
                | Seg::Var { quoted: false, .. }
                | Seg::Cmd { quoted: false, .. }
                | Seg::Param { quoted: false, .. } => s.push_str(&v),
                _ => s.push_str(&glob_escape(&v)),
            }
        }
        s
    }

    fn finish(&self, field: Field) -> Vec<String> {
        if !field.globby {
            return vec![field.text];
        }
        let matches = self.glob(&field.pattern);
        if matches.is_empty() {
            vec![field.text]
        } else {
            matches
        }
    }

    /// An Android path relative to the shell's working directory.
    pub fn resolve(&self, path: &str) -> String {
        resolve(&self.cwd, path)
    }

    /// Opens a command's redirections. `Err` is mksh's message (without the
    /// `/system/bin/sh: ` prefix); the command must not run.
    pub fn open_redirections(&mut self, redirs: &[Redir]) -> Result<Redirections, String> {
        let mut r = Redirections::default();
        for redir in redirs {
            let target = self.expand_single(&redir.target);
            match redir.kind {
                RedirKind::Dup => {
                    let to = match target.as_str() {
                        "-" => Target::Null,
                        t => match t.parse::<u32>() {
                            Ok(n) if n <= 2 => r.target(n),
                            _ => return Err(format!("{t}: illegal file descriptor name")),
                        },
                    };
                    r.table.insert(redir.fd, to);
                }
                RedirKind::In => {
                    let path = self.resolve(&target);
                    if path == "/dev/null" {
                        r.stdin = Some(Vec::new());
                        continue;
                    }
                    let data = self
                        .phone
                        .fs()
                        .read(&path)
                        .map_err(|e| format!("can't open {target}: {}", e.message()))?;
                    if redir.fd == 0 {
                        r.stdin = Some(data);
                    }
                }
                RedirKind::Out | RedirKind::Append => {
                    let path = self.resolve(&target);
                    if path == "/dev/null" {
                        r.table.insert(redir.fd, Target::Null);
                        continue;
                    }
                    let append = redir.kind == RedirKind::Append;
                    self.create_for_redirect(&path, append)
                        .map_err(|m| format!("can't create {target}: {m}"))?;
                    r.files.push(OpenFile {
                        path,
                        append: true,
                        data: Vec::new(),
                    });
                    r.table.insert(redir.fd, Target::File(r.files.len() - 1));
                }
            }
        }
        Ok(r)
    }

    fn create_for_redirect(&self, path: &str, append: bool) -> Result<(), &'static str> {
        let fs = self.phone.fs();
        match fs.stat(path) {
            Ok(st) if st.is_dir() => return Err("Is a directory"),
            Ok(_) if append => return Ok(()),
            Ok(_) => {}
            Err(_) => {
                let parent = AndroidPath::parse(path).map_err(|e| e.message())?.parent();
                match fs.stat(&parent.as_string()) {
                    Ok(st) if st.is_dir() => {}
                    Ok(_) => return Err("Not a directory"),
                    Err(e) => return Err(e.message()),
                }
            }
        }
        fs.write(path, 0o666, b"").map_err(|e| e.message())
    }

    /// Writes what commands sent to redirected files.
    pub fn flush_files(&self, r: &Redirections) {
        let fs = self.phone.fs();
        for f in &r.files {
            if f.data.is_empty() {
                continue;
            }
            let mut data = if f.append {
                fs.read(&f.path).unwrap_or_default()
            } else {
                Vec::new()
            };
            data.extend_from_slice(&f.data);
            if let Err(e) = fs.write(&f.path, 0o666, &data) {
                tracing::warn!(path = %f.path, error = %e, "redirection write failed");
            }
        }
    }
}

/// Joins a relative path onto `cwd` and normalises it.
pub fn resolve(cwd: &str, path: &str) -> String {
    let joined = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{cwd}/{path}")
    };
    AndroidPath::parse(&joined)
        .map(|p| p.as_string())
        .unwrap_or(joined)
}
